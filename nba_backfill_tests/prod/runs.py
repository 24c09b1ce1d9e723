"""Run helpers shared by the emulator tests: materialize, read back, compare."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from dagster import DagsterInstance, materialize

from nba_backfill.resources.warehouse import Warehouse

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def is_run_time_column(name: str) -> bool:
    """Columns stamped with the wall clock of a run (`processed_at` and the `source_*_last_updated`
    copies of upstream `processed_at`): they differ between any two runs, so are not compared."""
    return name == "processed_at" or name.endswith("_last_updated")


def run(
    assets: Sequence[Any],
    resources: dict[str, Any],
    *,
    partition_key: str | None = None,
    key_range: tuple[str, str] | None = None,
    instance: DagsterInstance | None = None,
    selection: Any = None,
    raise_on_error: bool = True,
):
    """One in-process run: a single partition or a ranged (single-run) partition range."""
    tags = {RANGE_START: key_range[0], RANGE_END: key_range[1]} if key_range else None
    return materialize(
        assets,
        resources=resources,
        partition_key=partition_key,
        tags=tags,
        instance=instance,
        selection=selection,
        raise_on_error=raise_on_error,
    )


def _cell(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        return tuple(_cell(v) for v in value)
    return value


def table_rows(
    warehouse: Warehouse, schema: str, table: str, drop: Sequence[str] = ()
) -> pd.DataFrame:
    """Every row of `schema.table`, canonical: arrays as tuples (a NULL array = (), as BigQuery
    stores it; an all-NULL object column is treated alike on both sides), run-time stamp columns
    dropped, rows sorted by every column."""
    df = warehouse.query(f"select * from {schema}.{table}")
    stamped = [c for c in df.columns if is_run_time_column(c)]
    if any(c.endswith("_last_updated") for c in stamped):
        # data_hash hashes the source_*_last_updated stamps too, so it changes with every run
        stamped.append("data_hash")
    df = df.drop(columns=[c for c in df.columns if c in stamped or c in drop])
    for col in df.columns:
        if df[col].dtype == object:
            cells = df[col].map(_cell)
            missing = cells.map(lambda v: v is None or v is pd.NA)
            if cells.map(lambda v: isinstance(v, tuple)).any() or (len(cells) and missing.all()):
                cells = cells.where(~missing, pd.Series([()] * len(cells), index=cells.index))
            df[col] = cells
    order = df.astype(str).sort_values(list(df.columns)).index
    return df.loc[order].reset_index(drop=True)


def assert_same_rows(local: pd.DataFrame, prod: pd.DataFrame, table: str) -> None:
    assert list(local.columns) == list(prod.columns), (
        table,
        list(local.columns),
        list(prod.columns),
    )
    assert len(local) == len(prod), f"{table}: {len(local)} local rows vs {len(prod)} prod rows"
    pd.testing.assert_frame_equal(local, prod, check_dtype=True, obj=table)
