"""Assembles the code location: assets, checks, jobs, schedules, sensors and resources."""

from dagster import AssetSpec, Definitions, in_process_executor, map_asset_specs

from nba_backfill import jobs
from nba_backfill.alerts.sensors import sensors as alert_sensors
from nba_backfill.automation import automation_condition
from nba_backfill.automation import sensors as automation_sensors
from nba_backfill.assets import analytics, precompute, predictions, raw, scrapers
from nba_backfill.checks import analytics as analytics_checks
from nba_backfill.checks import lake as lake_checks
from nba_backfill.checks import precompute as precompute_checks
from nba_backfill.checks import predictions as predictions_checks
from nba_backfill.checks import raw as raw_checks
from nba_backfill.concurrency import apply_claim_wait_fix
from nba_backfill import staleness
from nba_backfill.resources import build_resources

# Every process that loads this code location (run workers included) waits for pool slots
# without spinning (nba_backfill/concurrency.py).
apply_claim_wait_fix()


def _with_layer_automation(spec: AssetSpec) -> AssetSpec:
    return spec.replace_attributes(automation_condition=automation_condition(spec.key.path[0]))


defs = Definitions(
    assets=map_asset_specs(
        _with_layer_automation,
        [
            *scrapers.assets,
            *raw.assets,
            *analytics.assets,
            *precompute.assets,
            *predictions.assets,
        ],
    ),
    asset_checks=[
        *lake_checks.checks,
        *raw_checks.checks,
        *analytics_checks.checks,
        *precompute_checks.checks,
        *predictions_checks.checks,
    ],
    jobs=[*jobs.jobs, staleness.refresh_stale, staleness.mark_stale],
    schedules=jobs.schedules,
    sensors=[*jobs.sensors, *automation_sensors, *alert_sensors, staleness.stale_partitions],
    executor=in_process_executor,
    resources=build_resources(),
)
