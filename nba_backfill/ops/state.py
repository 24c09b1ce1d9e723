"""Read the asset graph, partition and check statuses from a running Dagster over GraphQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nba_backfill.checks.results import PARTITION_OK
from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL, OpsError

FEW_PARTITIONS = 8  # up to this many partitions, read a check's executions one partition at a time
PAGE = 1000


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


@dataclass
class CheckFailures:
    """The blocking checks of one asset whose latest result, per partition, is not a pass."""

    op: str | None  # the asset's op = the step key of its runs
    checks: tuple[str, ...]  # names of all its checks
    failed: dict[str, list[str]] = field(default_factory=dict)  # partition -> checks that failed
    not_executed: dict[str, list[str]] = field(default_factory=dict)  # its step failed first


def fetch_check_failures(
    client: DagsterGraphQL, asset_keys: Sequence[str], all_keys: Sequence[str],
    check_name: str | None = None,
) -> dict[str, CheckFailures]:
    """asset -> its blocking checks (or the check `check_name`) that failed or did not execute,
    per partition."""
    data = client.execute(
        queries.ASSET_CHECK_STATUSES, {"assetKeys": [key_input(k) for k in asset_keys]}
    )
    result: dict[str, CheckFailures] = {}
    for node in data["assetNodes"]:
        checks = node["assetChecksOrError"]
        if checks.get("__typename") != "AssetChecks":
            continue
        found = CheckFailures(
            op=(node.get("opNames") or [None])[0],
            checks=tuple(sorted(c["name"] for c in checks["checks"])),
        )
        for check in checks["checks"]:
            wanted = check["name"] == check_name if check_name else check["blocking"]
            if not wanted or not check.get("partitionStatuses"):
                continue
            statuses = check["partitionStatuses"]
            by_status: dict[str, set[str]] = defaultdict(set)
            if statuses["__typename"] == "AssetCheckTimePartitionStatuses":
                for r in statuses["ranges"]:
                    by_status[r["status"]] |= expand([(r["startKey"], r["endKey"])], all_keys)
            elif statuses["__typename"] == "AssetCheckDefaultPartitionStatuses":
                by_status["FAILED"] = set(statuses["failedPartitions"])
                by_status["EXECUTION_FAILED"] = set(statuses["executionFailedPartitions"])
            for key in by_status["FAILED"]:
                found.failed.setdefault(key, []).append(check["name"])
            for key in by_status["EXECUTION_FAILED"]:
                found.not_executed.setdefault(key, []).append(check["name"])
        for by_key in (found.failed, found.not_executed):
            for names in by_key.values():
                names.sort()
        result[key_str(node["assetKey"])] = found
    return result


def fetch_failed_blocking_checks(
    client: DagsterGraphQL, asset_keys: Sequence[str], all_keys: Sequence[str]
) -> dict[str, dict[str, list[str]]]:
    """asset -> partition -> names of blocking checks whose latest result failed there
    (evaluated and failed, or not executed because the step failed)."""
    result: dict[str, dict[str, list[str]]] = {}
    for asset, found in fetch_check_failures(client, asset_keys, all_keys).items():
        merged: dict[str, set[str]] = defaultdict(set)
        for by_key in (found.failed, found.not_executed):
            for key, names in by_key.items():
                merged[key].update(names)
        if merged:
            result[asset] = {k: sorted(v) for k, v in merged.items()}
    return result


def latest_check_executions(
    client: DagsterGraphQL, asset_key: str, check_name: str, partitions: Iterable[str]
) -> dict[str, dict]:
    """partition -> the latest execution of one check there (GraphQL `AssetCheckExecution`),
    for the given partitions. Few partitions are asked one by one; many are paged newest first
    until every one is seen."""
    wanted = set(partitions)
    found: dict[str, dict] = {}
    if len(wanted) <= FEW_PARTITIONS:
        for key in sorted(wanted):
            page = client.execute(
                queries.ASSET_CHECK_EXECUTIONS,
                {"assetKey": key_input(asset_key), "checkName": check_name, "limit": 1,
                 "partition": key},
            )["assetCheckExecutions"]
            if page:
                found[key] = page[0]
        return found
    cursor = None
    while wanted - set(found):
        page = client.execute(
            queries.ASSET_CHECK_EXECUTIONS,
            {"assetKey": key_input(asset_key), "checkName": check_name, "limit": PAGE,
             "cursor": cursor},
        )["assetCheckExecutions"]
        for execution in page:  # newest first
            partition = execution.get("partition")
            if partition in wanted and partition not in found:
                found[partition] = execution
        if len(page) < PAGE:
            break
        cursor = page[-1]["id"]
    return found


def _text_entries(evaluation: dict) -> dict[str, str]:
    return {
        e["label"]: e["text"]
        for e in evaluation.get("metadataEntries") or []
        if e.get("text") is not None
    }


def fetch_check_messages(
    client: DagsterGraphQL, asset_key: str, check_name: str, partitions: Iterable[str]
) -> dict[str, str]:
    """partition -> message of the latest execution of one check (for the given partitions)."""
    messages: dict[str, str] = {}
    for partition, execution in latest_check_executions(
        client, asset_key, check_name, partitions
    ).items():
        evaluation = execution.get("evaluation") or {}
        text = evaluation.get("description") or _text_entries(evaluation).get("message", "")
        messages[partition] = text or f"check {check_name} {execution['status'].lower()}"
    return messages


@dataclass(frozen=True)
class Verdict:
    """The latest `partition_ok` result of one table partition: the table core's own account of
    it (outcome ok | blocked | failed, the cause and the lake partitions to re-scrape)."""

    asset: str
    partition: str
    outcome: str  # "ok" | "blocked" | "failed" | "not evaluated" (its step failed first)
    cause_kind: str
    cause: str
    refetch: tuple[tuple[str, str], ...]  # (lake asset, partition) to re-scrape

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def parse_refetch(text: str | None) -> list[tuple[str, str]]:
    """"nba_lake/a:2023-11-01, nba_lake/b:2023-11-02" -> [(asset, partition), ...]."""
    pairs = []
    for item in (text or "").split(","):
        asset, sep, partition = item.strip().rpartition(":")
        if sep and asset and partition:
            pairs.append((asset, partition))
    return pairs


def fetch_verdicts(
    client: DagsterGraphQL, asset_key: str, partitions: Iterable[str]
) -> dict[str, Verdict]:
    """partition -> the latest `partition_ok` result there (partitions without one are absent)."""
    verdicts: dict[str, Verdict] = {}
    for partition, execution in latest_check_executions(
        client, asset_key, PARTITION_OK, partitions
    ).items():
        evaluation = execution.get("evaluation")
        if evaluation is None:
            outcome, kind, cause, refetch = "not evaluated", "", "", ()
        else:
            meta = _text_entries(evaluation)
            outcome = meta.get("outcome") or ("ok" if evaluation["success"] else "failed")
            kind = meta.get("cause_kind", "")
            cause = meta.get("cause") or evaluation.get("description") or meta.get("message", "")
            refetch = tuple(parse_refetch(meta.get("refetch")))
        verdicts[partition] = Verdict(asset_key, partition, outcome, kind, cause.strip(), refetch)
    return verdicts


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
