"""`nba-backfill status [ID]`: did every targeted asset partition of a backfill end done, and if
not, why not.

Done = materialized, with no blocking check failed or left unexecuted. The verdict is per asset
partition, read from what the instance holds now, so runs that failed and were retried (or
killed and retried) do not count against a backfill whose partitions all ended done; they are
still listed, marked "recovered". Each partition that is not done gets one cause (`failures`);
rendering is in `status_render`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nba_backfill.ops import queries
from nba_backfill.ops.failures import (
    Failure,
    NotExecuted,
    RunReport,
    not_executed,
    partition_failures,
    run_report,
)
from nba_backfill.ops.graphql import DagsterGraphQL, OpsError
from nba_backfill.ops.plan import phase_of
from nba_backfill.ops.state import (
    CheckFailures,
    expand,
    fetch_asset_nodes,
    fetch_check_failures,
    fetch_partition_status,
    key_input,
    key_str,
)
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.seasons import season_for_date

FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


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
    materialized: int = 0  # done: materialized with passing blocking checks
    blocked: int = 0  # a blocking check failed (or did not execute)

    @property
    def not_done(self) -> int:
        return self.targeted - self.materialized


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
    run_failures: list[RunReport] = field(default_factory=list)
    not_executed: list[NotExecuted] = field(default_factory=list)
    targeted: int = 0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def ok(self) -> bool:
        """Every targeted asset partition ended materialized with passing blocking checks."""
        return self.finished and not self.failures


def latest_backfill_ids(client: DagsterGraphQL, limit: int = 5) -> list[dict]:
    data = client.execute(queries.BACKFILLS, {"limit": limit})["partitionBackfillsOrError"]
    if data["__typename"] != "PartitionBackfills":
        raise OpsError(f"cannot list backfills: {data.get('message', data['__typename'])}")
    return data["results"]


def backfill_status(client: DagsterGraphQL, backfill_id: str | None = None) -> StatusReport:
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
        phase = phase_of(key_str(s["assetKey"])) or 0
        row = phases.setdefault(phase, PhaseRow(phase))
        row.assets += 1
        row.targeted += s["numPartitionsTargeted"]
        row.materialized += s["numPartitionsMaterialized"]
        row.failed += s["numPartitionsFailed"]
        row.in_progress += s["numPartitionsInProgress"]
    report.phases = [phases[p] for p in sorted(phases)]

    assets = [key_str(s["assetKey"]) for s in counts]
    targeted: dict[str, set[str]] = {}
    for asset in assets:
        target = client.execute(
            queries.BACKFILL_TARGET, {"id": backfill_id, "assetKey": key_input(asset)}
        )["partitionBackfillOrError"]["partitionsTargetedForAssetKey"] or {}
        keys = set(target.get("partitionKeys") or [])
        keys |= expand([(r["start"], r["end"]) for r in target.get("ranges") or []], all_keys)
        targeted[asset] = keys
    report.targeted = sum(len(k) for k in targeted.values())
    statuses = fetch_partition_status(client, assets, all_keys) if assets else {}
    checks = fetch_check_failures(client, assets, all_keys) if assets else {}

    bad: dict[str, set[str]] = {}
    seasons: dict[str, SeasonRow] = {}
    for asset, keys in targeted.items():
        found = checks.get(asset) or CheckFailures(None, ())
        blocked = set(found.failed) | set(found.not_executed)
        done = statuses.get(asset, {}).get("MATERIALIZED", set()) - blocked
        if keys - done:
            bad[asset] = keys - done
        for key in keys:
            season = season_for_date(key)
            row = seasons.setdefault(season.label if season else "off-season",
                                     SeasonRow(season.label if season else "off-season"))
            row.targeted += 1
            row.materialized += key in done
            row.blocked += key in blocked
    report.seasons = [seasons[s] for s in sorted(seasons)]

    for run in data["runs"]:
        report.runs[run["status"]] += 1
    report.run_failures = [
        run_report(client, run, all_keys)
        for run in data["runs"] if run["status"] in {"FAILURE", "CANCELED"}
    ]
    deps = {}
    if bad:
        deps = {n.key: set(n.deps) for n in fetch_asset_nodes(client) if n.key in targeted}
    report.failures = partition_failures(
        client, targeted, bad, statuses, checks, report.run_failures, deps, report.finished
    )
    report.not_executed = not_executed(targeted, checks)
    for run in report.run_failures:
        covered = set(run.assets) or {a for a in targeted}
        run.recovered = not any(p in bad.get(a, ()) for a in covered for p in run.partitions)
    report.run_failures.sort(key=lambda r: (not r.crashed, r.status != "CANCELED", r.created))
    return report
