"""`nba-backfill status [ID]`: per-phase and per-season progress and failed partitions."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL, OpsError
from nba_backfill.ops.plan import PHASE_LAYERS, phase_of
from nba_backfill.ops.state import (
    expand,
    fetch_check_messages,
    fetch_failed_blocking_checks,
    fetch_partition_status,
    key_input,
    key_str,
)
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.seasons import season_for_date

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


@dataclass
class PhaseRow:
    phase: int
    assets: int = 0
    targeted: int = 0
    materialized: int = 0
    failed: int = 0
    in_progress: int = 0


@dataclass
class SeasonRow:
    season: str
    targeted: int = 0
    materialized: int = 0
    blocked: int = 0


@dataclass
class Failure:
    asset: str
    partition: str
    reason: str


@dataclass
class StatusReport:
    backfill_id: str
    status: str
    title: str | None
    created: float
    ended: float | None
    error: str | None
    runs: Counter = field(default_factory=Counter)
    phases: list[PhaseRow] = field(default_factory=list)
    seasons: list[SeasonRow] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    run_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.run_failures and self.status not in {
            "FAILED", "COMPLETED_FAILED", "CANCELED", "FAILING",
        }


def latest_backfill_ids(client: DagsterGraphQL, limit: int = 5) -> list[dict]:
    data = client.execute(queries.BACKFILLS, {"limit": limit})["partitionBackfillsOrError"]
    if data["__typename"] != "PartitionBackfills":
        raise OpsError(f"cannot list backfills: {data.get('message', data['__typename'])}")
    return data["results"]


def _run_failure_messages(client: DagsterGraphQL, run_id: str) -> list[str]:
    logs = client.execute(queries.RUN_FAILURES, {"runId": run_id})["logsForRun"]
    if logs["__typename"] != "EventConnection":
        return [logs.get("message", logs["__typename"])]
    messages = []
    for event in logs["events"]:
        if event["__typename"] == "ExecutionStepFailureEvent":
            error = (event.get("error") or {}).get("message", "").strip().splitlines()
            messages.append(f"step {event['stepKey']}: {error[0] if error else 'failed'}")
        elif event["__typename"] == "RunFailureEvent" and not messages:
            messages.append(event.get("message") or "run failed")
    return messages


def backfill_status(client: DagsterGraphQL, backfill_id: str | None = None, limit: int = 50) -> StatusReport:
    """Collect the report of backfill `backfill_id` (default: the most recent backfill)."""
    if backfill_id is None:
        recent = latest_backfill_ids(client, 1)
        if not recent:
            raise OpsError("no backfills yet; launch one with `nba-backfill backfill ...`")
        backfill_id = recent[0]["id"]
    data = client.execute(queries.BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
    if data["__typename"] != "PartitionBackfill":
        raise OpsError(f"backfill {backfill_id}: {data.get('message', data['__typename'])}")
    if not data["isAssetBackfill"]:
        raise OpsError(f"backfill {backfill_id} is a job backfill; this command reads asset backfills")
    report = StatusReport(
        backfill_id=data["id"],
        status=data["status"],
        title=data.get("title"),
        created=data["timestamp"],
        ended=data.get("endTimestamp"),
        error=(data.get("error") or {}).get("message"),
    )
    all_keys = DAILY_PARTITIONS.get_partition_keys()

    counts = [
        s for s in data["assetBackfillData"]["assetBackfillStatuses"]
        if s["__typename"] == "AssetPartitionsStatusCounts"
    ]
    phases: dict[int, PhaseRow] = {}
    for s in counts:
        asset = key_str(s["assetKey"])
        phase = phase_of(asset) or 0
        row = phases.setdefault(phase, PhaseRow(phase))
        row.assets += 1
        row.targeted += s["numPartitionsTargeted"]
        row.materialized += s["numPartitionsMaterialized"]
        row.failed += s["numPartitionsFailed"]
        row.in_progress += s["numPartitionsInProgress"]
    report.phases = [phases[p] for p in sorted(phases)]

    # Per season: targeted keys of each asset vs. what is materialized now, and blocked keys.
    assets = [key_str(s["assetKey"]) for s in counts]
    targeted: dict[str, set[str]] = {}
    for asset in assets:
        target = client.execute(
            queries.BACKFILL_TARGET, {"id": backfill_id, "assetKey": key_input(asset)}
        )["partitionBackfillOrError"]["partitionsTargetedForAssetKey"] or {}
        keys = set(target.get("partitionKeys") or [])
        keys |= expand([(r["start"], r["end"]) for r in target.get("ranges") or []], all_keys)
        targeted[asset] = keys
    statuses = fetch_partition_status(client, assets, all_keys) if assets else {}
    failed_checks = fetch_failed_blocking_checks(client, assets, all_keys) if assets else {}
    seasons: dict[str, SeasonRow] = {}
    for asset, keys in targeted.items():
        materialized = statuses.get(asset, {}).get("MATERIALIZED", set())
        blocked = set(failed_checks.get(asset, {}))
        for key in keys:
            season = season_for_date(key)
            label = season.label if season else "off-season"
            row = seasons.setdefault(label, SeasonRow(label))
            row.targeted += 1
            row.materialized += key in materialized and key not in blocked
            row.blocked += key in blocked
    report.seasons = [seasons[s] for s in sorted(seasons)]

    # Failed partitions with reasons: failed blocking checks inside the target.
    for asset in sorted(targeted):
        by_partition = {
            k: names for k, names in failed_checks.get(asset, {}).items() if k in targeted[asset]
        }
        if not by_partition:
            continue
        by_check: dict[str, list[str]] = defaultdict(list)
        for key, names in by_partition.items():
            for name in names:
                by_check[name].append(key)
        for check_name, keys in sorted(by_check.items()):
            messages = fetch_check_messages(client, asset, check_name, sorted(keys)[:limit])
            for key in sorted(keys):
                message = messages.get(key, "")
                report.failures.append(
                    Failure(asset, key, f"{check_name} failed" + (f": {message}" if message else ""))
                )

    # Failed or canceled runs of the backfill, with their partition range and step errors.
    for run in data["runs"]:
        report.runs[run["status"]] += 1
        if run["status"] not in {"FAILURE", "CANCELED"}:
            continue
        tags = {t["key"]: t["value"] for t in run["tags"]}
        where = tags.get(PARTITION_TAG) or (
            f"{tags.get(RANGE_START_TAG)}...{tags.get(RANGE_END_TAG)}" if RANGE_START_TAG in tags else "?"
        )
        messages = _run_failure_messages(client, run["id"])[:3] or [run["status"].lower()]
        report.run_failures.append(f"run {run['id'][:8]} [{where}] {run['status']}: " + " | ".join(messages))
    return report


def _time(ts: float | None) -> str:
    if not ts:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def render(report: StatusReport, limit: int = 50) -> str:
    lines = [
        f"Backfill {report.backfill_id}  {report.status}  {report.title or ''}".rstrip(),
        f"created {_time(report.created)}, ended {_time(report.ended)}, runs: "
        + (", ".join(f"{n} {s.lower()}" for s, n in sorted(report.runs.items())) or "none yet"),
    ]
    if report.error:
        lines.append(f"error: {report.error.strip().splitlines()[0]}")
    lines += ["", f"{'phase':<6}{'layer':<17}{'assets':>7}{'targeted':>10}{'done':>8}{'failed':>8}{'running':>9}"]
    for row in report.phases:
        layer = PHASE_LAYERS.get(row.phase, "other")
        lines.append(
            f"{row.phase:<6}{layer:<17}{row.assets:>7}{row.targeted:>10}{row.materialized:>8}"
            f"{row.failed:>8}{row.in_progress:>9}"
        )
    lines += ["", f"{'season':<12}{'asset-partitions':>17}{'materialized':>14}{'blocked':>9}"]
    for row in report.seasons:
        lines.append(f"{row.season:<12}{row.targeted:>17}{row.materialized:>14}{row.blocked:>9}")
    lines.append("")
    if report.failures:
        lines.append(f"Failed partitions ({len(report.failures)}):")
        for failure in report.failures[:limit]:
            lines.append(f"  {failure.asset} {failure.partition}: {failure.reason}")
        if len(report.failures) > limit:
            lines.append(f"  ... {len(report.failures) - limit} more (use --limit)")
    if report.run_failures:
        lines.append(f"Failed runs ({len(report.run_failures)}):")
        lines.extend(f"  {text}" for text in report.run_failures[:limit])
    if not report.failures and not report.run_failures:
        lines.append("No failed partitions.")
    return "\n".join(lines)
