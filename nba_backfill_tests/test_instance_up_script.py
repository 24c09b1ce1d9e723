"""`bash scripts/up.sh` (the README's first command) brings up the UI on the packaged instance, and
Ctrl-C or SIGTERM stops everything it started.

Run with --skip-install --skip-demo (the venv is the test's own; the demo materializes the same
assets the asset tests cover), a free port and temporary homes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nba_backfill_tests.dagster_harness import PROJECT_ROOT, DagsterDev, free_port, reset_signals

INSTANCE = """
{ instance {
    runQueueConfig { maxConcurrentRuns }
    concurrencyLimits { concurrencyKey slotCount }
} }
"""
STOP_TIMEOUT = 60
"""up.sh's STOP_TIMEOUT: how long Dagster gets to stop before the script kills it."""
GONE_WITHIN = STOP_TIMEOUT + 30
"""Seconds after the signal within which every process of the session must be gone."""


def _ignore_sigint() -> None:
    """What a non-interactive shell does to a command it starts in the background (`up.sh &`)."""
    reset_signals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _session(sid: int) -> list[tuple[int, str]]:
    """Live (pid, command) of every process in session `sid` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append((int(entry.name), command.strip()))
    return found


def _start(tmp_path: Path, preexec=reset_signals) -> DagsterDev:
    home = tmp_path / "data"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DAGSTER_HOME", "NBA_BACKFILL_HOME", "NBA_BACKFILL_CURRENT_SEASON"}
    }
    env.update({"PORT": str(port), "NBA_BACKFILL_HOME": str(home), "STOP_TIMEOUT": str(STOP_TIMEOUT),
                "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"})
    dev = DagsterDev(port=port, dagster_home=home / "dagster_home", backfill_home=home,
                     log_path=tmp_path / "up.log", env=env)
    with dev.log_path.open("wb") as log:
        dev.process = subprocess.Popen(
            ["bash", str(PROJECT_ROOT / "scripts" / "up.sh"), "--skip-install", "--skip-demo"],
            cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec,
        )
    return dev


def _stopped_by(dev: DagsterDev, send) -> tuple[int, list[tuple[int, str]]]:
    """Send the signal (`send(pid)`), wait up to GONE_WITHIN seconds for the whole session to
    exit, and return up.sh's exit code and whatever is still alive."""
    sid = dev.process.pid
    send(sid)
    deadline = time.monotonic() + GONE_WITHIN
    while _session(sid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _session(sid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        dev.process.wait(timeout=5)
    return dev.process.returncode, left


def _services(dev: DagsterDev) -> list[str]:
    commands = [command for _, command in _session(dev.process.pid)]
    return [name for name in ("dagster dev", "dagster_webserver", "dagster._daemon", "code-server")
            if any(name in c for c in commands)]


def test_up_script_starts_dagster_dev_on_the_packaged_instance_and_sigterm_stops_it(tmp_path):
    """Started the way a script starts it in the background (SIGINT ignored, which `dagster dev`
    would inherit and then ignore SIGTERM too): SIGTERM to up.sh stops every process."""
    dev = _start(tmp_path, preexec=_ignore_sigint)
    try:
        dev.wait_until_loaded(timeout=180)
        instance = dev.graphql(INSTANCE)["instance"]
        assert instance["runQueueConfig"]["maxConcurrentRuns"] == 2
        limits = {c["concurrencyKey"]: c["slotCount"] for c in instance["concurrencyLimits"]}
        assert limits == {"nba_api": 2, "warehouse": 1}
        assert _services(dev) == ["dagster dev", "dagster_webserver", "dagster._daemon", "code-server"]
        code, left = _stopped_by(dev, lambda pid: os.kill(pid, signal.SIGTERM))
    finally:
        dev.stop()
    assert left == [], left
    assert code == 128 + signal.SIGTERM
    home = dev.backfill_home
    assert (home / "dagster_home" / "dagster.yaml").exists()
    log = dev.log_path.read_text()
    assert f"Dagster UI + daemon at http://127.0.0.1:{dev.port}" in log
    assert "installing" not in log and "materializing" not in log
    assert "Dagster services shut down." in log  # dagster dev stopped its services itself
    assert "still running after" not in log  # ... and was not killed
    for noise in ("PreviewWarning", "BetaWarning", "SupersessionWarning", "varying BackfillPolicies"):
        assert noise not in log, noise


def test_ctrl_c_in_a_terminal_stops_every_process(tmp_path):
    """A terminal's Ctrl-C interrupts the foreground process group, i.e. up.sh's: the script
    stops `dagster dev` (in its own group) with its webserver, daemon and code servers."""
    dev = _start(tmp_path)
    group = dev.process.pid
    try:
        dev.wait_until_loaded(timeout=180)
        code, left = _stopped_by(dev, lambda pid: os.killpg(pid, signal.SIGINT))
    finally:
        dev.stop()
    assert left == [], left
    assert code == 128 + signal.SIGINT
    log = dev.log_path.read_text()
    assert "Dagster services shut down." in log and "still running after" not in log
    with pytest.raises(ProcessLookupError):  # the script's own group is gone too
        os.killpg(group, 0)
