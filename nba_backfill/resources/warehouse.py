"""Warehouse access: the IO manager that stores table assets, and a query resource.

Local: one DuckDB file, schema = asset key prefix, table = asset name. The stock Dagster DuckDB
IO manager deletes the partition window and inserts the new rows on separate autocommitted
statements and skips empty frames; ours does delete + insert in ONE transaction (a failed insert
rolls back to the previous rows), always creates the table (an empty partition still yields a
table with its columns) and inserts by column name. Reading a table that does not exist yet
returns zero rows with the upstream's declared columns: it happens when a lookback window
reaches partitions nobody materialized (the previous season of a season opener, launched by the
backfill daemon before anything else because none of its parents are in the backfill); the
precompute lookback checks, not a catalog error, then judge whether those dates were needed.

Both connect through `warehouse_lock.connect`: while another process holds the file's lock (DuckDB
allows one writer process; a read-only reader blocks it too) they wait with exponential backoff,
logging each wait, up to `lock_timeout_seconds`, then fail with `WarehouseLockedError` naming the
file and the holder's program and PID (docs/warehouse.md).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from dagster import ConfigurableResource, InputContext, OutputContext, get_dagster_logger
from nba_backfill.compat import DbTypeHandler, TableSlice
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_pandas import DuckDBPandasIOManager
from dagster_duckdb_pandas.duckdb_pandas_type_handler import DuckDBPandasTypeHandler

from nba_backfill.assets.tables import declared_schema, duckdb_ddl, empty_frame
from nba_backfill.resources import warehouse_lock
from nba_backfill.resources.warehouse_lock import (
    DEFAULT_LOCK_RETRY_INITIAL_SECONDS,
    DEFAULT_LOCK_TIMEOUT_SECONDS,
)

PARTITION_EXPR = "CAST({column} AS TIMESTAMP)"
"""partition_expr template valid on DuckDB and on BigQuery (a DATE compared with the
'YYYY-MM-DD HH:MM:SS' literals Dagster writes)."""


def partition_expr(column: str) -> str:
    return PARTITION_EXPR.format(column=column)


def _table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


class _TransactionalDuckDbClient(DuckDbClient):
    @staticmethod
    def delete_table_slice(context: OutputContext, table_slice: TableSlice, connection) -> None:
        if _table_exists(connection, table_slice.schema, table_slice.table):
            DuckDbClient.delete_table_slice(context, table_slice, connection)

    @staticmethod
    @contextmanager
    def connect(context, table_slice) -> Iterator[duckdb.DuckDBPyConnection]:
        # The stock client does not close its connection when the body raises; a leaked
        # connection keeps the file open in this process. Here: always close, roll back on error.
        resource_config = context.resource_config
        conn = warehouse_lock.connect(
            resource_config["database"],
            config={"custom_user_agent": "dagster", **resource_config["connection_config"]},
            timeout_seconds=resource_config.get("lock_timeout_seconds", DEFAULT_LOCK_TIMEOUT_SECONDS),
            initial_wait_seconds=resource_config.get(
                "lock_retry_initial_seconds", DEFAULT_LOCK_RETRY_INITIAL_SECONDS
            ),
            logger=getattr(context, "log", None),
        )
        try:
            conn.begin()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            conn.close()


def analyse_every_row(connection: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Make DuckDB type `frame`'s object columns (lists, dates) from all rows, not a sample.

    It samples 1,000 rows by default: in a season of player_composite_factors the 27 non-empty
    `warning_details` lists among 22,859 empty ones were all missed, the column was typed
    LIST(NULL) and the insert failed ("VARCHAR -> NULL"). Costs ~0.4 s per 500k rows and two
    object columns."""
    connection.execute(f"SET pandas_analyze_sample = {max(1000, len(frame))}")


class _PandasHandler(DuckDBPandasTypeHandler):
    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection
    ):
        name = f"{table_slice.schema}.{table_slice.table}"
        frame = obj  # referenced by name in the SQL below (DuckDB replacement scan)
        if not _table_exists(connection, table_slice.schema, table_slice.table):
            schema = declared_schema(context.definition_metadata)
            if schema is not None:
                connection.execute(duckdb_ddl(name, schema))
            else:
                connection.execute(f"create table {name} as select * from frame limit 0")
        if not frame.empty:
            analyse_every_row(connection, frame)
            connection.execute(f"insert into {name} by name select * from frame")
        context.add_output_metadata({"dagster/partition_row_count": int(frame.shape[0])})

    def load_input(self, context: InputContext, table_slice: TableSlice, connection) -> pd.DataFrame:
        if no_upstream_partitions(context, table_slice):
            return upstream_empty_frame(context)
        if not _table_exists(connection, table_slice.schema, table_slice.table):
            return missing_table_frame(context, f"{table_slice.schema}.{table_slice.table}")
        return super().load_input(context, table_slice, connection)


def no_upstream_partitions(context: InputContext, table_slice: TableSlice) -> bool:
    """A lookback window that lies wholly before the first partition (the first in-season day of
    the calendar reading "the days before"): Dagster maps it to no upstream partition at all."""
    return bool(table_slice.partition_dimensions) and len(context.asset_partition_keys) == 0


def upstream_empty_frame(context: InputContext) -> pd.DataFrame:
    """Zero rows with the upstream table's declared columns and dtypes (a bare `DataFrame()`,
    what the stock handlers return, has no columns and fails every reader's column checks)."""
    upstream = context.upstream_output
    return empty_frame(declared_schema(upstream.definition_metadata if upstream is not None else None))


def missing_table_frame(context: InputContext, table: str) -> pd.DataFrame:
    """Zero rows typed like the upstream table, with a log line naming what was not there."""
    keys = context.asset_partition_keys if context.has_asset_partitions else []
    span = f" for {keys[0]}..{keys[-1]}" if keys else ""
    context.log.info(f"{table} does not exist yet: no rows{span} (never materialized)")
    return upstream_empty_frame(context)


class NbaDuckDBIOManager(DuckDBPandasIOManager):
    """DuckDB pandas IO manager with transactional, always-creating, by-name writes."""

    # A file locked by another process: total wait before the step fails, and the first pause
    # between attempts (doubled per attempt, at most 15 s).
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    lock_retry_initial_seconds: float = DEFAULT_LOCK_RETRY_INITIAL_SECONDS

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [_PandasHandler()]

    def create_io_manager(self, context):
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        manager = super().create_io_manager(context)
        manager._db_client = _TransactionalDuckDbClient()  # noqa: SLF001 - documented above
        return manager


class Warehouse(ConfigurableResource):
    """Read access to warehouse tables for checks, guards and the CLI (both environments)."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a parameterised read query and return a DataFrame."""

    @abstractmethod
    def table_exists(self, schema: str, table: str) -> bool:
        """True when `schema.table` exists."""


class DuckDBWarehouse(Warehouse):
    """Queries the local DuckDB file (`$NBA_BACKFILL_HOME/warehouse.duckdb`)."""

    database: str
    # as on the IO manager: wait for a file locked by another process, then fail naming it
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    lock_retry_initial_seconds: float = DEFAULT_LOCK_RETRY_INITIAL_SECONDS

    @contextmanager
    def _conn(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        # same configuration as the IO manager's connections (DuckDB refuses a second in-process
        # connection to one file with a different configuration)
        conn = warehouse_lock.connect(
            self.database,
            config={"custom_user_agent": "dagster"},
            timeout_seconds=self.lock_timeout_seconds,
            initial_wait_seconds=self.lock_retry_initial_seconds,
            logger=get_dagster_logger("nba_backfill.warehouse"),
        )
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        with self._conn() as conn:
            return conn.execute(sql, list(params or [])).df()

    def table_exists(self, schema: str, table: str) -> bool:
        with self._conn() as conn:
            return _table_exists(conn, schema, table)
