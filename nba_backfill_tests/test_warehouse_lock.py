"""A warehouse file locked by another process (nba_backfill/resources/warehouse_lock.py).

A real second process holds a read-only DuckDB connection to the file, the way a notebook or the
duckdb CLI would. While it holds the connection, the IO manager and the query resource cannot
open the file. Released after a couple of seconds: both wait, log each wait, then succeed.
Never released: both fail with `WarehouseLockedError`, whose message names the file and the
holder's PID.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance, asset, materialize

from nba_backfill.resources.warehouse import DuckDBWarehouse, NbaDuckDBIOManager
from nba_backfill.resources.warehouse_lock import WarehouseLockedError, lock_holder

HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    connection = duckdb.connect(sys.argv[1], read_only=True)
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    connection.close()
    """
)
RELEASE_AFTER_SECONDS = 2.0
FAST_RETRY = {"lock_retry_initial_seconds": 0.1}


@asset(key_prefix="nba_test")
def scores() -> pd.DataFrame:
    """One row per test value."""
    return pd.DataFrame({"value": [1, 2, 3]})


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    duckdb.connect(path).close()
    return path


@contextmanager
def held(database: str, seconds: float):
    """A second process holding a read-only connection to `database` for `seconds`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database, str(seconds)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _log_messages(instance: DagsterInstance, run_id: str) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(run_id)]


def test_lock_holder_is_read_from_duckdbs_message():
    message = (
        'IO Error: Could not set lock on file "/data/w.duckdb": Conflicting lock is held in '
        "/usr/bin/python3.11 (PID 4242). However, you would be able to open this database in "
        "read-only mode"
    )
    assert lock_holder(duckdb.IOException(message)) == ("/usr/bin/python3.11 (PID 4242)", 4242)
    assert lock_holder(duckdb.IOException("IO Error: Cannot open file: Permission denied")) is None
    assert lock_holder(RuntimeError(message)) is None


def test_io_manager_write_waits_for_a_released_lock(database):
    io_manager = NbaDuckDBIOManager(database=database, lock_timeout_seconds=30, **FAST_RETRY)
    with DagsterInstance.ephemeral() as instance, held(database, RELEASE_AFTER_SECONDS) as holder:
        started = time.monotonic()
        result = materialize([scores], resources={"io_manager": io_manager}, instance=instance)
        waited = time.monotonic() - started
        messages = _log_messages(instance, result.run_id)

    assert result.success
    assert holder.returncode == 0  # it let go by itself
    assert waited >= RELEASE_AFTER_SECONDS * 0.5
    waits = [m for m in messages if m.startswith(f"warehouse {database} is locked by ")]
    assert waits and all(f"(PID {holder.pid})" in m and "retrying in" in m for m in waits)
    with duckdb.connect(database, read_only=True) as connection:
        assert connection.execute("select sum(value) from nba_test.scores").fetchone() == (6,)


def test_io_manager_write_fails_naming_the_file_and_the_holder(database):
    io_manager = NbaDuckDBIOManager(database=database, lock_timeout_seconds=1.0, **FAST_RETRY)
    with DagsterInstance.ephemeral() as instance, held(database, 60) as holder:
        started = time.monotonic()
        result = materialize(
            [scores], resources={"io_manager": io_manager}, instance=instance, raise_on_error=False
        )
        elapsed = time.monotonic() - started
        messages = _log_messages(instance, result.run_id)

    assert not result.success
    assert elapsed < 20
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    assert error.cls_name == "DagsterExecutionHandleOutputError"
    assert error.cause.cls_name == "WarehouseLockedError"
    expected = f"warehouse {database} is locked by "
    cause = error.cause.message.removeprefix(f"{WarehouseLockedError.__module__}.WarehouseLockedError: ")
    assert cause.startswith(expected)
    assert f"(PID {holder.pid})" in cause
    assert any(m.startswith(expected) and "still locked after waiting" in m for m in messages)


def test_query_resource_waits_then_names_the_holder(database):
    with held(database, RELEASE_AFTER_SECONDS):
        warehouse = DuckDBWarehouse(database=database, lock_timeout_seconds=30, **FAST_RETRY)
        assert warehouse.query("select 41 + ? as answer", [1])["answer"].tolist() == [42]

    with held(database, 60) as holder:
        warehouse = DuckDBWarehouse(database=database, lock_timeout_seconds=0.5, **FAST_RETRY)
        with pytest.raises(WarehouseLockedError) as raised:
            warehouse.table_exists("nba_test", "scores")
    assert str(raised.value).startswith(f"warehouse {database} is locked by ")
    assert raised.value.pid == holder.pid and Path(raised.value.database) == Path(database)
