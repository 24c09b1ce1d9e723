"""The packaged instance configuration and DAGSTER_HOME preparation (nba_backfill.instance)."""

from __future__ import annotations

import subprocess
import sys

import yaml
from dagster import DagsterInstance
from dagster._core.run_coordinator import QueuedRunCoordinator

from nba_backfill.instance import (
    POOL_LIMITS,
    RANGED_RUN_ENV,
    dagster_environment,
    pool_limits,
    prepare_dagster_home,
    template_text,
    without_event_log_storage,
)
from nba_backfill.storage import PooledSqliteEventLogStorage


def test_template_is_a_valid_instance_with_our_limits(tmp_path):
    home = prepare_dagster_home(tmp_path / "dh")
    assert (home / "dagster.yaml").read_text() == template_text(home)
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        assert (home / "history" / "runs" / "index.db").exists()
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 2
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.pool_config.pool_granularity.value == "op"
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.get_backfill_settings()["num_submit_workers"] == 2
        assert not instance.telemetry_enabled
    assert pool_limits(home) == {"nba_api": 2, "warehouse": 1} == POOL_LIMITS


def test_prepare_keeps_an_edited_config_and_changed_limits(tmp_path):
    home = prepare_dagster_home(tmp_path / "dh")
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    config["concurrency"]["runs"]["max_concurrent_runs"] = 4
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with DagsterInstance.from_config(str(home)) as instance:
        instance.event_log_storage.set_concurrency_slots("nba_api", 5)

    prepare_dagster_home(home)

    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
    assert pool_limits(home) == {"nba_api": 5, "warehouse": 1}


def test_environment_for_dagster_processes(tmp_path):
    base = {"PATH": "/bin", "NBA_BACKFILL_HOME": "rel/home", "DAGSTER_EVENT_BATCH_SIZE": "0"}
    env = dagster_environment(tmp_path / "dh", base=base)
    assert env["DAGSTER_HOME"] == str(tmp_path / "dh")
    assert env["NBA_BACKFILL_HOME"].endswith("/rel/home") and env["NBA_BACKFILL_HOME"].startswith("/")
    assert env["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] == "true"
    assert env["DAGSTER_EVENT_BATCH_SIZE"] == "0"  # an explicit caller value wins
    assert env["PATH"] == "/bin"
    assert set(RANGED_RUN_ENV) <= set(env)


def test_module_prints_shell_exports(tmp_path):
    home = tmp_path / "dagster home"
    out = subprocess.run(
        [sys.executable, "-m", "nba_backfill.instance", str(home)],
        capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", "NBA_BACKFILL_HOME": str(tmp_path / "data")},
    ).stdout
    assert f"export DAGSTER_HOME='{home}'" in out.splitlines()
    assert f"export NBA_BACKFILL_HOME={tmp_path / 'data'}" in out.splitlines()
    assert "export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true" in out.splitlines()
    assert (home / "dagster.yaml").exists()


def test_template_without_event_log_block_takes_a_storage_section(tmp_path):
    """How a PostgreSQL instance is configured (benchmarks/daemon.py): `storage:` and
    `event_log_storage:` cannot be combined, so the block goes and the rest stays."""
    home = tmp_path / "dh"
    home.mkdir()
    text = without_event_log_storage(template_text(home))
    config = yaml.safe_load(text)
    assert "event_log_storage" not in config
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 2
    (home / "dagster.yaml").write_text(text + "\nstorage:\n  sqlite:\n    base_dir: " + str(home) + "\n")
    with DagsterInstance.from_config(str(home)) as instance:
        assert not isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)


def test_the_local_instance_shortens_the_backfill_tick_but_not_the_automation_interval(tmp_path):
    """Every process that opens the packaged instance config (the daemon too) loads the pooled
    event log module, which sets the backfill daemon's tick to 10 s; automation stays at 30 s."""
    code = (
        "import warnings; warnings.filterwarnings('ignore')\n"
        "from dagster import DagsterInstance\n"
        "from dagster._daemon import controller\n"
        "assert controller.DEFAULT_DAEMON_INTERVAL_SECONDS == 30\n"
        f"instance = DagsterInstance.from_config({str(prepare_dagster_home(tmp_path / 'home'))!r})\n"
        "instance.event_log_storage\n"
        "print(controller.DEFAULT_DAEMON_INTERVAL_SECONDS, instance.auto_materialize_minimum_interval_seconds)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["10", "30"]
