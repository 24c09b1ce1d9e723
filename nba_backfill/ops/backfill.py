"""Launch one asset backfill with exact per-asset ranges on a running Dagster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL, OpsError
from nba_backfill.ops.plan import BackfillRequest, build_backfill_request
from nba_backfill.ops.state import fetch_asset_nodes, fetch_failed_blocking_checks, fetch_partition_status
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.seasons import current_season


def done_partitions(
    statuses: Mapping[str, Mapping[str, set[str]]],
    failed_checks: Mapping[str, Mapping[str, list[str]]],
) -> dict[str, set[str]]:
    """Per asset, the partitions that need no work: materialized (or being materialized) and
    without a failed blocking check. A partition that an upstream block left empty fails its
    `upstream_checks_passed` check, so it is re-targeted once the upstream is fixed."""
    done: dict[str, set[str]] = {}
    for asset, by_status in statuses.items():
        ok = set(by_status.get("MATERIALIZED", set())) | set(by_status.get("MATERIALIZING", set()))
        done[asset] = ok - set(failed_checks.get(asset, {}))
    return done


def plan_backfill(
    client: DagsterGraphQL,
    *,
    season: str | None,
    start: str | None,
    end: str | None,
    phases: str | None,
    assets: Sequence[str] | None,
    only_missing_or_failed: bool,
) -> BackfillRequest | None:
    """Validate the arguments against the running code location and build the request."""
    all_keys = DAILY_PARTITIONS.get_partition_keys()
    nodes = [n for n in fetch_asset_nodes(client) if n.partitioned]
    known = [n.key for n in nodes]
    done = None
    if only_missing_or_failed:
        # Validate first (cheap, no server work), then read statuses for the chosen assets only.
        probe = build_backfill_request(
            known_assets=known, all_keys=all_keys, current_season=current_season(),
            season=season, start=start, end=end, phases=phases, assets=assets,
        )
        if probe is None:
            return None
        chosen = probe.asset_keys
        done = done_partitions(
            fetch_partition_status(client, chosen, all_keys),
            fetch_failed_blocking_checks(client, chosen, all_keys),
        )
    return build_backfill_request(
        known_assets=known, all_keys=all_keys, current_season=current_season(),
        season=season, start=start, end=end, phases=phases, assets=assets, done=done,
    )


def launch(client: DagsterGraphQL, request: BackfillRequest) -> str:
    """Submit the request; returns the backfill id (raises OpsError with Dagster's message)."""
    result = client.execute(queries.LAUNCH_BACKFILL, {"params": request.graphql_params()})
    launched = result["launchPartitionBackfill"]
    if launched["__typename"] != "LaunchBackfillSuccess":
        raise OpsError(
            f"Dagster refused the backfill ({launched['__typename']}): {launched.get('message', '')}"
        )
    return launched["backfillId"]
