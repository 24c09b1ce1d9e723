"""Stat corrections in the offline source: one player's stat in one game, from a moment on.

Real answers of the source with and without a correction: every endpoint that reports the stat
agrees on the corrected value (player lines, team totals, scores, line scores, play-by-play), every
other game and player is byte-identical, a correction not yet in effect changes nothing, a
correction written to the faults file reaches a running source (and leaves it when removed), and
bad rules are refused naming the cause. The pipeline side is in test_source_corrections_raw.py.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest

from nba_backfill.source import FaultRule, OfflineNbaSource, offline_transport
from nba_backfill.source.__main__ import main as source_main
from nba_backfill.source.corrections import EFFECTS, CorrectionError

STATS = "https://stats.nba.com/stats"
BDL = "https://api.balldontlie.io/v1"
PBP = "https://cdn.nba.com/static/json/liveData/playbyplay/playbyplay_{}.json"
DATE, SEASON = "2023-11-01", "2023-24"
GAME = "0022300115"  # DET 101 - POR 110 (DET at home)
OTHER = "0022300122"  # same date
PLAYER, TEAM_ID = 203924, 1610612757  # Jerami Grant, POR (away)
V3 = ("boxscoretraditionalv3", "boxscoreadvancedv3", "boxscoremiscv3", "boxscorescoringv3",
      "boxscoreusagev3", "boxscorefourfactorsv3", "boxscoredefensivev2", "boxscoreplayertrackv3")
POINTS = {"2pt": 2, "3pt": 3, "freethrow": 1}


def requests_for(gid: str) -> dict[str, tuple[str, dict]]:
    per_game = {"boxscoretraditionalv2": (f"{STATS}/boxscoretraditionalv2", {"GameID": gid}),
                "boxscoresummaryv2": (f"{STATS}/boxscoresummaryv2", {"GameID": gid}),
                "playbyplay": (PBP.format(gid), {}),
                "bdl_game": (f"{BDL}/games/{int(gid)}", {})}
    per_game.update({name: (f"{STATS}/{name}", {"GameID": gid}) for name in V3})
    return per_game


DAY_REQUESTS = {
    "leaguegamelog_p": (f"{STATS}/leaguegamelog", {"PlayerOrTeam": "P", "Season": SEASON,
                                                   "DateFrom": "11/01/2023", "DateTo": "11/01/2023"}),
    "leaguegamelog_t": (f"{STATS}/leaguegamelog", {"PlayerOrTeam": "T", "Season": SEASON,
                                                   "DateFrom": "11/01/2023", "DateTo": "11/01/2023"}),
    "scoreboardv2": (f"{STATS}/scoreboardv2", {"GameDate": DATE, "LeagueID": "00", "DayOffset": "0"}),
    "scheduleleaguev2": (f"{STATS}/scheduleleaguev2", {"LeagueID": "00", "Season": SEASON}),
    "bdl_games": (f"{BDL}/games", {"dates[]": DATE, "per_page": "100"}),
    "bdl_stats": (f"{BDL}/stats", {"dates[]": DATE, "per_page": "100"}),
    # stat line ids are game id * 100 + index: this page starts with GAME's lines
    "bdl_stats_game": (f"{BDL}/stats", {"dates[]": DATE, "per_page": "100", "cursor": "2230011499"}),
    "bdl_box_scores": (f"{BDL}/box_scores", {"date": DATE}),
}


def fetch(source: OfflineNbaSource) -> dict[str, bytes]:
    """Every answer that concerns GAME or OTHER, by name ("game:<endpoint>", "other:...", day-level)."""
    out = {}
    with httpx.Client(transport=offline_transport(source), timeout=30) as c:
        for prefix, gid in (("game", GAME), ("other", OTHER)):
            for name, (url, params) in requests_for(gid).items():
                r = c.get(url, params=params)
                assert r.status_code == 200, (name, r.text[:200])
                out[f"{prefix}:{name}"] = r.content
        for name, (url, params) in DAY_REQUESTS.items():
            r = c.get(url, params=params)
            assert r.status_code == 200, (name, r.text[:200])
            out[name] = r.content
    return out


def correction(stat: str = "pts", delta: int = 2, **extra) -> FaultRule:
    return FaultRule("correction", game_id=GAME, player_id=PLAYER, stat=stat, delta=delta, **extra)


@pytest.fixture(scope="module")
def baseline() -> dict[str, bytes]:
    return fetch(OfflineNbaSource())


@pytest.fixture(scope="module")
def corrected() -> dict[str, bytes]:
    return fetch(OfflineNbaSource(faults=[correction()]))


def rows(body: bytes, name: str) -> list[dict]:
    rs = next(r for r in json.loads(body)["resultSets"] if r["name"] == name)
    return [dict(zip(rs["headers"], row)) for row in rs["rowSet"]]


def live_counts(body: bytes) -> tuple[dict[int, Counter], list[int]]:
    """Per player, the box counts the liveData actions carry; and the final [home, away] score."""
    counts: dict[int, Counter] = {}
    actions = json.loads(body)["game"]["actions"]
    for a in actions:
        kind, pid = a["actionType"], a.get("personId", 0)
        c = counts.setdefault(pid, Counter())
        if kind in POINTS:
            made = a.get("shotResult") == "Made"
            if kind == "freethrow":
                c["FTA"] += 1
                c["FTM"] += made
            else:
                c["FGA"] += 1
                c["FGM"] += made
                c["FG3A"] += kind == "3pt"
                c["FG3M"] += made and kind == "3pt"
            c["PTS"] += POINTS[kind] if made else 0
            if a.get("assistPersonId"):
                counts.setdefault(a["assistPersonId"], Counter())["AST"] += 1
        elif kind == "rebound" and pid:
            c["OREB" if a["subType"] == "offensive" else "DREB"] += 1
        elif kind in ("steal", "block", "turnover", "foul") and pid:
            c[{"steal": "STL", "block": "BLK", "turnover": "TOV", "foul": "PF"}[kind]] += 1
    return counts, [int(actions[-1]["scoreHome"]), int(actions[-1]["scoreAway"])]


def diff(after: Counter, before: Counter) -> dict[str, int]:
    return {k: after[k] - before[k] for k in set(after) | set(before) if after[k] != before[k]}


# ---------------------------------------------------------------------- one points correction
def test_points_correction_reaches_every_endpoint_consistently(baseline, corrected):
    # leaguegamelog P: his row, and only his row, changes: PTS +2 as a made two (FGM, FGA +1)
    before, after = rows(baseline["leaguegamelog_p"], "LeagueGameLog"), rows(corrected["leaguegamelog_p"], "LeagueGameLog")
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert len(before) == len(after) and [a["PLAYER_ID"] for _, a in changed] == [PLAYER]
    b, a = changed[0]
    assert (a["PTS"], a["FGM"], a["FGA"], a["FTM"]) == (b["PTS"] + 2, b["FGM"] + 1, b["FGA"] + 1, b["FTM"])
    assert a["FG_PCT"] == round(a["FGM"] / a["FGA"], 3) and a["FANTASY_PTS"] == b["FANTASY_PTS"] + 2
    assert a["WL"] == b["WL"] == "W"
    pts = a["PTS"]

    # team rows: POR's points +2 (= the sum of its player rows); DET's only in its margin (team
    # plus-minus); the other games unchanged
    t_before, t_after = rows(baseline["leaguegamelog_t"], "LeagueGameLog"), rows(corrected["leaguegamelog_t"], "LeagueGameLog")
    t_changed = {a["TEAM_ID"]: (b, a) for b, a in zip(t_before, t_after) if b != a}
    assert {a["GAME_ID"] for _, a in t_changed.values()} == {GAME}
    (det_b, det), (por_b, por) = t_changed[1610612765], t_changed[TEAM_ID]
    assert {k: det[k] for k in det if det[k] != det_b[k]} == {"PLUS_MINUS": -11}
    assert por["PTS"] == 112 == sum(r["PTS"] for r in after if r["GAME_ID"] == GAME and r["TEAM_ID"] == TEAM_ID)
    assert por["PLUS_MINUS"] == 11 and por["FGM"] == por_b["FGM"] + 1

    # stats.nba.com box scores v2 and v3: his line and his team's totals
    p2 = {r["PLAYER_ID"]: r for r in rows(corrected["game:boxscoretraditionalv2"], "PlayerStats")}
    assert p2[PLAYER]["PTS"] == pts
    team2 = {r["TEAM_ID"]: r["PTS"] for r in rows(corrected["game:boxscoretraditionalv2"], "TeamStats")}
    assert team2 == {TEAM_ID: 112, 1610612765: 101}
    v3 = json.loads(corrected["game:boxscoretraditionalv3"])["boxScoreTraditional"]["awayTeam"]
    assert next(p for p in v3["players"] if p["personId"] == PLAYER)["statistics"]["points"] == pts
    assert v3["statistics"]["points"] == 112 == sum(p["statistics"]["points"] for p in v3["players"])

    # line scores (summary and scoreboard): quarters add up to the corrected final
    for body in (corrected["game:boxscoresummaryv2"], corrected["scoreboardv2"]):
        line = next(r for r in rows(body, "LineScore") if r["GAME_ID"] == GAME and r["TEAM_ID"] == TEAM_ID)
        assert line["PTS"] == 112 == sum(line[f"PTS_QTR{q}"] for q in range(1, 5))

    # schedule, balldontlie games / game / stats / box scores
    sched = json.loads(corrected["scheduleleaguev2"])["leagueSchedule"]["gameDates"]
    game = next(g for d in sched for g in d["games"] if g["gameId"] == GAME)
    assert (game["homeTeam"]["score"], game["awayTeam"]["score"]) == (101, 112)
    bdl_game = json.loads(corrected["game:bdl_game"])["data"]
    assert (bdl_game["home_team_score"], bdl_game["visitor_team_score"]) == (101, 112)
    listed = {g["id"]: g for g in json.loads(corrected["bdl_games"])["data"]}
    assert listed[int(GAME)]["visitor_team_score"] == 112
    stats = json.loads(corrected["bdl_stats_game"])["data"]
    mine = [s for s in stats if s["player"]["id"] == PLAYER and s["game"]["id"] == int(GAME)]
    assert [s["pts"] for s in mine] == [pts] and mine[0]["game"]["visitor_team_score"] == 112
    box = next(g for g in json.loads(corrected["bdl_box_scores"])["data"] if g["visitor_team_score"] == 112)
    assert next(p for p in box["visitor_team"]["players"] if p["player"]["id"] == PLAYER)["pts"] == pts

    # play-by-play: his plays carry exactly one more made two; nobody else's plays change in count
    counts_b, score_b = live_counts(baseline["game:playbyplay"])
    counts_a, score_a = live_counts(corrected["game:playbyplay"])
    assert score_b == [101, 110] and score_a == [101, 112]
    assert counts_a[PLAYER]["PTS"] == pts
    assert {pid: diff(counts_a.get(pid, Counter()), counts_b.get(pid, Counter()))
            for pid in set(counts_a) | set(counts_b) if pid} == {
        pid: ({"PTS": 2, "FGM": 1, "FGA": 1} if pid == PLAYER else {}) for pid in set(counts_a) | set(counts_b) if pid}


def test_other_games_and_players_are_byte_identical(baseline, corrected):
    for name in requests_for(OTHER):
        assert corrected[f"other:{name}"] == baseline[f"other:{name}"], name
    for name, result_set in (("leaguegamelog_p", "LeagueGameLog"), ("leaguegamelog_t", "LeagueGameLog"),
                             ("scoreboardv2", "LineScore"), ("scoreboardv2", "TeamLeaders")):
        assert ([r for r in rows(corrected[name], result_set) if r["GAME_ID"] != GAME]
                == [r for r in rows(baseline[name], result_set) if r["GAME_ID"] != GAME])
    before = {p["personId"]: p for p in json.loads(baseline["game:boxscoretraditionalv3"])["boxScoreTraditional"]["awayTeam"]["players"]}
    after = {p["personId"]: p for p in json.loads(corrected["game:boxscoretraditionalv3"])["boxScoreTraditional"]["awayTeam"]["players"]}
    assert [pid for pid in before if before[pid] != after[pid]] == [PLAYER]
    sched_b = json.loads(baseline["scheduleleaguev2"])["leagueSchedule"]["gameDates"]
    sched_a = json.loads(corrected["scheduleleaguev2"])["leagueSchedule"]["gameDates"]
    changed = [a["gameId"] for db, da in zip(sched_b, sched_a) for b, a in zip(db["games"], da["games"]) if a != b]
    assert changed == [GAME]


@pytest.mark.parametrize("stat,delta", [("fg3m", 1), ("ftm", -1), ("reb", 2), ("oreb", 1), ("dreb", -1),
                                        ("ast", 1), ("stl", -1), ("blk", 1), ("tov", -1), ("pf", -1),
                                        ("pts", -3)])
def test_each_stat_moves_its_counts_in_box_and_play_by_play(baseline, stat, delta):
    got = fetch(OfflineNbaSource(faults=[correction(stat, delta)]))
    effects = EFFECTS[stat](delta)
    before = {r["PLAYER_ID"]: r for r in rows(baseline["game:boxscoretraditionalv2"], "PlayerStats")}
    after = {r["PLAYER_ID"]: r for r in rows(got["game:boxscoretraditionalv2"], "PlayerStats")}
    assert [pid for pid in before if before[pid] != after[pid]] == [PLAYER]
    numeric = [k for k in ("FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST",
                           "STL", "BLK", "TO", "PF", "PTS")]
    moved = {k: after[PLAYER][k] - before[PLAYER][k] for k in numeric if after[PLAYER][k] != before[PLAYER][k]}
    assert moved == {("TO" if k == "TOV" else k): v for k, v in effects.items() if v}
    a = after[PLAYER]
    assert a["PTS"] == 2 * a["FGM"] + a["FG3M"] + a["FTM"] and a["REB"] == a["OREB"] + a["DREB"]
    counts_b, _ = live_counts(baseline["game:playbyplay"])
    counts_a, score = live_counts(got["game:playbyplay"])
    plays = {pid: diff(counts_a.get(pid, Counter()), counts_b.get(pid, Counter()))
             for pid in set(counts_a) | set(counts_b) if pid}
    want = {k: v for k, v in effects.items() if v and k != "REB"}
    assert {pid: d for pid, d in plays.items() if d} == {PLAYER: want}
    team = {r["TEAM_ID"]: r["PTS"] for r in rows(got["game:boxscoretraditionalv2"], "TeamStats")}
    assert score == [team[1610612765], team[TEAM_ID]] == [101, 110 + effects.get("PTS", 0)]


# ---------------------------------------------------------------------- from a moment on
def test_a_correction_takes_effect_at_since(baseline, corrected):
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    assert fetch(OfflineNbaSource(faults=[correction(since=future)])) == baseline
    assert fetch(OfflineNbaSource(faults=[correction(since="2024-01-01T00:00:00Z")])) == corrected
    rule = correction(since="2026-12-06T12:00:00Z")
    source = OfflineNbaSource(faults=[rule])
    assert source.faults.corrections(now=rule.since_ts - 0.001) == ()
    assert source.faults.corrections(now=rule.since_ts) == ((GAME, PLAYER, "pts", 2),)


def test_faults_file_correction_reaches_a_running_source_and_leaves_it(tmp_path, baseline, corrected):
    path = tmp_path / "offline_faults.json"
    source = OfflineNbaSource(faults_file=str(path))
    assert fetch(source) == baseline  # warms every cache with uncorrected answers
    path.write_text(json.dumps([correction().to_dict()]))
    assert fetch(source) == corrected
    path.write_text("[]")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))  # a distinct mtime for sure
    assert fetch(source) == baseline


# ---------------------------------------------------------------------- bad rules
@pytest.mark.parametrize("fields,message", [
    ({"stat": "minutes"}, "unknown correction stat 'minutes'"),
    ({"delta": 0}, "non-zero integer"),
    ({"player_id": None}, "needs a game_id and a player_id"),
    ({"endpoint": "boxscoretraditionalv3"}, "endpoint, date and times are not allowed"),
    ({"since": "next tuesday"}, "since is not an ISO-8601 time"),
])
def test_malformed_correction_rules_are_refused(fields, message):
    d = {"kind": "correction", "game_id": GAME, "player_id": PLAYER, "stat": "pts", "delta": 2, **fields}
    with pytest.raises(ValueError, match=message):
        FaultRule.from_dict(d)


@pytest.mark.parametrize("rule,message", [
    (FaultRule("correction", game_id="0022399999", player_id=PLAYER, stat="pts", delta=2),
     "game 0022399999 is not in the bundled data"),
    (FaultRule("correction", game_id=GAME, player_id=2544, stat="pts", delta=2),
     r"player 2544 did not play in game 0022300115 \(players: .*203924 Jerami Grant"),
    (FaultRule("correction", game_id=GAME, player_id=PLAYER, stat="fg3m", delta=-9),
     "would make .*FG3M=-"),
    (FaultRule("correction", game_id=GAME, player_id=1630595, stat="pts", delta=10),
     "final score would become 111-110 .*may not change the winner"),
    (FaultRule("correction", game_id=GAME, player_id=PLAYER, stat="stl", delta=30),
     "the play-by-play cannot carry it"),
])
def test_corrections_the_data_cannot_take_are_refused_at_load(rule, message):
    with pytest.raises(CorrectionError, match=message):
        OfflineNbaSource(faults=[rule])


def test_rules_are_checked_together_in_order_of_since():
    late = FaultRule("correction", game_id=GAME, player_id=1630595, stat="pts", delta=6, since="2030-01-01")
    early = FaultRule("correction", game_id=GAME, player_id=1630595, stat="pts", delta=6)
    with pytest.raises(CorrectionError, match="final score would become 113-110"):
        OfflineNbaSource(faults=[late, early])  # each alone is fine; once both apply DET would win


def test_a_bad_correction_in_the_faults_file_is_ignored_naming_the_cause(tmp_path, baseline, caplog):
    path = tmp_path / "offline_faults.json"
    path.write_text(json.dumps([{"kind": "correction", "game_id": GAME, "player_id": 2544,
                                 "stat": "pts", "delta": 2}]))
    with caplog.at_level(logging.WARNING, logger="nba_backfill.source.faults"):
        got = fetch(OfflineNbaSource(faults_file=str(path)))
    assert got == baseline
    assert "player 2544 did not play in game 0022300115" in caplog.text


# ---------------------------------------------------------------------- the helper
def test_correct_command_appends_a_checked_rule(tmp_path, capsys):
    path = tmp_path / "offline_faults.json"
    path.write_text(json.dumps({"faults": [{"kind": "latency", "delay": 0.01}], "base_latency": 0}))
    args = ["correct", "--home", str(tmp_path), "--game", GAME, "--player", str(PLAYER), "--stat", "pts"]
    assert source_main([*args, "--delta", "2", "--since", "2024-01-01T00:00:00Z"]) == 0
    assert json.loads(path.read_text()) == {"base_latency": 0, "faults": [
        {"kind": "latency", "delay": 0.01},
        {"kind": "correction", "game_id": GAME, "player_id": PLAYER, "stat": "pts", "delta": 2,
         "since": "2024-01-01T00:00:00Z"}]}
    written = path.read_bytes()
    assert source_main([*args, "--delta", "-99"]) == 2
    assert "would make PTS=" in capsys.readouterr().err
    assert path.read_bytes() == written  # nothing written on error
    source = OfflineNbaSource(faults_file=str(path))
    assert source.faults.corrections() == ((GAME, PLAYER, "pts", 2),)


def test_readme_command_runs_as_written(tmp_path, corrected):
    home = tmp_path / "nba_home"
    env = {**os.environ, "NBA_BACKFILL_HOME": str(home)}
    cmd = [sys.executable, "-m", "nba_backfill.source", "correct", "--home", str(home),
           "--game", GAME, "--player", str(PLAYER), "--stat", "pts", "--delta", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert fetch(OfflineNbaSource(faults_file=str(home / "offline_faults.json"))) == corrected
