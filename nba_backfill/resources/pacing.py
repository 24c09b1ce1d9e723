"""Request pacing for the NBA client: one request budget shared by every thread and process.

The scheme is GCRA ("virtual scheduling"): the budget `requests_per_second` gives an interval
`1 / rps`; the shared state is the theoretical arrival time (TAT) of the next free slot. A
request takes slot `max(now, TAT)`, moves TAT one interval on, and sleeps until its slot. Because
slots are computed from TAT, not from when the sleeping thread wakes up, sleep overshoot never
accumulates: a client that always has work achieves the budget, and never more than the budget.

With `state_file` the TAT lives in a small file guarded by `fcntl.flock`, so every run worker of
the instance (two scraper runs at once, `nba_api` pool = 2) draws from the same budget instead of
one budget each. Without it the TAT is process-wide, in memory. Locking is per acquire (open,
flock, read, write, close: tens of microseconds), far below any budget a remote API grants.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

# A TAT further ahead than this is stale (clock change, a file left by a much slower budget):
# it is reset instead of honoured, so a forgotten file never stalls a run for hours.
MAX_AHEAD_SECONDS = 300.0


class RequestPacer:
    """Hands out request slots at most `requests_per_second` apart, across threads/processes."""

    def __init__(self, requests_per_second: float, state_file: str | os.PathLike | None = None):
        if requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be > 0, got {requests_per_second}")
        self.interval = 1.0 / requests_per_second
        self.state_file = Path(state_file) if state_file else None
        self._lock = threading.Lock()
        self._tat = 0.0
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)

    def _reserve(self, now: float) -> float:
        """Take the next slot (wall-clock seconds) and move the shared TAT past it."""
        if self.state_file is None:
            tat = self._tat
            slot = now if tat < now or tat > now + MAX_AHEAD_SECONDS else tat
            self._tat = slot + self.interval
            return slot
        fd = os.open(self.state_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 64)
            try:
                tat = float(raw.decode() or 0.0)
            except ValueError:  # a torn or foreign file: start afresh
                tat = 0.0
            slot = now if tat < now or tat > now + MAX_AHEAD_SECONDS else tat
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, repr(slot + self.interval).encode())
            return slot
        finally:
            os.close(fd)  # closing releases the flock

    def acquire(self) -> float:
        """Block until this caller's slot; returns the seconds waited."""
        with self._lock:
            slot = self._reserve(time.time())
        wait = slot - time.time()
        if wait > 0:
            time.sleep(wait)
            return wait
        return 0.0


_PACERS: dict[tuple[float, str | None], RequestPacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer(requests_per_second: float, state_file: str | None = None) -> RequestPacer:
    """The process-wide pacer of one budget (and state file): every client with it shares it."""
    key = (float(requests_per_second), str(Path(state_file).resolve()) if state_file else None)
    with _PACERS_LOCK:
        if key not in _PACERS:
            _PACERS[key] = RequestPacer(requests_per_second, state_file)
        return _PACERS[key]
