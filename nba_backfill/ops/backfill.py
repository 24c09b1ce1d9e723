"""Plan one asset backfill with exact per-asset ranges, and launch it on a running Dagster.

One planning path (`plan_request`) serves both routes: the CLI (`nba-backfill backfill`, which
reads what is done over GraphQL and launches through `launchPartitionBackfill`) and the `backfill`
job of the UI's Launchpad (`nba_backfill.jobs`, which reads the instance it runs on and submits
through it). Both then pass the same history check (`nba_backfill.ops.history`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL, OpsError
from nba_backfill.ops.history import CLI_FLAG, DoneFn, check_history, reads_of
from nba_backfill.ops.plan import BackfillRequest, build_backfill_request
from nba_backfill.ops.state import fetch_asset_nodes, fetch_failed_blocking_checks, fetch_partition_status
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.seasons import current_season


def done_partitions(
    statuses: Mapping[str, Mapping[str, set[str]]],
    failed_checks: Mapping[str, Mapping[str, list[str]]],
    in_progress: bool = True,
) -> dict[str, set[str]]:
    """Per asset, the partitions that need no work: materialized (or, with `in_progress`, being
    materialized) and without a failed blocking check. A partition that an upstream block left
    empty fails its `upstream_checks_passed` check, so it is re-targeted once the upstream is
    fixed."""
    done: dict[str, set[str]] = {}
    for asset, by_status in statuses.items():
        ok = set(by_status.get("MATERIALIZED", set()))
        if in_progress:
            ok |= set(by_status.get("MATERIALIZING", set()))
        done[asset] = ok - set(failed_checks.get(asset, {}))
    return done


def graphql_done(client: DagsterGraphQL, all_keys: Sequence[str], in_progress: bool) -> DoneFn:
    """`DoneFn` read over GraphQL: materialized (with `in_progress`, or being materialized), no
    failed blocking check."""
    def done(assets: Sequence[str]) -> dict[str, set[str]]:
        return done_partitions(
            fetch_partition_status(client, assets, all_keys),
            fetch_failed_blocking_checks(client, assets, all_keys),
            in_progress=in_progress,
        )

    return done


def plan_request(
    known: Iterable[str],
    *,
    season: str | None,
    start: str | None,
    end: str | None,
    phases: str | None,
    assets: Sequence[str] | None,
    done: DoneFn | None,
) -> BackfillRequest | None:
    """The request for the arguments over the `known` partitioned assets. With `done` (only
    missing or failed), the partitions it reports are left out; None when nothing is left."""
    all_keys = DAILY_PARTITIONS.get_partition_keys()
    known = list(known)
    done_map = None
    if done is not None:
        # Validate first (cheap, nothing read), then read statuses for the chosen assets only.
        probe = build_backfill_request(
            known_assets=known, all_keys=all_keys, current_season=current_season(),
            season=season, start=start, end=end, phases=phases, assets=assets,
        )
        if probe is None:
            return None
        done_map = done(probe.asset_keys)
    return build_backfill_request(
        known_assets=known, all_keys=all_keys, current_season=current_season(),
        season=season, start=start, end=end, phases=phases, assets=assets, done=done_map,
    )


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
    known = [n.key for n in fetch_asset_nodes(client) if n.partitioned]
    done = None
    if only_missing_or_failed:
        done = graphql_done(client, DAILY_PARTITIONS.get_partition_keys(), in_progress=True)
    return plan_request(
        known, season=season, start=start, end=end, phases=phases, assets=assets, done=done
    )


def ensure_history(
    client: DagsterGraphQL, request: BackfillRequest, *, with_history: bool
) -> tuple[BackfillRequest, dict[str, list[str]]]:
    """The history check on the CLI's request: (request to launch, history added by
    --with-history); `HistoryRefused` (exit 2) when history is missing without it. The read graph
    comes from this package's own definitions (the code the server runs)."""
    from nba_backfill.definitions import defs

    all_keys = DAILY_PARTITIONS.get_partition_keys()
    return check_history(
        request, reads_of(defs.resolve_asset_graph()), all_keys,
        graphql_done(client, all_keys, in_progress=False),
        with_history=with_history, flag=CLI_FLAG,
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
