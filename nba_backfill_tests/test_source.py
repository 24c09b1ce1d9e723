"""The offline NBA source answers with the real numbers in the real shapes (no mocks)."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from pathlib import Path

import httpx
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from nba_backfill.source import OfflineNbaSource, offline_transport

DATA = Path(__file__).resolve().parents[1] / "nba_backfill" / "source" / "data"
STATS = "https://stats.nba.com/stats"
BDL = "https://api.balldontlie.io/v1"
PBP = "https://cdn.nba.com/static/json/liveData/playbyplay/playbyplay_{}.json"
DATE = "2023-11-01"
GAME = "0022300115"  # POR @ DET, 2023-11-01
OT_GAME = "0022300083"  # an overtime game, 2023-10-27


@pytest.fixture(scope="module")
def client():
    with httpx.Client(transport=offline_transport(OfflineNbaSource()), timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def parquet():
    return pq.ParquetFile(DATA / "player_game_logs.parquet").read()


def _where(table, column: str, value) -> list[dict]:
    return table.filter(pc.equal(table[column], value)).to_pylist()


def _gamelog(client, pot: str, date: str, season: str = "2023-24") -> dict:
    mdy = f"{date[5:7]}/{date[8:]}/{date[:4]}"
    r = client.get(f"{STATS}/leaguegamelog", params={
        "Counter": 0, "Direction": "ASC", "LeagueID": "00", "PlayerOrTeam": pot, "Season": season,
        "SeasonType": "Regular Season", "Sorter": "DATE", "DateFrom": mdy, "DateTo": mdy})
    assert r.status_code == 200
    rs = r.json()["resultSets"][0]
    assert rs["name"] == "LeagueGameLog"
    return rs


def _rows(rs: dict) -> list[dict]:
    return [dict(zip(rs["headers"], row)) for row in rs["rowSet"]]


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None
    return a == b


def test_leaguegamelog_player_rows_equal_the_parquet(client, parquet):
    expected = _where(parquet, "GAME_DATE", DATE)
    rs = _gamelog(client, "P", DATE)
    assert rs["headers"][:10] == ["SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ID", "TEAM_ABBREVIATION",
                                  "TEAM_NAME", "GAME_ID", "GAME_DATE", "MATCHUP", "WL"]
    got = _rows(rs)
    assert len(got) == len(expected) == 279
    key = lambda r: (r["GAME_ID"], r["PLAYER_ID"])  # noqa: E731
    for exp, row in zip(sorted(expected, key=key), sorted(got, key=key)):
        for col, value in exp.items():
            if col == "SEASON_LABEL":
                continue
            want = str(value) if col == "SEASON_ID" else value  # the API sends "22023"
            assert _same(want, row[col]), (col, exp, row)
        assert row["FANTASY_PTS"] == round(exp["PTS"] + 1.2 * exp["REB"] + 1.5 * exp["AST"]
                                           + 3 * exp["STL"] + 3 * exp["BLK"] - exp["TOV"], 1)


def test_bundled_parquet_equals_the_shared_real_data():
    shared = Path("/work/shared/data/nba/player_game_logs/player_game_logs_2020-21_to_2024-25.parquet")
    if not shared.exists():
        pytest.skip("shared data not mounted")
    order = [("GAME_ID", "ascending"), ("PLAYER_ID", "ascending")]
    a = pq.ParquetFile(shared).read().sort_by(order)
    b = pq.ParquetFile(DATA / "player_game_logs.parquet").read().sort_by(order)
    assert a.num_rows == b.num_rows == 127_695 and a.column_names == b.column_names
    for name in a.column_names:
        assert a[name].cast(b[name].type).equals(b[name]), name


def test_team_rows_schedule_scoreboard_and_player_points_agree(client):
    players = _rows(_gamelog(client, "P", DATE))
    teams = _rows(_gamelog(client, "T", DATE))
    player_pts = Counter()
    for r in players:
        player_pts[(r["GAME_ID"], r["TEAM_ID"])] += r["PTS"]
    assert {(t["GAME_ID"], t["TEAM_ID"]): t["PTS"] for t in teams} == dict(player_pts)
    assert all(t["MIN"] in (240, 265, 290, 315) for t in teams)
    assert all(t["PLUS_MINUS"] == 2 * t["PTS"] - sum(u["PTS"] for u in teams if u["GAME_ID"] == t["GAME_ID"])
               for t in teams)

    sched = client.get(f"{STATS}/scheduleleaguev2", params={"LeagueID": "00", "Season": "2023-24"}).json()
    day = [d for d in sched["leagueSchedule"]["gameDates"] if d["gameDate"].startswith("11/01/2023")]
    assert len(day) == 1
    for game in day[0]["games"]:
        assert game["gameStatus"] == 3 and game["gameStatusText"] == "Final"
        for side in ("homeTeam", "awayTeam"):
            assert game[side]["score"] == player_pts[(game["gameId"], game[side]["teamId"])]
    assert len(day[0]["games"]) == len(teams) // 2 == 13
    n_games = sum(len(d["games"]) for d in sched["leagueSchedule"]["gameDates"])
    assert n_games == 1230

    board = client.get(f"{STATS}/scoreboardv2", params={"GameDate": DATE, "LeagueID": "00", "DayOffset": 0}).json()
    sets = {rs["name"]: _rows(rs) for rs in board["resultSets"]}
    assert len(sets["GameHeader"]) == 13
    for line in sets["LineScore"]:
        quarters = [line[f"PTS_QTR{i}"] for i in range(1, 5)] + [line[f"PTS_OT{i}"] for i in range(1, 11)]
        assert sum(quarters) == line["PTS"] == player_pts[(line["GAME_ID"], line["TEAM_ID"])]

    games = client.get(f"{BDL}/games", params={"dates[]": DATE, "per_page": 100}).json()["data"]
    assert len(games) == 13
    for g in games:
        gid = str(g["id"]).zfill(10)
        home = [t for t in teams if t["GAME_ID"] == gid and " vs. " in t["MATCHUP"]][0]
        assert g["home_team_score"] == home["PTS"] and g["status"] == "Final"


@pytest.mark.parametrize("date", ["2023-07-15", "2023-12-24", "2019-11-01"])
def test_days_without_games_answer_empty_everywhere(client, date):
    season = "2023-24"
    assert _gamelog(client, "P", date, season)["rowSet"] == []
    assert _gamelog(client, "T", date, season)["rowSet"] == []
    board = client.get(f"{STATS}/scoreboardv2", params={"GameDate": date, "LeagueID": "00", "DayOffset": 0})
    assert board.status_code == 200
    sets = {rs["name"]: rs["rowSet"] for rs in board.json()["resultSets"]}
    assert sets["GameHeader"] == [] and sets["LineScore"] == []
    for path, params in (("games", {"dates[]": date}), ("stats", {"dates[]": date}), ("box_scores", {"date": date})):
        r = client.get(f"{BDL}/{path}", params=params)
        assert r.status_code == 200 and r.json()["data"] == []
    sched = client.get(f"{STATS}/scheduleleaguev2", params={"LeagueID": "00", "Season": season}).json()
    mdy = f"{date[5:7]}/{date[8:]}/{date[:4]}"
    assert not [d for d in sched["leagueSchedule"]["gameDates"] if d["gameDate"].startswith(mdy)]


def _box_lines(client, gid: str) -> dict[int, dict]:
    rs = client.get(f"{STATS}/boxscoretraditionalv2", params={"GameID": gid}).json()["resultSets"][0]
    return {r["PLAYER_ID"]: r for r in _rows(rs)}


def _secs(clock: str) -> float:
    m = re.fullmatch(r"PT(\d+)M([\d.]+)S", clock)
    return int(m[1]) * 60 + float(m[2])


@pytest.mark.parametrize("gid", [GAME, OT_GAME])
def test_play_by_play_is_consistent_with_the_box_score(client, gid):
    box = _box_lines(client, gid)
    r = client.get(PBP.format(gid))
    assert r.status_code == 200
    body = r.json()
    assert body["game"]["gameId"] == gid and body["meta"]["code"] == 200
    actions = body["game"]["actions"]
    count = Counter()
    last = {}
    for a in actions:
        pid, kind = a["personId"], a["actionType"]
        assert set(a) >= {"actionNumber", "clock", "period", "actionType", "qualifiers", "personId",
                          "scoreHome", "scoreAway", "description"}
        if a["period"] == last.get("period"):
            assert _secs(a["clock"]) <= last["secs"]
        last = {"period": a["period"], "secs": _secs(a["clock"])}
        if kind in ("2pt", "3pt"):
            made = a["shotResult"] == "Made"
            count[(pid, "FGA")] += 1
            count[(pid, "FGM")] += made
            if kind == "3pt":
                count[(pid, "FG3A")] += 1
                count[(pid, "FG3M")] += made
                assert a["shotDistance"] >= 22
                assert a["area"] in ("Above the Break 3", "Left Corner 3", "Right Corner 3")
            elif a["area"] in ("Restricted Area", "In The Paint (Non-RA)"):
                assert a["shotDistance"] <= 8 and "pointsinthepaint" in a["qualifiers"]
            else:
                assert a["area"] == "Mid-Range" and 8 <= a["shotDistance"] <= 22
            if a.get("assistPersonId"):
                count[(a["assistPersonId"], "AST")] += 1
        elif kind == "freethrow":
            count[(pid, "FTA")] += 1
            count[(pid, "FTM")] += a["shotResult"] == "Made"
        elif kind == "rebound" and pid:
            count[(pid, "OREB" if a["subType"] == "offensive" else "DREB")] += 1
        elif kind in ("steal", "block", "turnover"):
            count[(pid, {"steal": "STL", "block": "BLK", "turnover": "TO"}[kind])] += 1
        elif kind == "foul" and pid and a["subType"] != "technical":
            count[(pid, "PF")] += 1
    for pid, line in box.items():
        for k in ("FGA", "FGM", "FG3A", "FG3M", "FTA", "FTM", "OREB", "DREB", "AST", "STL", "BLK", "TO", "PF"):
            assert count[(pid, k)] == line[k], (pid, k)
    summary = client.get(f"{STATS}/boxscoresummaryv2", params={"GameID": gid}).json()
    sets = {rs["name"]: _rows(rs) for rs in summary["resultSets"]}
    g = sets["GameSummary"][0]
    pts = {row["TEAM_ID"]: row for row in sets["LineScore"]}
    final = actions[-1]
    assert final["actionType"] == "game" and final["subType"] == "end"
    assert int(final["scoreHome"]) == pts[g["HOME_TEAM_ID"]]["PTS"]
    assert int(final["scoreAway"]) == pts[g["VISITOR_TEAM_ID"]]["PTS"]
    periods = max(a["period"] for a in actions)
    assert periods == g["LIVE_PERIOD"]
    for team_id, key in ((g["HOME_TEAM_ID"], "scoreHome"), (g["VISITOR_TEAM_ID"], "scoreAway")):
        ends = [int(a[key]) for a in actions if a["actionType"] == "period" and a["subType"] == "end"]
        per = [ends[0]] + [b - a for a, b in zip(ends, ends[1:])]
        names = [f"PTS_QTR{i}" for i in range(1, 5)] + [f"PTS_OT{i}" for i in range(1, 11)]
        assert per == [pts[team_id][n] for n in names[:periods]]
    if periods > 4:  # tied after regulation
        reg_end = [a for a in actions if a["actionType"] == "period" and a["subType"] == "end"][3]
        assert reg_end["scoreHome"] == reg_end["scoreAway"]


def test_v3_box_scores_match_the_real_lines_and_each_other(client, parquet):
    lines = {r["PLAYER_ID"]: r for r in _where(parquet, "GAME_ID", GAME)}
    trad = client.get(f"{STATS}/boxscoretraditionalv3", params={"GameID": GAME}).json()["boxScoreTraditional"]
    assert trad["gameId"] == GAME and trad["homeTeamId"] == trad["homeTeam"]["teamId"]
    seen = 0
    for side in ("homeTeam", "awayTeam"):
        team = trad[side]
        for p in team["players"]:
            s, line = p["statistics"], lines[p["personId"]]
            assert (s["points"], s["fieldGoalsMade"], s["fieldGoalsAttempted"], s["threePointersMade"],
                    s["freeThrowsAttempted"], s["reboundsTotal"], s["assists"], s["steals"], s["turnovers"]) == (
                line["PTS"], line["FGM"], line["FGA"], line["FG3M"], line["FTA"], line["REB"], line["AST"],
                line["STL"], line["TOV"])
            assert s["minutes"] == f"{line['MIN']}:00"
            seen += 1
        assert team["statistics"]["points"] == sum(p["statistics"]["points"] for p in team["players"])
    assert seen == len(lines)

    def get(ep):
        body = client.get(f"{STATS}/{ep}", params={"GameID": GAME}).json()
        return body[[k for k in body if k != "meta"][0]]

    misc, track, defense = get("boxscoremiscv3"), get("boxscoreplayertrackv3"), get("boxscoredefensivev2")
    for side in ("homeTeam", "awayTeam"):
        assert misc[side]["statistics"]["pointsPaint"] == sum(p["statistics"]["pointsPaint"] for p in misc[side]["players"])
        for p in track[side]["players"]:
            s, line = p["statistics"], lines[p["personId"]]
            assert s["contestedFieldGoalsAttempted"] + s["uncontestedFieldGoalsAttempted"] == line["FGA"]
            assert s["contestedFieldGoalsMade"] + s["uncontestedFieldGoalsMade"] == line["FGM"]
            assert s["assists"] == line["AST"]
        for p in defense[side]["players"]:
            s, line = p["statistics"], lines[p["personId"]]
            assert (s["steals"], s["blocks"], s["defensiveRebounds"]) == (line["STL"], line["BLK"], line["DREB"])
    opp_fga = sum(p["statistics"]["matchupFieldGoalsAttempted"] for p in defense["homeTeam"]["players"])
    assert opp_fga == sum(r["FGA"] for r in lines.values() if r["TEAM_ID"] == defense["awayTeam"]["teamId"])
    adv = get("boxscoreadvancedv3")
    assert adv["homeTeam"]["statistics"]["usagePercentage"] == 1.0
    assert 80 < adv["homeTeam"]["statistics"]["pace"] < 130
    usage = get("boxscoreusagev3")
    assert abs(sum(p["statistics"]["percentagePoints"] for p in usage["awayTeam"]["players"]) - 1.0) < 0.02


def test_balldontlie_cursor_pagination_returns_every_line_once(client, parquet):
    expected = {(r["GAME_ID"], r["PLAYER_ID"]) for r in _where(parquet, "GAME_DATE", DATE)}
    seen, cursor, pages = [], None, 0
    while True:
        params = {"dates[]": DATE, "per_page": 25}
        if cursor is not None:
            params["cursor"] = cursor
        body = client.get(f"{BDL}/stats", params=params).json()
        pages += 1
        assert len(body["data"]) <= 25 and body["meta"]["per_page"] == 25
        seen += [(str(d["game"]["id"]).zfill(10), d["player"]["id"]) for d in body["data"]]
        cursor = body["meta"].get("next_cursor")
        if cursor is None:
            break
    assert pages == math.ceil(len(expected) / 25)
    assert len(seen) == len(set(seen)) == len(expected) and set(seen) == expected
    default = client.get(f"https://api.balldontlie.io/nba/v1/stats", params={"dates[]": DATE}).json()
    assert default["meta"]["per_page"] == 25 and len(default["data"]) == 25
    capped = client.get(f"{BDL}/stats", params={"dates[]": DATE, "per_page": 500}).json()
    assert capped["meta"]["per_page"] == 100 and len(capped["data"]) == 100
    boxes = client.get(f"{BDL}/box_scores", params={"date": DATE}).json()["data"]
    assert sum(len(b["home_team"]["players"]) + len(b["visitor_team"]["players"]) for b in boxes) == len(expected)


def test_unknown_and_malformed_requests(client):
    empty = client.get(f"{STATS}/boxscoretraditionalv3", params={"GameID": "0022399999"})
    assert empty.status_code == 200
    body = empty.json()["boxScoreTraditional"]
    assert body["homeTeam"]["players"] == [] and body["homeTeamId"] == 0
    v2 = client.get(f"{STATS}/boxscoresummaryv2", params={"GameID": "0022399999"}).json()
    assert all(rs["rowSet"] == [] for rs in v2["resultSets"])
    assert client.get(f"{STATS}/boxscoretraditionalv3", params={"GameID": "123"}).status_code == 400
    assert client.get(f"{STATS}/leaguegamelog", params={"DateFrom": "31/31/2023", "Season": "2023-24"}).status_code == 400
    assert client.get(f"{STATS}/notanendpoint").status_code == 404
    assert client.get("https://example.com/whatever").status_code == 404
    assert client.get(PBP.format("0022399999")).status_code == 403
    assert client.get(f"{BDL}/box_scores").status_code == 400


def test_period_points_bundle_matches_the_generator():
    from nba_backfill.source.linescore import _bundled
    from nba_backfill.source.pbp import build_plan

    bundled = _bundled()
    assert len(bundled) == 6000
    for gid in ("0022000001", GAME, OT_GAME, "0022401229", "0022100500", "0022200999"):
        plan = build_plan(gid)
        assert bundled[gid] == [plan.period_pts[0], plan.period_pts[1]], gid


def test_requests_are_fast_and_counted():
    source = OfflineNbaSource()
    with httpx.Client(transport=offline_transport(source)) as c:
        c.get(f"{BDL}/games", params={"dates[]": "2023-01-04"})  # first load
        timings = []
        for date in ("2023-01-05", "2023-01-06", "2023-01-07"):
            t = time.perf_counter()
            assert c.get(f"{BDL}/stats", params={"dates[]": date, "per_page": 100}).status_code == 200
            assert c.get(f"{STATS}/scoreboardv2", params={"GameDate": date}).status_code == 200
            timings.append((time.perf_counter() - t) / 2)
        assert min(timings) < 0.05, timings
    assert source.stats["bdl_stats"] == 3 and source.stats["scoreboardv2"] == 3
    assert source.stats["total"] == 7
    assert OfflineNbaSource().games_on("2023-11-01")[0]["season"] == "2023-24"
    assert OfflineNbaSource().season_of("2023-11-01") == "2023-24"
    assert OfflineNbaSource().season_of("2023-07-15") is None
