"""`nba-backfill stale`: partitions whose code version changed or whose upstream was
re-materialized since they were built (Dagster's `staleStatusByPartition`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL
from nba_backfill.ops.state import fetch_asset_nodes, fetch_partition_status, key_input, key_str

BATCH = 400  # partitions per staleStatusByPartition request


@dataclass(frozen=True)
class StalePartition:
    asset: str
    partition: str
    causes: tuple[str, ...]


def describe_cause(cause: dict) -> str:
    text = f"{cause['category'].lower()}: {cause['reason']}"
    if cause.get("dependency"):
        dep = key_str(cause["dependency"])
        where = f" [{cause['dependencyPartitionKey']}]" if cause.get("dependencyPartitionKey") else ""
        if dep not in text:
            text += f" ({dep}{where})"
    return text


def find_stale(
    client: DagsterGraphQL,
    keys: Sequence[str],
    all_keys: Sequence[str],
    assets: Sequence[str] | None = None,
) -> list[StalePartition]:
    """Stale partitions among the materialized partitions in `keys` of `assets` (default all)."""
    nodes = [n for n in fetch_asset_nodes(client) if n.partitioned]
    chosen = [n.key for n in nodes if assets is None or n.key in set(assets)]
    wanted = set(keys)
    statuses = fetch_partition_status(client, chosen, all_keys)
    found: list[StalePartition] = []
    for asset in chosen:
        materialized = sorted(statuses.get(asset, {}).get("MATERIALIZED", set()) & wanted)
        for i in range(0, len(materialized), BATCH):
            batch = materialized[i : i + BATCH]
            data = client.execute(
                queries.STALE, {"assetKeys": [key_input(asset)], "partitions": batch}
            )
            (node,) = data["assetNodes"]
            statuses_by_key = node["staleStatusByPartition"] or []
            causes_by_key = node["staleCausesByPartition"] or [[] for _ in batch]
            for partition, status, causes in zip(batch, statuses_by_key, causes_by_key):
                if status == "STALE":
                    found.append(
                        StalePartition(asset, partition, tuple(describe_cause(c) for c in causes or []))
                    )
    return found
