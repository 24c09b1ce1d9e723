"""Every fault kind of the offline source produces the fault it names."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from nba_backfill.source import FaultRule, OfflineNbaSource, offline_transport

STATS = "https://stats.nba.com/stats"
BDL = "https://api.balldontlie.io/v1"
PBP = "https://cdn.nba.com/static/json/liveData/playbyplay/playbyplay_{}.json"
DATE = "2023-11-01"
GAME = "0022300115"
OTHER_GAME_SAME_DAY = "0022300122"


def _client(*rules: FaultRule, **kwargs) -> tuple[httpx.Client, OfflineNbaSource]:
    source = OfflineNbaSource(faults=list(rules), **kwargs)
    return httpx.Client(transport=offline_transport(source), timeout=10), source


def _trad(c: httpx.Client, gid: str = GAME) -> httpx.Response:
    return c.get(f"{STATS}/boxscoretraditionalv3", params={"GameID": gid})


@pytest.mark.parametrize("status", [429, 500, 503])
def test_status_faults(status):
    c, source = _client(FaultRule("status", endpoint="boxscoretraditionalv3", status=status,
                                  retry_after=2 if status == 429 else None))
    r = _trad(c)
    assert r.status_code == status
    if status == 429:
        assert r.headers["Retry-After"] == "2"
        assert source.stats["429"] == 1
    if status == 503:
        assert r.headers["Retry-After"] == "1"  # default for 429/503
    assert _trad(c, OTHER_GAME_SAME_DAY).status_code == status  # no date/game: every game
    assert c.get(f"{STATS}/boxscoremiscv3", params={"GameID": GAME}).status_code == 200
    assert source.stats["fault:status"] == 2


def test_fault_scoped_to_date_and_game():
    c, _ = _client(FaultRule("status", status=500, date=DATE, game_id=GAME))
    assert _trad(c).status_code == 500
    assert c.get(PBP.format(GAME)).status_code == 500
    assert _trad(c, OTHER_GAME_SAME_DAY).status_code == 200
    assert _trad(c, "0022300061").status_code == 200
    # a date-level request covering that game's date matches too
    assert c.get(f"{BDL}/games", params={"dates[]": DATE}).status_code == 500
    assert c.get(f"{BDL}/games", params={"dates[]": "2023-11-02"}).status_code == 200
    # ...but never the whole-season schedule unless the rule names it
    assert c.get(f"{STATS}/scheduleleaguev2", params={"Season": "2023-24"}).status_code == 200


def test_endpoint_groups_and_lists():
    c, _ = _client(FaultRule("status", endpoint="bdl", status=503))
    assert c.get(f"{BDL}/stats", params={"dates[]": DATE}).status_code == 503
    assert c.get(f"{BDL}/box_scores", params={"date": DATE}).status_code == 503
    assert _trad(c).status_code == 200
    c, _ = _client(FaultRule("status", endpoint=["playbyplay", "boxscoremiscv3"], status=500))
    assert c.get(PBP.format(GAME)).status_code == 500
    assert c.get(f"{STATS}/boxscoremiscv3", params={"GameID": GAME}).status_code == 500
    assert _trad(c).status_code == 200


def test_latency_is_added():
    c, _ = _client(FaultRule("latency", endpoint="bdl_games", delay=0.25))
    c.get(f"{BDL}/games", params={"dates[]": DATE})  # warm the data
    t = time.perf_counter()
    assert c.get(f"{BDL}/games", params={"dates[]": DATE}).status_code == 200
    assert time.perf_counter() - t >= 0.25


def test_timeout_raises_read_timeout_quickly():
    source = OfflineNbaSource(faults=[FaultRule("timeout", endpoint="playbyplay", delay=30)])
    with httpx.Client(transport=offline_transport(source), timeout=httpx.Timeout(5, read=0.1)) as c:
        t = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            c.get(PBP.format(GAME))
        assert time.perf_counter() - t < 2
        assert _trad(c).status_code == 200


@pytest.mark.parametrize("kind", ["truncated", "malformed", "empty"])
def test_body_faults_break_json(kind):
    c, _ = _client(FaultRule(kind, endpoint="boxscoretraditionalv3"))
    good = c.get(f"{STATS}/boxscoretraditionalv2", params={"GameID": GAME})
    json.loads(good.content)
    r = _trad(c)
    assert r.status_code == 200
    if kind == "empty":
        assert r.content == b""
    with pytest.raises(ValueError):
        json.loads(r.content)
    if kind == "truncated":
        full = OfflineNbaSource().handle(httpx.Request("GET", f"{STATS}/boxscoretraditionalv3?GameID={GAME}"))
        assert r.content == full.content[: len(full.content) // 2]


def test_times_limits_a_fault_to_the_first_requests():
    c, source = _client(FaultRule("status", endpoint="scoreboardv2", status=500, times=2))
    codes = [c.get(f"{STATS}/scoreboardv2", params={"GameDate": DATE}).status_code for _ in range(4)]
    assert codes == [500, 500, 200, 200]
    assert source.stats["scoreboardv2"] == 4


def test_drop_game_removes_the_game_everywhere_but_the_schedule():
    c, _ = _client(FaultRule("drop_game", game_id=GAME))
    mdy = "11/01/2023"
    for pot in ("P", "T"):
        rows = c.get(f"{STATS}/leaguegamelog", params={
            "LeagueID": "00", "PlayerOrTeam": pot, "Season": "2023-24", "SeasonType": "Regular Season",
            "DateFrom": mdy, "DateTo": mdy, "Direction": "ASC", "Sorter": "DATE", "Counter": 0}).json()
        gids = {r[6] if pot == "P" else r[4] for r in rows["resultSets"][0]["rowSet"]}
        assert GAME not in gids and OTHER_GAME_SAME_DAY in gids and len(gids) == 12
    board = c.get(f"{STATS}/scoreboardv2", params={"GameDate": DATE}).json()
    header = board["resultSets"][0]["rowSet"]
    assert len(header) == 12 and GAME not in {h[2] for h in header}
    sched = c.get(f"{STATS}/scheduleleaguev2", params={"Season": "2023-24"}).json()
    listed = {g["gameId"] for d in sched["leagueSchedule"]["gameDates"] for g in d["games"]}
    assert GAME in listed  # the schedule still names it: completeness checks can find the gap
    assert _trad(c).json()["boxScoreTraditional"]["homeTeam"]["players"] == []
    assert c.get(PBP.format(GAME)).json()["game"]["actions"] == []
    assert c.get(PBP.format(OTHER_GAME_SAME_DAY)).json()["game"]["actions"]
    bdl_games = c.get(f"{BDL}/games", params={"dates[]": DATE}).json()["data"]
    assert int(GAME) not in {g["id"] for g in bdl_games} and len(bdl_games) == 12
    stats = c.get(f"{BDL}/stats", params={"dates[]": DATE, "per_page": 100}).json()
    assert int(GAME) not in {s["game"]["id"] for s in stats["data"]}
    boxes = c.get(f"{BDL}/box_scores", params={"date": DATE}).json()["data"]
    assert len(boxes) == 12
    # naming the schedule drops it there too
    c2, _ = _client(FaultRule("drop_game", endpoint="scheduleleaguev2", game_id=GAME))
    sched = c2.get(f"{STATS}/scheduleleaguev2", params={"Season": "2023-24"}).json()
    assert GAME not in {g["gameId"] for d in sched["leagueSchedule"]["gameDates"] for g in d["games"]}
    assert len(c2.get(f"{BDL}/games", params={"dates[]": DATE}).json()["data"]) == 13


def test_drop_game_by_date_drops_the_whole_day():
    c, _ = _client(FaultRule("drop_game", endpoint="bdl_games", date=DATE))
    assert c.get(f"{BDL}/games", params={"dates[]": DATE}).json()["data"] == []
    assert len(c.get(f"{BDL}/games", params={"dates[]": "2023-11-02"}).json()["data"]) > 0


def _write(path, rules):
    path.write_text(json.dumps(rules))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a visibly new mtime


def test_faults_file_is_reread_when_it_changes(tmp_path):
    path = tmp_path / "faults.json"
    source = OfflineNbaSource(faults_file=str(path))  # file does not exist yet: no faults
    c = httpx.Client(transport=offline_transport(source))
    assert _trad(c).status_code == 200
    _write(path, [{"kind": "status", "endpoint": "boxscoretraditionalv3", "status": 503}])
    assert _trad(c).status_code == 503
    _write(path, {"faults": [{"kind": "status", "endpoint": "boxscoretraditionalv3", "status": 500}]})
    assert _trad(c).status_code == 500
    _write(path, [])
    assert _trad(c).status_code == 200


def test_file_times_budget_is_shared_between_sources(tmp_path):
    path = tmp_path / "faults.json"
    _write(path, [{"kind": "status", "endpoint": "boxscoretraditionalv3", "status": 500, "times": 2}])
    a = httpx.Client(transport=offline_transport(OfflineNbaSource(faults_file=str(path))))
    b = httpx.Client(transport=offline_transport(OfflineNbaSource(faults_file=str(path))))
    assert [_trad(a).status_code, _trad(b).status_code, _trad(a).status_code, _trad(b).status_code] == [
        500, 500, 200, 200]
    _write(path, [{"kind": "status", "endpoint": "boxscoretraditionalv3", "status": 500, "times": 2}])
    assert _trad(b).status_code == 500  # a rewritten file starts a fresh budget


def test_default_faults_file_under_backfill_home(tmp_path, monkeypatch):
    monkeypatch.delenv("NBA_BACKFILL_HOME", raising=False)
    source = OfflineNbaSource()  # constructed before the env var exists: read lazily per request
    c = httpx.Client(transport=offline_transport(source))
    monkeypatch.setenv("NBA_BACKFILL_HOME", str(tmp_path))
    assert _trad(c).status_code == 200
    _write(tmp_path / "offline_faults.json",
           {"faults": [{"kind": "status", "endpoint": "stats", "status": 429, "retry_after": 3}]})
    r = _trad(c)
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"


def test_rule_validation():
    with pytest.raises(ValueError):
        FaultRule("explode")
    with pytest.raises(ValueError):
        FaultRule("drop_game")
    assert FaultRule("latency", date="11/01/2023").date == DATE
    assert FaultRule.from_dict({"kind": "empty", "game_id": 22300115}).game_id == GAME
