"""Cross-run blocking: a failed blocking check on date D stops every partition that reads D.

Dagster's `blocking=True` only skips downstream steps of the *same* run. Our table assets call
`blocked_partitions(context, keys)` before computing: for each upstream dependency it maps the
run's partition keys through the declared partition mapping (identity or lookback window), reads
the latest per-partition result of every blocking check of that upstream asset from the instance,
and returns, per blocked partition, the reasons naming the upstream asset, date and check.
When the failed check is the upstream's own `partition_ok`, the reason carries that partition's
cause (read from its latest evaluation), so a chain of blocked partitions names its root cause.
The asset then writes no rows for blocked partitions and fails its own `partition_ok` check for
them, which in turn blocks the next layer — so a bad date never flows downstream.
"""

from __future__ import annotations

from collections import defaultdict

from dagster import AssetCheckKey, AssetExecutionContext, AssetKey, TimeWindowPartitionMapping
from nba_backfill.compat import AssetCheckExecutionRecordStatus, PartitionKeyFilter

from nba_backfill.checks.results import PARTITION_OK, UP_TO_DATE, blocking_check_names
from nba_backfill.checks.results import assets_with_up_to_date as _with_up_to_date
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


def _failed_upstream(context, keys: list[str], asset_key: AssetKey, names_of, current_only: bool = False):
    """For each upstream dependency with checks named by `names_of(upstream)`: (upstream, the
    upstream keys each of `keys` reads, upstream key -> names of those checks whose latest
    per-partition result failed; with `current_only`, only results about the partition's latest
    materialization)."""
    assets_def = context.assets_def
    all_keys = all_partition_keys()
    index = {k: i for i, k in enumerate(all_keys)}
    for upstream in sorted(assets_def.asset_deps.get(asset_key, ()), key=lambda k: k.to_string()):
        names = names_of(upstream)
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
            if info.partition_key and info.latest_execution_status in FAILED_STATUSES \
                    and (info.is_current or not current_only):
                failed[info.partition_key].append(info.check_key.name)
        yield upstream, needed, failed


def blocked_partitions(
    context: AssetExecutionContext,
    keys: list[str],
    asset_key: AssetKey | None = None,
    recomputed: set[str] | None = None,
) -> dict[str, list[str]]:
    """Partition key -> reasons, for the keys whose upstream inputs failed a blocking check.
    `recomputed`: the asset's own dates this run recomputes (a self-dependent accumulator is not
    blocked by its own earlier failure on a date it is about to redo)."""
    asset_key = asset_key or context.asset_key
    reasons: dict[str, list[str]] = defaultdict(list)
    for upstream, needed, failed in _failed_upstream(context, keys, asset_key, blocking_check_names):
        not_ok = sorted(k for k, names in failed.items() if PARTITION_OK in names)
        causes = _causes(context.instance, AssetCheckKey(upstream, PARTITION_OK), not_ok)
        for key, ups in needed.items():
            for up in ups:
                if upstream == asset_key and up in (recomputed or ()):
                    continue
                names_failed = failed.get(up)
                if not names_failed:
                    continue
                # a partition that is not ok fails all its checks: its outcome says it all
                shown = [PARTITION_OK] if PARTITION_OK in names_failed else sorted(names_failed)
                cause = f" ({causes[up]})" if up in causes else ""
                reasons[key].append(
                    f"{upstream.to_user_string()} [{up}] failed blocking check {', '.join(shown)}{cause}"
                )
    return dict(reasons)


def stale_inputs(
    context: AssetExecutionContext, keys: list[str], asset_key: AssetKey, recomputed: set[str]
) -> dict[str, list[str]]:
    """Partition key -> the input partitions it reads that are stale now (their latest
    `up_to_date` result failed, `nba_backfill.staleness`): a partition computed from them is
    stale too. `recomputed`: dates of this asset this run rewrites (not stale inputs of each
    other)."""
    has_check = lambda key: {UP_TO_DATE} if key in _with_up_to_date() else set()  # noqa: E731
    reasons: dict[str, list[str]] = defaultdict(list)
    # a stale mark about an older materialization is not about what this step reads
    for upstream, needed, failed in _failed_upstream(context, keys, asset_key, has_check, current_only=True):
        for key, ups in needed.items():
            stale = [u for u in ups if failed.get(u) and not (upstream == asset_key and u in recomputed)]
            if stale:
                reasons[key].append(f"{upstream.to_user_string()} [{_span(stale)}]")
    return dict(reasons)


def _span(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]} ({len(keys)} dates)"


def unmaterialized_inputs(
    context: AssetExecutionContext, keys: list[str], same_date_inputs: list[AssetKey]
) -> dict[str, list[str]]:
    """Partition key -> reasons, for the keys whose same-date input partition holds nothing:
    never materialized, or its latest attempt failed before it ever was. The backfill daemon
    holds a partition back only for parents inside the same backfill; a parent date that failed
    in an earlier backfill (and was never retried) would otherwise be read as zero rows.
    (Lookback windows are judged by the layers' `lookback_complete`.) An input this instance has
    never materialized at all is managed outside it (loaded by hand, a fixture, another
    deployment's instance) and is read as it is."""
    reasons: dict[str, list[str]] = defaultdict(list)
    for upstream in sorted(same_date_inputs, key=lambda k: k.to_string()):
        done = context.instance.get_materialized_partitions(upstream)
        if not done:
            continue
        for key in keys:
            if key not in done:
                reasons[key].append(f"{upstream.to_user_string()} [{key}] was never materialized")
    return dict(reasons)


CAUSE_CHARS = 400


def _causes(instance, check_key: AssetCheckKey, partitions: list[str]) -> dict[str, str]:
    """Partition -> "<outcome>, <cause kind>: <cause>" of its latest `partition_ok` evaluation."""
    out = {}
    for partition in partitions:
        history = instance.event_log_storage.get_asset_check_execution_history(
            check_key, limit=1, partition_filter=PartitionKeyFilter(key=partition))
        entry = history[0].event if history else None
        data = entry.dagster_event.event_specific_data if entry is not None and entry.dagster_event else None
        meta = {k: getattr(v, "value", v) for k, v in (getattr(data, "metadata", None) or {}).items()}
        if "cause" in meta:
            out[partition] = (
                f"{meta.get('outcome', 'failed')}, {meta.get('cause_kind', 'unknown')}: {meta['cause']}"
            )[:CAUSE_CHARS]
    return out
