"""What a table step's write changes, per partition, against what the instance and warehouse hold.

The new rows' content versions are compared with the `content_version` of each partition's latest
materialization. Only for the partitions whose version differs are the replaced rows read back
from the warehouse (every declared column of those dates, conformed like at write time, so their
hashes are comparable), to count rows added, removed and changed by grain key. An identical
re-run reads nothing back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from dagster import AssetKey, DagsterEventType

from nba_backfill.assets.core.content import Change, change, key_labels, version_of
from nba_backfill.assets.core.run import data_hash
from nba_backfill.assets.core.spec import TableSpec
from nba_backfill.assets.tables import conform
from nba_backfill.compat import AssetRecordsFilter
from nba_backfill.data_versions import content_version_of


def latest_materialization_records(instance, asset_key: AssetKey, keys: Sequence[str]) -> dict:
    """Partition key -> its latest materialization record (partitions never materialized absent)."""
    ids = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset_key, DagsterEventType.ASSET_MATERIALIZATION, partitions=set(keys))
    if not ids:
        return {}
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, storage_ids=sorted(ids.values())), limit=len(ids)).records
    return {r.partition_key: r for r in records if r.partition_key}


def previous_versions(instance, asset_key: AssetKey, keys: Sequence[str]) -> dict[str, str | None]:
    """Partition key -> content version of its latest materialization (None: never, or recorded
    before content versions existed)."""
    records = latest_materialization_records(instance, asset_key, keys)
    return {k: content_version_of(records[k].asset_materialization) if k in records else None for k in keys}


def row_hashes(spec: TableSpec, frame: pd.DataFrame) -> pd.Series:
    """Each row's content hash: its `data_hash` column, or the same hash over the content columns."""
    if "data_hash" in frame.columns:
        return frame["data_hash"].astype("string")
    return data_hash(frame, spec.hashed_columns)


def _replaced_rows(warehouse, spec: TableSpec, keys: list[str]) -> pd.DataFrame:
    """The warehouse rows of `keys` (dates) of the table, conformed to the declared columns."""
    schema, table = spec.key.path
    if not warehouse.table_exists(schema, table):
        return pd.DataFrame()
    days = sorted(dt.date.fromisoformat(k) for k in keys)
    rows = warehouse.query(
        f"SELECT * FROM {schema}.{table} WHERE {spec.date_column} BETWEEN ? AND ?", [days[0], days[-1]])
    rows = conform(rows.reindex(columns=[c.name for c in spec.columns]), spec.columns)
    dates = pd.to_datetime(rows[spec.date_column]).dt.strftime("%Y-%m-%d")
    return rows[dates.isin(keys).to_numpy()].assign(_key=dates[dates.isin(keys)].to_numpy())


def _split(frame: pd.DataFrame, date_column: str) -> dict[str, pd.DataFrame]:
    if frame.empty:
        return {}
    dates = pd.to_datetime(frame[date_column]).dt.strftime("%Y-%m-%d").to_numpy()
    return {d: part for d, part in frame.groupby(dates, sort=False)}


def partition_changes(context, spec: TableSpec, frame: pd.DataFrame, keys: list[str]) -> dict[str, Change]:
    """Per partition of `keys` (the dates about to be written, rows in `frame`): its change."""
    by_key = _split(frame, spec.date_column)
    empty = frame.iloc[0:0]
    hashes = {k: row_hashes(spec, by_key.get(k, empty)) for k in keys}
    previous = previous_versions(context.instance, spec.key, keys)
    differ = [k for k in keys if previous[k] is not None and previous[k] != version_of(hashes[k])]
    old = _split(_replaced_rows(context.resources.warehouse, spec, differ), spec.date_column) if differ else {}
    key_columns = [c for c in spec.key_columns if c != spec.date_column]
    out = {}
    for k in keys:
        if k in differ:
            before = old.get(k, empty)
            out[k] = change(hashes[k], previous[k], new_keys=key_labels(by_key.get(k, empty), key_columns),
                            old_hashes=row_hashes(spec, before), old_keys=key_labels(before, key_columns))
        else:
            out[k] = change(hashes[k], previous[k])
    return out
