"""Cross-run blocking: a failed blocking check on date D stops every partition that reads D.

Dagster's `blocking=True` only skips downstream steps of the *same* run. Our table assets call
`blocked_partitions(context, keys)` before computing: for each upstream dependency it maps the
run's partition keys through the declared partition mapping (identity or lookback window), reads
the latest per-partition result of every blocking check of that upstream asset from the instance,
and returns, per blocked partition, the reasons naming the upstream asset, date and check.
The asset then writes no rows for blocked partitions and fails its own `upstream_checks_passed`
check for them, which in turn blocks the next layer — so a bad date never flows downstream.
"""

from __future__ import annotations

from collections import defaultdict

from dagster import AssetCheckKey, AssetExecutionContext, AssetKey, TimeWindowPartitionMapping
from nba_backfill.compat import AssetCheckExecutionRecordStatus

from nba_backfill.checks.results import PARTITION_OK, blocking_check_names
from nba_backfill.partitions import all_partition_keys

FAILED_STATUSES = {
    AssetCheckExecutionRecordStatus.FAILED,
}


def upstream_window(
    all_keys: list[str], index: dict[str, int], key: str, mapping
) -> list[str]:
    """Upstream partition keys of `key` under `mapping` (None = same date), clamped at the start."""
    if mapping is None or not isinstance(mapping, TimeWindowPartitionMapping):
        return [key]
    i = index[key]
    lo = max(0, i + mapping.start_offset)
    hi = min(len(all_keys) - 1, i + mapping.end_offset)
    return all_keys[lo : hi + 1] if hi >= lo else []


def blocked_partitions(
    context: AssetExecutionContext,
    keys: list[str],
    asset_key: AssetKey | None = None,
    recomputed: set[str] | None = None,
) -> dict[str, list[str]]:
    """Partition key -> reasons, for the keys whose upstream inputs failed a blocking check.
    `recomputed`: the asset's own dates this run recomputes (a self-dependent accumulator is not
    blocked by its own earlier failure on a date it is about to redo)."""
    assets_def = context.assets_def
    asset_key = asset_key or context.asset_key
    all_keys = all_partition_keys()
    index = {k: i for i, k in enumerate(all_keys)}
    reasons: dict[str, list[str]] = defaultdict(list)
    for upstream in sorted(assets_def.asset_deps.get(asset_key, ()), key=lambda k: k.to_string()):
        names = blocking_check_names(upstream)
        if not names:
            continue
        mapping = assets_def.get_partition_mapping_for_dep(upstream)
        needed: dict[str, list[str]] = {k: upstream_window(all_keys, index, k, mapping) for k in keys}
        wanted = sorted({u for ups in needed.values() for u in ups})
        if not wanted:
            continue
        check_keys = [AssetCheckKey(upstream, name) for name in sorted(names)]
        infos = context.instance.event_log_storage.get_asset_check_partition_info(
            check_keys, partition_keys=wanted
        )
        failed: dict[str, list[str]] = defaultdict(list)
        for info in infos:
            if info.partition_key and info.latest_execution_status in FAILED_STATUSES:
                failed[info.partition_key].append(info.check_key.name)
        for key, ups in needed.items():
            for up in ups:
                if upstream == asset_key and up in (recomputed or ()):
                    continue
                names_failed = failed.get(up)
                if not names_failed:
                    continue
                # a partition that is not ok fails all its checks: its outcome says it all
                shown = [PARTITION_OK] if PARTITION_OK in names_failed else sorted(names_failed)
                reasons[key].append(
                    f"{upstream.to_user_string()} [{up}] failed blocking check {', '.join(shown)}"
                )
    return dict(reasons)
