"""balldontlie /v1 (also /nba/v1): games, stats, box_scores — shapes from the official OpenAPI spec.

Ids: game id = int(NBA game id) (0022300061 -> 22300061); player id = NBA PLAYER_ID; team ids are
balldontlie's 1..30; stat line id = game id * 100 + the line's index within the game. Cursor
pagination as the real API: `cursor` = id of the last item already seen, `meta.next_cursor` only
while more items remain; per_page default 25, capped at 100.
"""

from __future__ import annotations

import bisect

from nba_backfill.source.box import game_box, pct
from nba_backfill.source.clock import tip_datetimes
from nba_backfill.source.common import BadRequest, Req, Resp, json_resp, parse_date
from nba_backfill.source.data_store import Game, get_store, split_name
from nba_backfill.source.teams import TEAMS, Team


def team_json(t: Team) -> dict:
    return {"id": t.bdl_id, "conference": t.conference, "division": t.division, "city": t.city,
            "name": t.name, "full_name": t.full_name, "abbreviation": t.tricode}


def game_json(g: Game, nested: bool = True) -> dict:
    _, utc = tip_datetimes(g.date, g.tip_et)
    out = {"id": int(g.game_id), "date": g.date, "season": g.season_year, "status": "Final",
           "period": g.periods, "time": "Final", "postseason": False,
           "home_team_score": g.home_pts, "visitor_team_score": g.away_pts,
           "datetime": utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    if nested:
        out["home_team"] = team_json(TEAMS[g.home_id])
        out["visitor_team"] = team_json(TEAMS[g.away_id])
    else:
        out["home_team_id"] = TEAMS[g.home_id].bdl_id
        out["visitor_team_id"] = TEAMS[g.away_id].bdl_id
    return out


def player_json(line: dict) -> dict:
    first, last = split_name(line["PLAYER_NAME"])
    return {"id": line["PLAYER_ID"], "first_name": first, "last_name": last, "position": "",
            "height": None, "weight": None, "jersey_number": None, "college": None, "country": None,
            "draft_year": None, "draft_round": None, "draft_number": None,
            "team_id": TEAMS[line["TEAM_ID"]].bdl_id}


def stat_numbers(line: dict) -> dict:
    return {"min": str(line["MIN"]), "fgm": line["FGM"], "fga": line["FGA"],
            "fg_pct": pct(line["FGM"], line["FGA"]), "fg3m": line["FG3M"], "fg3a": line["FG3A"],
            "fg3_pct": pct(line["FG3M"], line["FG3A"]), "ftm": line["FTM"], "fta": line["FTA"],
            "ft_pct": pct(line["FTM"], line["FTA"]), "oreb": line["OREB"], "dreb": line["DREB"],
            "reb": line["REB"], "ast": line["AST"], "stl": line["STL"], "blk": line["BLK"],
            "turnover": line["TOV"], "pf": line["PF"], "pts": line["PTS"],
            "plus_minus": line["PLUS_MINUS"]}


def _ints(req: Req, *names: str) -> set[int]:
    try:
        return {int(v) for v in req.values(*names)}
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _page(req: Req) -> tuple[int, int]:
    try:
        per_page = int(req.get("per_page", "25") or 25)
        cursor = int(req.get("cursor", "0") or 0)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return max(1, min(per_page, 100)), cursor


def _select_games(req: Req) -> list[Game]:
    store = get_store()
    if req.get("postseason").lower() == "true":
        return []
    dates = [parse_date(d, "dates[]") for d in req.values("dates[]", "dates")]
    start, end = parse_date(req.get("start_date"), "start_date"), parse_date(req.get("end_date"), "end_date")
    seasons = _ints(req, "seasons[]", "seasons")
    game_ids = _ints(req, "game_ids[]", "game_ids")
    team_ids = _ints(req, "team_ids[]", "team_ids")
    if dates:
        games = [g for d in sorted(set(dates)) for g in store.games_by_date.get(d, [])]
    elif seasons:
        games = [g for s, gs in store.seasons.items() if int(s[:4]) in seasons for g in gs]
    else:
        games = [g for gs in store.seasons.values() for g in gs]
    out = []
    for g in games:
        if g.game_id in req.drop or (start and g.date < start) or (end and g.date > end):
            continue
        if seasons and g.season_year not in seasons:
            continue
        if game_ids and int(g.game_id) not in game_ids:
            continue
        if team_ids and not {TEAMS[g.home_id].bdl_id, TEAMS[g.away_id].bdl_id} & team_ids:
            continue
        out.append(g)
    out.sort(key=lambda g: int(g.game_id))
    return out


def _paginate(items: list, ids: list[int], req: Req, render) -> Resp:
    per_page, cursor = _page(req)
    i = bisect.bisect_right(ids, cursor) if cursor else 0
    page = items[i:i + per_page]
    meta: dict = {"per_page": per_page}
    if i + per_page < len(items):
        meta["next_cursor"] = ids[i + per_page - 1]
    return json_resp({"data": [render(x) for x in page], "meta": meta})


def games(req: Req) -> Resp:
    gs = _select_games(req)
    return _paginate(gs, [int(g.game_id) for g in gs], req, game_json)


def stats(req: Req) -> Resp:
    store = get_store()
    player_ids = _ints(req, "player_ids[]", "player_ids")
    if req.get("period", "0") not in ("", "0"):
        return json_resp({"data": [], "meta": {"per_page": _page(req)[0]}})
    items, ids = [], []
    for g in _select_games(req):
        home, away = store.lines(g.game_id)
        for idx, line in enumerate(home + away):
            if player_ids and line["PLAYER_ID"] not in player_ids:
                continue
            items.append((g, line, int(g.game_id) * 100 + idx))
            ids.append(items[-1][2])

    def render(item):
        g, line, sid = item
        return {"id": sid, **stat_numbers(line), "player": player_json(line),
                "team": team_json(TEAMS[line["TEAM_ID"]]), "game": game_json(g, nested=False)}

    return _paginate(items, ids, req, render)


def box_scores(req: Req) -> Resp:
    date = parse_date(req.get("date"), "date")
    if date is None:
        raise BadRequest("date is required")
    data = []
    for g in get_store().games_by_date.get(date, []):
        if g.game_id in req.drop:
            continue
        box = game_box(g.game_id)
        entry = {k: v for k, v in game_json(g).items() if k not in ("id", "home_team", "visitor_team", "datetime")}
        for key, tb in (("home_team", box.home), ("visitor_team", box.away)):
            tj = team_json(tb.team)
            entry[key] = {**tj, "team": tj,
                          "players": [{**stat_numbers(p.line), "player": player_json(p.line)} for p in tb.players]}
        data.append(entry)
    return json_resp({"data": data})


def game_by_id(req: Req) -> Resp:
    gid = req.arg.zfill(10)
    g = get_store().games.get(gid)
    if g is None or gid in req.drop:
        return json_resp({"error": "Not Found"}, 404)
    return json_resp({"data": game_json(g)})
