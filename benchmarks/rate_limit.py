"""Benchmark 4: the scrapers' HTTP client against a rate-limited server.

    python -m benchmarks.rate_limit --budget 8 --latency 0.05 --requests 240 --repeat 3

The offline source runs standalone (`serve_offline(rate_limit_per_second=budget,
base_latency=latency)`: a token bucket, burst = budget, 429 + Retry-After beyond it). The
project's client (`NbaApiClient(mode="live")` pointed at it, `requests_per_second=budget`) runs
the real scraper request plans (`scrapers.fetch.fetch_date`, per-game box score endpoints over
consecutive 2023-24 dates) in three set-ups:
- `1 step`: one scraper step (one thread);
- `2 steps, 1 process`: two scraper steps in one run process (threads sharing the client's
  pacer);
- `2 processes`: two runs at once (the instance's `nba_api` pool allows 2 scraper steps), each
  process with its own client, sharing one pacing file as the project's resources do
  (`$NBA_BACKFILL_HOME/nba_api.pacing`), against the same server budget.
Reported: achieved request rate at the server / budget (target ≥ 95 %) and 429s the server had
to send (target 0). Then Retry-After: the server answers the first request with 429 +
`Retry-After: N`; the measured gap before the client's retry must be ≥ N.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, machine, markdown_table, median, verdict, write_results

SPECS = ("boxscoresummaryv2", "boxscoretraditionalv3", "boxscoreadvancedv3", "boxscoremiscv3",
         "boxscorescoringv3", "boxscoreusagev3", "boxscoredefensivev2", "boxscoreplayertrackv3")
FIRST_DAY = "2023-11-01"


def _client(base: str, budget: float, pacing_file: str | None = None):
    from nba_backfill.resources.nba_api import NbaApiClient

    return NbaApiClient(mode="live", stats_base_url=f"{base}/stats",
                        cdn_base_url=f"{base}/static/json/liveData", bdl_base_url=f"{base}/v1",
                        requests_per_second=budget, rate_limit_file=pacing_file)


def _plan(client, requests: int, offset: int = 0) -> list[tuple[Any, str, list]]:
    """(spec, day, games) items whose per-game requests add up to `requests` (first one fetches
    the season schedule through the same client)."""
    from nba_backfill.assets.scrapers.fetch import FetchStats, fetch_season_schedule
    from nba_backfill.assets.scrapers.schedule import scraped_games, slice_for_date
    from nba_backfill.assets.scrapers.specs import SCRAPER_BY_NAME, SCRAPERS
    from nba_backfill.partitions import DAILY_PARTITIONS

    by_endpoint = {s.endpoint: s for s in SCRAPERS}
    schedule = fetch_season_schedule(client, SCRAPER_BY_NAME["nbac_schedule"], "2023-24", FIRST_DAY,
                                     FetchStats())
    keys = DAILY_PARTITIONS.get_partition_keys()
    items, planned, i = [], 0, keys.index(FIRST_DAY) + offset
    while planned < requests:
        day = keys[i]
        games = scraped_games(slice_for_date(schedule, day))
        for endpoint in SPECS:
            if planned >= requests:
                break
            take = games[: requests - planned]
            items.append((by_endpoint[endpoint], day, take))
            planned += len(take)
        i += 1
    return items


def _run_plan(client, items) -> int:
    from nba_backfill.assets.scrapers.fetch import FetchStats, fetch_date

    stats = FetchStats()
    for spec, day, games in items:
        fetch_date(client, spec, day, games, stats)
    return stats.attempts


class _Recorder:
    """Wraps the server's source: (monotonic time, endpoint, status) of every answer."""

    def __init__(self, source):
        self.events: list[tuple[float, str, int]] = []
        self._handle = source.handle
        self._lock = threading.Lock()
        source.handle = self.handle

    def handle(self, request):
        response = self._handle(request)
        with self._lock:
            self.events.append((time.monotonic(), request.url.path, response.status_code))
        return response


def _serve(budget: float, latency: float, faults=None):
    from nba_backfill.source import OfflineNbaSource, serve_offline

    source = OfflineNbaSource(faults=faults or [], rate_limit_per_second=budget, base_latency=latency)
    recorder = _Recorder(source)
    server, _thread, base = serve_offline(source=source)
    return server, base, recorder


def _rate(events, t0: float) -> dict[str, Any]:
    ok = [t for t, path, status in events if t >= t0 and status == 200]
    all_ = [e for e in events if e[0] >= t0]
    span = (max(ok) - min(ok)) if len(ok) > 1 else 0.0
    return {"answers": len(all_), "ok": len(ok), "status_429": sum(1 for e in all_ if e[2] == 429),
            "seconds": round(span, 3),
            "achieved_rps": round((len(ok) - 1) / span, 3) if span > 0 else None}


def scenario(name: str, budget: float, latency: float, requests: int) -> dict[str, Any]:
    server, base, recorder = _serve(budget, latency)
    pacing_file = str(Path(tempfile.mkdtemp(prefix="nba_pacing_")) / "nba_api.pacing")
    try:
        warm = _client(base, budget, pacing_file)
        if name == "2 processes":
            t0 = time.monotonic() + 0.0
            procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.rate_limit", "--worker",
                                       json.dumps({"base": base, "budget": budget, "requests": requests // 2,
                                                   "offset": k * 20, "pacing_file": pacing_file})],
                                      cwd=str(REPO), stdout=subprocess.PIPE, text=True) for k in (0, 1)]
            for p in procs:
                p.wait(timeout=900)
            # workers fetch their own schedule first; count from the first per-game answer on
            t0 = min((t for t, path, _ in recorder.events if "scheduleleaguev2" not in path), default=t0)
        else:
            threads = 1 if name == "1 step" else 2
            plans = [_plan(warm, requests // threads, offset=k * 20) for k in range(threads)]
            time.sleep(1.5)  # let the server's bucket refill after planning
            t0 = time.monotonic()
            workers = [threading.Thread(target=_run_plan, args=(warm, plan)) for plan in plans]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        out = _rate(recorder.events, t0)
    finally:
        server.shutdown()
        server.server_close()
    out["budget"] = budget
    out["ratio"] = round(out["achieved_rps"] / budget, 3) if out["achieved_rps"] else None
    return out


def retry_after(wait: int, latency: float) -> dict[str, Any]:
    from nba_backfill.source import FaultRule

    rule = FaultRule("status", endpoint="boxscoresummaryv2", status=429, retry_after=wait, times=1)
    server, base, recorder = _serve(0, latency, faults=[rule])
    try:
        client = _client(base, 8.0)
        response = client.stats("boxscoresummaryv2", {"GameID": "0022300115"}, context="benchmark")
    finally:
        server.shutdown()
        server.server_close()
    times = [(t, s) for t, path, s in recorder.events if "boxscoresummaryv2" in path]
    assert [s for _, s in times] == [429, 200], times
    gap = times[1][0] - times[0][0]
    return {"retry_after": wait, "measured_gap_seconds": round(gap, 3), "attempts": response.attempts,
            "waited_as_told": gap >= wait}


def _worker(spec_json: str) -> None:
    spec = json.loads(spec_json)
    client = _client(spec["base"], spec["budget"], spec["pacing_file"])
    plan = _plan(client, spec["requests"], offset=spec["offset"])
    print(_run_plan(client, plan))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rate_limit",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=None,
                        help="requests/second of the server and the client (default: the client's default)")
    parser.add_argument("--latency", type=float, default=0.05, help="server base latency, seconds")
    parser.add_argument("--requests", type=int, default=240, help="requests per set-up")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--retry-after", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return 0
    from nba_backfill.resources.nba_api import NbaApiClient

    budget = args.budget or NbaApiClient().requests_per_second
    info = machine()
    results: dict[str, list] = {}
    for name in ("1 step", "2 steps, 1 process", "2 processes"):
        results[name] = [scenario(name, budget, args.latency, args.requests) for _ in range(args.repeat)]
        print(f"{name}: {results[name]}", flush=True)
    retries = [retry_after(args.retry_after, args.latency) for _ in range(args.repeat)]
    rows = []
    for name, runs in results.items():
        ratio = median(r["ratio"] for r in runs)
        c429 = median(r["status_429"] for r in runs)
        rows.append((name, budget, median(r["achieved_rps"] for r in runs), ratio,
                     verdict(ratio, 0.95, smaller_is_better=False), c429, verdict(c429, 0)))
    payload = {"benchmark": "rate_limit", "budget": budget, "latency": args.latency,
               "requests": args.requests, "repeat": args.repeat, "machine": info,
               "scenarios": results, "retry_after": retries}
    path = write_results("rate_limit", payload)
    print(markdown_table(["set-up", "budget (req/s)", "achieved (req/s)", "achieved / budget",
                          "≥ 95 %", "429s sent", "zero 429s"], rows))
    print()
    print(markdown_table(["Retry-After (s)", "measured gap (median s)", "waited as told"],
                         [(args.retry_after, median(r["measured_gap_seconds"] for r in retries),
                           all(r["waited_as_told"] for r in retries))]))
    print(f"\nresults: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
