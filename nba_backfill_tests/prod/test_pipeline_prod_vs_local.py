"""Phases 1-4 of the real project assets: `prod` (BigQuery + GCS emulators) vs `local` (DuckDB).

The same ranged single run (the season's first dates) goes through both environments with the
offline NBA source; every warehouse table and every lake object must come out identical
(run-time stamps excepted). Then one date is re-materialized in prod: no duplicates, same rows.
"""

import pytest
from dagster import AssetKey, DagsterInstance

from nba_backfill.assets import analytics, precompute, raw, scrapers
from nba_backfill.layers import ANALYTICS, PRECOMPUTE, RAW
from nba_backfill.resources.bigquery import CLUSTER_BY, BigQueryWarehouse, partition_column
from nba_backfill.resources.environment import build_resources, local_resources
from nba_backfill.resources.nba_api import NbaApiClient
from nba_backfill_tests.conftest import TEST_BACKOFF_SECONDS, TEST_REQUESTS_PER_SECOND
from nba_backfill_tests.prod.runs import assert_same_rows, run, table_rows

PHASE_ASSETS = [*scrapers.assets, *raw.assets, *analytics.assets, *precompute.assets]
RANGE = ("2023-10-24", "2023-10-26")  # opener of 2023-24 and the next two dates
REDO = "2023-10-25"


def tables() -> list[tuple[str, str]]:
    """(dataset, table) of every Phase 2-4 table asset."""
    found = []
    for assets_def in PHASE_ASSETS:
        for key in assets_def.keys:
            if len(key.path) == 2 and key.path[0] in (RAW, ANALYTICS, PRECOMPUTE):
                found.append((key.path[0], key.path[1]))
    return sorted(found)


def fast_offline_api(home) -> NbaApiClient:
    """The offline source without the production request-rate cap (same code paths)."""
    return NbaApiClient(
        mode="offline",
        offline_faults_file=str(home / "offline_faults.json"),
        requests_per_second=TEST_REQUESTS_PER_SECOND,
        backoff_initial_seconds=TEST_BACKOFF_SECONDS,
        backoff_max_seconds=TEST_BACKOFF_SECONDS * 10,
    )


@pytest.fixture(scope="module")
def both_runs(module_prod_target, tmp_path_factory):
    prod = build_resources("prod")
    assert prod["nba_api"].mode == "offline"
    prod["nba_api"] = fast_offline_api(module_prod_target.home)
    local_home = tmp_path_factory.mktemp("local-home")
    local = local_resources(local_home)
    local["nba_api"] = fast_offline_api(local_home)
    with (
        DagsterInstance.ephemeral() as prod_instance,
        DagsterInstance.ephemeral() as local_instance,
    ):
        for resources, instance in ((prod, prod_instance), (local, local_instance)):
            result = run(PHASE_ASSETS, resources, key_range=RANGE, instance=instance)
            assert result.success
        warehouse = BigQueryWarehouse(project=module_prod_target.project, location="US")
        yield prod, local, warehouse, prod_instance


def test_phases_1_to_4_cover_every_layer():
    layers = {dataset for dataset, _ in tables()}
    assert layers == {RAW, ANALYTICS, PRECOMPUTE}
    assert len(scrapers.assets) > 0


def test_every_table_is_identical_to_the_local_run(both_runs):
    prod, local, warehouse, _ = both_runs
    compared = {}
    for dataset, table in tables():
        expected = table_rows(local["warehouse"], dataset, table)
        assert_same_rows(expected, table_rows(warehouse, dataset, table), f"{dataset}.{table}")
        compared[f"{dataset}.{table}"] = len(expected)
    assert compared["nba_raw.nbac_player_boxscore"] > 300
    assert sum(1 for n in compared.values() if n > 0) >= 20, compared


def test_every_prod_table_is_day_partitioned_without_expiry(both_runs, module_prod_target):
    client = module_prod_target.bigquery()
    specs = {key: a.specs_by_key[key] for a in PHASE_ASSETS for key in a.keys}
    for dataset, table in tables():
        metadata = specs[AssetKey([dataset, table])].metadata
        expr = metadata["partition_expr"]
        bq_table = client.get_table(f"{module_prod_target.project}.{dataset}.{table}")
        assert bq_table.time_partitioning.type_ == "DAY", table
        assert bq_table.time_partitioning.field == partition_column(getattr(expr, "value", expr))
        assert bq_table.time_partitioning.expiration_ms is None and bq_table.expires is None
        declared = metadata.get(CLUSTER_BY)
        assert bq_table.clustering_fields == (
            list(getattr(declared, "value", declared)) if declared else None
        )


def test_every_lake_object_is_identical_to_the_local_run(both_runs):
    prod, local, _, _ = both_runs
    keys = local["lake"].list_keys("")
    assert len(keys) > 50
    assert prod["lake"].list_keys("") == keys
    different = [k for k in keys if prod["lake"].read_bytes(k) != local["lake"].read_bytes(k)]
    assert not different, different[:5]


def test_rematerializing_one_date_keeps_one_copy_of_every_row(both_runs):
    prod, local, warehouse, instance = both_runs
    before = {t: table_rows(warehouse, *t) for t in tables()}
    table_keys = [AssetKey(list(t)) for t in tables()]  # the lake's idempotence: test_gcs_lake
    result = run(PHASE_ASSETS, prod, partition_key=REDO, instance=instance, selection=table_keys)
    assert result.success
    for dataset, table in tables():
        assert_same_rows(before[(dataset, table)], table_rows(warehouse, dataset, table), table)
