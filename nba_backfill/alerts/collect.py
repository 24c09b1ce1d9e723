"""Read failures out of Dagster's event log: failed steps, failed checks, failed runs.

A `Failure` is one asset partition that failed, with its category (from `classify`), the first
line of what went wrong and the run it happened in. Sources, per run:
- `ASSET_FAILED_TO_MATERIALIZE` (reason FAILED_TO_MATERIALIZE) with the error of its step;
  partitions skipped because an upstream step failed are not failures of their own;
- `STEP_FAILURE` of a step that logged no per-asset failure → one failure per asset and partition
  of the run;
- `ASSET_CHECK_EVALUATION` with passed=False, per partition (the summary result that
  `checks.results.emit_check` adds to a ranged run is skipped: its partitions are already there).
  A failed `partition_ok` (the table core's verdict) is kind "blocked" unless its outcome is
  "failed": a blocked partition was held back by a failure upstream and is counted under that
  failure's category. Its `refetch` (lake partitions to re-scrape) is kept, and a step failure of
  the same asset partition in the same run takes its category and cause (the verdict is the
  partition's own account; the step error lists every partition of the range);
- `RUN_FAILURE` with no step-level failure (run worker crash, bad config) → kind "run".
Only the latest evaluation per (asset, check, partition) within the given runs counts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRun, PartitionKeyRange
from nba_backfill.compat import AssetMaterializationFailureReason, ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG, SerializableErrorInfo

from nba_backfill.alerts.classify import PARTITION_OK, Category, cause_key, classify, first_line
from nba_backfill.ops.state import parse_refetch
from nba_backfill.partitions import DAILY_PARTITIONS

FAILURE_EVENT_TYPES = {
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_FAILED_TO_MATERIALIZE,
    DagsterEventType.ASSET_CHECK_EVALUATION,
    DagsterEventType.RUN_FAILURE,
}
PAGE = 1000
CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"  # a step failed by a blocking check's result


@dataclass(frozen=True)
class Failure:
    asset: str  # "nba_raw/nbac_schedule"
    partition: str | None
    category: Category
    kind: str  # "step" | "check" | "blocked" | "run"
    first_line: str
    cause: str
    run_id: str
    check: str = ""
    blocking: bool = True
    refetch: tuple[tuple[str, str], ...] = ()  # lake (asset, partition) to re-scrape to recover

    @property
    def label(self) -> str:
        return f"{self.asset} [{self.partition}]" if self.partition else self.asset


def error_chain(error: SerializableErrorInfo | None) -> list[SerializableErrorInfo]:
    chain: list[SerializableErrorInfo] = []
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.cause or error.context
    return chain


def describe_error(error: SerializableErrorInfo | None) -> tuple[str, list[str], str]:
    """(first line of the user's exception, class names in the chain, all messages)."""
    chain = error_chain(error)
    if not chain:
        return "", [], ""
    user = next((e for e in chain if not (e.cls_name or "").startswith("Dagster")), chain[-1])
    types = [e.cls_name or "" for e in chain]
    text = "\n".join(e.message or "" for e in chain)
    line = first_line(user.message or "")
    if user.cls_name and not line.startswith(user.cls_name):
        line = f"{user.cls_name}: {line}"
    return line, types, text


def run_partitions(run: DagsterRun) -> list[str | None]:
    """Partition keys a run covered: its single partition, its range, or [None]."""
    tags = run.tags
    if PARTITION_NAME_TAG in tags:
        return [tags[PARTITION_NAME_TAG]]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end:
        try:
            return list(DAILY_PARTITIONS.get_partition_keys_in_range(PartitionKeyRange(start, end)))
        except Exception:  # a range of another partitions definition: report its ends
            return [start] if start == end else [f"{start}...{end}"]
    return [None]


def run_partition_label(run: DagsterRun) -> str:
    tags = run.tags
    if PARTITION_NAME_TAG in tags:
        return tags[PARTITION_NAME_TAG]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end:
        return start if start == end else f"{start}...{end}"
    return "(unpartitioned)"


def _metadata_text(metadata, key: str) -> str | None:
    value = metadata.get(key)
    if value is None:
        return None
    return str(getattr(value, "value", value))


def check_failure(entry, run_partition: str | None) -> Failure | None:
    """A Failure for a failed check evaluation event, None if it passed or is a range summary."""
    evaluation = entry.dagster_event.asset_check_evaluation_data
    if evaluation.passed:
        return None
    if evaluation.partition is None and "partitions_checked" in evaluation.metadata:
        return None  # emit_check's ranged summary: its partitions are logged one by one
    meta = evaluation.metadata
    message = evaluation.description or _metadata_text(meta, "message") or ""
    partition = evaluation.partition or _metadata_text(meta, "partition") or run_partition
    name = evaluation.check_name
    cause_kind = (_metadata_text(meta, "cause_kind") or "") if name == PARTITION_OK else ""
    text = (_metadata_text(meta, "cause") or message) if name == PARTITION_OK else message
    category = classify(check_name=name, text=text, cause_kind=cause_kind)
    blocked = name == PARTITION_OK and _metadata_text(meta, "outcome") != "failed"
    return Failure(
        asset=evaluation.asset_key.to_user_string(),
        partition=partition,
        category=category,
        kind="blocked" if blocked else "check",
        first_line=first_line(text) or f"check {name} failed",
        cause=cause_key(category, check_name=name, text=text, cause_kind=cause_kind),
        run_id=entry.run_id,
        check=name,
        blocking=bool(evaluation.blocking),
        refetch=tuple(parse_refetch(_metadata_text(meta, "refetch"))),
    )


def _error_failure(asset: str, partition, error, run_id: str, kind: str) -> Failure:
    line, types, text = describe_error(error)
    category = classify(error_types=types, text=text)
    return Failure(
        asset=asset,
        partition=partition,
        category=category,
        kind=kind,
        first_line=line or "run failed",
        cause=cause_key(category, text=text),
        run_id=run_id,
    )


def _entries(instance: DagsterInstance, run_id: str) -> Iterator:
    cursor = None
    while True:
        connection = instance.get_records_for_run(
            run_id, cursor=cursor, of_type=FAILURE_EVENT_TYPES, limit=PAGE
        )
        for record in connection.records:
            yield record.event_log_entry
        if not connection.has_more:
            return
        cursor = connection.cursor


def _assets_by_step(instance: DagsterInstance, run: DagsterRun) -> dict[str | None, list[AssetKey]]:
    """Step key -> asset keys it planned to materialize (from the run's planned events)."""
    by_step: dict[str | None, set[AssetKey]] = {}
    cursor = None
    while True:
        connection = instance.get_records_for_run(
            run.run_id,
            cursor=cursor,
            of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
            limit=PAGE,
        )
        for record in connection.records:
            entry = record.event_log_entry
            by_step.setdefault(entry.step_key, set()).add(entry.dagster_event.asset_key)
        if not connection.has_more:
            break
        cursor = connection.cursor
    ordered = {k: sorted(v, key=lambda a: a.to_user_string()) for k, v in by_step.items()}
    ordered[None] = sorted(
        set(run.asset_selection or ()) | {a for v in by_step.values() for a in v},
        key=lambda a: a.to_user_string(),
    )
    return ordered


RunOutcomes = tuple[list[Failure], dict[tuple[str, str, str | None], Failure | None]]
_FINISHED_RUN_CACHE: OrderedDict[str, RunOutcomes] = OrderedDict()
CACHED_RUNS = 512  # a run finished a while ago does not change: ticks re-read only new runs


def _run_outcomes(instance: DagsterInstance, run: DagsterRun, cache: bool = False) -> RunOutcomes:
    if not cache:
        return _read_run_outcomes(instance, run)
    if run.run_id not in _FINISHED_RUN_CACHE:
        _FINISHED_RUN_CACHE[run.run_id] = _read_run_outcomes(instance, run)
        while len(_FINISHED_RUN_CACHE) > CACHED_RUNS:
            _FINISHED_RUN_CACHE.popitem(last=False)
    _FINISHED_RUN_CACHE.move_to_end(run.run_id)
    return _FINISHED_RUN_CACHE[run.run_id]


def _read_run_outcomes(instance: DagsterInstance, run: DagsterRun) -> RunOutcomes:
    """(step/run failures, latest check outcome per (asset, check, partition): Failure or None)."""
    partitions = run_partitions(run)
    single = partitions[0] if len(partitions) == 1 else None
    step_errors: dict[str | None, SerializableErrorInfo | None] = {}
    steps_with_asset_failures: set[str | None] = set()
    failures: list[Failure] = []
    checks: dict[tuple[str, str, str | None], Failure | None] = {}
    run_error = None
    for entry in _entries(instance, run.run_id):
        event = entry.dagster_event
        if event.event_type == DagsterEventType.STEP_FAILURE:
            step_errors[entry.step_key] = event.step_failure_data.error
        elif event.event_type == DagsterEventType.ASSET_FAILED_TO_MATERIALIZE:
            data = event.asset_failed_to_materialize_data
            failure = data.asset_materialization_failure
            if failure.reason != AssetMaterializationFailureReason.FAILED_TO_MATERIALIZE:
                continue
            steps_with_asset_failures.add(entry.step_key)
            error = data.error or step_errors.get(entry.step_key)
            failures.append(
                _error_failure(
                    failure.asset_key.to_user_string(), failure.partition, error, run.run_id, "step"
                )
            )
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            found = check_failure(entry, single)
            if found is None and evaluation.partition is None and "partitions_checked" in evaluation.metadata:
                continue  # ranged summary
            partition = found.partition if found else (
                evaluation.partition or _metadata_text(evaluation.metadata, "partition") or single
            )
            checks[(evaluation.asset_key.to_user_string(), evaluation.check_name, partition)] = found
        elif event.event_type == DagsterEventType.RUN_FAILURE:
            run_error = event
    unexplained = {k: e for k, e in step_errors.items() if k not in steps_with_asset_failures}
    assets_by_step = (
        _assets_by_step(instance, run) if unexplained or (run_error and not step_errors) else {}
    )
    for step_key, error in unexplained.items():
        for key in assets_by_step.get(step_key) or assets_by_step.get(None, []):
            for partition in partitions:
                failures.append(
                    _error_failure(key.to_user_string(), partition, error, run.run_id, "step")
                )
    if run_error is not None and not step_errors:
        error = getattr(run_error.event_specific_data, "error", None)
        error = error or SerializableErrorInfo(run_error.message or "run failed", [], None)
        assets = [k.to_user_string() for k in assets_by_step.get(None, [])] or [run.job_name]
        for asset in assets:
            for partition in partitions:
                failures.append(_error_failure(asset, partition, error, run.run_id, "run"))
    verdicts = {(a, p): f for (a, c, p), f in checks.items() if c == PARTITION_OK and f is not None}
    return [_explained(f, verdicts.get((f.asset, f.partition))) for f in failures], checks


def _explained(failure: Failure, verdict: Failure | None) -> Failure:
    """A step failure of a partition whose `partition_ok` failed: the verdict's category, cause
    and kind (blocked partitions are consequences, not root failures). A step that failed only
    because the check failed with ERROR severity keeps its error (alerts fold it)."""
    if verdict is None or failure.kind != "step" or failure.first_line.startswith(CHECK_FAILED_ERROR):
        return failure
    return replace(
        failure, category=verdict.category, cause=verdict.cause, first_line=verdict.first_line,
        kind="blocked" if verdict.kind == "blocked" else "step", refetch=verdict.refetch,
    )


def run_failures(instance: DagsterInstance, run: DagsterRun) -> list[Failure]:
    """Every failure recorded in one run's event log (latest check result per partition)."""
    failures, checks = _run_outcomes(instance, run)
    return [*failures, *(f for f in checks.values() if f is not None)]


def failures_of_runs(
    instance: DagsterInstance, runs: Sequence[DagsterRun], settled: frozenset[str] = frozenset()
) -> list[Failure]:
    """Failures of several runs, oldest run first: a later result for the same asset partition
    (failed step, or check outcome pass/fail) replaces an earlier one. Runs in `settled` (ended
    a while ago) are read once per process and cached."""
    steps: dict[tuple[str, str | None], Failure] = {}
    checks: dict[tuple[str, str, str | None], Failure | None] = {}
    for run in runs:
        run_steps, run_checks = _run_outcomes(instance, run, cache=run.run_id in settled)
        for failure in run_steps:
            steps[(failure.asset, failure.partition)] = failure
        checks.update(run_checks)
    return list(steps.values()) + [f for f in checks.values() if f is not None]
