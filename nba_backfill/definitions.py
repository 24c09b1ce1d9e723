"""Assembles the code location: assets, checks, jobs, schedules, sensors and resources."""

from dagster import Definitions

from nba_backfill import jobs
from nba_backfill.alerts.sensors import sensors as alert_sensors
from nba_backfill.assets import analytics, precompute, predictions, raw, scrapers
from nba_backfill.checks import analytics as analytics_checks
from nba_backfill.checks import lake as lake_checks
from nba_backfill.checks import precompute as precompute_checks
from nba_backfill.checks import predictions as predictions_checks
from nba_backfill.checks import raw as raw_checks
from nba_backfill.resources import build_resources

defs = Definitions(
    assets=[
        *scrapers.assets,
        *raw.assets,
        *analytics.assets,
        *precompute.assets,
        *predictions.assets,
    ],
    asset_checks=[
        *lake_checks.checks,
        *raw_checks.checks,
        *analytics_checks.checks,
        *precompute_checks.checks,
        *predictions_checks.checks,
    ],
    jobs=jobs.jobs,
    schedules=jobs.schedules,
    sensors=[*jobs.sensors, *alert_sensors],
    resources=build_resources(),
)
