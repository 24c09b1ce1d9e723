"""Shared benchmark plumbing: ranges, machine facts, process-tree RSS, results files, tables."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


# --- ranges ------------------------------------------------------------------------------------


def parse_seasons(text: str) -> list[str]:
    """"2020-21..2024-25" -> every season label between (inclusive); "2023-24" -> one;
    "2021-22,2023-24" -> those. Unknown labels raise UnknownSeasonError."""
    from nba_backfill.seasons import SEASONS, season_by_label

    labels: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if ".." in part:
            first, last = (season_by_label(p.strip()) for p in part.split("..", 1))
            order = [s.label for s in SEASONS]
            lo, hi = order.index(first.label), order.index(last.label)
            if hi < lo:
                raise ValueError(f"--seasons {text!r}: {first.label} is after {last.label}")
            labels.extend(order[lo : hi + 1])
        else:
            labels.append(season_by_label(part).label)
    return sorted(set(labels), key=labels.index)


def season_ranges(labels: Sequence[str]) -> list[tuple[str, str]]:
    """One (first key, last key) range per season (partition keys of the season's in-season days)."""
    from nba_backfill.partitions import season_keys
    from nba_backfill.seasons import season_by_label

    out = []
    for label in labels:
        keys = season_keys(season_by_label(label))
        out.append((keys[0], keys[-1]))
    return out


def keys_of_ranges(ranges: Iterable[tuple[str, str]]) -> list[str]:
    from nba_backfill.partitions import partition_keys_between

    keys: list[str] = []
    for first, last in ranges:
        keys.extend(partition_keys_between(first, last))
    return keys


# --- machine -----------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine() -> dict[str, Any]:
    """What the numbers were measured on (recorded in every results file)."""
    import dagster
    import duckdb
    import pandas

    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _mem_total_gb(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "dagster": dagster.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "git": _git_commit(),
    }


# --- process-tree memory -----------------------------------------------------------------------


def tree_pids(root: int) -> list[int]:
    from nba_backfill_tests.dagster_harness import descendants

    return [root, *descendants(root)]


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


ROLES = (  # (substring of the command line, role), first match wins
    ("webserver", "webserver"),  # its flags mention code servers
    ("execute_step", "step workers"),
    ("execute_run", "run workers"),
    ("spawn_main", "run workers"),  # the code server starts each run in a spawned process
    ("api grpc", "code servers"),
    ("code-server", "code servers"),
    ("_daemon", "daemon"),
    ("dagster-daemon", "daemon"),
    ("dagster dev", "dagster dev"),
)


def role_of(pid: int) -> str:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    return next((role for part, role in ROLES if part in cmdline), "other")


class TreeRss:
    """Samples the summed RSS of `roots` and all their descendants every `interval` seconds
    (a background thread); `peak` is the largest sum seen, `peak_by_role` its split by process
    role (webserver, daemon, code servers, run workers, ...). Roots may be added while running."""

    def __init__(self, *roots: int, interval: float = 0.5):
        self.roots = list(roots)
        self.interval = interval
        self.peak = 0
        self.peak_by_role: dict[str, float] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-rss", daemon=True)

    def sample(self) -> int:
        pids: set[int] = set()
        for root in self.roots:
            pids.update(tree_pids(root))
        sizes = {p: rss_bytes(p) for p in pids}
        total = sum(sizes.values())
        if total > self.peak:
            self.peak = total
            by_role: dict[str, float] = {}
            for pid, size in sizes.items():
                role = role_of(pid)
                by_role[role] = by_role.get(role, 0) + round(size / 1024 / 1024, 1)
            self.peak_by_role = {role: round(mb, 1) for role, mb in sorted(by_role.items())}
        self.samples += 1
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 1024 / 1024, 1)


# --- results -----------------------------------------------------------------------------------


def median(values: Iterable[float | int | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 3) if vals else None


def write_results(name: str, payload: Mapping[str, Any], path: Path | None = None) -> Path:
    """benchmarks/results/<name>-<UTC timestamp>.json (small, commit-able); pass the returned
    path back to rewrite the same file as more repeats finish."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    if path is None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS / f"{name}-{stamp}.json"
    data = dict(payload)
    data["machine"] = dict(data.get("machine") or machine())
    data["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    return path


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(value: float | None, target: float, smaller_is_better: bool = True) -> str:
    if value is None:
        return "not measured"
    ok = value <= target if smaller_is_better else value >= target
    return "met" if ok else "NOT met"


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = round(time.perf_counter() - self.start, 3)
