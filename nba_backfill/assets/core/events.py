"""The Dagster events of a table step whose range holds blocked or failed partitions.

Dagster records a materialization for every partition of a ranged step's `Output`. So when some
partitions of the range are not ok, the core yields no `Output`: it writes the ok rows itself
(`resources.range_write`), yields one `AssetMaterialization` per ok partition, and then fails the
step. For the bad partitions it first logs one "materialization planned" event each: Dagster's
partition status marks a partition *failed* when its latest planned materialization has no
materialization after it and its run failed (`partition_status_cache`), and the asset backfill
counts the partitions of a failed ranged run that were not materialized as failed (and their
downstream as failed too), while the materialized ones count as done and their downstream runs.
With `DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true` Dagster writes one planned event per
range, which the partition status does not read per partition; these per-partition events are
what make exactly the bad partitions show as Failed in the Partitions tab and the Catalog.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetKey

from nba_backfill.compat import AssetMaterializationPlannedData, DagsterEvent, step_execution_context


def mark_failed(context, asset_key: AssetKey, keys: Iterable[str]) -> None:
    """Log a per-partition "planned" event for each of `keys` in this step (call before failing it)."""
    step = step_execution_context(context)
    for key in keys:
        event = DagsterEvent.build_asset_materialization_planned_event(
            step.job_name, step.step.key, AssetMaterializationPlannedData(asset_key, partition=key)
        )
        step.log.log_dagster_event("DEBUG", f"{asset_key.to_user_string()} {key}: not materialized", event)
