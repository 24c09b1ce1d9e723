"""Waiting for a pool slot without spinning: a work-around for Dagster's claim loop.

Upstream bug (dagster 1.13.27, `dagster/_core/execution/plan/instance_concurrency_context.py`).
A step of a pooled asset (`pool="warehouse"`, `concurrency: pools: granularity: op`) asks
`InstanceConcurrencyContext.claim()` for a slot. When the pool is full, `claim()` records when
the step may ask again (1 s, then growing by 1.1x up to 15 s) and returns False. The in-process
executor (`execute_plan.inner_plan_execution_iterator`) then calls
`ActiveExecution.sleep_til_ready()`. That method sleeps `min(...)` of the waits it is given, and one
of them comes from `interval_to_next_pending_claim_check()`:

    return min([0, *[ready_at - now for ready_at in self._pending_timeouts.values()]])

The `0` inside `min` caps the result at 0 instead of flooring it, so the method never returns a
positive number, `sleep_til_ready()` never sleeps, and the loop asks again at once. Each of these
calls of `claim()` returns False without touching the database (the recorded time has not come
yet), so the loop costs no I/O and only spins. Measured here: a run waiting for the `warehouse`
slot used 99.8 % of a core. The database is still polled on the intended 1-15 s schedule.
(A 2024 pull request, dagster-io/dagster#20367 "fix pending claim check sleep intervals", was
closed without merging.)

The fix. `apply_claim_wait_fix()` replaces that one method with the intended computation: the
time until the earliest pending step may ask again, never below 0. Nothing else changes: when a
slot is claimed, in what order, how long a step waits and how often the database is polled stay
upstream's. A waiting run now sleeps between checks (measured: 0.0-0.4 % of a core, see
docs/concurrency.md). `nba_backfill.definitions` calls it, so every process that loads the code
location gets it: run workers, `dagster dev`, tests and benchmarks.

Scope. The fix covers the in-process executor, the only executor of this project (the
`Definitions` default and the `backfill` job both set `in_process_executor`;
`nba_backfill_tests/test_concurrency.py` asserts that). Dagster's multiprocess executor has a
second spin that this does not fix: its orchestration loop (`MultiprocessExecutor.execute`) never
calls `sleep_til_ready()`, so it loops without sleeping while a step waits for a slot and no other
step is running.

When to remove it. The fix is applied only on the versions in `AFFECTED_DAGSTER_VERSIONS` (read
and measured). On any other version it does nothing and logs a warning saying so. After a Dagster
upgrade, run `nba_backfill_tests/test_concurrency.py`, where the fix is then not applied. If
`test_a_run_waiting_for_a_pool_slot_uses_no_cpu` passes, upstream fixed the bug: delete this
module, its call in `definitions.py`, its line in `compat.py` and its tests. If it fails, read the
upstream method again. If the bug is unchanged, add the version here.
"""

from __future__ import annotations

import logging
import time

import dagster

from nba_backfill.compat import InstanceConcurrencyContext

log = logging.getLogger(__name__)

AFFECTED_DAGSTER_VERSIONS = frozenset({"1.13.27"})
"""Dagster versions whose `interval_to_next_pending_claim_check` returns `min([0, ...])`."""


def interval_to_next_pending_claim_check(self: InstanceConcurrencyContext) -> float:
    """Seconds until the earliest pending claim may be checked again (0 when one is due)."""
    if not self._pending_claims:
        return 0.0
    timeouts = self._pending_timeouts
    ready_at = [timeouts[key] for key in self._pending_claims if key in timeouts]
    if not ready_at:
        return 0.0
    return max(0.0, min(ready_at) - time.time())


def claim_wait_fix_applied() -> bool:
    """Whether this process's `InstanceConcurrencyContext` uses the fixed wait."""
    current = InstanceConcurrencyContext.interval_to_next_pending_claim_check
    return current is interval_to_next_pending_claim_check


def apply_claim_wait_fix(dagster_version: str = dagster.__version__) -> bool:
    """Patch `InstanceConcurrencyContext` on the affected Dagster versions; True if it is patched.

    Idempotent. On other versions nothing is patched, and a warning names the version and what to
    check (see the module docstring).
    """
    if claim_wait_fix_applied():
        return True
    if dagster_version not in AFFECTED_DAGSTER_VERSIONS:
        log.warning(
            "nba_backfill.concurrency: pool-slot wait fix NOT applied: dagster %s is not one of the "
            "versions known to spin while waiting for a pool slot (%s). Run "
            "nba_backfill_tests/test_concurrency.py: if it passes, delete the work-around.",
            dagster_version,
            ", ".join(sorted(AFFECTED_DAGSTER_VERSIONS)),
        )
        return False
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = interval_to_next_pending_claim_check
    log.debug("nba_backfill.concurrency: pool-slot wait fix applied (dagster %s)", dagster_version)
    return True
