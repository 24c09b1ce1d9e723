"""What happened to one partition of a table step: ok, blocked (typed reasons) or failed (cause).

Every table step ends each partition of its range in exactly one of three outcomes:
- **ok**: its rows were computed and passed every blocking check; they are written and the
  partition is recorded as materialized;
- **blocked**: something it reads is not there or not trustworthy — an upstream date failed a
  blocking check (`upstream_check_failed`), a same-date input partition holds nothing
  (`upstream_missing`: never materialized, e.g. it failed in an earlier backfill) or a lookback
  window is incomplete (`lookback_incomplete`); nothing is computed into the table for it;
- **failed**: its own data is bad — a landed lake object is malformed or missing
  (`landed_object_malformed` / `landed_object_missing`: re-scraping the named lake partitions
  recovers it), the computation raised for that date (`compute_error`), or its rows failed a
  blocking check (`checks_failed`).
Blocked and failed partitions write no rows, are not recorded as materialized, and are marked
failed in Dagster (see `events.mark_failed`); the check `partition_ok` carries the outcome, its
cause kind, its text and, for landed data, the lake partitions to re-scrape (`refetch`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from nba_backfill.checks.results import Outcome


class CauseKind(str, Enum):
    UPSTREAM_CHECK_FAILED = "upstream_check_failed"
    UPSTREAM_MISSING = "upstream_missing"
    LOOKBACK_INCOMPLETE = "lookback_incomplete"
    CHECKS_FAILED = "checks_failed"
    LANDED_OBJECT_MALFORMED = "landed_object_malformed"
    LANDED_OBJECT_MISSING = "landed_object_missing"
    COMPUTE_ERROR = "compute_error"

    @property
    def blocks(self) -> bool:
        """True for the kinds that make a partition *blocked* rather than *failed*."""
        return self in (CauseKind.UPSTREAM_CHECK_FAILED, CauseKind.UPSTREAM_MISSING, CauseKind.LOOKBACK_INCOMPLETE)


@dataclass(frozen=True)
class Cause:
    """Why a partition is not ok: a kind, one line naming asset/date/object/check, and the lake
    partitions (`nba_lake/<name>:<date>`) whose re-scrape would fix it."""

    kind: CauseKind
    text: str
    refetch: tuple[str, ...] = ()


OK, BLOCKED, FAILED = "ok", "blocked", "failed"


@dataclass(frozen=True)
class PartitionOutcome:
    key: str
    status: str
    causes: tuple[Cause, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def refetch(self) -> list[str]:
        return sorted({r for c in self.causes for r in c.refetch})

    def summary(self) -> str:
        return "; ".join(c.text for c in self.causes)

    def check_outcome(self) -> Outcome:
        """This partition's result of the core's blocking check `partition_ok`."""
        extra = {"outcome": self.status}
        if self.causes:
            extra["cause_kind"] = self.causes[0].kind.value
            extra["cause"] = self.causes[0].text
            if len(self.causes) > 1:
                extra["causes_more"] = len(self.causes) - 1
        if self.refetch:
            extra["refetch"] = ", ".join(self.refetch)
        return Outcome(
            passed=self.ok,
            counts={"causes": len(self.causes)},
            offending=[c.text for c in self.causes],
            message=f"{self.status}: {self.summary()}" if self.causes else "",
            extra=extra,
        )


def resolve(
    keys: Iterable[str],
    blocked: Mapping[str, list[Cause]],
    failed: Mapping[str, Cause],
    checks: Mapping[str, Mapping[str, Outcome]],
    blocking: set[str],
    lookback_checks: set[str] = frozenset(),
    landed_checks: set[str] = frozenset(),
    refetch: Callable[[str], tuple[str, ...]] | None = None,
) -> dict[str, PartitionOutcome]:
    """The outcome of every key: the guard's block first, then the layer's own failure, then the
    blocking checks (a failed lookback check blocks, a failed landed-data check is a missing
    landed object, any other failed blocking check fails). `refetch(key)` names the lake
    partitions whose re-scrape can fix a date that failed on its own data."""
    out: dict[str, PartitionOutcome] = {}
    for key in keys:
        if key in blocked:
            out[key] = PartitionOutcome(key, BLOCKED, tuple(blocked[key]))
            continue
        if key in failed:
            cause = failed[key]
            if refetch is not None and not cause.refetch and cause.kind is not CauseKind.COMPUTE_ERROR:
                cause = Cause(cause.kind, cause.text, refetch(key))
            out[key] = PartitionOutcome(key, FAILED, (cause,))
            continue
        causes = []
        for name in sorted(blocking):
            outcome = checks.get(name, {}).get(key)
            if outcome is None or outcome.passed:
                continue
            if name in lookback_checks:
                kind = CauseKind.LOOKBACK_INCOMPLETE
            elif name in landed_checks:
                kind = CauseKind.LANDED_OBJECT_MISSING
            else:
                kind = CauseKind.CHECKS_FAILED
            again = refetch(key) if refetch is not None and not kind.blocks else ()
            causes.append(Cause(kind, f"check {name}: {outcome.message or 'failed'}", again))
        if not causes:
            out[key] = PartitionOutcome(key, OK)
        else:
            status = BLOCKED if all(c.kind.blocks for c in causes) else FAILED
            causes.sort(key=lambda c: c.kind.blocks)  # the partition's own failure names it first
            out[key] = PartitionOutcome(key, status, tuple(causes))
    return out


def not_evaluated(outcome: PartitionOutcome) -> Outcome:
    """A check's result for a partition that was not computed (blocked, or failed before checks)."""
    return Outcome(False, {"rows": 0}, [], f"not evaluated, partition {outcome.status}: {outcome.summary()[:300]}")


def failure_report(table: str, outcomes: Mapping[str, PartitionOutcome]) -> str:
    """The step's failure text: every non-ok partition, grouped by cause kind, none left out."""
    bad = [o for o in outcomes.values() if not o.ok]
    groups: dict[str, list[PartitionOutcome]] = {}
    for o in bad:
        groups.setdefault(f"{o.status} ({o.causes[0].kind.value})", []).append(o)
    lines = [f"{table}: {len(bad)} of {len(outcomes)} partitions not written "
             f"({len(outcomes) - len(bad)} ok partitions were written and materialized)"]
    for label, items in sorted(groups.items()):
        lines.append(f"{label}: {len(items)} partition(s)")
        lines.extend(f"  {o.key}: {o.summary()}" for o in items)
    refetch = sorted({r for o in bad for r in o.refetch})
    if refetch:
        lines.append(f"re-scrape to recover: {', '.join(refetch)}")
    return "\n".join(lines)
