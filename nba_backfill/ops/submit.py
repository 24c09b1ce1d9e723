"""Submit one asset backfill from inside Dagster (a job's op), with exact per-asset ranges.

The CLI submits through the webserver (`ops.backfill.launch`, GraphQL `launchPartitionBackfill`);
a job launched from the UI has the instance and its repository's asset graph instead, and adds
the same kind of backfill directly: Dagster's `PartitionBackfill.from_partitions_by_assets`, the
constructor the GraphQL mutation uses. The backfill daemon then runs it like any other, it shows
on Overview > Backfills and `nba-backfill status` reads it.
"""

from __future__ import annotations

import time

from dagster import AssetKey

from nba_backfill.compat import (
    PartitionBackfill,
    PartitionRangeSelector,
    PartitionsByAssetSelector,
    PartitionsSelector,
    make_new_backfill_id,
)
from nba_backfill.ops.plan import BackfillRequest


def submit_backfill(instance, asset_graph, request: BackfillRequest) -> str:
    """Add the request's asset backfill to the instance; returns its id."""
    selectors = [
        PartitionsByAssetSelector(
            asset_key=AssetKey.from_user_string(item.asset),
            partitions=PartitionsSelector([PartitionRangeSelector(a, b) for a, b in item.ranges]),
        )
        for item in request.partitions_by_assets
    ]
    backfill = PartitionBackfill.from_partitions_by_assets(
        backfill_id=make_new_backfill_id(),
        asset_graph=asset_graph,
        backfill_timestamp=time.time(),
        tags=dict(request.tags),
        dynamic_partitions_store=instance,
        partitions_by_assets=selectors,
        title=request.title,
        description=request.description,
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id
