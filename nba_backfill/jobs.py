"""Jobs, schedules and sensors."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from nba_backfill.partitions import DAILY_PARTITIONS

nba_pipeline = define_asset_job(
    name="nba_pipeline",
    selection=AssetSelection.all(),
    partitions_def=DAILY_PARTITIONS,
    executor_def=in_process_executor,
    description="Every phase for the selected date(s): scrape, parse, analytics, precompute.",
)

jobs = [nba_pipeline]
schedules: list = []
sensors: list = []
