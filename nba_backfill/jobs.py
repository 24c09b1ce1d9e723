"""Jobs, schedules and sensors."""

from dagster import AssetSelection, define_asset_job, in_process_executor

nba_pipeline = define_asset_job(
    name="nba_pipeline",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Every phase for the selected date(s): scrape, parse, analytics, precompute.",
)

jobs = [nba_pipeline]
schedules: list = []
sensors: list = []
