"""Request pacing (`resources.pacing`): one budget across threads and processes.

The two-process cases run the real client in two Python processes against the offline source
served on 127.0.0.1 with a token-bucket budget (429 beyond it), as two scraper runs would.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nba_backfill.resources.pacing import MAX_AHEAD_SECONDS, RequestPacer, pacer
from nba_backfill.source import serve_offline

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import sys, time
from nba_backfill_tests.test_nba_api import DATE_PARAMS, live_client
base, state_file, start, n = sys.argv[1:]
client = live_client(base, requests_per_second=20, rate_limit_file=state_file or None,
                     max_attempts=10, backoff_max_seconds=0.5)
time.sleep(max(0.0, float(start) - time.time()))
for _ in range(int(n)):
    client.stats("leaguegamelog", DATE_PARAMS)
"""


def test_slots_are_one_interval_apart_and_sleep_overshoot_does_not_accumulate():
    p = RequestPacer(50)
    started = time.time()
    for _ in range(26):
        p.acquire()
    elapsed = time.time() - started
    # 26 slots at 50/s: the first at once, the last 25 intervals (0.5 s) later; the bound above
    # only says the pacer does not stall (it is not a speed target)
    assert 0.48 <= elapsed < 5


def test_threads_of_one_process_share_the_budget():
    p = pacer(40.0)  # process-wide pacer of this budget
    stamps: list[float] = []
    lock = threading.Lock()

    def work():
        for _ in range(10):
            p.acquire()
            with lock:
                stamps.append(time.time())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    # 40 requests at 40/s from 4 threads: ≥ 39 intervals, never 4 at once
    assert stamps[-1] - stamps[0] >= 39 / 40 - 0.05
    assert pacer(40.0) is p


def test_shared_file_spaces_processes_and_survives_stale_or_torn_state(tmp_path):
    state = tmp_path / "pacing"
    state.write_text("not a number")  # torn/foreign content: start afresh
    assert RequestPacer(10, state).acquire() < 0.05
    state.write_text(repr(time.time() + MAX_AHEAD_SECONDS * 10))  # far-future TAT: reset
    assert RequestPacer(10, state).acquire() < 0.05
    # a slot reserved by another holder of the file is honoured
    first, second = RequestPacer(5, state), RequestPacer(5, state)
    first.acquire()
    first.acquire()
    assert second.acquire() > 0.1


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match="requests_per_second must be > 0"):
        RequestPacer(0)


def _two_processes(base: str, state_files: tuple[str, str], n: int) -> float:
    start = time.time() + 3.0  # both processes imported and waiting before the first request
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, base, f, repr(start), str(n)], cwd=ROOT)
        for f in state_files
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    return time.time() - start


@pytest.fixture
def rate_limited_server():
    srv, _thread, base = serve_offline(rate_limit_per_second=20)
    yield srv, base
    srv.shutdown()
    srv.server_close()


def test_two_processes_with_one_pacing_file_stay_inside_the_servers_budget(rate_limited_server, tmp_path):
    srv, base = rate_limited_server
    shared = str(tmp_path / "pacing")
    elapsed = _two_processes(base, (shared, shared), 30)
    assert srv.source.stats.get("429", 0) == 0
    assert elapsed >= 59 / 20 - 0.1  # 60 requests at one 20/s budget


def test_two_processes_with_separate_budgets_overrun_the_server(rate_limited_server, tmp_path):
    """The control: the same load paced per process (2 × 20/s) makes the server answer 429."""
    srv, base = rate_limited_server
    _two_processes(base, (str(tmp_path / "a"), str(tmp_path / "b")), 60)
    assert srv.source.stats.get("429", 0) > 0
