"""Fault injection, process side: a run worker killed mid-range, the same range launched twice at
once, and bad CLI input. Same assets and reference rows as test_fault_injection.py (team box
score scraper + raw table over real 2023-24 dates), on a real SQLite DAGSTER_HOME prepared from
the packaged template (pool limits set: warehouse = 1).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, EventRecordsFilter
from dagster._core.storage.dagster_run import DagsterRunStatus

from nba_backfill.instance import prepare_dagster_home
from nba_backfill_tests.dagster_harness import InProcessGraphQL, daemon_workspace
from nba_backfill_tests.test_fault_injection_support import (  # noqa: F401 - fixtures
    ALL_FOUR,
    ENDPOINT,
    KILL_RANGE,
    RAW_SCHEDULE,
    RAW_TEAM,
    SCHEDULE_SCRAPER,
    TEAM_KEY,
    TEAM_LAKE_KIND,
    TEAM_SCRAPER,
    Home,
    assert_exact_rows,
    baseline,
    days_of,
    lake_objects,
    record,
    run_range,
    start_worker,
    step_failure_messages,
    table,
    wait_until,
)

KILL_DAYS = days_of(*KILL_RANGE)
NBA_BACKFILL = str(Path(sys.executable).with_name("nba-backfill"))


def materializations(instance: DagsterInstance, asset: AssetKey) -> list[str]:
    """Partition of every stored materialization of `asset` (one entry per event)."""
    records = instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_MATERIALIZATION, asset_key=asset))
    return sorted(r.partition_key for r in records)


# --- SIGKILL mid-range, then resume --------------------------------------------------------------


def test_run_worker_killed_mid_range_then_resume_fills_exactly_the_missing_partitions(
        tmp_path, baseline, record):
    dagster_home = prepare_dagster_home(tmp_path / "dagster_home")
    home = Home(tmp_path / "home", baseline, KILL_DAYS)
    last = KILL_DAYS[-1]
    # The third date's box scores hang: the worker is killed while it fetches them.
    home.faults([{"kind": "latency", "endpoint": ENDPOINT, "date": last, "delay": 120}])
    worker = start_worker(home.path, dagster_home, *KILL_RANGE, ALL_FOUR, tmp_path / "worker.log")
    try:
        wait_until(lambda: all(lake_objects(home.path, TEAM_LAKE_KIND, d) for d in KILL_DAYS[:2]),
                   180, "the first two dates' box scores to land")
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        (killed,) = instance.get_runs()
        assert killed.status not in {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE}
        # What the kill left: two whole dates landed, the third not at all, no warehouse rows.
        for day in KILL_DAYS[:2]:
            assert lake_objects(home.path, TEAM_LAKE_KIND, day) == baseline.lake(TEAM_LAKE_KIND, day)
        assert lake_objects(home.path, TEAM_LAKE_KIND, last) == {}
        assert table(home.path).empty
        done = {asset: instance.get_materialized_partitions(asset) for asset in ALL_FOUR}
        assert done[SCHEDULE_SCRAPER] == set(KILL_DAYS)  # finished before the kill
        assert done[TEAM_SCRAPER] == set() and done[RAW_TEAM] == set()
        missing = {asset: sorted(set(KILL_DAYS) - keys) for asset, keys in done.items()}
        missing = {asset: keys for asset, keys in missing.items() if keys}
        before = {asset: materializations(instance, asset) for asset in ALL_FOUR}

        # Resume: clear the fault, re-run the range for exactly the missing asset-partitions.
        home.faults([])
        resume_keys = sorted({k for keys in missing.values() for k in keys})
        result = run_range(home.path, instance, list(missing), resume_keys[0], resume_keys[-1])
        assert result.success, step_failure_messages(result)
        filled: dict[AssetKey, list[str]] = {}
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            filled.setdefault(mat.asset_key, []).append(mat.partition)
        assert {a: sorted(k) for a, k in filled.items()} == missing
        for asset in ALL_FOUR:
            after = materializations(instance, asset)
            assert sorted(after) == sorted(before[asset] + missing.get(asset, []))
            assert sorted(set(after)) == KILL_DAYS and len(after) == len(set(after)), asset
    assert_exact_rows(home.path, baseline, KILL_DAYS)
    refilled = ", ".join(f"{a.to_user_string()} ×{len(k)}" for a, k in missing.items())
    record("run worker SIGKILLed mid-range, then resume",
           f"killed run left 2 whole dates landed, 0 rows; resume filled exactly the missing "
           f"({refilled}); rows exact, none duplicated")


# --- the same range twice at once ----------------------------------------------------------------


def _step_window(instance: DagsterInstance, run_id: str, step: str) -> tuple[float, float]:
    logs = instance.all_logs(run_id)
    start = min(e.timestamp for e in logs if e.step_key == step and e.dagster_event
                and e.dagster_event.event_type == DagsterEventType.STEP_START)
    end = max(e.timestamp for e in logs if e.step_key == step and e.dagster_event
              and e.dagster_event.event_type in {DagsterEventType.STEP_SUCCESS,
                                                  DagsterEventType.STEP_FAILURE})
    return start, end


def test_same_range_launched_twice_concurrently_writes_every_row_once(tmp_path, baseline, record):
    dagster_home = prepare_dagster_home(tmp_path / "dagster_home")
    home = Home(tmp_path / "home", baseline, KILL_DAYS)
    for day in KILL_DAYS:  # the lake is landed: both runs only write the warehouse
        shutil.copytree(baseline.home / "lake" / TEAM_LAKE_KIND / day,
                        home.path / "lake" / TEAM_LAKE_KIND / day)
    assets = (RAW_SCHEDULE, RAW_TEAM)
    workers = [start_worker(home.path, dagster_home, *KILL_RANGE, assets, tmp_path / f"w{i}.log")
               for i in (1, 2)]
    try:
        codes = [w.wait(timeout=240) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    reports = []
    for i, code in enumerate(codes, start=1):
        lines = (tmp_path / f"w{i}.log").read_text(errors="replace").splitlines()
        report = next((json.loads(line) for line in reversed(lines) if line.startswith("{\"run_id\"")), None)
        assert report is not None, "\n".join(lines[-30:])
        assert code == (0 if report["success"] else 1)
        reports.append(report)
    succeeded = [r for r in reports if r["success"]]
    assert succeeded, reports
    for failed in (r for r in reports if not r["success"]):
        assert any("lock" in m.lower() for m in failed["failures"]), failed["failures"]
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = {r["run_id"]: instance.get_run_stats(r["run_id"]) for r in reports}
        (a_start, a_end), (b_start, b_end) = [(s.start_time, s.end_time) for s in runs.values()]
        assert a_start < b_end and b_start < a_end, "the two runs did not overlap"
        steps = [_step_window(instance, r["run_id"], "nba_raw__nbac_team_boxscore") for r in succeeded]
    got = table(home.path)
    assert not got.duplicated(TEAM_KEY).any()
    assert_exact_rows(home.path, baseline, KILL_DAYS)
    schedule = table(home.path, "nba_raw.nbac_schedule")
    assert not schedule.duplicated(["nba_game_id"]).any() and len(schedule) == sum(baseline.games.values())
    if len(succeeded) == 2:
        serial = steps[0][1] <= steps[1][0] or steps[1][1] <= steps[0][0]
        how = "the warehouse steps ran one after the other" if serial else "the second writer waited for the lock"
        outcome = f"both runs succeeded, overlapping; {how}; every row once"
    else:
        outcome = f"one run succeeded, the other failed cleanly: {reports[1]['failures'][0][:80]}; every row once"
    record("same range launched twice concurrently (DuckDB single writer)", outcome)


# --- bad CLI input -------------------------------------------------------------------------------


class _Recorder:
    """An HTTP GraphQL endpoint answered in-process by dagster-graphql over a real workspace;
    records every operation the CLI sends."""

    def __init__(self, workspace):
        self.graphql = InProcessGraphQL(workspace)
        self.queries: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.queries.append(body["query"])
                try:
                    payload = {"data": recorder.graphql.execute(body["query"], body.get("variables"))}
                except Exception as exc:  # noqa: BLE001 - returned as a GraphQL error
                    payload = {"errors": [{"message": str(exc)}]}
                data = json.dumps(payload, default=str).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli_input")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBA_BACKFILL_HOME", str(home))
        with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
            server = _Recorder(ws)
            try:
                yield server, ws.instance
            finally:
                server.close()


BAD_INPUT = [
    ("invalid date", ["--from", "2024-02-30", "--to", "2024-03-05"], ["2024-02-30"], False),
    ("unknown season", ["--season", "2031-32"], ["2031-32"], False),
    ("range outside the partitions", ["--from", "2030-01-01", "--to", "2030-01-31"],
     ["2030-01-01", "outside"], False),
    ("unknown asset key", ["--from", "2024-10-22", "--to", "2024-10-23", "--assets",
                           "nba_raw/no_such_table"], ["no_such_table"], True),
]


@pytest.mark.parametrize(("case", "args", "named", "asks_server"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_cli_input_exits_2_names_the_argument_and_launches_nothing(
        cli_server, record, case, args, named, asks_server):
    server, instance = cli_server
    asked_before = len(server.queries)
    done = subprocess.run([NBA_BACKFILL, "--url", server.url, "backfill", *args],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("nba-backfill backfill: error:"), done.stderr
    for fragment in named:
        assert fragment in message, (fragment, message)
    assert done.stdout.strip() == ""  # no backfill id printed
    asked = server.queries[asked_before:]
    assert not any("launchPartitionBackfill" in q for q in asked)
    assert bool(asked) == asks_server  # dates and seasons are refused before any request
    assert instance.get_backfills() == [] and instance.get_runs() == []
    record(f"CLI: {case}", f"exit 2, nothing launched: {message.removeprefix('nba-backfill backfill: error: ')[:110]}")
