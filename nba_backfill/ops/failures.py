"""Why an asset partition of a backfill is not done, and what went wrong in its runs.

Every targeted asset partition that is not done (materialized with passing blocking checks) gets
one cause, the most specific found, in this order:
1. it is being materialized now;
2. the table core's `partition_ok` result: outcome (failed | blocked), cause kind, cause, and the
   lake partitions whose re-scrape recovers it (`refetch`);
3. a failed blocking check, with its message;
4. the innermost error of the step that failed for it (the latest run covering it wins), or the
   crash or cancellation of that run;
5. it never ran: naming an upstream asset whose partition of the same date is not done; else
   checks that did not execute, else "never ran" / "not run yet".
Errors are GraphQL `PythonError`s, walked down their cause/context chain to the innermost one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from nba_backfill.ops import queries
from nba_backfill.ops.graphql import DagsterGraphQL
from nba_backfill.ops.state import (
    PARTITION_OK,
    CheckFailures,
    expand,
    fetch_check_messages,
    fetch_verdicts,
    key_str,
)

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
EVENTS_PAGE = 5000  # run events per GraphQL page


@dataclass(frozen=True)
class RootError:
    """The innermost error of a chain, and the errors wrapped around it (outermost first: class
    names, plus the first line of the outermost one raised by our code, which names the asset
    and partition)."""

    cls: str
    lines: tuple[str, ...]
    wrappers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        first = self.lines[0] if self.lines else ""
        return f"{self.cls}: {first}" if self.cls else first


def _message_lines(error: dict) -> tuple[str, ...]:
    cls, message = error.get("className") or "", error.get("message") or ""
    head, sep, rest = message.partition(": ")
    if sep and cls and head.rsplit(".", 1)[-1] == cls:  # "module.Class: text" -> "text"
        message = rest
    return tuple(l.rstrip() for l in message.strip().splitlines() if l.strip())


def root_error(error: dict | None, fallback: str = "") -> RootError:
    """Walk a GraphQL `PythonError` down its cause/context chain to the innermost error."""
    if not error:
        return RootError("", tuple(l for l in fallback.strip().splitlines() if l.strip()) or ("failed",))
    chain = [error, *(link["error"] for link in error.get("errorChain") or [])]
    wrappers, described = [], False
    for outer in chain[:-1]:
        cls = outer.get("className") or "?"
        if not described and not cls.startswith("Dagster") and _message_lines(outer):
            described = True  # our own exception: its first line says where
            wrappers.append(f"{cls}: {_message_lines(outer)[0]}")
        else:
            wrappers.append(cls)
    inner = chain[-1]
    return RootError(inner.get("className") or "", _message_lines(inner) or ("(no message)",),
                     tuple(wrappers))


@dataclass(frozen=True)
class StepError:
    step: str
    error: RootError


@dataclass
class RunReport:
    """A failed or canceled run of the backfill and what went wrong in it."""

    run_id: str
    status: str
    created: float
    where: str
    partitions: list[str]
    assets: list[str]
    steps: list[StepError] = field(default_factory=list)
    run_error: RootError | None = None
    recovered: bool = False  # every asset partition it covered ended done

    @property
    def crashed(self) -> bool:
        """A run that failed without a step failure: its worker died or it never got going."""
        return self.status == "FAILURE" and not self.steps


@dataclass(frozen=True)
class Failure:
    """A targeted asset partition that did not end done, and its one cause."""

    asset: str
    partition: str
    outcome: str  # "failed" | "blocked" | "not run" | "running"
    cause_kind: str
    cause: str
    refetch: tuple[tuple[str, str], ...] = ()  # (lake asset, partition) to re-scrape

    @property
    def reason(self) -> str:
        return f"{self.cause_kind}: {self.cause}"


@dataclass(frozen=True)
class NotExecuted:
    """Blocking checks of one step that never ran on some partitions (the step failed first)."""

    step: str
    checks: tuple[str, ...]
    partitions: tuple[str, ...]


def run_report(client: DagsterGraphQL, run: dict, all_keys: list[str]) -> RunReport:
    """A failed or canceled run of the backfill: its partitions, assets and step/run errors."""
    tags = {t["key"]: t["value"] for t in run["tags"]}
    if PARTITION_TAG in tags:
        where, partitions = tags[PARTITION_TAG], [tags[PARTITION_TAG]]
    elif RANGE_START_TAG in tags:
        start, end = tags[RANGE_START_TAG], tags.get(RANGE_END_TAG, tags[RANGE_START_TAG])
        where, partitions = f"{start}...{end}", sorted(expand([(start, end)], all_keys))
    else:
        where, partitions = "?", []
    report = RunReport(
        run_id=run["id"], status=run["status"], created=run.get("creationTime") or 0.0,
        where=where, partitions=partitions,
        assets=[key_str(k) for k in run.get("assetSelection") or []],
    )
    cursor = None
    while True:  # every page: a long ranged run logs far more events than one page holds
        logs = client.execute(
            queries.RUN_FAILURES, {"runId": run["id"], "afterCursor": cursor, "limit": EVENTS_PAGE}
        )["logsForRun"]
        if logs["__typename"] != "EventConnection":
            report.run_error = RootError("", (logs.get("message", logs["__typename"]),))
            return report
        for event in logs["events"]:
            if event["__typename"] == "ExecutionStepFailureEvent":
                report.steps.append(StepError(event["stepKey"], root_error(event.get("error"))))
            elif event["__typename"] == "RunFailureEvent":
                report.run_error = root_error(event.get("error"), event.get("message") or "run failed")
        if not logs["hasMore"]:
            return report
        cursor = logs["cursor"]


def _not_run_cause(asset, key, bad, deps, finished) -> tuple[str, str, str]:
    upstream = sorted(d for d in deps.get(asset, ()) if key in bad.get(d, ()))
    if upstream:
        return "not run", "upstream_not_done", f"never ran: upstream {', '.join(upstream)} did not end done"
    if finished:
        return "not run", "not_run", "never ran: the backfill ended without materializing it"
    return "not run", "pending", "not run yet"


def _run_cause(run: RunReport, step: StepError | None) -> tuple[str, str, str]:
    if step is not None:
        return "failed", "step_failed", f"step {step.step}: {step.error.text}"
    if run.status == "CANCELED":
        return "not run", "run_canceled", f"run {run.run_id[:8]} was canceled"
    error = run.run_error.text if run.run_error else "no error recorded"
    return "failed", "run_crashed", f"run {run.run_id[:8]} crashed: {error}"


RunCauses = dict[tuple[str, str], tuple[RunReport, "StepError | None"]]


def _runs_by_partition(runs: list[RunReport], targeted, checks: Mapping[str, CheckFailures]) -> RunCauses:
    """(asset, partition) -> the latest failed run covering it, with its failed step (None for a
    run that crashed or was canceled)."""
    assets_of_op: dict[str, list[str]] = defaultdict(list)
    for asset in targeted:
        found = checks.get(asset)
        assets_of_op[found.op if found and found.op else asset.replace("/", "__")].append(asset)
    by_run: RunCauses = {}
    for run in sorted(runs, key=lambda r: r.created):  # a later run's outcome replaces an earlier
        for step in run.steps:
            for asset in assets_of_op.get(step.step, []):
                by_run.update({(asset, p): (run, step) for p in run.partitions})
        if not run.steps:
            by_run.update({(a, p): (run, None) for a in run.assets for p in run.partitions})
    return by_run


def partition_failures(
    client: DagsterGraphQL,
    targeted: Mapping[str, set[str]],
    bad: Mapping[str, set[str]],
    statuses: Mapping[str, Mapping[str, set[str]]],
    checks: Mapping[str, CheckFailures],
    runs: list[RunReport],
    deps: Mapping[str, set[str]],
    finished: bool,
) -> list[Failure]:
    """One Failure per targeted asset partition that is not done (`bad`), with the first cause
    found in the order of the module docstring."""
    by_run = _runs_by_partition(runs, targeted, checks)
    out: list[Failure] = []
    for asset in sorted(bad):
        keys = sorted(bad[asset])
        found = checks.get(asset) or CheckFailures(None, ())
        verdicts = fetch_verdicts(client, asset, keys) if PARTITION_OK in found.checks else {}
        verdicts = {k: v for k, v in verdicts.items() if v.outcome in ("failed", "blocked")}
        messages: dict[str, dict[str, str]] = {}
        for name in sorted({n for k in keys if k not in verdicts for n in found.failed.get(k, [])}):
            wanted = [k for k in keys if k not in verdicts and name in found.failed.get(k, [])]
            messages[name] = fetch_check_messages(client, asset, name, wanted)
        materializing = statuses.get(asset, {}).get("MATERIALIZING", set())
        for key in keys:
            refetch: tuple[tuple[str, str], ...] = ()
            if key in materializing:
                outcome, kind, cause = "running", "in_progress", "being materialized now"
            elif key in verdicts:
                v = verdicts[key]
                outcome, kind, cause, refetch = v.outcome, v.cause_kind or "unknown", v.cause, v.refetch
            elif key in found.failed:
                outcome, kind = "failed", "checks_failed"
                cause = "; ".join(
                    f"check {n}: {messages.get(n, {}).get(key) or 'failed'}" for n in found.failed[key]
                )
            elif (asset, key) in by_run:
                outcome, kind, cause = _run_cause(*by_run[(asset, key)])
            else:
                outcome, kind, cause = _not_run_cause(asset, key, bad, deps, finished)
                if kind != "upstream_not_done" and key in found.not_executed:
                    outcome, kind = "failed", "checks_not_executed"
                    cause = f"blocking checks {', '.join(found.not_executed[key])} did not execute"
            out.append(Failure(asset, key, outcome, kind, cause, refetch))
    return out


def not_executed(
    targeted: Mapping[str, set[str]], checks: Mapping[str, CheckFailures]
) -> list[NotExecuted]:
    """`check X execution_failed` results, one entry per step instead of one per check."""
    by_step: dict[str, tuple[set[str], set[str]]] = {}
    for asset, keys in targeted.items():
        found = checks.get(asset)
        if not found:
            continue
        for key, names in found.not_executed.items():
            if key in keys:
                names_seen, keys_seen = by_step.setdefault(found.op or asset, (set(), set()))
                names_seen.update(names)
                keys_seen.add(key)
    return [
        NotExecuted(step, tuple(sorted(names)), tuple(sorted(keys)))
        for step, (names, keys) in sorted(by_step.items())
    ]
