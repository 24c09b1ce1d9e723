"""Fault injection, HTTP side: every fault of a source ends in correct data or in a clear failure
naming the partition and the cause — and in both cases no row is lost or duplicated.

Each case runs the team box score scraper (`nba_lake/nbac_team_boxscore`, stats.nba.com
boxscoretraditionalv3, one request per game) and its raw table (`nba_raw.nbac_team_boxscore`) as
ONE ranged run over 2023-11-02..2023-11-03 (4 + 7 real games) against the offline source, with
the fault on the second date. Recovered faults must give exactly the baseline rows (a clean run)
and the scraper's metadata must show the retries. Faults that outlast the retries must fail the
step with a message naming the partition, endpoint and cause, land nothing for the faulted date,
leave the warehouse without rows from the failed run, and a re-run of the same range after the
fault is gone must give exactly the baseline rows (nothing half-written to clean up).
Process faults (SIGKILL, concurrent launches) and CLI input are in test_fault_injection_process.py.
"""

from __future__ import annotations

import socket

import pandas as pd
import pytest
from dagster import DagsterInstance

from nba_backfill.source import FaultRule, OfflineNbaSource, serve_offline
from nba_backfill_tests.test_fault_injection_support import (  # noqa: F401 - fixtures
    CASE_ASSETS,
    ENDPOINT,
    FAULT_DAY,
    RANGE,
    RAW_TEAM,
    TEAM_LAKE_KIND,
    TEAM_SCRAPER,
    Home,
    assert_exact_rows,
    baseline,
    comparable,
    days_of,
    lake_objects,
    record,
    run_range,
    step_failure_messages,
    step_metadata,
    table,
)

DAYS = days_of(*RANGE)
FIRST_DAY = DAYS[0]
TEAM_STEP = "nbac_team_boxscore"


@pytest.fixture
def home(tmp_path, baseline):
    return Home(tmp_path / "home", baseline, DAYS)


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def fault(kind: str, times: int | None, **extra) -> dict:
    return {"kind": kind, "endpoint": ENDPOINT, "date": FAULT_DAY, "times": times, **extra}


def recovered(home, instance, baseline, retries: int, **client):
    """Run the range; assert success, exact rows and the recorded retries; return the step's
    metadata."""
    result = run_range(home.path, instance, CASE_ASSETS, *RANGE, **client)
    assert result.success, step_failure_messages(result)
    meta = step_metadata(result, TEAM_STEP, TEAM_SCRAPER)
    assert meta["retries"] == retries, meta
    assert meta["requests"] == sum(baseline.games[d] for d in DAYS)
    assert_exact_rows(home.path, baseline, DAYS)
    return meta


def failed_cleanly(home, instance, baseline, *fragments: str, day: str = FAULT_DAY, **client) -> str:
    """Run the range; assert the step failed naming `day` and every fragment, that nothing was
    landed for `day`, the other dates landed completely or not at all, and that no rows reached
    the warehouse; then clear the faults and re-run: exactly the baseline rows. Returns the
    failure message."""
    result = run_range(home.path, instance, CASE_ASSETS, *RANGE, **client)
    assert not result.success
    failures = step_failure_messages(result)
    assert len(failures) == 1 and failures[0].startswith(f"{TEAM_STEP}:"), failures
    message = failures[0]
    assert f"partition {day}" in message and ENDPOINT in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert lake_objects(home.path, TEAM_LAKE_KIND, day) == {}
    for other in DAYS:
        landed = lake_objects(home.path, TEAM_LAKE_KIND, other)
        assert landed in ({}, baseline.lake(TEAM_LAKE_KIND, other)), other  # whole date or nothing
    assert table(home.path).empty  # the raw step never ran: no rows from the failed run
    assert not result.is_node_success(RAW_TEAM.to_python_identifier())
    home.faults([])
    retry = run_range(home.path, instance, CASE_ASSETS, *RANGE, **{k: v for k, v in client.items()
                                                                   if k != "mode" and "url" not in k})
    assert retry.success, step_failure_messages(retry)
    assert_exact_rows(home.path, baseline, DAYS)
    return message.split(": ", 1)[1]


def short(message: str, limit: int = 150) -> str:
    """The failure from "partition ..." on, one line, at most `limit` characters."""
    text = message[message.find("partition "):] if "partition " in message else message
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- 429 -----------------------------------------------------------------------------------------


def test_429_with_retry_after_waits_as_told_then_correct_data(home, instance, baseline, record):
    home.faults([fault("status", 2, status=429, retry_after=1)])
    meta = recovered(home, instance, baseline, retries=2)
    assert meta["seconds"] >= 2.0  # two answers "Retry-After: 1", each waited for (backoff is 0.05 s)
    record("HTTP 429 + Retry-After: 1 (x2)", f"correct data; 2 retries, waited {meta['seconds']:.1f} s ≥ 2 s")


def test_429_without_retry_after_backs_off_then_correct_data(home, instance, baseline, record):
    """Over real HTTP: the offline server answers 429 with no Retry-After header twice."""
    rule = FaultRule("status", endpoint=ENDPOINT, date=FAULT_DAY, status=429, times=2)
    rule.retry_after = None  # FaultRule defaults 429s to "Retry-After: 1"; this case has none
    source = OfflineNbaSource(faults=[rule])
    server, _thread, base = serve_offline(source=source)
    try:
        meta = recovered(home, instance, baseline, retries=2, mode="live",
                         stats_base_url=f"{base}/stats", cdn_base_url=f"{base}/static/json/liveData",
                         bdl_base_url=f"{base}/v1")
    finally:
        server.shutdown()
        server.server_close()
    assert source.stats["429"] == 2 and source.stats.get("fault:status") == 2
    record("HTTP 429 without Retry-After (x2, live HTTP)",
           "correct data; 2 retries with exponential backoff")


# --- 5xx bursts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_burst_shorter_than_the_retries_gives_correct_data(home, instance, baseline, record, status):
    home.faults([fault("status", 3, status=status)])
    recovered(home, instance, baseline, retries=3)
    record(f"HTTP {status} burst (3 answers, 4 attempts)", "correct data; 3 retries")


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_burst_longer_than_the_retries_fails_naming_partition_and_status(
        home, instance, baseline, record, status):
    home.faults([fault("status", None, status=status)])
    message = failed_cleanly(home, instance, baseline, f"HTTP status {status}", "after 4 attempts")
    record(f"HTTP {status} persistent", f"clear failure: {short(message)}")


# --- timeouts and refused connections ------------------------------------------------------------


def test_read_timeout_burst_gives_correct_data(home, instance, baseline, record):
    home.faults([fault("timeout", 2, delay=0.2)])
    recovered(home, instance, baseline, retries=2, read_timeout_seconds=0.2)
    record("read timeout (x2)", "correct data; 2 retries")


def test_persistent_read_timeout_fails_naming_partition(home, instance, baseline, record):
    home.faults([fault("timeout", None, delay=0.2)])
    message = failed_cleanly(home, instance, baseline, "timeout (ReadTimeout)", read_timeout_seconds=0.2)
    record("read timeout persistent", f"clear failure: {short(message)}")


def test_connection_refused_fails_naming_the_first_partition(home, instance, baseline, record):
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    message = failed_cleanly(home, instance, baseline, "transport error", "after 4 attempts",
                             day=FIRST_DAY, mode="live", stats_base_url=f"{base}/stats",
                             cdn_base_url=f"{base}/static/json/liveData", bdl_base_url=f"{base}/v1")
    assert "HTTP status none (no HTTP response)" in message
    record("connection refused (live client, closed port)", f"clear failure: {short(message)}")


# --- broken bodies -------------------------------------------------------------------------------


def test_truncated_json_once_is_retried_to_correct_data(home, instance, baseline, record):
    home.faults([fault("truncated", 1)])
    recovered(home, instance, baseline, retries=1)
    record("truncated JSON (x1)", "correct data; 1 retry")


@pytest.mark.parametrize(
    ("kind", "cause"),
    [("truncated", "malformed JSON"), ("malformed", "malformed JSON"), ("empty", "empty response body")],
)
def test_persistently_broken_body_fails_naming_partition_and_cause(
        home, instance, baseline, record, kind, cause):
    home.faults([fault(kind, None)])
    message = failed_cleanly(home, instance, baseline, cause)
    record(f"{kind} body persistent", f"clear failure: {short(message)}")


# --- fewer games than the schedule ----------------------------------------------------------------


def test_endpoint_silently_missing_a_game_is_named_and_nothing_else_is_lost(
        home, instance, baseline, record):
    """The box score endpoint answers one scheduled game as an unknown game (200, no teams):
    the raw table's blocking `games_complete` and `teams_complete` fail for that date only and
    name the game; that date fails (missing landed object, re-scrape named) and writes nothing;
    every other date is written exactly once and materialized."""
    rows = baseline.rows
    dropped = sorted(baseline.lake(TEAM_LAKE_KIND, FAULT_DAY))[0].removesuffix(".json")
    code = rows.loc[rows["nba_game_id"] == dropped, "game_id"].iloc[0]
    home.faults([{"kind": "drop_game", "endpoint": ENDPOINT, "game_id": dropped}])
    result = run_range(home.path, instance, CASE_ASSETS, *RANGE)
    assert not result.success
    (message,) = step_failure_messages(result)
    assert f"{FAULT_DAY}: check games_complete" in message and f"{TEAM_SCRAPER.to_user_string()}:{FAULT_DAY}" in message
    failed = {(e.check_name, e.partition): e for e in result.get_asset_check_evaluations()
              if e.asset_key == RAW_TEAM and e.partition and not e.passed}
    assert set(failed) == {("partition_ok", FAULT_DAY), ("games_complete", FAULT_DAY),
                           ("teams_complete", FAULT_DAY)}, set(failed)
    for name in ("games_complete", "teams_complete"):
        assert code in failed[(name, FAULT_DAY)].metadata["offending_sample"].value
    assert failed[("partition_ok", FAULT_DAY)].metadata["cause_kind"].value == "landed_object_missing"
    assert instance.get_materialized_partitions(RAW_TEAM) == set(DAYS) - {FAULT_DAY}
    got = table(home.path)
    assert not got.duplicated(["game_id", "team_abbr"]).any()
    in_range = pd.to_datetime(rows["game_date"]).dt.strftime("%Y-%m-%d")
    expected = comparable(rows[in_range.isin(DAYS) & (in_range != FAULT_DAY)])
    assert len(expected) < len(baseline.rows_on(*DAYS)) - 2
    pd.testing.assert_frame_equal(comparable(got), expected, check_dtype=False)
    record("endpoint returns fewer games than the schedule (drop_game)",
           f"blocking games_complete + teams_complete fail for {FAULT_DAY} naming {code}; that date "
           f"fails alone (nothing written); the other {len(expected)} rows exact, none duplicated")
