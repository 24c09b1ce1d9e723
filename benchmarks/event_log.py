"""Event-log write cost: Dagster's stock SQLite event log vs `PooledSqliteEventLogStorage`.

    python -m benchmarks.event_log --events 600 --repeat 3

Writes the events a ranged raw-table step writes — per-partition check evaluations and
materializations, one run shard plus the index — into a fresh storage of each class, through
`DagsterInstance.store_event` exactly as a run worker does (no batching for check evaluations:
Dagster cannot batch them). Reported: milliseconds per event, median of the repeats.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO, machine, markdown_table, median, write_results


def _entries(n: int, run_id: str):
    from dagster import AssetCheckEvaluation, AssetKey, AssetMaterialization
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry

    key = AssetKey(["nba_raw", "bench_table"])
    for i in range(n):
        day = f"2024-{11 + (i // 28) % 2:02d}-{(i % 28) + 1:02d}"
        if i % 6 == 0:  # one materialization per ~5 check evaluations, as in a raw step
            data = StepMaterializationData(AssetMaterialization(asset_key=key, partition=day))
            kind = DagsterEventType.ASSET_MATERIALIZATION
        else:
            data = AssetCheckEvaluation(asset_key=key, check_name=f"check_{i % 6}", passed=True,
                                        metadata={"rows": i}, partition=day)
            kind = DagsterEventType.ASSET_CHECK_EVALUATION
        event = DagsterEvent(kind.value, "bench_job", event_specific_data=data)
        yield EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id,
                            timestamp=time.time(), dagster_event=event, job_name="bench_job")


def measure(cls_name: str, n: int) -> float:
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from nba_backfill.storage import PooledSqliteEventLogStorage

    cls = {"stock": SqliteEventLogStorage, "pooled": PooledSqliteEventLogStorage}[cls_name]
    with tempfile.TemporaryDirectory() as tmp:
        storage = cls(str(Path(tmp) / "runs"))
        entries = list(_entries(n, "b" * 36))
        started = time.perf_counter()
        for entry in entries:
            storage.store_event(entry)
        seconds = time.perf_counter() - started
        storage.dispose()
    return round(1000 * seconds / n, 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.event_log",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    info = machine()
    runs = {name: [] for name in ("stock", "pooled")}
    for _ in range(args.repeat):
        for name in runs:  # interleaved, so load drifts hit both classes alike
            runs[name].append(measure(name, args.events))
    meds = {name: median(values) for name, values in runs.items()}
    payload = {"benchmark": "event_log", "events": args.events, "repeat": args.repeat,
               "machine": info, "ms_per_event": runs, "median_ms_per_event": meds,
               "speedup": round(meds["stock"] / meds["pooled"], 2) if meds["pooled"] else None}
    path = write_results("event_log", payload)
    print(markdown_table(["storage", "ms / event (median)", "repeats"],
                         [(name, meds[name], runs[name]) for name in runs]))
    print(f"\nspeed-up: {payload['speedup']}x\nresults: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
