"""stats.nba.com date-level endpoints: leaguegamelog, scheduleleaguev2, scoreboardv2.

Shapes follow the recorded responses in api_samples/stats_nba. Dates without games (off days,
the off-season, the playoffs, seasons outside the bundle) answer 200 with empty row sets.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from nba_backfill.source.box import game_box, pct_or_none
from nba_backfill.source.clock import tip_datetimes
from nba_backfill.source.common import BadRequest, Req, Resp, dumps, json_resp, mdy, parse_date, result_set
from nba_backfill.source.data_store import P_HEADERS, Game, get_store, split_name
from nba_backfill.source.linescore import period_points
from nba_backfill.source.teams import TEAMS, arena_for

T_HEADERS = ["SEASON_ID", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME", "GAME_ID", "GAME_DATE",
             "MATCHUP", "WL", "MIN", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM", "FTA",
             "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF", "PTS", "PLUS_MINUS",
             "VIDEO_AVAILABLE"]
LINESCORE_HEADERS = ["GAME_DATE_EST", "GAME_SEQUENCE", "GAME_ID", "TEAM_ID", "TEAM_ABBREVIATION",
                     "TEAM_CITY_NAME", "TEAM_NAME", "TEAM_WINS_LOSSES", "PTS_QTR1", "PTS_QTR2",
                     "PTS_QTR3", "PTS_QTR4"] + [f"PTS_OT{i}" for i in range(1, 11)] + ["PTS"]
SCOREBOARD_LS_EXTRA = ["FG_PCT", "FT_PCT", "FG3_PCT", "AST", "REB", "TOV"]
LAST_MEETING_HEADERS = ["GAME_ID", "LAST_GAME_ID", "LAST_GAME_DATE_EST", "LAST_GAME_HOME_TEAM_ID",
                        "LAST_GAME_HOME_TEAM_CITY", "LAST_GAME_HOME_TEAM_NAME",
                        "LAST_GAME_HOME_TEAM_ABBREVIATION", "LAST_GAME_HOME_TEAM_POINTS",
                        "LAST_GAME_VISITOR_TEAM_ID", "LAST_GAME_VISITOR_TEAM_CITY",
                        "LAST_GAME_VISITOR_TEAM_NAME", "LAST_GAME_VISITOR_TEAM_CITY1",
                        "LAST_GAME_VISITOR_TEAM_POINTS"]
SERIES_HEADERS = ["GAME_ID", "HOME_TEAM_ID", "VISITOR_TEAM_ID", "GAME_DATE_EST", "HOME_TEAM_WINS",
                  "HOME_TEAM_LOSSES", "SERIES_LEADER"]


def est(date: str) -> str:
    return f"{date}T00:00:00"


def gamecode(g: Game) -> str:
    return f"{g.date.replace('-', '')}/{TEAMS[g.away_id].tricode}{TEAMS[g.home_id].tricode}"


def record(g: Game, team_id: int) -> str:
    w, l = get_store().records[(g.game_id, team_id)]
    return f"{w}-{l}"


# ------------------------------------------------------------------------------ leaguegamelog
def _team_row(g: Game, home: bool) -> list:
    box = game_box(g.game_id)
    tb = box.home if home else box.away
    t = tb.totals
    line = tb.players[0].line
    won = g.home_won == home
    return [g.season_id, tb.team_id, tb.team.tricode, line["TEAM_NAME"], g.game_id, g.date,
            g.home_matchup if home else g.away_matchup, "W" if won else "L", tb.minutes,
            t["FGM"], t["FGA"], pct_or_none(t["FGM"], t["FGA"]), t["FG3M"], t["FG3A"],
            pct_or_none(t["FG3M"], t["FG3A"]), t["FTM"], t["FTA"], pct_or_none(t["FTM"], t["FTA"]),
            t["OREB"], t["DREB"], t["REB"], t["AST"], t["STL"], t["BLK"], t["TOV"], t["PF"],
            t["PTS"], t["PLUS_MINUS"], 1]


def leaguegamelog(req: Req) -> Resp:
    store = get_store()
    season = req.get("Season") or None
    season_type = req.get("SeasonType", "Regular Season").replace("+", " ")
    pot = (req.get("PlayerOrTeam", "T") or "T").upper()
    if pot not in ("P", "T"):
        raise BadRequest("PlayerOrTeam must be P or T")
    direction = (req.get("Direction", "DESC") or "DESC").upper()
    date_from, date_to = parse_date(req.get("DateFrom"), "DateFrom"), parse_date(req.get("DateTo"), "DateTo")
    rows: list[list] = []
    bounds = store.season_bounds(season) if season else (None, None)
    if season_type == "Regular Season" and req.get("LeagueID", "00") == "00" and bounds is not None:
        lo = max(filter(None, [date_from, bounds[0]]), default=None)
        hi = min(filter(None, [date_to, bounds[1]]), default=None)
        if pot == "P":
            rows = store.p_rows(*store.row_span(lo, hi), drop_games=req.drop)
        else:
            for date in store.dates:
                if (lo and date < lo) or (hi and date > hi):
                    continue
                for g in store.games_by_date[date]:
                    if g.game_id not in req.drop:
                        rows += [_team_row(g, True), _team_row(g, False)]
    headers = P_HEADERS if pot == "P" else T_HEADERS
    sorter = (req.get("Sorter", "DATE") or "DATE").upper()
    key_idx = headers.index(sorter) if sorter in headers and sorter != "DATE" else None
    if key_idx is not None:
        rows.sort(key=lambda r: (r[key_idx] is None, r[key_idx]), reverse=direction == "DESC")
    elif direction == "DESC":
        rows.sort(key=lambda r: r[headers.index("GAME_DATE")], reverse=True)
    params = {"LeagueID": req.get("LeagueID", "00"), "Season": season, "SeasonType": season_type,
              "PlayerOrTeam": pot, "Counter": int(req.get("Counter", "0") or 0), "Sorter": sorter,
              "Direction": direction, "DateFrom": req.get("DateFrom") or None,
              "DateTo": req.get("DateTo") or None}
    return json_resp({"resource": "leaguegamelog", "parameters": params,
                      "resultSets": [result_set("LeagueGameLog", headers, rows)]})


# ------------------------------------------------------------------------------ schedule
def _points_leader(g: Game) -> list[dict]:
    box = game_box(g.game_id)
    best = max((p for tb in box.sides() for p in tb.players), key=lambda p: (p["PTS"], -p.pid))
    team = TEAMS[best["TEAM_ID"]]
    first, last = split_name(best.name)
    return [{"personId": best.pid, "firstName": first, "lastName": last, "teamId": team.team_id,
             "teamCity": team.city, "teamName": team.name, "teamTricode": team.tricode,
             "points": float(best["PTS"])}]


def _team_block(g: Game, team_id: int, score: int) -> dict:
    t = TEAMS[team_id]
    w, l = get_store().records[(g.game_id, team_id)]
    return {"teamId": t.team_id, "teamName": t.name, "teamCity": t.city, "teamTricode": t.tricode,
            "teamSlug": t.slug, "wins": w, "losses": l, "score": score, "seed": None}


def _week(opener: dt.date, day: dt.date) -> int:
    first_monday = opener + dt.timedelta(days=(7 - opener.weekday()) % 7 or 7)
    return 1 if day < first_monday else 2 + (day - first_monday).days // 7


def _schedule_game(g: Game, opener: dt.date) -> dict:
    et, utc = tip_datetimes(g.date, g.tip_et)
    day = dt.date.fromisoformat(g.date)
    arena, city, state, neutral = arena_for(g.game_id, g.home_id)
    wk = _week(opener, day)
    empty = ("nationalBroadcasters", "nationalRadioBroadcasters", "nationalOttBroadcasters",
             "homeTvBroadcasters", "homeRadioBroadcasters", "homeOttBroadcasters",
             "awayTvBroadcasters", "awayRadioBroadcasters", "awayOttBroadcasters")
    return {"gameId": g.game_id, "gameCode": gamecode(g), "gameStatus": 3, "gameStatusText": "Final",
            "gameSequence": g.sequence, "gameDateEst": f"{g.date}T00:00:00Z",
            "gameTimeEst": f"1900-01-01T{et:%H:%M}:00Z", "gameDateTimeEst": f"{et:%Y-%m-%dT%H:%M}:00Z",
            "gameDateUTC": f"{g.date}T05:00:00Z", "gameTimeUTC": f"1900-01-01T{utc:%H:%M}:00Z",
            "gameDateTimeUTC": f"{utc:%Y-%m-%dT%H:%M}:00Z",
            "awayTeamTime": f"{et:%Y-%m-%dT%H:%M}:00Z", "homeTeamTime": f"{et:%Y-%m-%dT%H:%M}:00Z",
            "day": f"{day:%a}", "monthNum": day.month, "weekNumber": wk, "weekName": f"Week {wk}",
            "ifNecessary": "false", "seriesGameNumber": "", "gameLabel": "", "gameSubLabel": "",
            "seriesText": "", "arenaName": arena, "arenaState": state, "arenaCity": city,
            "postponedStatus": "A", "branchLink": "", "gameSubtype": "", "isNeutral": neutral,
            "broadcasters": {k: [] for k in empty},
            "homeTeam": _team_block(g, g.home_id, g.home_pts),
            "awayTeam": _team_block(g, g.away_id, g.away_pts),
            "pointsLeaders": _points_leader(g)}


@lru_cache(maxsize=8)
def _season_schedule(season: str, version: tuple) -> tuple[list[tuple[str, dict]], list[dict]]:
    """Schedule entries and weeks of `season`; `version` = the season's corrections (cache key)."""
    games = get_store().seasons.get(season, [])
    if not games:
        return [], []
    opener = dt.date.fromisoformat(games[0].date)
    entries = [(g.game_id, _schedule_game(g, opener)) for g in games]
    last = dt.date.fromisoformat(games[-1].date)
    weeks, wk = [], 1
    start = opener
    while start <= last:
        end = start + dt.timedelta(days=6 - start.weekday())
        weeks.append({"weekNumber": wk, "weekName": f"Week {wk}", "startDate": f"{start}T00:00:00Z",
                      "endDate": f"{end}T00:00:00Z"})
        start, wk = end + dt.timedelta(days=1), wk + 1
    return entries, weeks


def scheduleleaguev2(req: Req) -> Resp:
    season, league = req.get("Season"), req.get("LeagueID", "00")
    version = get_store().season_version(season)
    if not req.drop:
        return json_resp_bytes(_schedule_body(season, league, frozenset(), version))
    return json_resp_bytes(_schedule_body.__wrapped__(season, league, req.drop, version))


@lru_cache(maxsize=16)
def _schedule_body(season: str, league: str, drop: frozenset[str], version: tuple) -> bytes:
    entries, weeks = _season_schedule(season, version)
    dates: dict[str, list[dict]] = {}
    for gid, entry in entries:
        if gid in drop:
            continue
        d = entry["gameDateEst"][:10]
        dates.setdefault(d, []).append(entry)
    game_dates = [{"gameDate": f"{mdy(d)} 00:00:00", "games": gs} for d, gs in dates.items()]
    return dumps({"meta": {"version": 1, "request": f"http://nba.cloud/league/00/{season}/scheduleleaguev2",
                           "time": "2025-06-30T12:00:00.00Z"},
                  "leagueSchedule": {"seasonYear": season, "leagueId": league,
                                     "gameDates": game_dates, "weeks": weeks}})


def json_resp_bytes(body: bytes) -> Resp:
    return Resp(200, body, {"Content-Type": "application/json; charset=utf-8"})


# ------------------------------------------------------------------------------ scoreboardv2
def line_score_row(g: Game, team_id: int, with_totals: bool) -> list:
    t = TEAMS[team_id]
    home_pp, away_pp = period_points(g.game_id)
    pp = home_pp if team_id == g.home_id else away_pp
    quarters = (pp + [0] * 14)[:14]
    pts = g.home_pts if team_id == g.home_id else g.away_pts
    row = [est(g.date), g.sequence, g.game_id, team_id, t.tricode, t.city, t.name, record(g, team_id),
           *quarters, pts]
    if with_totals:
        box = game_box(g.game_id)
        tt = (box.home if team_id == g.home_id else box.away).totals
        row += [pct_or_none(tt["FGM"], tt["FGA"]), pct_or_none(tt["FTM"], tt["FTA"]),
                pct_or_none(tt["FG3M"], tt["FG3A"]), tt["AST"], tt["REB"], tt["TOV"]]
    return row


def last_meeting_row(g: Game) -> list:
    prev = get_store().previous_meeting(g)
    if prev is None:
        return [g.game_id] + [None] * 12
    h, a = TEAMS[prev.home_id], TEAMS[prev.away_id]
    return [g.game_id, prev.game_id, est(prev.date), h.team_id, h.city, h.name, h.tricode,
            prev.home_pts, a.team_id, a.city, a.name, a.tricode, prev.away_pts]


def series_row(g: Game) -> list:
    w, l = get_store().season_series(g)
    leader = "Tied" if w == l else (TEAMS[g.home_id].city if w > l else TEAMS[g.away_id].city)
    return [g.game_id, g.home_id, g.away_id, est(g.date), w, l, leader]


def scoreboardv2(req: Req) -> Resp:
    store = get_store()
    date = parse_date(req.get("GameDate"), "GameDate")
    if date is None:
        raise BadRequest("GameDate is required")
    games = [g for g in store.games_by_date.get(date, []) if g.game_id not in req.drop]
    header, lines, series, meetings, leaders = [], [], [], [], []
    for g in games:
        arena = arena_for(g.game_id, g.home_id)[0]
        last_q = f"Q{g.periods}" if g.periods <= 4 else f"OT{g.periods - 4}"
        header.append([est(date), g.sequence, g.game_id, 3, "Final", gamecode(g), g.home_id, g.away_id,
                       str(g.season_year), g.periods, "     ", None, None, None, f"{last_q}       - ",
                       arena, 1, 0])
        lines += [line_score_row(g, g.away_id, True), line_score_row(g, g.home_id, True)]
        series.append(series_row(g))
        meetings.append(last_meeting_row(g))
        box = game_box(g.game_id)
        for tb in (box.home, box.away):
            best = {k: max(tb.players, key=lambda p, k=k: (p[k], -p.pid)) for k in ("PTS", "REB", "AST")}
            leaders.append([g.game_id, tb.team_id, tb.team.city, tb.team.name, tb.team.tricode,
                            *[x for k in ("PTS", "REB", "AST") for x in (best[k].pid, best[k].name, best[k][k])]])
    season = store.season_of_date(date)
    east, west = [], []
    if season:
        for tid, (w, l, hw, hl, rw, rl) in sorted(store.standings(season, date).items(),
                                                   key=lambda kv: (-(kv[1][0] / max(1, kv[1][0] + kv[1][1])), kv[0])):
            t = TEAMS[tid]
            row = [tid, "00", f"2{season[:4]}", date, t.conference, t.city, w + l, w, l,
                   round(w / (w + l), 3) if w + l else 0.0, f"{hw}-{hl}", f"{rw}-{rl}"]
            (east if t.conference == "East" else west).append(row)
    std = ["TEAM_ID", "LEAGUE_ID", "SEASON_ID", "STANDINGSDATE", "CONFERENCE", "TEAM", "G", "W", "L",
           "W_PCT", "HOME_RECORD", "ROAD_RECORD"]
    sets = [
        result_set("GameHeader", ["GAME_DATE_EST", "GAME_SEQUENCE", "GAME_ID", "GAME_STATUS_ID",
                                  "GAME_STATUS_TEXT", "GAMECODE", "HOME_TEAM_ID", "VISITOR_TEAM_ID",
                                  "SEASON", "LIVE_PERIOD", "LIVE_PC_TIME",
                                  "NATL_TV_BROADCASTER_ABBREVIATION", "HOME_TV_BROADCASTER_ABBREVIATION",
                                  "AWAY_TV_BROADCASTER_ABBREVIATION", "LIVE_PERIOD_TIME_BCAST",
                                  "ARENA_NAME", "WH_STATUS", "WNBA_COMMISSIONER_FLAG"], header),
        result_set("LineScore", LINESCORE_HEADERS + SCOREBOARD_LS_EXTRA, lines),
        result_set("SeriesStandings", SERIES_HEADERS, series),
        result_set("LastMeeting", LAST_MEETING_HEADERS, meetings),
        result_set("EastConfStandingsByDay", std, east),
        result_set("WestConfStandingsByDay", std, west),
        result_set("Available", ["GAME_ID", "PT_AVAILABLE"], [[g.game_id, 1] for g in games]),
        result_set("TeamLeaders", ["GAME_ID", "TEAM_ID", "TEAM_CITY", "TEAM_NICKNAME", "TEAM_ABBREVIATION",
                                   "PTS_PLAYER_ID", "PTS_PLAYER_NAME", "PTS", "REB_PLAYER_ID",
                                   "REB_PLAYER_NAME", "REB", "AST_PLAYER_ID", "AST_PLAYER_NAME", "AST"],
                   leaders),
        result_set("TicketLinks", ["GAME_ID", "LEAG_TIX"], [[g.game_id, None] for g in games]),
        result_set("WinProbability", [], []),
    ]
    return json_resp({"resource": "scoreboardV2",
                      "parameters": {"GameDate": mdy(date), "LeagueID": req.get("LeagueID", "00"),
                                     "DayOffset": req.get("DayOffset", "0")},
                      "resultSets": sets})
