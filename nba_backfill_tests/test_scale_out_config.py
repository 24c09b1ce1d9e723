"""The example cluster instance `deploy/dagster.k8s.yaml` (docs/scale-out.md) is a valid Dagster
1.13 instance config: the file against Dagster's instance schema, every class it names against
that class's own config schema (`nba_backfill.compat.validate_instance_yaml`). Nothing connects
to Kubernetes, PostgreSQL or GCS: classes are imported, never instantiated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dagster._core.errors import DagsterInvalidConfigError

from nba_backfill.compat import validate_instance_yaml
from nba_backfill.instance import RANGED_RUN_ENV

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "dagster.k8s.yaml"


def edited(tmp_path: Path, change) -> Path:
    config = yaml.safe_load(K8S.read_text())
    change(config)
    path = tmp_path / "dagster.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_k8s_example_is_a_valid_instance_with_the_documented_classes():
    classes = validate_instance_yaml(K8S)
    assert classes["run_launcher_data"] == "dagster_k8s.K8sRunLauncher"
    assert classes["storage_data"] == "dagster_postgres.DagsterPostgresStorage"
    assert classes["event_storage_data"] == "dagster_postgres.PostgresEventLogStorage"
    assert classes["run_coordinator_data"] == "dagster.QueuedRunCoordinator"
    assert classes["compute_logs_data"] == "dagster_gcp.gcs.compute_log_manager.GCSComputeLogManager"


def test_packaged_local_instance_passes_the_same_validation(tmp_path):
    shutil.copy(ROOT / "nba_backfill" / "dagster_local.yaml", tmp_path / "dagster.yaml")
    classes = validate_instance_yaml(tmp_path / "dagster.yaml")
    assert classes["event_storage_data"] == "nba_backfill.storage.PooledSqliteEventLogStorage"


def test_a_wrong_launcher_field_is_refused_by_the_launchers_own_schema(tmp_path):
    path = edited(tmp_path, lambda c: c["run_launcher"]["config"].update(memory_limit="4Gi"))
    with pytest.raises(DagsterInvalidConfigError, match="run_launcher_data") as info:
        validate_instance_yaml(path)
    assert "memory_limit" in str(info.value)


def test_a_wrong_storage_field_is_refused_by_dagsters_instance_schema(tmp_path):
    path = edited(tmp_path, lambda c: c["storage"]["postgres"]["postgres_db"].update(host="db"))
    with pytest.raises(DagsterInvalidConfigError, match="instance config") as info:
        validate_instance_yaml(path)
    assert "host" in str(info.value)


def test_run_pods_get_the_environment_every_local_dagster_process_gets():
    config = yaml.safe_load(K8S.read_text())
    env = dict(item.split("=", 1) for item in config["run_launcher"]["config"]["env_vars"])
    assert env.pop("NBA_BACKFILL_ENV") == "prod"
    assert env == RANGED_RUN_ENV
    assert config["concurrency"]["pools"]["granularity"] == "run"
    assert "event_log_storage" not in config  # PostgreSQL storage replaces the pooled SQLite log
