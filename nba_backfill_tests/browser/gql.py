"""GraphQL look-ups that *confirm* what the browser tests did through the UI.

Nothing here launches or changes anything: the tests act only through the browser. These
queries poll for completion (with bounded timeouts) and read back the instance's own records —
backfill and run status, materialized partitions, per-partition check results, per-partition
staleness, every backfill — so a UI assertion is always cross-checked against Dagster's state.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

FINAL_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
FINAL_RUN = {"SUCCESS", "FAILURE", "CANCELED"}

BACKFILL_QUERY = """
query ($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
  ... on PartitionBackfill { id status numPartitions partitionNames
    runs(limit: 100) { id status tags { key value } }
    error { message } }
  ... on PythonError { message } } }
"""

RUN_QUERY = """
query ($id: ID!) { runOrError(runId: $id) { __typename
  ... on Run { id status assetSelection { path } tags { key value } }
  ... on PythonError { message } } }
"""

ASSET_KEYS_QUERY = """
{ assetNodes { assetKey { path } groupName } }
"""

MATERIALIZED_QUERY = """
query ($keys: [AssetKeyInput!], $partitions: [String!]) {
  assetNodes(assetKeys: $keys) { assetKey { path }
    assetMaterializations(partitions: $partitions) { partition runId } } }
"""

CHECK_EXECUTIONS_QUERY = """
query ($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 200) {
    runId status timestamp
    evaluation { partition success description
      metadataEntries { label
        ... on TextMetadataEntry { text } ... on IntMetadataEntry { intValue } } } } }
"""

BACKFILLS_QUERY = """
{ partitionBackfillsOrError(limit: 100) { ... on PartitionBackfills { results { id } } } }
"""

STALE_QUERY = """
query ($key: AssetKeyInput!, $partition: String!) {
  assetNodeOrError(assetKey: $key) { ... on AssetNode {
    staleStatus(partition: $partition)
    staleCauses(partition: $partition) { key { path } partitionKey category reason } } } }
"""


class WaitTimeout(AssertionError):
    """A bounded wait ran out; the message carries the last state seen."""


def key_input(asset: str) -> dict:
    return {"path": asset.split("/")}


@dataclass
class Backfill:
    id: str
    status: str
    partition_names: list[str]
    runs: list[dict] = field(default_factory=list)
    error: str | None = None

    @property
    def run_statuses(self) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.runs}


def backfill(dev, backfill_id: str) -> Backfill:
    data = dev.graphql(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]
    if data["__typename"] != "PartitionBackfill":
        raise AssertionError(f"backfill {backfill_id}: {data}")
    return Backfill(
        id=data["id"],
        status=data["status"],
        partition_names=list(data.get("partitionNames") or []),
        runs=list(data.get("runs") or []),
        error=(data.get("error") or {}).get("message"),
    )


def wait_for_backfill(dev, backfill_id: str, timeout_s: float, poll_s: float = 5.0) -> Backfill:
    """Poll until the backfill is final AND all of its runs are final (bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = backfill(dev, backfill_id)
        runs_done = all(s in FINAL_RUN for s in state.run_statuses.values())
        if state.status in FINAL_BACKFILL and runs_done:
            return state
        if time.monotonic() > deadline:
            raise WaitTimeout(
                f"backfill {backfill_id} not finished after {timeout_s:.0f}s: status "
                f"{state.status}, runs {state.run_statuses}; dagster log:\n{dev.log_tail(40)}"
            )
        time.sleep(poll_s)


def run(dev, run_id: str) -> dict:
    data = dev.graphql(RUN_QUERY, {"id": run_id})["runOrError"]
    if data["__typename"] != "Run":
        raise AssertionError(f"run {run_id}: {data}")
    return data


def wait_for_run(dev, run_id: str, timeout_s: float, poll_s: float = 2.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        state = run(dev, run_id)
        if state["status"] in FINAL_RUN:
            return state
        if time.monotonic() > deadline:
            raise WaitTimeout(
                f"run {run_id} not finished after {timeout_s:.0f}s (status {state['status']}); "
                f"dagster log:\n{dev.log_tail(40)}"
            )
        time.sleep(poll_s)


def asset_groups(dev) -> dict[str, str]:
    """Every asset key ("layer/table") of the loaded code location -> its group name."""
    nodes = dev.graphql(ASSET_KEYS_QUERY)["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n["groupName"] for n in nodes}


def materialized(dev, assets: Iterable[str], partitions: Iterable[str]) -> dict[str, set[str]]:
    """asset -> the subset of `partitions` that has at least one materialization."""
    assets, partitions = list(assets), list(partitions)
    nodes = dev.graphql(
        MATERIALIZED_QUERY,
        {"keys": [key_input(a) for a in assets], "partitions": partitions},
    )["assetNodes"]
    found = {
        "/".join(n["assetKey"]["path"]): {m["partition"] for m in n["assetMaterializations"]}
        for n in nodes
    }
    return {a: found.get(a, set()) & set(partitions) for a in assets}


@dataclass(frozen=True)
class CheckResult:
    partition: str
    passed: bool
    description: str
    metadata: dict
    run_id: str


def check_results(dev, asset: str, check: str) -> dict[str, CheckResult]:
    """partition -> the newest evaluation of `check` on `asset` for it."""
    executions = dev.graphql(CHECK_EXECUTIONS_QUERY, {"key": key_input(asset), "check": check})[
        "assetCheckExecutions"
    ]
    newest: dict[str, dict] = {}
    for e in sorted(executions, key=lambda e: e["timestamp"]):
        partition = (e.get("evaluation") or {}).get("partition")
        if partition is not None:
            newest[partition] = e
    out = {}
    for partition, e in newest.items():
        meta = {}
        for entry in e["evaluation"]["metadataEntries"]:
            meta[entry["label"]] = entry.get("text", entry.get("intValue"))
        out[partition] = CheckResult(
            partition=partition,
            passed=bool(e["evaluation"]["success"]),
            description=e["evaluation"].get("description") or "",
            metadata=meta,
            run_id=e["runId"],
        )
    return out


def latest_check_result(dev, asset: str, check: str, partition: str) -> CheckResult | None:
    """The newest evaluation of `check` on `asset` for `partition` (None if never evaluated)."""
    return check_results(dev, asset, check).get(partition)


def failing_partitions(dev, asset: str, check: str) -> list[str]:
    """Partitions whose newest evaluation of `check` failed, sorted."""
    return sorted(p for p, r in check_results(dev, asset, check).items() if not r.passed)


def wait_until(what: str, probe, timeout_s: float, poll_s: float = 3.0):
    """Poll `probe()` until it returns something truthy (returned); bounded."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"{what}: not seen after {timeout_s:.0f}s (last: {value!r})")
        time.sleep(poll_s)


def backfill_ids(dev) -> set[str]:
    """Every backfill the instance holds."""
    data = dev.graphql(BACKFILLS_QUERY)["partitionBackfillsOrError"]
    return {b["id"] for b in data.get("results") or []}


def stale(dev, asset: str, partition: str) -> tuple[str, list[dict]]:
    """(staleStatus, staleCauses) of one partition."""
    node = dev.graphql(STALE_QUERY, {"key": key_input(asset), "partition": partition})[
        "assetNodeOrError"
    ]
    return node["staleStatus"], node["staleCauses"]
