"""The NBA HTTP client against the offline source: in-process and over real HTTP on 127.0.0.1."""

import json
import socket
import threading
import time

import pytest

from nba_backfill.resources.nba_api import NbaApiClient, NbaApiError
from nba_backfill.source import FaultRule, serve_offline

DATE_PARAMS = {
    "Counter": 0, "Direction": "ASC", "LeagueID": "00", "PlayerOrTeam": "P", "Season": "2023-24",
    "SeasonType": "Regular Season", "Sorter": "DATE", "DateFrom": "11/01/2023", "DateTo": "11/01/2023",
}


@pytest.fixture
def server():
    started = []

    def start(**kwargs):
        srv, thread, base = serve_offline(**kwargs)
        started.append(srv)
        return srv, base

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def live_client(base: str, **kwargs) -> NbaApiClient:
    defaults = dict(
        mode="live", stats_base_url=f"{base}/stats", cdn_base_url=f"{base}/static/json/liveData",
        bdl_base_url=f"{base}/v1", requests_per_second=1000, backoff_initial_seconds=0.01,
        backoff_max_seconds=0.05, max_attempts=4, read_timeout_seconds=2,
    )
    return NbaApiClient(**{**defaults, **kwargs})


def test_offline_client_returns_real_rows():
    client = NbaApiClient(mode="offline")
    resp = client.stats("leaguegamelog", DATE_PARAMS, context="2023-11-01")
    rows = resp.data["resultSets"][0]["rowSet"]
    assert len(rows) > 100 and resp.attempts == 1 and resp.bytes > 10_000


def test_retries_503_then_succeeds_and_counts_attempts(server):
    srv, base = server(faults=[FaultRule(kind="status", status=503, endpoint="leaguegamelog", times=2, retry_after=0)])
    resp = live_client(base).stats("leaguegamelog", DATE_PARAMS, context="2023-11-01")
    assert resp.attempts == 3
    assert resp.data["resultSets"][0]["rowSet"]


def test_honours_retry_after_on_429(server):
    srv, base = server(faults=[FaultRule(kind="status", status=429, endpoint="leaguegamelog", times=1, retry_after=0.6)])
    started = time.monotonic()
    resp = live_client(base, backoff_max_seconds=1).stats("leaguegamelog", DATE_PARAMS)
    assert resp.attempts == 2
    assert time.monotonic() - started >= 0.6


@pytest.mark.parametrize("kind", ["truncated", "malformed", "empty"])
def test_bad_bodies_are_retried_then_fail_naming_endpoint_and_context(server, kind):
    srv, base = server(faults=[FaultRule(kind=kind, endpoint="leaguegamelog")])
    with pytest.raises(NbaApiError) as err:
        live_client(base).stats("leaguegamelog", DATE_PARAMS, context="date 2023-11-01")
    message = str(err.value)
    assert "leaguegamelog" in message and "2023-11-01" in message and "after 4 attempts" in message


@pytest.mark.parametrize(
    ("kind", "cause"),
    [
        ("truncated", r"truncated response: [\d,]+ bytes received, the JSON document ends early"),
        ("malformed", r"malformed JSON \(\d+ bytes\): Expecting value"),
        ("empty", r"empty response body"),
    ],
)
def test_bad_bodies_name_their_kind_and_the_status_the_server_answered(server, kind, cause):
    srv, base = server(faults=[FaultRule(kind=kind, endpoint="leaguegamelog")])
    with pytest.raises(NbaApiError, match=cause) as err:
        live_client(base).stats("leaguegamelog", DATE_PARAMS, context="date 2023-11-01")
    assert err.value.status == 200  # the server answered; its body was bad ("HTTP status none" before)


@pytest.fixture
def short_body_server():
    """A server that announces 1,000 bytes of JSON, sends 300 and closes the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 1000\r\n\r\n" + b'{"resultSets": [' + b" " * 284)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


def test_connection_closed_mid_body_is_a_truncated_response_with_byte_counts(short_body_server):
    with pytest.raises(NbaApiError) as err:
        live_client(short_body_server).stats("leaguegamelog", DATE_PARAMS, context="date 2023-11-01")
    message = str(err.value)
    assert message.startswith(
        "leaguegamelog [date 2023-11-01]: truncated response: received 300 of 1,000 bytes, the "
        "connection closed mid-body"
    ), message
    assert message.endswith("after 4 attempts") and err.value.status == 200


def test_persistent_500_fails_with_status(server):
    srv, base = server(faults=[FaultRule(kind="status", status=500, endpoint="boxscoretraditionalv3")])
    with pytest.raises(NbaApiError, match=r"boxscoretraditionalv3 \[game 0022300115\]: HTTP 500 after 4") as err:
        live_client(base).stats("boxscoretraditionalv3", {"GameID": "0022300115"}, context="game 0022300115")
    assert err.value.status == 500


def test_client_error_is_not_retried(server):
    srv, base = server()
    with pytest.raises(NbaApiError, match="HTTP 400") as err:
        live_client(base).stats("boxscoretraditionalv3", {"GameID": "bad"})
    assert err.value.status == 400
    assert srv.source.stats["total"] == 1


def test_timeout_is_retried(server):
    srv, base = server(faults=[FaultRule(kind="timeout", endpoint="playbyplay", times=1, delay=1.5)])
    resp = live_client(base, read_timeout_seconds=0.3).cdn_playbyplay("0022300115")
    assert resp.attempts == 2 and resp.data["game"]["actions"]


def test_offline_faults_file_is_honoured(tmp_path):
    faults = tmp_path / "offline_faults.json"
    faults.write_text(json.dumps([{"kind": "status", "status": 500, "endpoint": "leaguegamelog"}]))
    client = NbaApiClient(mode="offline", offline_faults_file=str(faults), max_attempts=2,
                          backoff_initial_seconds=0.01, backoff_max_seconds=0.02)
    with pytest.raises(NbaApiError, match="HTTP 500"):
        client.stats("leaguegamelog", DATE_PARAMS)


def test_rate_limit_caps_requests_per_second(server):
    srv, base = server(rate_limit_per_second=12)
    client = live_client(base, requests_per_second=10)
    started = time.monotonic()
    for _ in range(25):
        client.stats("leaguegamelog", DATE_PARAMS)
    elapsed = time.monotonic() - started
    assert elapsed >= 1.9  # 25 requests at 10/s need at least two full windows
    assert srv.source.stats.get("429", 0) == 0  # our client never exceeds the server's budget


def test_bdl_pagination_visits_every_page():
    client = NbaApiClient(mode="offline")
    pages = list(client.bdl_paginate("stats", {"dates[]": "2023-11-01"}))
    lines = [row["id"] for page in pages for row in page.data["data"]]
    assert len(pages) >= 2 and len(lines) == len(set(lines))
