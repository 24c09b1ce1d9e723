"""Alert and digest sensors (all need the `notifier` resource).

- `run_failure_alerts` (`@run_failure_sensor`): one alert per failed run of the daily flow.
  Runs of an operator backfill (tag `dagster/backfill`) are folded into that backfill's digest;
  backfills emitted by the automation sensor (the daily cascade) count as daily flow. Dagster
  owns this sensor's cursor (it moves past the run even when delivery fails), so an alert the
  sink refused is marked on the run itself with the tag `nba_backfill/alert=pending`.
- `run_failure_alert_redelivery`: retries those runs' alerts every tick until delivered
  (tag becomes `delivered`).
- `failed_check_alerts`: one alert per failed blocking check evaluation (asset, partition,
  check, first line) of each run that finished since its cursor; backfill runs and partitions
  merely blocked by an upstream failure (`upstream_checks_passed`) are folded.
- `backfill_digests`: one digest per finished backfill (success, failure, cancel), one per
  completed season while a multi-season backfill runs, and a single early alert when a running
  backfill's failure rate exceeds NBA_BACKFILL_ALERT_FAILURE_RATE (default 0.2). Digests are
  logged on the tick and reported as asset observations (run-less events) on the failed assets.
The three plain sensors keep undelivered messages in their cursor and retry them next tick.
"""

from __future__ import annotations

import time

from dagster import (
    AssetObservation,
    DagsterEventType,
    DefaultSensorStatus,
    MetadataValue,
    ResourceParam,
    RunStatusChangeRecordsFilter,
    RunFailureSensorContext,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    run_failure_sensor,
    sensor,
)
from nba_backfill.compat import BulkActionsFilter, AUTOMATION_CONDITION_TAG, BACKFILL_ID_TAG

from nba_backfill.alerts.builders import check_failure_alert, failure_rate_alert, run_failure_alert
from nba_backfill.alerts.collect import run_failures
from nba_backfill.alerts.delivery import deliver, dump_cursor, load_cursor, pending_from
from nba_backfill.alerts.digest import (
    TERMINAL_STATUSES,
    build_digest,
    completed_seasons,
    season_of,
    snapshot,
)
from nba_backfill.alerts.messages import Digest, Message
from nba_backfill.alerts.notifiers import AlertSettings, DeliveryError, Notifier

ALERT_TAG = "nba_backfill/alert"


def operator_backfill(tags) -> str | None:
    """The id of the operator backfill (UI, CLI) that tagged a run or backfill, else None.

    Backfills emitted by the automation sensor (the current-season daily cascade) carry
    `dagster/from_automation_condition`: they are the daily flow, alerted per failure and
    not digested."""
    if tags.get(AUTOMATION_CONDITION_TAG) == "true":
        return None
    return tags.get(BACKFILL_ID_TAG)
RUNS_PER_TICK = 200
RECENT_BACKFILLS = 50
REDELIVERIES_PER_TICK = 20


@run_failure_sensor(
    name="run_failure_alerts",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="One alert per failed run outside a backfill (backfill runs go into its digest).",
)
def run_failure_alerts(context: RunFailureSensorContext, notifier: ResourceParam[Notifier]):
    run = context.dagster_run
    backfill_id = operator_backfill(run.tags)
    if backfill_id:
        context.log.info(f"Run {run.run_id} failed in backfill {backfill_id}: folded into its digest")
        return
    alert = run_failure_alert(context.instance, run, AlertSettings.from_env())
    if alert is None:
        context.log.info(f"Run {run.run_id} failed on a blocking check: reported by failed_check_alerts")
        return
    try:
        where = notifier.send(alert)
    except DeliveryError as exc:
        context.instance.add_run_tags(run.run_id, {ALERT_TAG: "pending"})
        context.log.warning(f"Alert for run {run.run_id} not delivered ({exc}); retried next tick")
        return
    context.log.info(f"Delivered '{alert.title}' → {where}")


@sensor(
    name="run_failure_alert_redelivery",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Retries run-failure alerts the sink refused (runs tagged nba_backfill/alert=pending).",
)
def run_failure_alert_redelivery(context: SensorEvaluationContext, notifier: ResourceParam[Notifier]):
    instance = context.instance
    records = instance.get_run_records(
        filters=RunsFilter(tags={ALERT_TAG: "pending"}), limit=REDELIVERIES_PER_TICK, ascending=True
    )
    settings = AlertSettings.from_env()
    delivered = 0
    for record in records:
        run = record.dagster_run
        alert = run_failure_alert(instance, run, settings)
        if alert is None:
            instance.add_run_tags(run.run_id, {ALERT_TAG: "not_needed"})
            continue
        try:
            where = notifier.send(alert)
        except DeliveryError as exc:
            context.log.warning(f"Alert for run {run.run_id} still not delivered ({exc})")
            break
        instance.add_run_tags(run.run_id, {ALERT_TAG: "delivered"})
        context.log.info(f"Delivered '{alert.title}' → {where}")
        delivered += 1
    return SensorResult(skip_reason=f"{delivered} of {len(records)} pending run alert(s) delivered")


FINISHED_RUN_EVENTS = (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE)


def _run_status_records(instance, event_type, after: int | None, limit: int):
    return instance.fetch_run_status_changes(
        RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after),
        limit=limit,
        ascending=after is not None,
    ).records


@sensor(
    name="failed_check_alerts",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="One alert per failed blocking check outside a backfill.",
)
def failed_check_alerts(context: SensorEvaluationContext, notifier: ResourceParam[Notifier]):
    """Reads the checks of each run that finished since the cursor (run status changes are
    indexed globally; check events of the default run-sharded SQLite storage are not)."""
    instance = context.instance
    data = load_cursor(context.cursor)
    if data is None:
        after = {}
        for event_type in FINISHED_RUN_EVENTS:
            latest = _run_status_records(instance, event_type, None, 1)
            after[event_type.value] = latest[0].storage_id if latest else 0
        return SensorResult(
            skip_reason=f"Initialised after run status records {after}",
            cursor=dump_cursor({"after": after}, []),
        )
    settings = AlertSettings.from_env()
    after = dict(data.get("after", {}))
    new: list[Message] = []
    backfill_runs = blocked = 0
    for event_type in FINISHED_RUN_EVENTS:
        for record in _run_status_records(
            instance, event_type, int(after.get(event_type.value, 0)), RUNS_PER_TICK
        ):
            after[event_type.value] = record.storage_id
            run = instance.get_run_by_id(record.event_log_entry.run_id)
            if run is None:
                continue
            if operator_backfill(run.tags):  # its checks go into the backfill's digest
                backfill_runs += 1
                continue
            for failure in run_failures(instance, run):
                if failure.kind not in ("check", "blocked") or not failure.blocking:
                    continue
                if failure.kind == "blocked":  # the upstream failure has its own alert
                    blocked += 1
                    continue
                new.append(check_failure_alert(failure, settings))
    if backfill_runs or blocked:
        context.log.info(
            f"Folded: {backfill_runs} backfill run(s) (into their digests), {blocked} partition(s)"
            " blocked by an upstream failure that has its own alert"
        )
    result = deliver(notifier, [*pending_from(data), *new], context.log)
    return SensorResult(
        skip_reason=f"{len(new)} new check alert(s); {result.summary()}",
        cursor=dump_cursor({"after": after}, result.pending),
    )


def _observations(digest: Digest, snap, where: str) -> list[AssetObservation]:
    """One run-less observation per failed asset, pointing at the digest."""
    season = None if digest.scope == "backfill" else digest.scope.removeprefix("season ")
    by_asset: dict[str, list] = {}
    for failure in snap.failures:
        if season is None or season_of(failure.partition) == season:
            by_asset.setdefault(failure.asset, []).append(failure)
    events = []
    for asset, failures in sorted(by_asset.items()):
        categories = sorted({f.category.value for f in failures})
        metadata = {
            "backfill_id": digest.backfill_id,
            "digest_scope": digest.scope,
            "backfill_status": digest.status,
            "failed_partitions": len({f.partition for f in failures}),
            "categories": ", ".join(categories),
            "retry_command": digest.retry_command,
            "digest_location": MetadataValue.path(where) if where.endswith(".md") else where,
            "backfill_url": MetadataValue.url(digest.url),
        }
        events.append(AssetObservation(asset_key=asset.split("/"), metadata=metadata))
    return events


@sensor(
    name="backfill_digests",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "One digest per finished backfill (and per completed season of a long one); an early"
        " alert once if a running backfill's failure rate exceeds the threshold."
    ),
)
def backfill_digests(context: SensorEvaluationContext, notifier: ResourceParam[Notifier]):
    instance = context.instance
    settings = AlertSettings.from_env()
    now = time.time()
    data = load_cursor(context.cursor)
    recent = instance.get_backfills(limit=RECENT_BACKFILLS)
    if data is None:  # first tick: follow what is running now and everything started from now on
        data = {
            "started": now,
            "active": {b.backfill_id: {} for b in recent if b.status not in TERMINAL_STATUSES},
            "handled": [],
        }
    active: dict[str, dict] = data.get("active", {})
    handled: list[str] = data.get("handled", [])
    known = {b.backfill_id: b for b in recent}
    missing = [bid for bid in active if bid not in known]
    if missing:
        known.update(
            {b.backfill_id: b for b in instance.get_backfills(filters=BulkActionsFilter(backfill_ids=missing))}
        )
    new: list[Message] = []
    digests = []
    for backfill in sorted(known.values(), key=lambda b: b.backfill_timestamp):
        bid = backfill.backfill_id
        if bid in handled or (bid not in active and backfill.backfill_timestamp < data["started"]):
            continue
        finished = backfill.status in TERMINAL_STATUSES
        if not operator_backfill({**backfill.tags, BACKFILL_ID_TAG: bid}):
            if finished:  # the daily cascade's own backfill: its failures were alerted one by one
                active.pop(bid, None)
                handled.append(bid)
            continue
        entry = active.setdefault(bid, {})
        if not finished and entry.get("rate_alerted") and not entry.get("multi_season", True):
            continue
        snap = snapshot(instance, backfill)
        entry["multi_season"] = len(snap.seasons()) > 1
        if not finished and not entry.get("rate_alerted"):
            alert = failure_rate_alert(backfill, snap, settings)
            if alert is not None:
                new.append(alert)
                entry["rate_alerted"] = True
        if entry["multi_season"]:
            for season in completed_seasons(snap):
                if season not in entry.setdefault("seasons", []):
                    digests.append((build_digest(snap, settings, season=season, now=now), snap))
                    entry["seasons"].append(season)
        if finished:
            digests.append((build_digest(snap, settings, now=now), snap))
            active.pop(bid)
            handled.append(bid)
    for digest, _ in digests:
        context.log.info(digest.to_markdown())
    new.extend(d for d, _ in digests)
    result = deliver(notifier, [*pending_from(data), *new], context.log)
    where_by_key = {m.key: where for m, where in result.delivered}
    observations = [
        event
        for digest, snap in digests
        for event in _observations(digest, snap, where_by_key.get(digest.key, "pending delivery"))
    ]
    data.update(active=active, handled=[h for h in handled if h in known])
    return SensorResult(
        skip_reason=f"{len(digests)} digest(s), {len(new) - len(digests)} early alert(s); {result.summary()}",
        cursor=dump_cursor({k: v for k, v in data.items() if k != "pending"}, result.pending),
        asset_events=observations,
    )


sensors = [run_failure_alerts, run_failure_alert_redelivery, failed_check_alerts, backfill_digests]
