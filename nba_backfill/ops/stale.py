"""`nba-backfill stale`: the stale partitions as the UI shows them, and one backfill refreshing them.

A partition is stale when its latest `up_to_date` result failed (`nba_backfill.staleness`: the
sensor `stale_partitions` marks every partition computed from content that has changed since,
through every lookback window, transitively). The stale set is already the whole closure of a
change, so one backfill over it refreshes everything the change reached, in dependency order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nba_backfill.checks.results import UP_TO_DATE
from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL
from nba_backfill.ops.state import (
    fetch_asset_nodes,
    fetch_check_failures,
    latest_check_executions,
)

CAUSE_CHARS = 300


@dataclass(frozen=True)
class StalePartition:
    asset: str
    partition: str
    cause: str


def _cause(execution: dict) -> str:
    evaluation = execution.get("evaluation") or {}
    entries = {e["label"]: e.get("text") for e in evaluation.get("metadataEntries") or []}
    return (entries.get("cause") or evaluation.get("description") or "stale")[:CAUSE_CHARS]


def find_stale(
    client: DagsterGraphQL,
    keys: Sequence[str],
    all_keys: Sequence[str],
    assets: Sequence[str] | None = None,
    *,
    causes: bool = True,
) -> list[StalePartition]:
    """Stale partitions among `keys` of `assets` (default every table), with their causes."""
    nodes = [n.key for n in fetch_asset_nodes(client) if n.partitioned]
    chosen = [k for k in nodes if assets is None or k in set(assets)]
    wanted = set(keys)
    found: list[StalePartition] = []
    for asset, failures in sorted(fetch_check_failures(client, chosen, all_keys, UP_TO_DATE).items()):
        partitions = sorted(k for k in failures.failed if k in wanted)
        executions = latest_check_executions(client, asset, UP_TO_DATE, partitions) if causes else {}
        found.extend(StalePartition(asset, k, _cause(executions[k]) if k in executions else "stale")
                     for k in partitions)
    return found


def sensor_running(client: DagsterGraphQL, name: str) -> bool | None:
    """Whether the sensor `name` is running (None when no code location has it)."""
    data = client.execute(queries.SENSOR_STATES)
    for repo in (data.get("repositoriesOrError") or {}).get("nodes") or []:
        for sensor in repo.get("sensors") or []:
            if sensor["name"] == name:
                return sensor["sensorState"]["status"] == "RUNNING"
    return None

