"""Typed column schemas for warehouse tables (BigQuery type names, mapped for DuckDB).

A table asset declares its columns once as `Col`s; `column_schema()` turns them into Dagster's
`dagster/column_schema` metadata (shown in the UI, and used by the IO managers to create the
table with exact types, so an empty first partition or an all-NULL column never guesses a type),
and `conform()` shapes a DataFrame to exactly those columns and dtypes before it is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from dagster import TableColumn, TableSchema

TYPES = ("STRING", "INT64", "FLOAT64", "BOOL", "DATE", "TIMESTAMP", "ARRAY<STRING>", "ARRAY<FLOAT64>")

DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
    "ARRAY<STRING>": "VARCHAR[]",
    "ARRAY<FLOAT64>": "DOUBLE[]",
}


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r} (known: {TYPES})")


CLUSTER_BY = "nba/cluster_by"
"""Asset metadata key: the table's BigQuery clustering columns (at most 4, SPEC §2)."""
CLUSTERABLE_TYPES = ("STRING", "INT64", "BOOL", "DATE", "TIMESTAMP")
"""Column types BigQuery can cluster by (of ours: not FLOAT64, not arrays)."""


def cluster_metadata(table: str, cluster_by: Sequence[str], cols: Sequence[Col]) -> dict[str, list[str]]:
    """`{CLUSTER_BY: [...]}` for a table asset's metadata: the BigQuery IO manager clusters the
    table by these columns when it creates it (DuckDB has no clustering). Raises at definition
    time unless they are 1 to 4 distinct declared columns of a type BigQuery clusters by."""
    types = {c.name: c.type for c in cols}
    undeclared = [c for c in cluster_by if c not in types]
    unclusterable = [f"{c} {types[c]}" for c in cluster_by if types.get(c, "STRING") not in CLUSTERABLE_TYPES]
    if undeclared or unclusterable or len(set(cluster_by)) != len(cluster_by) or not 1 <= len(cluster_by) <= 4:
        raise ValueError(
            f"{table}: clustering columns must be 1 to 4 distinct declared columns of types "
            f"{', '.join(CLUSTERABLE_TYPES)}, got {list(cluster_by)}"
            + (f" (not declared: {undeclared})" if undeclared else "")
            + (f" (cannot cluster: {unclusterable})" if unclusterable else "")
        )
    return {CLUSTER_BY: list(cluster_by)}


def column_schema(cols: list[Col] | tuple[Col, ...]) -> TableSchema:
    names = [c.name for c in cols]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate columns: {sorted(dupes)}")
    return TableSchema(
        columns=[TableColumn(name=c.name, type=c.type, description=c.description) for c in cols]
    )


def _to_date(value):
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def _dates(s: pd.Series) -> pd.Series:
    """`datetime.date` objects (None where missing), converting each distinct value once."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    converted = np.empty(len(uniques) + 1, dtype=object)
    converted[:-1] = [_to_date(v) for v in uniques]
    converted[-1] = None  # code -1: missing
    return pd.Series(converted[codes], index=s.index, dtype="object")


def _lists(s: pd.Series) -> pd.Series:
    return s.map(lambda v: None if v is None else list(v)).astype("object")


def conform(df: pd.DataFrame, cols: list[Col] | tuple[Col, ...]) -> pd.DataFrame:
    """Exactly `cols`, in order, with dtypes matching their types. Missing columns raise.

    The columns are converted one by one and the frame is built once (inserting column by column
    into a frame costs a block consolidation each time: 30-70 ms per call for our tables)."""
    missing = [c.name for c in cols if c.name not in df.columns]
    if missing:
        raise KeyError(f"frame lacks columns {missing}")
    out: dict[str, pd.Series] = {}
    for c in cols:
        s = df[c.name]
        if c.type == "STRING":
            out[c.name] = s.astype("string")
        elif c.type == "INT64":
            out[c.name] = pd.to_numeric(s, errors="raise").round().astype("Int64")
        elif c.type == "FLOAT64":
            out[c.name] = pd.to_numeric(s, errors="raise").astype("float64")
        elif c.type == "BOOL":
            out[c.name] = s.astype("boolean")
        elif c.type == "DATE":
            out[c.name] = _dates(s)
        elif c.type == "TIMESTAMP":
            out[c.name] = pd.to_datetime(s, utc=True)
        else:  # arrays: lists (None allowed)
            out[c.name] = _lists(s)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def empty_frame(table_schema: TableSchema | None) -> pd.DataFrame:
    """Zero rows with the columns (and dtypes) of a declared `dagster/column_schema`."""
    if table_schema is None:
        return pd.DataFrame()
    cols = [Col(c.name, c.type if c.type in TYPES else "STRING") for c in table_schema.columns]
    return conform(pd.DataFrame({c.name: [] for c in cols}), cols)


def declared_schema(metadata) -> TableSchema | None:
    """The `dagster/column_schema` of an asset's definition metadata, if it declares one."""
    declared = (metadata or {}).get("dagster/column_schema")
    schema = getattr(declared, "schema", declared)
    return schema if isinstance(schema, TableSchema) else None


def duckdb_ddl(schema_table: str, table_schema: TableSchema) -> str:
    """CREATE TABLE statement for DuckDB from a `dagster/column_schema`."""
    cols = ", ".join(
        f'"{c.name}" {DUCKDB_TYPES.get(c.type, "VARCHAR")}' for c in table_schema.columns
    )
    return f"create table {schema_table} ({cols})"
