"""Benchmark 5: the same backfill on SQLite (default) and PostgreSQL instance storage.

    python -m benchmarks.storage --seasons 2020-21..2024-25 --repeat 3
    python -m benchmarks.storage --from 2024-10-22 --to 2024-10-28 --repeat 1 --location in_process

PostgreSQL: Debian's `postgresql` server started by the benchmark (`initdb` + `pg_ctl` on
127.0.0.1, `benchmarks.postgres`), `storage: postgres: postgres_url:
postgresql+psycopg2://...` added to the packaged dagster.yaml; needs the `bench` extra
(dagster-postgres, psycopg2-binary). Everything else as in `benchmarks.full_backfill`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import machine, markdown_table, median, write_results
from benchmarks.daemon import measure_backfill
from benchmarks.full_backfill import add_range_args, resolve_range


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storage", description=__doc__.split("\n\n")[0])
    add_range_args(parser, "2020-21..2024-25")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--location", choices=["shipped", "in_process", "noop", "noop_in_process"],
                        default="shipped")
    parser.add_argument("--workdir")
    args = parser.parse_args(argv)
    first, last, label = resolve_range(args)
    base = Path(args.workdir or tempfile.mkdtemp(prefix="nba_storage_")).absolute()
    payload = {"benchmark": "storage", "range": {"first": first, "last": last, "label": label},
               "location": args.location, "repeat": args.repeat, "machine": machine(), "storage": {}}
    path = None
    for storage in ("postgres", "sqlite"):
        runs = []
        for i in range(args.repeat):
            root = base / f"{storage}_{i + 1}"
            runs.append(measure_backfill(root, location=args.location, first=first, last=last,
                                         storage=storage, count_rows=False).as_dict())
            shutil.rmtree(root, ignore_errors=True)
            payload["storage"].setdefault(storage, {})["runs"] = runs
            path = write_results(f"storage-{args.location}", payload, path)
        payload["storage"][storage] = {
            "runs": runs,
            "wall_seconds": median(r["wall_seconds"] for r in runs),
            "peak_rss_mb": median(r["peak_rss_mb"] for r in runs),
            "asset_partitions_materialized": median(r["asset_partitions_materialized"] for r in runs),
        }
    sq, pg = payload["storage"]["sqlite"]["wall_seconds"], payload["storage"]["postgres"]["wall_seconds"]
    payload["postgres_speedup"] = round(sq / pg, 3) if sq and pg else None
    path = write_results(f"storage-{args.location}", payload, path)
    rows = [(s, d["wall_seconds"], d["asset_partitions_materialized"], d["peak_rss_mb"])
            for s, d in payload["storage"].items()]
    print(f"**{label}, location `{args.location}`, median of {args.repeat}**\n")
    print(markdown_table(["instance storage", "wall (s)", "asset-partitions", "peak RSS (MB)"], rows))
    print(f"\nSQLite / PostgreSQL wall: {payload['postgres_speedup']}")
    print(f"results: {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
