"""Per-partition asset check results, and the registry of blocking checks.

Dagster stores one check result per step; in a ranged (single-run) materialization that would be
one result for the whole range. We log one `AssetCheckEvaluation` per partition key (stored with
its partition, visible per partition in the UI and queryable by the cross-run guard) and then
return one summary `AssetCheckResult` for the step:
- a single-partition run: the summary is that partition's result (ERROR severity blocks
  downstream steps of the same run);
- a ranged run where only some partitions failed: the summary fails with WARN severity so the
  whole range is not blocked in this run; the failed partitions are blocked individually by
  `nba_backfill.guards` in every downstream step (same run or any later run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
)

from nba_backfill.compat import AssetCheckEvaluationTargetMaterializationData, AssetRecordsFilter

from nba_backfill.partitions import partitions_for

SAMPLE_SIZE = 10

PARTITION_OK = "partition_ok"
"""The table-asset core's blocking check: the partition holds rows that passed (outcome ok), or it
was blocked/failed, with the cause (`nba_backfill.assets.core.outcome`)."""

UP_TO_DATE = "up_to_date"
"""Every table's staleness check (WARN): the partition was computed from the current content of
everything it reads, transitively (`nba_backfill.staleness`)."""

_BLOCKING: dict[AssetKey, set[str]] = {}
_UP_TO_DATE: set[AssetKey] = set()


def register_up_to_date(asset_key: AssetKey) -> AssetCheckSpec:
    """The `up_to_date` check spec of a table, recorded so readers know to consult it."""
    _UP_TO_DATE.add(asset_key)
    return check_spec(asset_key, UP_TO_DATE, UP_TO_DATE_DESCRIPTION, blocking=False)


def assets_with_up_to_date() -> set[AssetKey]:
    return set(_UP_TO_DATE)


UP_TO_DATE_DESCRIPTION = (
    "Fresh: the partition was computed from the current content of every partition it reads, "
    "through every lookback window, transitively. Fails (a warning, not a block) when something "
    "it read changed since — the metadata names the changed asset, date and rows — and passes "
    "again once the partition is re-materialized (`refresh_stale` job or `nba-backfill stale "
    "--launch`). An identical re-run of an upstream changes nothing and marks nothing stale."
)


def register_blocking(spec: AssetCheckSpec) -> AssetCheckSpec:
    """Record a blocking check spec so the guard knows which upstream results gate downstream."""
    if spec.blocking:
        _BLOCKING.setdefault(spec.asset_key, set()).add(spec.name)
    return spec


def blocking_check_names(asset_key: AssetKey) -> set[str]:
    return set(_BLOCKING.get(asset_key, ()))


def check_spec(
    asset_key: AssetKey, name: str, description: str, *, blocking: bool
) -> AssetCheckSpec:
    """A partitioned check spec on a daily asset, registered when blocking."""
    return register_blocking(
        AssetCheckSpec(
            name,
            asset=asset_key,
            description=description,
            blocking=blocking,
            partitions_def=partitions_for(asset_key),
        )
    )


@dataclass(frozen=True)
class CheckDef:
    """A per-partition check of a table (blocking = ERROR and gates the partition's write)."""

    name: str
    description: str
    blocking: bool = False


@dataclass
class Outcome:
    """One check's result for one partition: pass/fail, counts and a sample of offending keys."""

    passed: bool
    counts: dict[str, int | float] = field(default_factory=dict)
    offending: list[str] = field(default_factory=list)
    message: str = ""
    extra: dict[str, str | int | float] = field(default_factory=dict)
    """Further metadata of this partition's result (e.g. `partition_ok`'s outcome and cause)."""

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {**self.counts, **self.extra}
        meta["offending_count"] = len(self.offending)
        if self.offending:
            meta["offending_sample"] = ", ".join(map(str, self.offending[:SAMPLE_SIZE]))
        if self.message:
            meta["message"] = self.message
        return meta


def latest_materializations(
    context: AssetExecutionContext, asset_key: AssetKey, keys: list[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Partition -> its latest materialization (the one this step has just stored).

    Dagster counts a partition's check result as current only when it points at the partition's
    latest materialization; without the pointer the UI shows no per-partition check status and
    `AutomationCondition.check_passed()/check_failed()` never see the result. Call `emit_check`
    after the asset's Output has been yielded (the factories do).
    """
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, asset_partitions=keys), limit=len(keys)
    ).records
    targets: dict[str, AssetCheckEvaluationTargetMaterializationData] = {}
    for record in records:  # newest first
        if record.partition_key and record.partition_key not in targets:
            targets[record.partition_key] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id,
                run_id=record.event_log_entry.run_id,
                timestamp=record.timestamp,
            )
    return targets


def emit_check(
    context: AssetExecutionContext,
    asset_key: AssetKey,
    check_name: str,
    outcomes: Mapping[str, Outcome],
    *,
    blocking: bool,
) -> AssetCheckResult:
    """Log one evaluation per partition and return the step's summary AssetCheckResult."""
    severity = AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN
    if len(outcomes) == 1 and not context.has_partition_key_range:
        # single-partition run: Dagster files the step result under the run's partition. (A
        # ranged run of one date is not one: its step result would be stored without a partition.)
        ((key, outcome),) = outcomes.items()
        return AssetCheckResult(
            asset_key=asset_key,
            check_name=check_name,
            passed=outcome.passed,
            severity=severity,
            description=outcome.message or None,
            metadata={"partition": key, **outcome.metadata()},
        )
    targets = latest_materializations(context, asset_key, list(outcomes))
    for key, outcome in outcomes.items():
        context.log_event(
            AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=check_name,
                passed=outcome.passed,
                metadata=outcome.metadata(),
                severity=severity,
                description=outcome.message or None,
                blocking=blocking,
                partition=key,
                target_materialization_data=targets.get(key),
            )
        )
    failed = sorted(k for k, o in outcomes.items() if not o.passed)
    passed_any = len(failed) < len(outcomes)
    summary_severity = severity
    if failed and passed_any:
        summary_severity = AssetCheckSeverity.WARN
    first = outcomes[failed[0]] if failed else None
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not failed,
        severity=summary_severity,
        description=(
            f"{len(failed)}/{len(outcomes)} partitions failed: {', '.join(failed[:SAMPLE_SIZE])}"
            f" — first: {first.message}"
            if first
            else f"{len(outcomes)} partitions passed"
        ),
        metadata={
            "partitions_checked": len(outcomes),
            "partitions_failed": len(failed),
            "failed_partitions_sample": ", ".join(failed[:SAMPLE_SIZE]),
        },
    )
