"""`PooledSqliteEventLogStorage`: the stock SQLite event log with engines kept open.

Same files and schema as Dagster's class, so the checks are behavioural: what one instance
writes, another instance (and another process) reads; runs, wipes and many shards keep working.
"""

from __future__ import annotations

import subprocess
import sys
import time

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSpec,
    AssetKey,
    DagsterInstance,
    DailyPartitionsDefinition,
    Output,
    asset,
    materialize,
)
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from nba_backfill.instance import prepare_dagster_home
from nba_backfill.storage import MAX_ENGINES, PooledSqliteEventLogStorage

DAYS = DailyPartitionsDefinition(start_date="2024-10-22", end_date="2024-10-26")


@asset(key=["nba_raw", "storage_probe"], partitions_def=DAYS,
       check_specs=[AssetCheckSpec("rows_positive", asset=["nba_raw", "storage_probe"])])
def storage_probe(context):
    yield Output(None)
    yield AssetCheckResult(passed=context.partition_key != "2024-10-24",
                           metadata={"partition": context.partition_key})


def _check_event(run_id: str, day: str, passed: bool) -> EventLogEntry:
    evaluation = AssetCheckEvaluation(asset_key=AssetKey(["nba_raw", "t"]), check_name="c",
                                      passed=passed, metadata={}, partition=day)
    event = DagsterEvent(DagsterEventType.ASSET_CHECK_EVALUATION.value, "job",
                         event_specific_data=evaluation)
    return EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id,
                         timestamp=time.time(), dagster_event=event, job_name="job")


def test_prepared_instance_runs_reads_back_and_is_shared_between_instances(tmp_path):
    home = prepare_dagster_home(tmp_path / "dh")
    with DagsterInstance.from_config(str(home)) as writer, DagsterInstance.from_config(str(home)) as reader:
        assert isinstance(writer.event_log_storage, PooledSqliteEventLogStorage)
        for day in ("2024-10-23", "2024-10-24"):
            assert materialize([storage_probe], instance=writer, partition_key=day,
                               raise_on_error=False).dagster_run.status.value == "SUCCESS"
        assert reader.get_materialized_partitions(AssetKey(["nba_raw", "storage_probe"])) == {
            "2024-10-23", "2024-10-24"}
        key = AssetCheckKey(AssetKey(["nba_raw", "storage_probe"]), "rows_positive")
        records = reader.event_log_storage.get_asset_check_execution_history(key, limit=10)
        assert sorted(r.status.value for r in records if r.status.value != "PLANNED") == [
            "FAILED", "SUCCEEDED"]
        run = reader.get_runs()[0]
        assert [e.dagster_event_type for e in reader.all_logs(run.run_id)
                if e.is_dagster_event][-1] == DagsterEventType.RUN_SUCCESS


def test_many_run_shards_keep_a_bounded_number_of_engines_and_lose_nothing(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    runs = [f"run-{i:02d}" + "x" * 30 for i in range(MAX_ENGINES + 6)]
    for run_id in runs:
        for day in ("2024-10-22", "2024-10-23"):
            storage.store_event(_check_event(run_id, day, passed=True))
    assert len(storage._engines) <= MAX_ENGINES
    for run_id in runs:  # evicted shards reopen on demand
        assert len(storage.get_logs_for_run(run_id)) == 2
    stock = SqliteEventLogStorage(str(tmp_path / "runs"))  # the stock class reads the same files
    assert len(stock.get_logs_for_run(runs[0])) == 2
    storage.wipe()
    assert storage.get_logs_for_run(runs[-1]) == []
    storage.store_event(_check_event(runs[-1], "2024-10-22", passed=False))  # usable after a wipe
    assert len(storage.get_logs_for_run(runs[-1])) == 1
    storage.dispose()


WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from test_storage import _check_event
from nba_backfill.storage import PooledSqliteEventLogStorage
storage = PooledSqliteEventLogStorage({base!r})
for i in range(20):
    storage.store_event(_check_event("child-run" + "y" * 27, "2024-10-22", passed=True))
"""


def test_another_process_writes_while_this_one_keeps_its_engines_open(tmp_path):
    base = str(tmp_path / "runs")
    storage = PooledSqliteEventLogStorage(base)
    storage.store_event(_check_event("parent-run" + "z" * 26, "2024-10-22", passed=True))
    code = WRITER.format(tests=str(__import__("pathlib").Path(__file__).parent), base=base)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert len(storage.get_logs_for_run("child-run" + "y" * 27)) == 20
    storage.store_event(_check_event("parent-run" + "z" * 26, "2024-10-23", passed=True))
    assert len(storage.get_logs_for_run("parent-run" + "z" * 26)) == 2


def test_a_run_written_by_the_pooled_storage_is_followed_live_by_a_stock_watcher(tmp_path):
    import threading

    base = tmp_path / "runs"
    storage = PooledSqliteEventLogStorage(str(base))
    run_id = "watched-run" + "w" * 25
    storage.store_event(_check_event(run_id, "2024-10-22", passed=True))

    stock = SqliteEventLogStorage(str(base))
    seen: list[EventLogEntry] = []
    arrived = threading.Event()

    def on_event(entry, _cursor):
        seen.append(entry)
        arrived.set()

    stock.watch(run_id, None, on_event)
    try:
        time.sleep(0.5)  # let the file observer start
        storage.store_event(_check_event(run_id, "2024-10-23", passed=False))
        assert arrived.wait(timeout=20), "a watcher of the run never saw the new event"
        assert seen[-1].dagster_event.event_specific_data.partition == "2024-10-23"
    finally:
        stock.end_watch(run_id, on_event)
        stock.dispose()
        storage.dispose()


def test_a_missing_table_is_asked_again_and_an_existing_one_is_remembered(tmp_path):
    import sqlite3

    base = tmp_path / "runs"
    storage = PooledSqliteEventLogStorage(str(base))
    assert storage.has_table("asset_check_executions")
    assert not storage.has_table("nba_probe_table")
    with sqlite3.connect(base / "index.db") as conn:  # a migration adds it later
        conn.execute("CREATE TABLE nba_probe_table (id INTEGER)")
    assert storage.has_table("nba_probe_table")
    storage.dispose()
