"""Read the asset graph, partition and check statuses from a running Dagster over GraphQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL, OpsError

FAILED_CHECK_STATUSES = {"FAILED", "EXECUTION_FAILED"}


@dataclass(frozen=True)
class AssetNode:
    key: str  # "layer/table"
    group: str
    partitioned: bool
    code_version: str | None
    policy: str | None  # "SINGLE_RUN", "MULTI_RUN(30)" or None
    deps: tuple[str, ...]


def key_input(asset_key: str) -> dict:
    return {"path": asset_key.split("/")}


def key_str(graphql_key: dict) -> str:
    return "/".join(graphql_key["path"])


def expand(ranges: Iterable[tuple[str, str]], all_keys: Sequence[str]) -> set[str]:
    """Every partition key inside the inclusive (start, end) ranges."""
    out: set[str] = set()
    for start, end in ranges:
        out.update(k for k in all_keys if start <= k <= end)
    return out


def fetch_asset_nodes(client: DagsterGraphQL) -> list[AssetNode]:
    nodes = []
    for node in client.execute(queries.ASSET_NODES)["assetNodes"]:
        policy = node.get("backfillPolicy")
        policy_text = None
        if policy:
            policy_text = policy["policyType"]
            if policy.get("maxPartitionsPerRun"):
                policy_text += f"({policy['maxPartitionsPerRun']})"
        nodes.append(
            AssetNode(
                key=key_str(node["assetKey"]),
                group=node["groupName"],
                partitioned=node["isPartitioned"],
                code_version=node.get("opVersion"),
                policy=policy_text,
                deps=tuple(key_str(d) for d in node["dependencyKeys"]),
            )
        )
    if not nodes:
        raise OpsError("the code location has no assets (is it loaded? see the UI's Deployment page)")
    return nodes


def fetch_partition_status(
    client: DagsterGraphQL, asset_keys: Sequence[str], all_keys: Sequence[str]
) -> dict[str, dict[str, set[str]]]:
    """asset -> {"MATERIALIZED": keys, "FAILED": keys, "MATERIALIZING": keys}."""
    data = client.execute(
        queries.ASSET_PARTITION_STATUSES, {"assetKeys": [key_input(k) for k in asset_keys]}
    )
    result: dict[str, dict[str, set[str]]] = {}
    for node in data["assetNodes"]:
        statuses = node["assetPartitionStatuses"]
        by_status: dict[str, set[str]] = defaultdict(set)
        if statuses["__typename"] == "TimePartitionStatuses":
            for r in statuses["ranges"]:
                by_status[r["status"]] |= expand([(r["startKey"], r["endKey"])], all_keys)
        elif statuses["__typename"] == "DefaultPartitionStatuses":
            by_status["MATERIALIZED"] = set(statuses["materializedPartitions"])
            by_status["FAILED"] = set(statuses["failedPartitions"])
            by_status["MATERIALIZING"] = set(statuses["materializingPartitions"])
        result[key_str(node["assetKey"])] = dict(by_status)
    return result


def fetch_failed_blocking_checks(
    client: DagsterGraphQL, asset_keys: Sequence[str], all_keys: Sequence[str]
) -> dict[str, dict[str, list[str]]]:
    """asset -> partition -> names of blocking checks whose latest result failed there."""
    data = client.execute(
        queries.ASSET_CHECK_STATUSES, {"assetKeys": [key_input(k) for k in asset_keys]}
    )
    result: dict[str, dict[str, list[str]]] = {}
    for node in data["assetNodes"]:
        checks = node["assetChecksOrError"]
        if checks.get("__typename") != "AssetChecks":
            continue
        failed: dict[str, list[str]] = defaultdict(list)
        for check in checks["checks"]:
            if not check["blocking"] or not check.get("partitionStatuses"):
                continue
            statuses = check["partitionStatuses"]
            keys: set[str] = set()
            if statuses["__typename"] == "AssetCheckTimePartitionStatuses":
                keys = expand(
                    [
                        (r["startKey"], r["endKey"])
                        for r in statuses["ranges"]
                        if r["status"] in FAILED_CHECK_STATUSES
                    ],
                    all_keys,
                )
            elif statuses["__typename"] == "AssetCheckDefaultPartitionStatuses":
                keys = set(statuses["failedPartitions"]) | set(statuses["executionFailedPartitions"])
            for key in keys:
                failed[key].append(check["name"])
        if failed:
            result[key_str(node["assetKey"])] = {k: sorted(v) for k, v in failed.items()}
    return result


def fetch_check_messages(
    client: DagsterGraphQL, asset_key: str, check_name: str, partitions: Iterable[str]
) -> dict[str, str]:
    """partition -> message of the latest execution of one check (for the given partitions)."""
    wanted = set(partitions)
    if not wanted:
        return {}
    data = client.execute(
        queries.ASSET_CHECK_EXECUTIONS,
        {"assetKey": key_input(asset_key), "checkName": check_name, "limit": max(200, 4 * len(wanted))},
    )
    messages: dict[str, str] = {}
    for execution in data["assetCheckExecutions"]:  # newest first
        partition = execution.get("partition")
        if partition not in wanted or partition in messages:
            continue
        evaluation = execution.get("evaluation") or {}
        text = evaluation.get("description") or ""
        if not text:
            for entry in evaluation.get("metadataEntries") or []:
                if entry.get("label") == "message" and entry.get("text"):
                    text = entry["text"]
        messages[partition] = text or f"check {check_name} {execution['status'].lower()}"
    return messages


def fetch_daemon_health(client: DagsterGraphQL) -> dict[str, bool]:
    data = client.execute(queries.DAEMON_HEALTH)
    return {
        s["daemonType"]: bool(s["healthy"])
        for s in data["instance"]["daemonHealth"]["allDaemonStatuses"]
        if s["required"]
    }


def fetch_location_errors(client: DagsterGraphQL) -> list[str]:
    """Load errors of code locations ([] when every location is loaded)."""
    workspace = client.execute(queries.LOCATIONS)["workspaceOrError"]
    if workspace["__typename"] != "Workspace":
        return [workspace.get("message", workspace["__typename"])]
    errors = []
    for entry in workspace["locationEntries"]:
        loaded = entry.get("locationOrLoadError") or {}
        if loaded.get("__typename") == "PythonError":
            errors.append(f"{entry['name']}: {loaded['message'].strip()}")
        elif entry["loadStatus"] != "LOADED":
            errors.append(f"{entry['name']}: {entry['loadStatus']}")
    return errors
