"""BigQuery storage for table assets in `prod`: the IO manager and the query resource.

Dataset = asset key prefix (`nba_raw.nbac_team_boxscore`), table = asset name; the IO manager is
never given a `dataset`, so the prefix always decides.

Tables are created from the asset's `dagster/column_schema` (BigQuery type names), partitioned by
DAY on the partition column and clustered by the asset's `nba/cluster_by` metadata, with NO
partition expiry (backfilled history must never age out; a dataset or table that would expire
partitions is refused with a clear error).

Writes replace the run's partition window atomically:
1. the frame is loaded into a staging table (a load job: free, and a bad frame fails here, before
   the target is touched);
2. ONE multi-statement transaction deletes the window from the target and inserts the staged rows
   (`BEGIN TRANSACTION; DELETE ...; INSERT ... SELECT ...; COMMIT TRANSACTION;`). If any statement
   fails, BigQuery rolls the transaction back, so readers see the old rows or the new ones, never
   a half-written partition. A transaction aborted by a concurrent write to the same table is
   retried (the script is idempotent);
3. the staging table is dropped (it also expires by itself after a day).
Materialization metadata carries the transaction's bytes processed/billed and slot-ms, plus the
same figures summed over the step's input reads (the cost tracking of the plan).

Partition filters use the bare DATE column (`game_date >= DATE '2024-01-01' AND game_date < ...`)
rather than the `partition_expr` expression: `CAST(game_date AS TIMESTAMP) >= '2024-01-01
00:00:00'` is valid BigQuery too (string literals coerce to TIMESTAMP), but wrapping the partition
column in a function may defeat partition pruning and would then bill a full-table scan.

Reads return the same pandas dtypes as the local DuckDB IO manager: the result's Arrow table goes
through DuckDB's own DataFrame conversion (DATE -> datetime64, INT64 with NULLs -> float64, ...),
so an asset sees identical frames in both environments.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import EnvVar, InputContext, OutputContext, TableSchema
from nba_backfill.compat import TimeWindow, DbIOManager, DbTypeHandler, TableSlice
from dagster_gcp.bigquery.io_manager import BigQueryClient
from dagster_gcp_pandas import BigQueryPandasIOManager
from google.api_core.exceptions import Conflict, GoogleAPICallError, NotFound
from google.cloud import bigquery
from pydantic import PrivateAttr

from nba_backfill.assets.tables import CLUSTER_BY
from nba_backfill.resources.warehouse import (
    Warehouse,
    missing_table_frame,
    no_upstream_partitions,
    upstream_empty_frame,
)


STAGING_TTL = dt.timedelta(days=1)
TRANSACTION_ATTEMPTS = 4

_SCALAR_TYPES = {"STRING", "INT64", "FLOAT64", "BOOL", "DATE", "TIMESTAMP"}
_ARRAY_TYPE = re.compile(r"^ARRAY<(\w+)>$")
_PARTITION_EXPR = re.compile(
    r"^\s*(?:CAST\(\s*`?(?P<cast>\w+)`?\s+AS\s+(?:TIMESTAMP|DATE)\s*\)"
    r"|(?:TIMESTAMP|DATE)\(\s*`?(?P<call>\w+)`?\s*\)"
    r"|`?(?P<bare>\w+)`?)\s*$",
    re.IGNORECASE,
)


class BigQueryWriteError(RuntimeError):
    """A table write that could not be done; the message names the table and the cause."""


def bigquery_schema(table_schema: TableSchema) -> list[bigquery.SchemaField]:
    """`dagster/column_schema` (BigQuery type names) -> BigQuery schema fields."""
    fields = []
    for col in table_schema.columns:
        kind = col.type.strip().upper()
        array = _ARRAY_TYPE.match(kind)
        if array and array.group(1) in _SCALAR_TYPES:
            fields.append(bigquery.SchemaField(col.name, array.group(1), mode="REPEATED"))
        elif kind in _SCALAR_TYPES:
            fields.append(bigquery.SchemaField(col.name, kind, mode="NULLABLE"))
        else:
            raise ValueError(f"column {col.name}: type {col.type!r} has no BigQuery mapping")
    return fields


def partition_column(partition_expr: str) -> str:
    """The column inside a `partition_expr` (`CAST(game_date AS TIMESTAMP)` -> `game_date`)."""
    match = _PARTITION_EXPR.match(partition_expr or "")
    if not match:
        raise ValueError(
            f"partition_expr {partition_expr!r} is not a column or CAST(<column> AS TIMESTAMP)"
        )
    return match.group("cast") or match.group("call") or match.group("bare")


def _partition_window(table_slice: TableSlice) -> tuple[str, dt.date, dt.date] | None:
    """(column, first day, day after the last) of a daily-partitioned slice; None if unpartitioned."""
    dims = table_slice.partition_dimensions or []
    if not dims:
        return None
    if len(dims) != 1 or not isinstance(dims[0].partitions, TimeWindow):
        raise ValueError(
            f"{table_slice.schema}.{table_slice.table}: the BigQuery IO manager supports exactly "
            f"one time-window partition dimension, got {len(dims)} dimension(s)"
        )
    window = dims[0].partitions
    return partition_column(dims[0].partition_expr), window.start.date(), window.end.date()


def _table_id(table_slice: TableSlice) -> str:
    return f"{table_slice.database}.{table_slice.schema}.{table_slice.table}"


def _quoted(table_id: str) -> str:
    return f"`{table_id}`"


def _date_sql(day: dt.date) -> str:
    # Values in scripts are rendered, not bound: BigQuery accepts query parameters in
    # multi-statement scripts but the emulator the tests run against does not. The value is a
    # `datetime.date` from the partition window, rendered by isoformat(), never outside text.
    return f"DATE '{day.isoformat()}'"


def resolved(value: Any) -> Any:
    """A config value usable outside a run too (the CLI): an unresolved EnvVar is read now."""
    return value.get_value() if isinstance(value, EnvVar) else value


def frame_from_arrow(table) -> pd.DataFrame:
    """A pyarrow table as a DataFrame with DuckDB's dtypes (identical to local reads)."""
    if table.num_columns == 0:  # DDL and scripts return no columns
        return pd.DataFrame()
    con = duckdb.connect()
    try:
        return con.from_arrow(table).df()
    finally:
        con.close()


def job_cost(job) -> dict[str, int]:
    """Bytes processed/billed and slot-ms of a finished query or script job (0 when absent)."""
    return {
        "bytes_processed": int(getattr(job, "total_bytes_processed", None) or 0),
        "bytes_billed": int(getattr(job, "total_bytes_billed", None) or 0),
        "slot_ms": int(getattr(job, "slot_millis", None) or 0),
    }


def _declared_schema(context: OutputContext) -> TableSchema | None:
    declared = (context.definition_metadata or {}).get("dagster/column_schema")
    schema = getattr(declared, "schema", declared)
    return schema if isinstance(schema, TableSchema) else None


def _cluster_by(context: OutputContext, fields: Sequence[bigquery.SchemaField], table: str):
    cols = (context.definition_metadata or {}).get(CLUSTER_BY)
    cols = list(getattr(cols, "value", cols) or [])
    if not cols:
        return None
    names = {f.name for f in fields}
    unknown = [c for c in cols if c not in names]
    if unknown or len(cols) > 4:
        raise ValueError(
            f"{table}: {CLUSTER_BY} must name at most 4 of the table's columns, got {cols}"
            + (f" (unknown: {unknown})" if unknown else "")
        )
    return cols


def _check_no_expiry(table: bigquery.Table) -> None:
    partitioning = table.time_partitioning
    if partitioning is not None and partitioning.expiration_ms:
        raise BigQueryWriteError(
            f"{table.full_table_id}: partitions expire after {partitioning.expiration_ms} ms; "
            "backfilled history would age out. Remove it: ALTER TABLE ... SET OPTIONS "
            "(partition_expiration_days = NULL)"
        )
    if table.expires is not None:
        raise BigQueryWriteError(
            f"{table.full_table_id}: the table expires at {table.expires.isoformat()}; remove it: "
            "ALTER TABLE ... SET OPTIONS (expiration_timestamp = NULL)"
        )


def ensure_table(
    client: bigquery.Client,
    table_id: str,
    fields: Sequence[bigquery.SchemaField],
    column: str | None,
    cluster_by: list[str] | None,
) -> bigquery.Table:
    """Create the target table (DAY-partitioned on `column`, clustered, no expiry) or check it.

    An existing table whose clustering differs from `cluster_by` is re-clustered (BigQuery
    applies a changed clustering to the data written from then on)."""
    try:
        table = client.get_table(table_id)
    except NotFound:
        table = bigquery.Table(table_id, schema=list(fields))
        if column is not None:
            if column not in {f.name for f in fields}:
                raise ValueError(f"{table_id}: partition column {column!r} is not in the schema")
            table.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=column, expiration_ms=None
            )
        if cluster_by:
            table.clustering_fields = cluster_by
        try:
            table = client.create_table(table)
        except Conflict:  # created concurrently by another step
            table = client.get_table(table_id)
    if column is not None:
        field = table.time_partitioning.field if table.time_partitioning else None
        if field != column:
            raise BigQueryWriteError(
                f"{table_id}: exists but is partitioned by {field!r}, expected DAY partitions on "
                f"{column!r}; drop or migrate the table"
            )
    _check_no_expiry(table)
    if cluster_by and list(table.clustering_fields or []) != list(cluster_by):
        table.clustering_fields = list(cluster_by)
        table = client.update_table(table, ["clustering_fields"])
    existing = {f.name for f in table.schema}
    missing = [f.name for f in fields if f.name not in existing]
    if missing:
        raise BigQueryWriteError(
            f"{table_id}: the table lacks declared columns {missing}; add them "
            "(ALTER TABLE ... ADD COLUMN) or drop the table before re-materializing"
        )
    return table


def _is_concurrent_abort(exc: Exception) -> bool:
    return "concurrent update" in str(exc).lower()


class NbaBigQueryClient(BigQueryClient):
    """dagster-gcp's client with DATE-column window filters and an explicit dataset location.

    `delete_table_slice` is a no-op: the pandas handler deletes the window inside the same
    transaction as the insert (see the module docstring).
    """

    @staticmethod
    def delete_table_slice(context: OutputContext, table_slice: TableSlice, connection) -> None:
        return None

    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        cols = ", ".join(f"`{c}`" for c in table_slice.columns) if table_slice.columns else "*"
        query = f"SELECT {cols} FROM {_quoted(_table_id(table_slice))}"
        window = _partition_window(table_slice)
        if window is None:
            return query
        column, start, end = window
        return f"{query} WHERE `{column}` >= {_date_sql(start)} AND `{column}` < {_date_sql(end)}"

    @staticmethod
    def ensure_schema_exists(context: OutputContext, table_slice: TableSlice, connection) -> None:
        dataset_id = f"{table_slice.database}.{table_slice.schema}"
        try:  # get first: a writer granted dataEditor on existing datasets may not create any
            dataset = connection.get_dataset(dataset_id)
        except NotFound:
            dataset = bigquery.Dataset(dataset_id)
            location = (context.resource_config or {}).get("location")
            if location:
                dataset.location = location
            dataset = connection.create_dataset(dataset, exists_ok=True)
        if dataset.default_partition_expiration_ms or dataset.default_table_expiration_ms:
            raise BigQueryWriteError(
                f"dataset {dataset.dataset_id} has a default partition/table expiration; new "
                "tables would lose backfilled history. Remove it: bq update "
                f"--default_partition_expiration 0 --default_table_expiration 0 {dataset.dataset_id}"
            )

    @staticmethod
    @contextmanager
    def connect(context, table_slice) -> Iterator[bigquery.Client]:
        config = context.resource_config or {}
        client = bigquery.Client(project=config.get("project"), location=config.get("location"))
        try:
            yield client
        finally:
            client.close()


@dataclass(frozen=True)
class Staged:
    """A loaded staging table: its id and size."""

    table_id: str
    num_bytes: int


class BigQueryNbaPandasHandler(DbTypeHandler[pd.DataFrame]):
    """Stores DataFrames with a staged, transactional window replace; reads like DuckDB."""

    def __init__(self) -> None:
        self._reads: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    @property
    def supported_types(self):
        return [pd.DataFrame]

    # --- writes ------------------------------------------------------------------------------
    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection
    ):
        client: bigquery.Client = connection
        table_id = _table_id(table_slice)
        window = _partition_window(table_slice)
        column = window[0] if window else None
        declared = _declared_schema(context)
        if declared is None:
            raise BigQueryWriteError(
                f"{table_id}: the asset declares no `dagster/column_schema`; BigQuery tables are "
                "created from it (nba_backfill.assets.tables.column_schema)"
            )
        fields = bigquery_schema(declared)
        by_name = {f.name: f for f in fields}
        extra = [c for c in obj.columns if c not in by_name]
        if extra:
            raise BigQueryWriteError(f"{table_id}: frame has undeclared columns {extra}")
        frame = _arrays_not_null(obj.reset_index(drop=True), by_name)
        started = time.monotonic()

        ensure_table(client, table_id, fields, column, _cluster_by(context, fields, table_id))
        staged: Staged | None = None
        try:
            if not frame.empty:
                staged = self._stage(client, table_id, frame, [by_name[c] for c in frame.columns])
            stage_id = staged.table_id if staged else None
            job = self._replace_window(client, table_id, window, stage_id, list(frame.columns))
        finally:
            if staged is not None:
                client.delete_table(staged.table_id, not_found_ok=True)

        cost = job_cost(job)
        reads = self._reads.pop(_step_key(context), {})
        return {
            "dagster/partition_row_count" if window else "dagster/row_count": int(len(frame)),
            "bigquery/job_id": job.job_id,
            "bigquery/bytes_processed": cost["bytes_processed"],
            "bigquery/bytes_billed": cost["bytes_billed"],
            "bigquery/slot_ms": cost["slot_ms"],
            "bigquery/read_bytes_processed": int(reads.get("bytes_processed", 0)),
            "bigquery/read_bytes_billed": int(reads.get("bytes_billed", 0)),
            "bigquery/read_slot_ms": int(reads.get("slot_ms", 0)),
            "bigquery/staged_bytes": staged.num_bytes if staged else 0,
            "bigquery/write_seconds": round(time.monotonic() - started, 3),
        }

    def _stage(self, client, table_id, frame, schema) -> Staged:
        """Load `frame` (Parquet with exactly `schema`) into a new staging table by the target."""
        stage_id = f"{table_id}__staging_{uuid.uuid4().hex[:12]}"
        stage = bigquery.Table(stage_id)
        stage.expires = dt.datetime.now(dt.timezone.utc) + STAGING_TTL
        parquet = bigquery.ParquetOptions()
        parquet.enable_list_inference = True
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            parquet_options=parquet,
            schema=schema,
        )
        try:
            data = parquet_bytes(frame, schema)
            client.load_table_from_file(io.BytesIO(data), stage_id, job_config=config).result()
            client.update_table(stage, ["expires"])
            table = client.get_table(stage_id)
        except Exception as exc:
            client.delete_table(stage_id, not_found_ok=True)
            raise BigQueryWriteError(
                f"{table_id}: loading {len(frame)} rows into the staging table failed; the table "
                f"is unchanged. Cause: {exc}"
            ) from exc
        return Staged(stage_id, int(table.num_bytes or 0))

    def _replace_window(self, client, table_id, window, stage_id, columns):
        """Delete the window and insert the staged rows in ONE transaction (retried on abort)."""
        if window is not None:
            column, start, end = window
            delete = (
                f"DELETE FROM {_quoted(table_id)} "
                f"WHERE `{column}` >= {_date_sql(start)} AND `{column}` < {_date_sql(end)};"
            )
        else:
            delete = f"DELETE FROM {_quoted(table_id)} WHERE TRUE;"
        insert = ""
        if stage_id is not None:
            cols = ", ".join(f"`{c}`" for c in columns)
            insert = (
                f"INSERT INTO {_quoted(table_id)} ({cols}) SELECT {cols} FROM {_quoted(stage_id)};"
            )
        script = f"BEGIN TRANSACTION;\n{delete}\n{insert}\nCOMMIT TRANSACTION;"
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                job = client.query(script)
                job.result()
                return job
            except GoogleAPICallError as exc:
                if _is_concurrent_abort(exc) and attempt < TRANSACTION_ATTEMPTS:
                    time.sleep(2**attempt)
                    continue
                raise BigQueryWriteError(
                    f"{table_id}: the window replace transaction failed and was rolled back; the "
                    f"previous rows are intact. Cause: {exc}"
                ) from exc
        raise AssertionError("unreachable")

    # --- reads -------------------------------------------------------------------------------
    def load_input(
        self, context: InputContext, table_slice: TableSlice, connection
    ) -> pd.DataFrame:
        if no_upstream_partitions(context, table_slice):
            return upstream_empty_frame(context)
        client: bigquery.Client = connection
        cols = ", ".join(f"`{c}`" for c in table_slice.columns) if table_slice.columns else "*"
        sql = f"SELECT {cols} FROM {_quoted(_table_id(table_slice))}"
        params = []
        window = _partition_window(table_slice)
        if window is not None:
            column, start, end = window
            sql += f" WHERE `{column}` >= @window_start AND `{column}` < @window_end"
            params = [
                bigquery.ScalarQueryParameter("window_start", "DATE", start),
                bigquery.ScalarQueryParameter("window_end", "DATE", end),
            ]
        try:
            job = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params))
            result = job.result()
        except NotFound:  # the upstream table was never materialized (see warehouse.py)
            return missing_table_frame(context, _table_id(table_slice))
        step = _step_key(context)
        if step:
            for key, value in job_cost(job).items():
                self._reads[step][key] += value
        return frame_from_arrow(result.to_arrow(create_bqstorage_client=False))


_ARROW_TYPES = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}


def _arrow_column(series: pd.Series, field: bigquery.SchemaField) -> pa.Array:
    kind = _ARROW_TYPES[field.field_type]
    if field.mode == "REPEATED":
        return pa.array(series.tolist(), type=pa.list_(kind))
    if field.field_type == "TIMESTAMP":
        series = pd.to_datetime(series, utc=True)
    return pa.array(series, from_pandas=True).cast(kind)


def parquet_bytes(frame: pd.DataFrame, schema: Sequence[bigquery.SchemaField]) -> bytes:
    """The frame as Parquet with exactly the BigQuery column types of `schema`."""
    table = pa.table({f.name: _arrow_column(frame[f.name], f) for f in schema})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _arrays_not_null(frame: pd.DataFrame, fields: dict[str, bigquery.SchemaField]) -> pd.DataFrame:
    """BigQuery stores a NULL ARRAY as []: make that explicit before loading."""
    repeated = [c for c in frame.columns if c in fields and fields[c].mode == "REPEATED"]
    if not repeated:
        return frame
    out = frame.copy()
    for c in repeated:
        out[c] = out[c].map(
            lambda v: [] if v is None or (isinstance(v, float) and pd.isna(v)) else list(v)
        )
    return out


def _step_key(context) -> str | None:
    try:
        if isinstance(context, OutputContext):
            return context.step_key
        return context.step_context.step.key
    except Exception:  # contexts built outside a run (tests, direct IO manager calls)
        return None


class NbaBigQueryIOManager(BigQueryPandasIOManager):
    """BigQueryPandasIOManager with created/partitioned/clustered tables and atomic window writes.

    Configure `project` and `location`; leave `dataset` unset so the asset key prefix is the
    dataset (nba_raw, nba_analytics, nba_precompute, nba_predictions).
    """

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [BigQueryNbaPandasHandler()]

    def create_io_manager(self, context) -> DbIOManager:
        if self.dataset:
            raise ValueError("leave `dataset` unset: the asset key prefix is the dataset")
        return DbIOManager(
            db_client=NbaBigQueryClient(write_mode=self.write_mode),
            io_manager_name="NbaBigQueryIOManager",
            database=self.project,
            schema=None,
            type_handlers=self.type_handlers(),
            default_load_type=pd.DataFrame,
        )


def _query_parameter(value: Any) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A positional (`?`) parameter typed from the Python value."""
    if isinstance(value, (list, tuple)):
        kinds = {_scalar_type(v) for v in value} or {"STRING"}
        if len(kinds) != 1:
            raise TypeError(f"array parameter mixes types: {value!r}")
        return bigquery.ArrayQueryParameter(None, kinds.pop(), list(value))
    return bigquery.ScalarQueryParameter(None, _scalar_type(value), value)


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, str) or value is None:
        return "STRING"
    raise TypeError(f"unsupported query parameter {value!r} ({type(value).__name__})")


class BigQueryWarehouse(Warehouse):
    """Read queries against BigQuery (default project = `project`, so `nba_raw.table` resolves).

    `?` placeholders are positional query parameters typed from the Python values; results have
    the same dtypes as the local DuckDB warehouse.
    """

    project: str
    location: str | None = None

    _client: bigquery.Client | None = PrivateAttr(default=None)

    def _bq(self) -> bigquery.Client:
        if self._client is None:
            self._client = bigquery.Client(
                project=resolved(self.project), location=resolved(self.location)
            )
        return self._client

    def teardown_after_execution(self, context) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        config = bigquery.QueryJobConfig(
            query_parameters=[_query_parameter(p) for p in (params or [])]
        )
        result = self._bq().query(sql, job_config=config).result()
        return frame_from_arrow(result.to_arrow(create_bqstorage_client=False))

    def table_exists(self, schema: str, table: str) -> bool:
        try:
            self._bq().get_table(f"{resolved(self.project)}.{schema}.{table}")
        except NotFound:
            return False
        return True
