"""`bash scripts/up.sh` (the README's first command) brings up the UI on the packaged instance.

Run with --skip-install --skip-demo (the venv is the test's own; the demo materialization is the
same `nba_pipeline` run that the asset tests cover), a free port and temporary homes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nba_backfill_tests.dagster_harness import PROJECT_ROOT, DagsterDev, free_port, reset_signals

INSTANCE = """
{ instance {
    runQueueConfig { maxConcurrentRuns }
    concurrencyLimits { concurrencyKey slotCount }
} }
"""


def test_up_script_starts_dagster_dev_on_the_packaged_instance(tmp_path):
    home = tmp_path / "data"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DAGSTER_HOME", "NBA_BACKFILL_HOME", "NBA_BACKFILL_CURRENT_SEASON"}
    }
    env.update({"PORT": str(port), "NBA_BACKFILL_HOME": str(home),
                "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"})
    dev = DagsterDev(port=port, dagster_home=home / "dagster_home", backfill_home=home,
                     log_path=tmp_path / "up.log", env=env)
    with dev.log_path.open("wb") as log:
        dev.process = subprocess.Popen(
            ["bash", str(PROJECT_ROOT / "scripts" / "up.sh"), "--skip-install", "--skip-demo"],
            cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=reset_signals,
        )
    group = dev.process.pid
    try:
        dev.wait_until_loaded(timeout=180)
        instance = dev.graphql(INSTANCE)["instance"]
        assert instance["runQueueConfig"]["maxConcurrentRuns"] == 2
        limits = {c["concurrencyKey"]: c["slotCount"] for c in instance["concurrencyLimits"]}
        assert limits == {"nba_api": 2, "warehouse": 1}
    finally:
        dev.stop()
    assert (home / "dagster_home" / "dagster.yaml").exists()
    log = dev.log_path.read_text()
    assert f"Dagster UI + daemon at http://127.0.0.1:{port}" in log
    assert "installing" not in log and "materializing" not in log
    with pytest.raises(ProcessLookupError):  # the whole process group is gone
        os.killpg(group, 0)
