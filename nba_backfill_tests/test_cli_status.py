"""`nba-backfill status` on real asset backfills: the per-partition verdict, causes, step errors.

The toy graph of `status_world` (project layers, the table core's `partition_ok` contract) runs
through the backfill daemon's own iteration on a test instance; the CLI's GraphQL is answered
in-process by dagster-graphql against the same workspace (`status_world.in_process_cli`).
Faults are real: a landed lake object the source emptied, a run whose worker is marked crashed
the way run monitoring does it, a DuckDB file locked by another process.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from types import SimpleNamespace

import pytest
from dagster import AssetCheckEvaluation, instance_for_test
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import (
    consume_new_runs_for_automatic_reexecution,
)
from dagster._daemon.backfill import execute_backfill_iteration

from nba_backfill import cli
from nba_backfill.checks.results import PARTITION_OK
from nba_backfill.ops import failures
from nba_backfill_tests.dagster_harness import daemon_workspace, launch_asset_backfill, run_backfill
from nba_backfill_tests.status_world import (
    FORM,
    RAW,
    WORLD_ENV,
    cause_of,
    every_asset,
    in_process_cli,
    warehouse_path,
)

FIRST, LAST = "2023-11-01", "2023-11-04"
BAD = ["2023-11-02", "2023-11-03"]  # the source dropped these dates' game
CRASH = "Detected run worker status WorkerStatus.FAILED: process 4242 was killed (signal 9)."
FINAL = {BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED_FAILED,
         BulkActionStatus.FAILED, BulkActionStatus.CANCELED}


def status(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["status", *args])
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def bad_dates(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    (root / "faults").mkdir()
    for day in BAD:
        (root / "faults" / day).touch()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(WORLD_ENV, str(root))
        with daemon_workspace("nba_backfill_tests.status_world", "toy_definitions") as ws:
            backfill_id = launch_asset_backfill(ws, every_asset(FIRST, LAST))
            assert run_backfill(ws, backfill_id).status == BulkActionStatus.COMPLETED_FAILED
            in_process_cli(mp, ws)
            yield SimpleNamespace(ws=ws, backfill_id=backfill_id)


def test_every_partition_not_done_is_listed_under_its_cause(bad_dates, capsys):
    code, out = status(capsys, bad_dates.backfill_id)
    assert code == cli.EXIT_FAILED
    assert "NOT DONE: 10 of 24 targeted asset-partitions" in out  # 4 raw tables + form, 2 dates
    lines = out.splitlines()
    for key in RAW:
        for day in BAD:
            at = lines.index(f"  [landed_object_malformed] 1 failed: {cause_of(key, day)}")
            assert lines[at + 1:at + 3] == [
                f"      {key.to_user_string()} {day}",
                f"      re-scrape to recover: nba_lake/toy_summary {day}",
            ]
    # never ran (upstream failed): one group, consecutive dates as one range
    at = lines.index(
        "  [upstream_not_done] 2 not run: never ran: upstream nba_raw/toy_summary did not end done"
    )
    assert lines[at + 1] == "      nba_analytics/toy_form 2023-11-02..2023-11-03"
    assert "landed_object_malformed 8, upstream_not_done 2" in out


def test_every_step_error_is_shown_and_unexecuted_checks_are_one_line_per_step(bad_dates, capsys):
    code, out = status(capsys, bad_dates.backfill_id)
    step_lines = [l for l in out.splitlines() if " FAILURE step " in l]
    assert len(step_lines) == 8  # 4 raw steps x 2 failed runs: all of them, not the first 3
    for line in step_lines:
        assert ": Failure: nba_raw/toy_" in line and "1 of 1 partitions not written" in line
        assert line.endswith("(+3 more lines, use --all)")
    assert "execution_failed" not in out
    heading = "Blocking checks that did not execute because their step failed or was skipped (5 steps):"
    section = out.split(heading + "\n")[1]
    dates = "2 partitions 2023-11-02..2023-11-03"
    assert section.splitlines()[:5] == [
        f"  step nba_analytics__toy_form: 2 checks (keys_unique, partition_ok) on {dates}",
        *(f"  step {step}: 1 check (keys_unique) on {dates}"
          for step in sorted(k.to_python_identifier() for k in RAW)),
    ]


def test_step_errors_are_read_from_every_page_of_a_run_log(bad_dates, capsys, monkeypatch):
    monkeypatch.setattr(failures, "EVENTS_PAGE", 7)  # a failed run logs ~60 events
    _, out = status(capsys, bad_dates.backfill_id)
    assert len([l for l in out.splitlines() if " FAILURE step " in l]) == 8


def test_long_listings_say_how_many_more_and_all_lists_everything(bad_dates, capsys):
    _, capped = status(capsys, bad_dates.backfill_id, "--limit", "3")
    # 8 raw groups of 3 lines + the form group of 2 lines; 8 step errors
    assert "  … and 23 more lines (use --all)" in capped
    assert "  … and 5 more lines (use --all)" in capped
    _, everything = status(capsys, bad_dates.backfill_id, "--all")
    assert "more lines (use --all)" not in everything
    failure_text = "      re-scrape to recover: nba_lake/toy_summary:2023-11-02"  # a Failure's last line
    assert everything.count(failure_text) == 4


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv(WORLD_ENV, str(tmp_path))
    return tmp_path


def _run_with_one_crash(ws, backfill_id: str, retry: bool):
    """Backfill iterations on a queued instance; the first queued run is marked failed the way
    run monitoring marks a run whose worker died; with `retry`, Dagster's auto re-execution
    (run_retries) relaunches it."""
    instance, log = ws.instance, logging.getLogger("nba_backfill_tests.crash")
    crashed = None
    for _ in range(50):
        list(execute_backfill_iteration(ws, log))
        for run in reversed(instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.QUEUED]))):
            if crashed is None:
                instance.report_run_failed(run, CRASH)
                crashed = run.run_id
            else:
                instance.launch_run(run.run_id, ws.create_request_context())
        if retry:
            failed = instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
            list(consume_new_runs_for_automatic_reexecution(ws, failed, log))
        if instance.get_backfill(backfill_id).status in FINAL:
            return instance.get_backfill(backfill_id), crashed
    raise AssertionError("backfill did not finish")


@pytest.mark.parametrize("retried", [True, False])
def test_crashed_run_is_listed_first_and_a_retried_one_does_not_fail_status(
        world, monkeypatch, capsys, retried):
    overrides = {"run_coordinator": {"module": "dagster", "class": "QueuedRunCoordinator"}}
    if retried:
        overrides["run_retries"] = {"enabled": True, "max_retries": 1}
    with instance_for_test(overrides=overrides, synchronous_run_launcher=True) as instance, \
            daemon_workspace("nba_backfill_tests.status_world", "toy_definitions", instance) as ws:
        ranges = {k: v for k, v in every_asset(FIRST, "2023-11-02").items() if "toy_form" not in k}
        backfill_id = launch_asset_backfill(ws, ranges, tags={"dagster/retry_strategy": "ALL_STEPS"})
        backfill, crashed = _run_with_one_crash(ws, backfill_id, retried)
        in_process_cli(monkeypatch, ws)
        code, out = status(capsys, backfill_id)
    crash_line = f"  run {crashed[:8]} [{FIRST}] FAILURE — crashed, no step failed: {CRASH}"
    head, _, tail = out.partition("\nphase ")
    assert "Crashed runs (1):" in head  # before the progress tables and everything else
    if retried:  # issue 17: exited 1 for a COMPLETED_SUCCESS backfill whose killed run was retried
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
        assert code == cli.EXIT_OK, out
        assert "DONE: all 10 targeted asset-partitions are materialized" in head
        assert crash_line + "  (recovered: its partitions ended done)" in head
        assert "No failed partitions." in tail
    else:
        assert backfill.status == BulkActionStatus.COMPLETED_FAILED
        assert code == cli.EXIT_FAILED
        assert crash_line in head and "recovered" not in head
        assert f"  [run_crashed] 5 failed: run {crashed[:8]} crashed: {CRASH}" in tail


def test_step_error_shows_the_innermost_error_of_the_chain(world, monkeypatch, capsys):
    """A DuckDB file held open by another process: the error is raised inside the IO manager and
    wrapped by Dagster; status names the lock and its holder, not the wrapper."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(300)", str(warehouse_path())],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with daemon_workspace("nba_backfill_tests.status_world", "lock_definitions") as ws:
            backfill_id = launch_asset_backfill(
                ws, {"nba_lake/toy_summary": [(FIRST, FIRST)], "nba_raw/toy_locked": [(FIRST, FIRST)]}
            )
            run_backfill(ws, backfill_id)
            in_process_cli(monkeypatch, ws)
            code, out = status(capsys, backfill_id)
    finally:
        holder.kill()
        holder.wait()
    assert code == cli.EXIT_FAILED
    (line,) = [l for l in out.splitlines() if " FAILURE step nba_raw__toy_locked: " in l]
    cause = line.split(" FAILURE step nba_raw__toy_locked: ", 1)[1]
    assert cause.startswith(f'IOException: IO Error: Could not set lock on file "{warehouse_path()}"')
    assert "Conflicting lock is held in" in cause and f"(PID {holder.pid})" in cause
    assert cause.endswith("[wrapped in DagsterExecutionHandleOutputError]")
    group = "[step_failed] 1 failed: step nba_raw__toy_locked: IOException: IO Error: Could not set lock"
    assert group in out


def test_root_error_keeps_where_our_code_raised_it():
    """A scraper step's chain as GraphQL returns it: our Failure naming the partition, then the
    client's errors, then the parser's; the innermost is shown, the Failure's line kept with it."""
    error = {
        "className": "Failure",
        "message": "dagster._core.definitions.events.Failure: nba_lake/x partition 2023-11-02: "
                   "endpoint boxscoremiscv3 failed\n",
        "errorChain": [
            {"isExplicitLink": True, "error": {"className": "FetchError", "message": "FetchError: boom\n"}},
            {"isExplicitLink": True, "error": {"className": "JSONDecodeError",
                                               "message": "json.decoder.JSONDecodeError: Expecting ',' "
                                                          "delimiter: line 1 column 12 (char 11)\n"}},
        ],
    }
    root = failures.root_error(error)
    assert root.text == "JSONDecodeError: Expecting ',' delimiter: line 1 column 12 (char 11)"
    assert root.wrappers == (
        "Failure: nba_lake/x partition 2023-11-02: endpoint boxscoremiscv3 failed", "FetchError",
    )
    assert failures.root_error(None, "Run worker crashed\nsecond line").lines == (
        "Run worker crashed", "second line")


def test_blocked_partitions_share_one_cause_listed_as_date_ranges(world, monkeypatch, capsys):
    """The table core blocks what reads a bad date: one cause, many dates, shown as ranges."""
    (world / "faults").mkdir()
    for day in BAD:
        (world / "faults" / day).touch()
    cause = "upstream nba_raw/toy_summary failed blocking check partition_ok"
    with daemon_workspace("nba_backfill_tests.status_world", "toy_definitions") as ws:
        ranges = {k: v for k, v in every_asset(FIRST, LAST).items()
                  if k.endswith("toy_summary") or "form" in k}
        backfill_id = launch_asset_backfill(ws, ranges)
        run_backfill(ws, backfill_id)
        for day in BAD:  # what the core records for a date it blocked
            ws.instance.report_runless_asset_event(AssetCheckEvaluation(
                asset_key=FORM, check_name=PARTITION_OK, passed=False, partition=day,
                metadata={"outcome": "blocked", "cause_kind": "upstream_check_failed", "cause": cause},
            ))
        in_process_cli(monkeypatch, ws)
        code, out = status(capsys, backfill_id)
    assert code == cli.EXIT_FAILED
    lines = out.splitlines()
    at = lines.index(f"  [upstream_check_failed] 2 blocked: {cause}")
    assert lines[at + 1] == "      nba_analytics/toy_form 2023-11-02..2023-11-03"
