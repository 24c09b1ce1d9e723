"""Lookback completeness: were the upstream partitions of a history window ever materialized?

Dagster does not verify lookback partitions outside a backfill (DAGSTER_NOTES): a day that was
never materialized would silently shorten every window that covers it. The analytics factory
asks the instance for the materialized partitions of each lookback input and reports the missing
days in the blocking check `lookback_complete`; such a date is blocked and writes no rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import AssetKey

from nba_backfill.guards import upstream_window
from nba_backfill.partitions import all_partition_keys
from nba_backfill.seasons import season_for_date

if TYPE_CHECKING:
    from nba_backfill.assets.analytics.factory import AnalyticsTable


def unmaterialized_history(instance, table: AnalyticsTable, keys: list[str]) -> dict[str, list[str]]:
    """Partition key -> reasons, for keys whose lookback windows (the part before the date and
    on or after its season's opener) hold upstream partitions that were never materialized."""
    if not table.history_inputs:
        return {}
    all_keys = all_partition_keys()
    index = {k: i for i, k in enumerate(all_keys)}
    reasons: dict[str, list[str]] = {}
    for upstream in table.history_inputs.values():
        done = instance.get_materialized_partitions(AssetKey(list(upstream.key)))
        for key in keys:
            season = season_for_date(key)
            opener = season.opener.isoformat() if season else key
            window = [k for k in upstream_window(all_keys, index, key, upstream.mapping) if opener <= k < key]
            missing = [k for k in window if k not in done]
            if missing:
                reasons.setdefault(key, []).append(
                    f"{'.'.join(upstream.key)}: {len(missing)} of {len(window)} history days never "
                    f"materialized ({missing[0]}..{missing[-1]})"
                )
    return reasons
