"""Waiting for a pool slot costs no CPU (nba_backfill/concurrency.py).

The measured test uses a real instance: a temporary DAGSTER_HOME prepared like production, so the
`warehouse` pool has limit 1. Another run id holds the pool's only slot. A child process loads the
code location as a run worker does (`import nba_backfill.definitions`) and materializes a small
pooled asset with the project's in-process executor. While its step waits, the test reads the
child's CPU time from /proc. Without the work-around the child used 99.8 % of a core; with it,
0.0-0.4 %. The test then frees the slot and checks that the run completes.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus

from nba_backfill.assets.common import WAREHOUSE_POOL
from nba_backfill.compat import InstanceConcurrencyContext
from nba_backfill.concurrency import (
    apply_claim_wait_fix,
    claim_wait_fix_applied,
    interval_to_next_pending_claim_check,
)
from nba_backfill.instance import prepare_dagster_home

REPO_ROOT = Path(__file__).resolve().parents[1]
HOLDER_RUN_ID = "holder-run-0000"
WAIT_SECONDS = 4.0
MAX_CPU_SHARE = 0.05

CHILD = textwrap.dedent(
    f"""
    import nba_backfill.definitions  # the code location, loaded as in a run worker
    from dagster import DagsterInstance, asset, materialize

    @asset(pool={WAREHOUSE_POOL!r})
    def pooled_step() -> None:
        return None

    with DagsterInstance.get() as instance:
        result = materialize([pooled_step], instance=instance)
    print(result.run_id, flush=True)
    """
)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (/proc/<pid>/stat, fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _context_with_pending(timeouts: dict[str, float]) -> InstanceConcurrencyContext:
    context = InstanceConcurrencyContext.__new__(InstanceConcurrencyContext)
    context._pending_claims = set(timeouts)
    context._pending_timeouts = dict(timeouts)
    return context


def test_interval_is_the_time_until_the_earliest_pending_check():
    now = time.time()
    waiting = _context_with_pending({"a": now + 3.0, "b": now + 9.0})
    assert 2.5 < interval_to_next_pending_claim_check(waiting) <= 3.0
    assert interval_to_next_pending_claim_check(_context_with_pending({"a": now - 1.0})) == 0.0
    assert interval_to_next_pending_claim_check(_context_with_pending({})) == 0.0


def test_project_code_location_applies_the_fix_and_uses_the_in_process_executor():
    """The fix covers the in-process executor only (the multiprocess one never sleeps)."""
    from nba_backfill.definitions import defs

    assert claim_wait_fix_applied()
    jobs = [
        defs.resolve_implicit_global_asset_job_def(),
        *(defs.resolve_job_def(job.name) for job in defs.jobs),
    ]
    assert {job.name: job.executor_def.name for job in jobs} == {job.name: "in_process" for job in jobs}


def test_other_dagster_versions_are_left_alone_with_a_warning(monkeypatch, caplog):
    def unpatched(self):
        return 0.0

    monkeypatch.setattr(InstanceConcurrencyContext, "interval_to_next_pending_claim_check", unpatched)
    with caplog.at_level(logging.WARNING, logger="nba_backfill.concurrency"):
        assert apply_claim_wait_fix("1.14.0") is False
    assert InstanceConcurrencyContext.interval_to_next_pending_claim_check is unpatched
    assert "fix NOT applied: dagster 1.14.0" in caplog.text


def test_a_run_waiting_for_a_pool_slot_uses_no_cpu(tmp_path):
    home = prepare_dagster_home(tmp_path / "dagster_home")
    (tmp_path / "child.py").write_text(CHILD)
    with DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, HOLDER_RUN_ID, "holder_step").is_claimed

        out, err = tmp_path / "child.out", tmp_path / "child.err"
        with out.open("w") as stdout, err.open("w") as stderr:
            child = subprocess.Popen(
                [sys.executable, str(tmp_path / "child.py")],
                cwd=REPO_ROOT,
                env={**os.environ, "DAGSTER_HOME": str(home)},
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        try:
            _wait_until(
                lambda: storage.get_concurrency_info(WAREHOUSE_POOL).pending_step_count > 0
                or child.poll() is not None,
                timeout=60,
                what="the child's step to queue for the warehouse slot",
            )
            assert child.poll() is None, f"child exited early:\n{err.read_text()[-3000:]}"
            time.sleep(0.5)  # past the first claim attempt

            cpu_before, wall_before = _cpu_seconds(child.pid), time.monotonic()
            time.sleep(WAIT_SECONDS)
            cpu_after, wall_after = _cpu_seconds(child.pid), time.monotonic()
            share = (cpu_after - cpu_before) / (wall_after - wall_before)
            assert storage.get_concurrency_info(WAREHOUSE_POOL).pending_step_count == 1  # still waiting
            assert share < MAX_CPU_SHARE, f"waiting run used {share:.1%} of a core"

            storage.free_concurrency_slots_for_run(HOLDER_RUN_ID)
            assert child.wait(timeout=60) == 0, err.read_text()[-3000:]
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

        run = instance.get_run_by_id(out.read_text().split()[-1])
        assert run is not None and run.status == DagsterRunStatus.SUCCESS
