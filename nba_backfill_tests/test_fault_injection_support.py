"""Shared pieces of the fault-injection suite (`test_fault_injection*.py`); holds no tests.

- `RANGE`: the dates every case runs (a real two-date range of 2023-24: 4 + 7 games).
- `baseline` (session fixture): one clean run of the schedule and team box score scrapers and
  their raw tables over `KILL_RANGE`; every case compares its final rows with it, so "zero rows
  lost or duplicated" means: exactly the reference rows, each key once.
- `Home`: a fresh NBA_BACKFILL_HOME + Dagster instance seeded with the baseline's schedule
  (lake slices and raw table), so a case runs only the steps under test.
- `run_range`: one ranged in-process run (the range tags a backfill's single run carries).
- `worker_main`: the same run as a separate process (`python -c ...`) on a DAGSTER_HOME, for the
  SIGKILL and concurrency cases.
- `FaultSummary`: a pytest plugin registered by the suites; prints "case -> outcome" at the end
  of the session and writes it to test-artifacts/fault_summary.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    define_asset_job,
    in_process_executor,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_backfill.assets import raw, scrapers
from nba_backfill.partitions import DAILY_PARTITIONS, partition_keys_between
from nba_backfill.resources.environment import local_resources
from nba_backfill.resources.nba_api import NbaApiClient

REPO = Path(__file__).resolve().parents[1]
RANGE = ("2023-11-02", "2023-11-03")
KILL_RANGE = ("2023-11-02", "2023-11-04")
FAULT_DAY = "2023-11-03"
ENDPOINT = "boxscoretraditionalv3"  # the team box score scraper's endpoint (one request per game)
TEAM_LAKE_KIND = "nba-com/team-boxscore"
SCHEDULE_LAKE_KIND = "nba-com/schedule"

SCHEDULE_SCRAPER = AssetKey(["nba_lake", "nbac_schedule"])
TEAM_SCRAPER = AssetKey(["nba_lake", "nbac_team_boxscore"])
RAW_SCHEDULE = AssetKey(["nba_raw", "nbac_schedule"])
RAW_TEAM = AssetKey(["nba_raw", "nbac_team_boxscore"])
CASE_ASSETS = (TEAM_SCRAPER, RAW_TEAM)
ALL_FOUR = (SCHEDULE_SCRAPER, RAW_SCHEDULE, TEAM_SCRAPER, RAW_TEAM)
TEAM_KEY = ["game_id", "team_abbr"]


# --- resources and runs --------------------------------------------------------------------------


def client_config(**overrides: Any) -> dict[str, Any]:
    """The HTTP client of the suite: real retry/backoff code, short waits, a 1 s read timeout,
    4 attempts, Retry-After honoured up to 8 s (4 x backoff_max)."""
    config = dict(requests_per_second=1000.0, backoff_initial_seconds=0.05,
                  backoff_max_seconds=2.0, max_attempts=4, read_timeout_seconds=1.0,
                  connect_timeout_seconds=1.0)
    config.update(overrides)
    return config


def resources_for(home: Path, **client: Any) -> dict[str, Any]:
    resources = local_resources(home)
    mode = client.pop("mode", "offline")
    resources["nba_api"] = NbaApiClient(
        mode=mode, offline_faults_file=str(home / "offline_faults.json"), **client_config(**client)
    )
    return resources


def run_range(home: Path, instance: DagsterInstance, assets, first: str, last: str, **client: Any):
    """One ranged in-process run of `assets` over first..last (what a single-run backfill runs)."""
    job = define_asset_job("fault_case", selection=AssetSelection.assets(*assets),
                           partitions_def=DAILY_PARTITIONS, executor_def=in_process_executor)
    defs = Definitions(assets=[*scrapers.assets, *raw.assets], jobs=[job],
                       resources=resources_for(home, **client))
    tags = {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
    return defs.resolve_job_def("fault_case").execute_in_process(
        instance=instance, tags=tags, raise_on_error=False)


def step_failure_messages(result) -> list[str]:
    out = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            out.append(f"{event.step_key}: {error.message}")
    return out


def step_metadata(result, step: str, asset: AssetKey) -> dict[str, Any]:
    """The step's figures for `asset`: each partition's own figures (requests, retries, bytes,
    seconds...) summed over the partitions it materialized."""
    totals: dict[str, Any] = {}
    for mat in result.asset_materializations_for_node(step):
        if mat.asset_key != asset:
            continue
        for k, v in mat.metadata.items():
            value = v.value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[k] = totals.get(k, 0) + value
            else:
                totals.setdefault(k, value)
    if not totals:
        raise AssertionError(f"no materialization of {asset.to_user_string()} in step {step}")
    return totals


# --- data ----------------------------------------------------------------------------------------


def table(home: Path, name: str = "nba_raw.nbac_team_boxscore") -> pd.DataFrame:
    """Rows of a warehouse table (empty frame when the table does not exist yet)."""
    database = home / "warehouse.duckdb"
    if not database.exists():
        return pd.DataFrame()
    conn = duckdb.connect(str(database), read_only=True)
    try:
        schema, tbl = name.split(".")
        exists = conn.execute("select count(*) from information_schema.tables where table_schema = ? "
                              "and table_name = ?", [schema, tbl]).fetchone()[0]
        return conn.execute(f"select * from {name}").df() if exists else pd.DataFrame()
    finally:
        conn.close()


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Business columns only (no processed_at), rows in key order."""
    if frame.empty:
        return frame
    cols = [c for c in frame.columns if c != "processed_at"]
    return frame[cols].sort_values(TEAM_KEY).reset_index(drop=True)


def lake_objects(home: Path, kind: str, day: str) -> dict[str, Any]:
    folder = home / "lake" / kind / day
    if not folder.is_dir():
        return {}
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def days_of(first: str, last: str) -> list[str]:
    return partition_keys_between(first, last)


@dataclass
class Baseline:
    home: Path
    rows: pd.DataFrame  # nba_raw.nbac_team_boxscore over KILL_RANGE
    games: dict[str, int]  # date -> games on the schedule

    def rows_on(self, *days: str) -> pd.DataFrame:
        dates = pd.to_datetime(self.rows["game_date"]).dt.strftime("%Y-%m-%d")
        return comparable(self.rows[dates.isin(days)])

    def lake(self, kind: str, day: str) -> dict[str, Any]:
        return lake_objects(self.home, kind, day)


def assert_exact_rows(home: Path, baseline: Baseline, days: list[str]) -> None:
    """The warehouse holds exactly the reference rows of `days`: none lost, none duplicated."""
    got = table(home)
    assert not got.duplicated(TEAM_KEY).any(), got[got.duplicated(TEAM_KEY, keep=False)]
    pd.testing.assert_frame_equal(comparable(got), baseline.rows_on(*days), check_dtype=False)
    for day in days:
        assert lake_objects(home, TEAM_LAKE_KIND, day) == baseline.lake(TEAM_LAKE_KIND, day), day


@pytest.fixture(scope="session")
def baseline(tmp_path_factory) -> Baseline:
    home = tmp_path_factory.mktemp("fault_baseline")
    with DagsterInstance.ephemeral() as instance:
        result = run_range(home, instance, ALL_FOUR, *KILL_RANGE)
    assert result.success, step_failure_messages(result)
    rows = table(home)
    schedule = table(home, "nba_raw.nbac_schedule")
    dates = pd.to_datetime(schedule["game_date"]).dt.strftime("%Y-%m-%d")
    games = dates.value_counts().to_dict()
    assert games == {"2023-11-02": 4, "2023-11-03": 7, "2023-11-04": 8}, games
    assert len(rows) == 2 * sum(games.values()) and not rows.duplicated(TEAM_KEY).any()
    return Baseline(home=home, rows=rows, games=games)


class Home:
    """A case's NBA_BACKFILL_HOME seeded with the baseline's schedule (lake + raw table)."""

    def __init__(self, root: Path, baseline: Baseline, days: list[str]):
        self.path = root
        root.mkdir(parents=True, exist_ok=True)
        for day in days:
            src = baseline.home / "lake" / SCHEDULE_LAKE_KIND / day
            shutil.copytree(src, root / "lake" / SCHEDULE_LAKE_KIND / day)
        conn = duckdb.connect(str(root / "warehouse.duckdb"))
        try:
            conn.execute("attach ? as base (read_only)", [str(baseline.home / "warehouse.duckdb")])
            conn.execute("create schema nba_raw")
            conn.execute("create table nba_raw.nbac_schedule as select * from base.nba_raw.nbac_schedule")
            conn.execute("detach base")
        finally:
            conn.close()

    def faults(self, rules: list[dict]) -> None:
        (self.path / "offline_faults.json").write_text(json.dumps(rules))


# --- a run as its own process (SIGKILL, concurrency) ---------------------------------------------


def worker_command(home: Path, first: str, last: str, assets, **client: Any) -> list[str]:
    spec = json.dumps({"home": str(home), "first": first, "last": last,
                       "assets": [a.to_user_string() for a in assets], "client": client})
    code = ("import sys; from nba_backfill_tests.test_fault_injection_support import worker_main; "
            "worker_main(sys.argv[1])")
    return [sys.executable, "-c", code, spec]


def start_worker(home: Path, dagster_home: Path, first: str, last: str, assets, log: Path,
                 **client: Any) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "NBA_BACKFILL_HOME"}}
    env.update(DAGSTER_HOME=str(dagster_home), NBA_BACKFILL_HOME=str(home),
               PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    with log.open("ab") as out:
        return subprocess.Popen(worker_command(home, first, last, assets, **client), env=env,
                                cwd=str(REPO), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def worker_main(spec_json: str) -> None:
    """Entry point of a worker process: one ranged run on the instance at $DAGSTER_HOME.
    Prints one JSON line {"run_id", "success", "failures"}; exit code 0 on success, else 1."""
    spec = json.loads(spec_json)
    assets = [AssetKey(a.split("/")) for a in spec["assets"]]
    with DagsterInstance.get() as instance:
        result = run_range(Path(spec["home"]), instance, assets, spec["first"], spec["last"],
                           **spec["client"])
        print(json.dumps({"run_id": result.run_id, "success": result.success,
                          "failures": step_failure_messages(result)}), flush=True)
    raise SystemExit(0 if result.success else 1)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


# --- the summary table ---------------------------------------------------------------------------

SUMMARY_PATH = REPO / "test-artifacts" / "fault_summary.md"


class FaultSummary:
    """pytest plugin: `record(case, outcome)` from a test; failures of the suite's tests are
    recorded by the report hook; the table is printed in the terminal summary and written to
    test-artifacts/fault_summary.md."""

    name = "nba_fault_summary"

    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = {}  # nodeid -> [case, outcome, result], in run order

    def record(self, nodeid: str, case: str, outcome: str) -> None:
        self.rows[nodeid] = [case, outcome, "passed"]

    def pytest_runtest_logreport(self, report) -> None:
        if "test_fault_injection" not in report.nodeid or not report.failed:
            return
        row = self.rows.setdefault(report.nodeid, [report.nodeid.split("::")[-1], "", ""])
        row[1] = f"test failed in {report.when}" + (f" after: {row[1]}" if row[1] else "")
        row[2] = "FAILED"

    def table(self) -> str:
        lines = ["| case | outcome | test |", "|---|---|---|"]
        lines += [f"| {case} | {outcome.replace('|', '/')} | {result} |"
                  for case, outcome, result in self.rows.values()]
        return "\n".join(lines)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.rows:
            return
        text = self.table()
        terminalreporter.section("fault injection: case -> outcome")
        terminalreporter.write_line(text)
        SUMMARY_PATH.parent.mkdir(parents=True, exist_ok=True)
        SUMMARY_PATH.write_text("# Fault-injection suite: case -> outcome\n\n" + text + "\n")
        terminalreporter.write_line(f"(written to {SUMMARY_PATH.relative_to(REPO)})")


@pytest.fixture
def record(request):
    """`record(case, outcome)`: one row of the suite's summary table for this test."""
    plugin = request.config.pluginmanager.get_plugin(FaultSummary.name)
    if plugin is None:
        plugin = FaultSummary()
        request.config.pluginmanager.register(plugin, FaultSummary.name)

    def _record(case: str, outcome: str) -> None:
        plugin.record(request.node.nodeid, case, outcome)

    return _record
