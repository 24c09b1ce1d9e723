"""Lookback completeness: were the upstream partitions of a history window ever materialized?

Dagster does not verify lookback partitions outside a backfill (DAGSTER_NOTES): a day that was
never materialized would silently shorten every window that covers it. The analytics factory
asks the instance for the materialized partitions of each lookback input, reports the missing
days in the blocking check `lookback_complete`, and flags the affected rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from dagster import AssetKey

from nba_backfill.guards import upstream_window
from nba_backfill.partitions import all_partition_keys
from nba_backfill.seasons import season_for_date

if TYPE_CHECKING:
    from nba_backfill.assets.analytics.factory import AnalyticsTable

INCOMPLETE_ISSUE = "lookback_incomplete"


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


def mark_incomplete_history(rows: pd.DataFrame, missing: dict[str, list[str]]) -> pd.DataFrame:
    """Rows of dates whose history was not fully materialized: `lookback_incomplete` in
    quality_issues and not production-ready (their windows silently lack days)."""
    if not missing or rows.empty:
        return rows
    days = pd.to_datetime(rows["game_date"]).dt.strftime("%Y-%m-%d")
    hit = days.isin(list(missing)).to_numpy()
    rows = rows.copy()
    rows["quality_issues"] = [
        [*issues, INCOMPLETE_ISSUE] if h else issues for issues, h in zip(rows["quality_issues"], hit)
    ]
    rows["is_production_ready"] = [False if h else r for r, h in zip(rows["is_production_ready"], hit)]
    return rows
