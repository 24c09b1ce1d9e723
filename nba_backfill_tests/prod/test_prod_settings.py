"""Selecting `prod`: settings from the environment only, every missing one named at once."""

import pytest
from dagster import EnvVar

from nba_backfill.resources.bigquery import BigQueryWarehouse, NbaBigQueryIOManager
from nba_backfill.resources.environment import RESOURCE_KEYS, build_resources
from nba_backfill.resources.gcs_lake import GcsLake
from nba_backfill.resources.prod import ProdSettingsError, prod_resources

SETTINGS = (
    "NBA_BACKFILL_GCP_PROJECT",
    "NBA_BACKFILL_GCS_BUCKET",
    "NBA_BACKFILL_GCS_PREFIX",
    "NBA_BACKFILL_BQ_LOCATION",
    "NBA_BACKFILL_NBA_API",
    "BALLDONTLIE_API_KEY",
    "BIGQUERY_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NBA_BACKFILL_ENV", "prod")
    return monkeypatch


def test_missing_settings_are_all_listed(clean_env):
    with pytest.raises(ProdSettingsError) as err:
        build_resources()
    message = str(err.value)
    for name in ("NBA_BACKFILL_GCP_PROJECT", "NBA_BACKFILL_GCS_BUCKET", "BALLDONTLIE_API_KEY"):
        assert name in message


def test_invalid_values_are_listed_with_the_missing_ones(clean_env):
    clean_env.setenv("NBA_BACKFILL_NBA_API", "replay")
    clean_env.setenv("BIGQUERY_EMULATOR_HOST", "127.0.0.1:9050")
    clean_env.setenv("NBA_BACKFILL_GCP_PROJECT", "p")
    with pytest.raises(ProdSettingsError) as err:
        prod_resources()
    message = str(err.value)
    assert "NBA_BACKFILL_NBA_API must be one of ('live', 'offline'), got 'replay'" in message
    assert "BIGQUERY_EMULATOR_HOST must include the scheme" in message
    assert "NBA_BACKFILL_GCS_BUCKET is not set" in message
    assert "NBA_BACKFILL_GCP_PROJECT" not in message


def test_live_prod_resources_defer_every_setting_to_run_time(clean_env):
    clean_env.setenv("NBA_BACKFILL_GCP_PROJECT", "nba-props-platform")
    clean_env.setenv("NBA_BACKFILL_GCS_BUCKET", "nba-scraped-data")
    clean_env.setenv("BALLDONTLIE_API_KEY", "secret-key")
    assert tuple(prod_resources()) == ("io_manager", "warehouse", "lake", "nba_api")
    resources = build_resources()  # adds the environment-independent resources
    assert tuple(resources) == RESOURCE_KEYS
    io_manager, warehouse, lake, nba_api = (
        resources[k] for k in ("io_manager", "warehouse", "lake", "nba_api")
    )
    assert isinstance(io_manager, NbaBigQueryIOManager) and io_manager.dataset is None
    assert isinstance(io_manager.project, EnvVar) and io_manager.location == "US"
    assert isinstance(warehouse, BigQueryWarehouse) and isinstance(warehouse.project, EnvVar)
    assert isinstance(lake, GcsLake) and isinstance(lake.bucket, EnvVar) and lake.prefix == ""
    assert nba_api.mode == "live"
    assert isinstance(nba_api.bdl_api_key, EnvVar) and "secret-key" not in repr(resources)


def test_offline_api_and_optional_settings(clean_env, tmp_path):
    clean_env.setenv("NBA_BACKFILL_GCP_PROJECT", "p")
    clean_env.setenv("NBA_BACKFILL_GCS_BUCKET", "b")
    clean_env.setenv("NBA_BACKFILL_GCS_PREFIX", "lake")
    clean_env.setenv("NBA_BACKFILL_BQ_LOCATION", "EU")
    clean_env.setenv("NBA_BACKFILL_NBA_API", "offline")
    clean_env.setenv("NBA_BACKFILL_HOME", str(tmp_path))
    resources = prod_resources()
    assert resources["nba_api"].mode == "offline"
    assert resources["nba_api"].offline_faults_file == str(tmp_path / "offline_faults.json")
    assert isinstance(resources["io_manager"].location, EnvVar)
    assert resources["io_manager"].location.env_var_name == "NBA_BACKFILL_BQ_LOCATION"
    assert resources["lake"].prefix.env_var_name == "NBA_BACKFILL_GCS_PREFIX"


def test_dataset_setting_is_refused(clean_env):
    manager = NbaBigQueryIOManager(project="p", dataset="nba_raw")
    with pytest.raises(ValueError, match="asset key prefix is the dataset"):
        manager.create_io_manager(None)
