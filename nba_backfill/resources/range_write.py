"""Replace a partition range of a table from inside a step, through the IO managers' own handlers.

A table step whose range holds failed partitions cannot yield its `Output`: Dagster would record a
materialization for every partition of the range, the failed ones included. The table-asset core
(`nba_backfill.assets.core`) then writes the rows of the range's good partitions itself with
`write_range` and records their materializations one by one. The write is exactly what the IO
manager does for an `Output` over the same range: one transaction that deletes the window and
inserts the rows (so a failed partition inside the window is left empty), the table created from
the declared `dagster/column_schema` if absent, BigQuery clustering applied. It uses the same type
handlers as the IO managers, so the two paths cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from dagster import AssetKey

from nba_backfill.compat import TablePartitionDimension, TableSlice, TimeWindow
from nba_backfill.resources.warehouse import DuckDBWarehouse, Warehouse


@dataclass
class _WriteContext:
    """The part of an OutputContext the type handlers read."""

    definition_metadata: Mapping[str, Any]
    step_key: str | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("nba_backfill.range_write"))
    output_metadata: dict[str, Any] = field(default_factory=dict)

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        self.output_metadata.update(metadata)


def table_slice(asset_key: AssetKey, partition_expr: str, start_key: str, end_key: str,
                database: str | None = None) -> TableSlice:
    """The slice `[start_key, end_key]` (inclusive daily keys) of the table of `asset_key`."""
    start = dt.datetime.fromisoformat(start_key).replace(tzinfo=dt.timezone.utc)
    end = dt.datetime.fromisoformat(end_key).replace(tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
    return TableSlice(
        table=asset_key.path[-1],
        schema=asset_key.path[-2],
        database=database,
        partition_dimensions=[TablePartitionDimension(partition_expr, TimeWindow(start, end))],
    )


def write_range(warehouse: Warehouse, asset_key: AssetKey, definition_metadata: Mapping[str, Any],
                start_key: str, end_key: str, frame: pd.DataFrame, *, step_key: str | None = None) -> dict:
    """Replace the rows of `asset_key` dated `start_key..end_key` with `frame` in one transaction.
    Returns the handler's write metadata (row count, BigQuery job figures)."""
    partition_expr = str(getattr(definition_metadata["partition_expr"], "value",
                                 definition_metadata["partition_expr"]))
    context = _WriteContext(definition_metadata, step_key)
    if isinstance(warehouse, DuckDBWarehouse):
        return _write_duckdb(warehouse, context, table_slice(asset_key, partition_expr, start_key, end_key), frame)
    from nba_backfill.resources.bigquery import BigQueryWarehouse  # noqa: PLC0415 (optional extra)

    if isinstance(warehouse, BigQueryWarehouse):
        return _write_bigquery(warehouse, context, asset_key, partition_expr, start_key, end_key, frame)
    raise TypeError(f"no range writer for warehouse {type(warehouse).__name__}")


def _write_duckdb(warehouse: DuckDBWarehouse, context: _WriteContext, slice_: TableSlice,
                  frame: pd.DataFrame) -> dict:
    from nba_backfill.resources.warehouse import _PandasHandler, _TransactionalDuckDbClient  # noqa: PLC0415

    # the IO manager's own client: same connection configuration, one transaction, closed always
    io_context = _IOContext(warehouse.database, warehouse.lock_timeout_seconds, warehouse.lock_retry_initial_seconds)
    with _TransactionalDuckDbClient.connect(io_context, slice_) as conn:
        conn.execute(f"create schema if not exists {slice_.schema}")
        _TransactionalDuckDbClient.delete_table_slice(context, slice_, conn)  # type: ignore[arg-type]
        _PandasHandler().handle_output(context, slice_, frame, conn)  # type: ignore[arg-type]
    return dict(context.output_metadata)


@dataclass
class _IOContext:
    """What the DuckDB client's `connect` reads: the IO manager's resource config."""

    database: str
    lock_timeout_seconds: float
    lock_retry_initial_seconds: float

    @property
    def resource_config(self) -> dict[str, Any]:
        return {"database": self.database, "connection_config": {},
                "lock_timeout_seconds": self.lock_timeout_seconds,
                "lock_retry_initial_seconds": self.lock_retry_initial_seconds}


def _write_bigquery(warehouse, context: _WriteContext, asset_key: AssetKey, partition_expr: str,
                    start_key: str, end_key: str, frame: pd.DataFrame) -> dict:
    from nba_backfill.resources.bigquery import (  # noqa: PLC0415
        BigQueryNbaPandasHandler,
        NbaBigQueryClient,
        resolved,
    )

    slice_ = table_slice(asset_key, partition_expr, start_key, end_key, database=resolved(warehouse.project))
    client = warehouse._bq()  # noqa: SLF001 - the resource's own client
    NbaBigQueryClient.ensure_schema_exists(_SchemaContext(warehouse), slice_, client)  # type: ignore[arg-type]
    return BigQueryNbaPandasHandler().handle_output(context, slice_, frame, client)  # type: ignore[arg-type]


@dataclass
class _SchemaContext:
    """What `NbaBigQueryClient.ensure_schema_exists` reads: the dataset location."""

    warehouse: Any

    @property
    def resource_config(self) -> dict[str, Any]:
        from nba_backfill.resources.bigquery import resolved  # noqa: PLC0415

        return {"location": resolved(self.warehouse.location)}
