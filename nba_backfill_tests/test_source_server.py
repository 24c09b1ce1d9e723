"""The standalone server answers like the in-process transport and enforces its rate budget."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from nba_backfill.source import FaultRule, OfflineNbaSource, offline_transport, serve_offline

PATHS = [
    "/stats/boxscoretraditionalv3?GameID=0022300115",
    "/stats/leaguegamelog?Counter=0&Direction=ASC&LeagueID=00&PlayerOrTeam=P&Season=2023-24"
    "&SeasonType=Regular+Season&Sorter=DATE&DateFrom=11%2F01%2F2023&DateTo=11%2F01%2F2023",
    "/static/json/liveData/playbyplay/playbyplay_0022300115.json",
    "/v1/stats?dates[]=2023-11-01&per_page=30",
]


@pytest.fixture()
def server():
    srv, _thread, url = serve_offline()
    yield srv, url
    srv.shutdown()
    srv.server_close()


def test_server_answers_the_same_bytes_as_the_transport(server):
    _, url = server
    local = httpx.Client(transport=offline_transport())
    with httpx.Client(base_url=url, timeout=30) as remote:
        for path in PATHS:
            a, b = remote.get(path), local.get(f"https://stats.nba.com{path}")
            assert a.status_code == b.status_code == 200
            assert a.content == b.content
            assert a.headers["content-type"] == b.headers["content-type"]
        assert remote.get("/nope").status_code == 404


def test_server_rate_limit_answers_429_with_retry_after():
    srv, _, url = serve_offline(rate_limit_per_second=5)
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            codes = [c.get("/v1/games?dates[]=2023-11-01") for _ in range(15)]
            limited = [r for r in codes if r.status_code == 429]
            assert limited and len(codes) - len(limited) >= 5
            assert all(int(r.headers["Retry-After"]) >= 1 for r in limited)
            assert srv.source.stats["429"] == len(limited)
            time.sleep(1.1)
            assert c.get("/v1/games?dates[]=2023-11-01").status_code == 200
    finally:
        srv.shutdown()
        srv.server_close()


def test_server_faults_and_shared_source():
    source = OfflineNbaSource(faults=[FaultRule("timeout", endpoint="bdl_games", delay=1.0),
                                      FaultRule("truncated", endpoint="bdl_box_scores")])
    srv, _, url = serve_offline(source=source)
    try:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(5, read=0.2)) as c:
            with pytest.raises(httpx.ReadTimeout):
                c.get("/nba/v1/games?dates[]=2023-11-01")
            r = c.get("/v1/box_scores?date=2023-11-01")
            assert r.status_code == 200
            with pytest.raises(ValueError):
                r.json()
        assert source.stats["bdl_games"] == 1
    finally:
        srv.shutdown()
        srv.server_close()


def test_cli_runs_the_server_in_the_foreground():
    from nba_backfill_tests.dagster_harness import reset_signals

    # reset_signals: when this session's SIGINT is ignored (a background CI job) Dagster's
    # interrupt set-up also ignores SIGTERM, and a child would inherit that and outlive terminate()
    proc = subprocess.Popen([sys.executable, "-m", "nba_backfill.source", "--port", "0", "--latency", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=reset_signals)
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, proc.stderr.read() if proc.poll() is not None else line
        url = line.strip().rsplit(" ", 1)[1]
        r = httpx.get(f"{url}/stats/scoreboardv2?GameDate=2023-11-01&LeagueID=00&DayOffset=0", timeout=30)
        assert r.status_code == 200 and r.json()["resultSets"][0]["name"] == "GameHeader"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_async_transport_answers_like_the_sync_one():
    import asyncio

    from nba_backfill.source import offline_async_transport

    async def fetch() -> bytes:
        async with httpx.AsyncClient(transport=offline_async_transport()) as c:
            r = await c.get("https://api.balldontlie.io/v1/games", params={"dates[]": "2023-11-01"})
            assert r.status_code == 200
            return r.content

    sync = httpx.Client(transport=offline_transport()).get(
        "https://api.balldontlie.io/v1/games", params={"dates[]": "2023-11-01"})
    assert asyncio.run(fetch()) == sync.content
