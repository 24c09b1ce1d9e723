"""Turn failures read from the event log into `Alert` messages."""

from __future__ import annotations

from collections import Counter

from dagster import DagsterInstance, DagsterRun
from nba_backfill.compat import PartitionBackfill

from nba_backfill.alerts.collect import Failure, run_failures, run_partition_label
from nba_backfill.alerts.digest import BackfillSnapshot, failure_rate
from nba_backfill.alerts.messages import Alert
from nba_backfill.alerts.notifiers import AlertSettings

SAMPLE = 5
# A step that failed only because a blocking check failed: the check sensor reports that check.
BLOCKING_CHECK_ERROR = "DagsterAssetCheckFailedError"


def _join(values: list[str], limit: int = SAMPLE) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


def run_failure_alert(
    instance: DagsterInstance, run: DagsterRun, settings: AlertSettings
) -> Alert | None:
    """One alert for a failed run: failed assets, partition(s), first error line, run link.

    None when the run failed only because a blocking check failed (the check alert covers it),
    or only because its dates were blocked by an upstream failure (alerted where it happened).
    """
    failures = run_failures(instance, run)
    errors = [f for f in failures if f.kind in ("step", "run")]
    if errors and all(f.first_line.startswith(BLOCKING_CHECK_ERROR) for f in errors):
        return None
    if failures and not errors and all(f.kind == "blocked" for f in failures):
        return None
    shown: list[Failure] = errors or failures
    first = shown[0] if shown else None
    assets = sorted({f.asset for f in shown}) or sorted(
        k.to_user_string() for k in (run.asset_selection or ())
    )
    partitions = sorted({f.partition for f in shown if f.partition})
    details = [] if run.job_name.startswith("__") else [f"Job: {run.job_name}"]
    if len(shown) > 1:
        details.append(f"{len(shown)} failed asset partitions: {_join([f.label for f in shown])}")
    return Alert(
        kind="run_failure",
        key=f"run_failure_{run.run_id}",
        title=f"Run failed: {_join(assets, 2) or run.job_name} [{run_partition_label(run)}]",
        asset=_join(assets) or run.job_name,
        partition=_join(partitions) or run_partition_label(run),
        first_line=first.first_line if first else "run failed (no error recorded)",
        url=settings.run_url(run.run_id),
        category=first.category.value if first else "",
        run_id=run.run_id,
        details=tuple(details),
    )


def check_failure_alert(failure: Failure, settings: AlertSettings) -> Alert:
    return Alert(
        kind="check_failure",
        key=f"check_failure_{failure.run_id}_{failure.asset}_{failure.check}_{failure.partition}",
        title=f"Blocking check failed: {failure.asset} {failure.check} [{failure.partition}]",
        asset=failure.asset,
        partition=failure.partition or "(unpartitioned)",
        first_line=failure.first_line,
        url=settings.run_url(failure.run_id),
        category=failure.category.value,
        check=failure.check,
        run_id=failure.run_id,
    )


def failure_rate_alert(
    backfill: PartitionBackfill, snap: BackfillSnapshot, settings: AlertSettings
) -> Alert | None:
    """The one early alert of a running backfill, when its failure rate exceeds the threshold."""
    rate, failed, processed = failure_rate(snap)
    if processed < settings.min_partitions_for_rate or rate <= settings.failure_rate_threshold:
        return None
    roots = sorted(snap.root_failures, key=lambda f: (f.partition or "", f.asset))
    categories = Counter(f.category.value for f in roots)
    dates = sorted({f.partition for f in roots if f.partition})
    return Alert(
        kind="failure_rate",
        key=f"failure_rate_{backfill.backfill_id}",
        title=(
            f"Backfill {backfill.backfill_id}: failure rate {rate:.0%} exceeds "
            f"{settings.failure_rate_threshold:.0%} ({failed} of {processed} asset partitions)"
        ),
        asset=_join(sorted({f.asset for f in roots})),
        partition=f"{dates[0]}..{dates[-1]}" if dates else "(unpartitioned)",
        first_line=roots[0].first_line if roots else "",
        url=settings.backfill_url(backfill.backfill_id),
        category=categories.most_common(1)[0][0] if categories else "",
        backfill_id=backfill.backfill_id,
        details=(
            *(f"{name}: {n}" for name, n in categories.most_common()),
            "Sent once; the remaining failures of this backfill go into its digest.",
        ),
    )
