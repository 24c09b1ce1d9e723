"""How often the backfill daemon looks at a running backfill: 10 s instead of Dagster's 30 s.

Dagster's backfill daemon evaluates every backfill, launches the runs whose parents are done,
then sleeps `dagster._daemon.controller.DEFAULT_DAEMON_INTERVAL_SECONDS` (30 s, a module
constant read at each loop; no instance setting exists). A table runs once the tables it reads
are done, in its own run stage (`partitions.table_backfill_policy`: a table never shares a run with
a table it reads, so a bad date fails only what reads it). A season's backfill has about ten
stages one after the other on its critical path, and each waits for the next tick: 15 s on
average at 30 s. At 10 s the wait is 5 s; one iteration over a season-long backfill costs well
under a second, so the daemon stays idle most of the time.

Applied by `nba_backfill.storage` — the event log class every process of a local instance loads
from `dagster.yaml`, the daemon included (the daemon does not load the code location). The same
constant is the automation daemon's default minimum interval; `dagster_local.yaml` sets that one
explicitly (`auto_materialize: minimum_interval_seconds: 30`) so it does not change.
"""

from __future__ import annotations

BACKFILL_TICK_SECONDS = 10


def apply_backfill_tick(seconds: int = BACKFILL_TICK_SECONDS) -> None:
    from nba_backfill.compat import daemon_controller

    daemon_controller.DEFAULT_DAEMON_INTERVAL_SECONDS = seconds
