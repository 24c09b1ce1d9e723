"""Declarative automation: the current season's daily cascade and bounded re-materialization.

`automation_condition(layer)` is the condition every asset of a layer carries; `sensors` holds
the one AutomationConditionSensorDefinition that evaluates them. The sensor is STOPPED by
default: turn it on in the UI (Automation > nba_automation) where a live source is configured.
It emits backfills (`emit_backfills=True`), so multi-partition requests obey the assets'
backfill policies (one ranged run per table layer instead of one run per partition).

What a table asset (phases 2-5) requests on a tick, for partitions in the recent window only:
- missing partitions (whose latest execution did not fail: a failed date waits for an operator,
  it is not retried every tick), and
- partitions made stale by a new code version or by an upstream partition materialized since
  (`any_deps_updated` follows the lookback mappings), re-requested once
  (`since_last_handled`),
provided that
- no upstream partition the partition reads *inside the window* is missing (older history is
  left to the window-completeness checks, otherwise early-season partitions whose lookback
  windows reach into previous-season partitions would wait forever),
- nothing upstream or of its own is in progress, and
- blocking across runs: no upstream partition it reads (same date or any day of a lookback
  window) has a failed blocking check, and the blocking checks of the upstream partitions in the
  window have passed (or run in the same request).
  Why not Dagster's `all_deps_blocking_checks_passed()` as is: (1) on a lookback edge it maps the
  *passing* upstream partitions down, so one passing day of a 60-day window lets a partition
  through although another day failed — the negated `any_deps_match(check_failed)` maps the
  *failing* partitions down and blocks every reader of them; (2) it also demands passed checks
  on history outside the window (an early-season partition whose window is the previous
  season's days would wait until that season is backfilled). `deps_blocking_checks_passed`
  is the same condition with partitions outside the window exempt.
Phase 1 scrapers request missing partitions in the window. Phase 5 (predictions) uses a
two-day window: yesterday and today of the current season only, never history.

Older partitions are backfilled explicitly (`nba-backfill backfill ...`, `nba-backfill stale
--launch`): the automation never reaches past its window. The window follows the wall clock
(the latest partitions), not NBA_BACKFILL_CURRENT_SEASON.

Dagster reads a partition's check result in these conditions only when the result points at that
partition's latest materialization; `nba_backfill.checks.results.emit_check` records the pointer
for the per-partition results of ranged runs.
"""

from __future__ import annotations

import datetime as dt

from dagster import AssetSelection, AutomationCondition, AutomationConditionSensorDefinition, DefaultSensorStatus

from nba_backfill.layers import ANALYTICS, LAKE, PRECOMPUTE, PREDICTIONS, RAW

RECENT_DAYS = 7
"""Window (days back from the latest partition) the automation keeps complete and fresh."""
PREDICTION_DAYS = 2
"""Phase 5 window: yesterday's and today's partitions."""
SENSOR_NAME = "nba_automation"
SENSOR_INTERVAL_SECONDS = 300

LAYERS = (LAKE, RAW, ANALYTICS, PRECOMPUTE, PREDICTIONS)


def in_window(days: int) -> AutomationCondition:
    return AutomationCondition.in_latest_time_window(dt.timedelta(days=days)).with_label(
        f"in_last_{days}_days"
    )


def any_dep_blocking_check_failed() -> AutomationCondition:
    """True for a partition when any upstream partition it reads (through the partition
    mapping) has a failed blocking check."""
    return AutomationCondition.any_deps_match(
        AutomationCondition.any_checks_match(AutomationCondition.check_failed(), blocking_only=True)
    ).with_label("any_dep_blocking_check_failed")


def deps_blocking_checks_passed(days: int) -> AutomationCondition:
    """`AutomationCondition.all_deps_blocking_checks_passed()` with upstream partitions outside
    the window exempt (their failures are still caught by `any_dep_blocking_check_failed`)."""
    return AutomationCondition.all_deps_match(
        AutomationCondition.all_checks_match(
            AutomationCondition.check_passed()
            | AutomationCondition.will_be_requested()
            | ~in_window(days),
            blocking_only=True,
        ).with_label("all_blocking_checks_passed")
    ).with_label(f"all_deps_blocking_checks_passed_in_last_{days}_days")


def blocked_by_upstream(days: int) -> AutomationCondition:
    """True when the partition must not run because of upstream blocking checks."""
    return (any_dep_blocking_check_failed() | ~deps_blocking_checks_passed(days)).with_label(
        "blocked_by_upstream"
    )


def any_dep_missing_in_window(days: int) -> AutomationCondition:
    return AutomationCondition.any_deps_match(
        AutomationCondition.missing()
        & in_window(days)
        & ~AutomationCondition.will_be_requested()
    ).with_label(f"any_dep_missing_in_last_{days}_days")


def missing_not_failed() -> AutomationCondition:
    return (
        AutomationCondition.missing() & ~AutomationCondition.execution_failed()
    ).with_label("missing_and_not_failed")


def outdated() -> AutomationCondition:
    """New code version or an upstream partition updated since the partition was last handled."""
    return (
        AutomationCondition.code_version_changed() | AutomationCondition.any_deps_updated()
    ).since_last_handled().with_label("code_or_upstream_changed")


def scraper_condition(days: int = RECENT_DAYS) -> AutomationCondition:
    return (
        in_window(days) & missing_not_failed() & ~AutomationCondition.in_progress()
    ).with_label(f"nba_scraper_cascade({days}d)")


def table_condition(days: int = RECENT_DAYS) -> AutomationCondition:
    return (
        in_window(days)
        & (missing_not_failed() | outdated())
        & ~any_dep_missing_in_window(days)
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
        & ~blocked_by_upstream(days)
    ).with_label(f"nba_table_cascade({days}d)")


def automation_condition(layer: str) -> AutomationCondition:
    """The condition for every asset of `layer` (one of nba_backfill.layers)."""
    if layer == LAKE:
        return scraper_condition()
    if layer in (RAW, ANALYTICS, PRECOMPUTE):
        return table_condition()
    if layer == PREDICTIONS:
        return table_condition(PREDICTION_DAYS)
    raise ValueError(f"unknown layer {layer!r}; expected one of {LAYERS}")


nba_automation = AutomationConditionSensorDefinition(
    SENSOR_NAME,
    target=AssetSelection.groups(*LAYERS),
    default_status=DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    emit_backfills=True,
    description=(
        "Daily cascade of the current season and bounded re-materialization: requests missing, "
        f"code-changed or upstream-changed partitions of the last {RECENT_DAYS} days (predictions:"
        f" {PREDICTION_DAYS}) whose upstream blocking checks passed. Off by default; history is "
        "backfilled with `nba-backfill`."
    ),
)

sensors: list = [nba_automation]
