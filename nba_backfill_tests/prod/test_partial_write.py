"""The table core's partial write on BigQuery (emulator): a ranged step with a bad date replaces
the range with the good dates' rows through the BigQuery handler, materializes only those, and
leaves the rows outside the range alone — the same contract as on DuckDB (test_core.py)."""

from dagster import DagsterInstance, materialize

from nba_backfill.assets.core import build_table_assets
from nba_backfill.resources.bigquery import BigQueryWarehouse
from nba_backfill.resources.environment import build_resources
from nba_backfill_tests.test_core import KEYS, _spec


def test_a_ranged_step_with_a_bad_date_writes_only_the_good_dates(prod_target):
    resources = build_resources("prod")
    warehouse = BigQueryWarehouse(project=prod_target.project, location="US")
    instance = DagsterInstance.ephemeral()
    outside = {"dagster/asset_partition_range_start": "2024-10-31", "dagster/asset_partition_range_end": "2024-10-31"}
    whole = {"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]}
    clean, _ = _spec("probe_partial")
    (asset,) = build_table_assets([clean])
    assert materialize([asset], instance=instance, resources=resources, tags=outside).success
    assert materialize([asset], instance=instance, resources=resources, tags=whole).success

    bad, _ = _spec("probe_partial", fails=["2024-11-02"])
    (asset,) = build_table_assets([bad])
    result = materialize([asset], instance=instance, resources=resources, tags=whole, raise_on_error=False)
    assert not result.success
    assert {e.partition for e in result.get_asset_materialization_events()} == set(KEYS) - {"2024-11-02"}
    counts = warehouse.query(
        "select cast(game_date as string) as d, count(*) as n from nba_analytics.probe_partial group by 1")
    assert dict(zip(counts["d"], counts["n"])) == {"2024-10-31": 2, "2024-11-01": 2, "2024-11-03": 2, "2024-11-04": 2}
