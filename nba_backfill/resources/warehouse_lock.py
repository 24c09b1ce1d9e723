"""Opening the DuckDB warehouse when another process holds its lock.

DuckDB lets one process write a database file, and a writer cannot open a file that another
process has open, even read-only (a notebook, a BI tool, the duckdb CLI). The connect then raises
`duckdb.IOException`:

    IO Error: Could not set lock on file "<path>": Conflicting lock is held in <program> (PID <n>).

`connect()` retries exactly that error with exponential backoff: `initial_wait_seconds`, doubled
per attempt, each wait at most `MAX_WAIT_SECONDS`, for at most `timeout_seconds` in total. It logs
every wait with the holder, so the run's log shows why the step is waiting. After the budget it
raises `WarehouseLockedError`, which names the file and the holder. Other errors are raised at
once. The IO manager and the query resource in `warehouse.py` both connect through it. Their
`lock_timeout_seconds` and `lock_retry_initial_seconds` fields set the two numbers (docs/warehouse.md).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import duckdb

DEFAULT_LOCK_TIMEOUT_SECONDS = 90.0
"""Total wait for a locked file before the step (or query) fails."""
DEFAULT_LOCK_RETRY_INITIAL_SECONDS = 0.5
MAX_WAIT_SECONDS = 15.0
"""Longest single wait between two attempts."""

_HOLDER = re.compile(
    r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+))?"
)

log = logging.getLogger(__name__)


class WarehouseLockedError(RuntimeError):
    """The warehouse file stayed locked by another process for the whole allowed wait."""

    def __init__(self, database: str, holder: str, pid: int | None, waited_seconds: float):
        self.database = database
        self.holder = holder
        self.pid = pid
        self.waited_seconds = waited_seconds
        super().__init__(
            f"warehouse {database} is locked by {holder}: still locked after waiting "
            f"{waited_seconds:.1f} s. DuckDB allows one process to open the file while it is being "
            "written: close that connection (or query a copy of the file, docs/warehouse.md), then "
            "re-run; lock_timeout_seconds on the resource sets the wait."
        )


def lock_holder(error: BaseException) -> tuple[str, int | None] | None:
    """`("<program> (PID n)", n)` when `error` is DuckDB's lock conflict, else None."""
    if not isinstance(error, duckdb.IOException):
        return None
    match = _HOLDER.search(str(error))
    if match is None:
        return ("another process", None) if "Could not set lock on file" in str(error) else None
    holder = f"{match['program']} (PID {match['pid']})"
    if match["user"]:
        holder += f" of user {match['user']}"
    return holder, int(match["pid"])


def connect(
    database: str,
    *,
    read_only: bool = False,
    config: Mapping[str, Any] | None = None,
    timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    initial_wait_seconds: float = DEFAULT_LOCK_RETRY_INITIAL_SECONDS,
    logger: logging.Logger | Any | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, waiting with backoff while another process holds the file's lock."""
    logger = logger or log
    started = time.monotonic()
    wait = max(initial_wait_seconds, 0.01)
    attempt = 1
    while True:
        try:
            return duckdb.connect(database, read_only=read_only, config=dict(config or {}))
        except duckdb.IOException as error:
            found = lock_holder(error)
            if found is None:
                raise
            holder, pid = found
            waited = time.monotonic() - started
            remaining = timeout_seconds - waited
            if remaining <= 0:
                locked = WarehouseLockedError(database, holder, pid, waited)
                logger.error(str(locked))
                raise locked from error
            pause = min(wait, remaining, MAX_WAIT_SECONDS)
            logger.warning(
                f"warehouse {database} is locked by {holder}; attempt {attempt} failed, retrying in "
                f"{pause:.1f} s (waited {waited:.1f} of {timeout_seconds:.0f} s)"
            )
            sleep(pause)
            wait *= 2
            attempt += 1
