"""Benchmark 1+2: full historical backfill (Phases 1–4, all checks) through the daemon, with
its two floors measured in the same run, and (with --storage) on SQLite or PostgreSQL.

    python -m benchmarks.full_backfill --seasons 2020-21..2024-25 --repeat 3
    python -m benchmarks.full_backfill --seasons 2024-25 --repeat 3 --location in_process
    python -m benchmarks.full_backfill --from 2024-10-22 --to 2024-10-28 --repeat 1   # smoke

Per repeat, each on a fresh instance / warehouse / lake:
- full: `dagster dev` (webserver + daemon, packaged dagster.yaml, offline source) on the code
  location (`shipped` = nba_backfill.definitions as users run it; `in_process` = the same with
  the in-process executor), one asset backfill launched with `nba-backfill backfill`;
- floor a: the same transformations as a plain pandas script (`benchmarks.pandas_floor`);
- floor b: Dagster's bookkeeping floor — no-op assets with the same keys, steps, partitions,
  policies, pools and checks (`benchmarks.locations`), same daemon path, same executor.
Reported: wall, runs, asset-partitions materialized, peak RSS of the dagster dev process tree,
floors, ratio full / (a + b). Targets (issue 9): ≤ 600 s and ≤ 1.5 GB for the five seasons,
ratio ≤ 1.5.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import (
    keys_of_ranges, machine, markdown_table, median, parse_seasons, season_ranges, verdict,
    write_results,
)
from benchmarks.daemon import measure_backfill
from benchmarks.pandas_floor import run_floor

NOOP_FOR = {"shipped": "noop", "in_process": "noop_in_process"}


def add_range_args(parser: argparse.ArgumentParser, default_seasons: str) -> None:
    parser.add_argument("--seasons", default=default_seasons,
                        help=f"season labels: A..B, A or A,B (default {default_seasons})")
    parser.add_argument("--from", dest="start", help="first date (overrides --seasons; smoke runs)")
    parser.add_argument("--to", dest="end", help="last date (with --from)")


def resolve_range(args) -> tuple[str, str, str]:
    """(first key, last key, label) from --from/--to or --seasons (one contiguous range: the
    partitions exclude the off-season, so consecutive seasons are one partition range)."""
    if args.start or args.end:
        if not (args.start and args.end):
            raise SystemExit("--from and --to go together")
        keys = keys_of_ranges([(args.start, args.end)])
        return keys[0], keys[-1], f"{keys[0]}..{keys[-1]}"
    labels = parse_seasons(args.seasons)
    ranges = season_ranges(labels)
    label = labels[0] if len(labels) == 1 else f"{labels[0]}..{labels[-1]} ({len(labels)} seasons)"
    return ranges[0][0], ranges[-1][1], label


def one_repeat(workdir: Path, location: str, storage: str, first: str, last: str,
               floors: bool) -> dict:
    full = measure_backfill(workdir / "full", location=location, first=first, last=last,
                            storage=storage)
    out = {"full": full.as_dict()}
    if floors:
        keys = keys_of_ranges([(first, last)])
        try:
            out["floor_a_pandas"] = run_floor(workdir / "floor_a", keys)
        except Exception as exc:  # noqa: BLE001 - recorded; the other measurements stand
            out["floor_a_error"] = f"{type(exc).__name__}: {exc}"
        noop = measure_backfill(workdir / "floor_b", location=NOOP_FOR[location], first=first,
                                last=last, storage=storage)
        out["floor_b_noop"] = noop.as_dict()
        if "floor_a_pandas" in out:
            denominator = out["floor_a_pandas"]["seconds"] + noop.wall_seconds
            out["ratio_full_over_floors"] = round(full.wall_seconds / denominator, 3)
            out["rows_equal_floor_a"] = _rows_equal(full.table_rows, out["floor_a_pandas"]["table_rows"])
    return out


def _rows_equal(full: dict, floor: dict) -> bool | dict:
    """True when every table has the same row count in both, else the differing tables."""
    diff = {t: (full.get(t), floor.get(t)) for t in sorted(set(full) | set(floor))
            if full.get(t) != floor.get(t)}
    return True if not diff else diff


def summarize(repeats: list[dict]) -> dict:
    def col(path):
        vals = []
        for r in repeats:
            v = r
            for p in path:
                v = v.get(p) if isinstance(v, dict) else None
            vals.append(v)
        return median(vals)

    return {
        "wall_seconds": col(["full", "wall_seconds"]),
        "runs": col(["full", "runs"]),
        "asset_partitions_materialized": col(["full", "asset_partitions_materialized"]),
        "asset_partitions_targeted": col(["full", "asset_partitions_targeted"]),
        "asset_partitions_failed": col(["full", "asset_partitions_failed"]),
        "failed_runs": median(r["full"]["runs_by_status"].get("FAILURE", 0) for r in repeats),
        "peak_rss_mb": col(["full", "peak_rss_mb"]),
        "floor_a_seconds": col(["floor_a_pandas", "seconds"]),
        "floor_b_seconds": col(["floor_b_noop", "wall_seconds"]),
        "floor_b_runs": col(["floor_b_noop", "runs"]),
        "ratio_full_over_floors": col(["ratio_full_over_floors"]),
        "startup_seconds": col(["full", "startup_seconds"]),
    }


def render(label: str, location: str, storage: str, med: dict, n: int, five_seasons: bool) -> str:
    rows = [
        ("wall (s)", med["wall_seconds"], "≤ 600 (5 seasons)",
         verdict(med["wall_seconds"], 600) if five_seasons else "n/a (subset)"),
        ("runs created", med["runs"], "", ""),
        ("failed runs", med["failed_runs"], "0", verdict(med["failed_runs"], 0)),
        ("asset-partitions targeted", med["asset_partitions_targeted"], "", ""),
        ("asset-partitions materialized", med["asset_partitions_materialized"], "= targeted",
         verdict((med["asset_partitions_targeted"] or 0) - (med["asset_partitions_materialized"] or 0), 0)),
        ("peak RSS, process tree (MB)", med["peak_rss_mb"], "≤ 1536",
         verdict(med["peak_rss_mb"], 1536)),
        ("floor a: pandas script (s)", med["floor_a_seconds"], "", ""),
        ("floor b: no-op assets via daemon (s)", med["floor_b_seconds"], "", ""),
        ("ratio full / (a + b)", med["ratio_full_over_floors"], "≤ 1.5",
         verdict(med["ratio_full_over_floors"], 1.5)),
        ("dagster dev start-up (s, not in wall)", med["startup_seconds"], "", ""),
    ]
    title = f"Full backfill {label}, location `{location}`, {storage}, median of {n}"
    return f"**{title}**\n\n" + markdown_table(["metric", "value", "target", "verdict"], rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.full_backfill",
                                     description=__doc__.split("\n\n")[0])
    add_range_args(parser, "2020-21..2024-25")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--location", choices=sorted({*NOOP_FOR, *NOOP_FOR.values()}),
                        default="shipped",
                        help="code location; `noop`/`noop_in_process` measure floor (b) alone "
                             "(implies --no-floors)")
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--no-floors", action="store_true", help="measure the full backfill only")
    parser.add_argument("--workdir", help="where instances, lakes and warehouses go (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    first, last, label = resolve_range(args)
    floors = not args.no_floors and args.location in NOOP_FOR
    base = Path(args.workdir or tempfile.mkdtemp(prefix="nba_bench_")).absolute()
    repeats: list[dict] = []
    payload = {
        "benchmark": "full_backfill",
        "range": {"first": first, "last": last, "label": label,
                  "partitions": len(keys_of_ranges([(first, last)]))},
        "location": args.location,
        "storage": args.storage,
        "repeat": args.repeat,
        "machine": machine(),
        "medians": {},
        "repeats": repeats,
    }
    path = None
    try:
        for i in range(args.repeat):
            workdir = base / f"repeat_{i + 1}"
            repeats.append(one_repeat(workdir, args.location, args.storage, first, last,
                                      floors=floors))
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
            print(f"repeat {i + 1}/{args.repeat}: full {repeats[-1]['full']['wall_seconds']} s",
                  flush=True)
            payload["medians"] = summarize(repeats)
            path = write_results(f"full_backfill-{args.location}-{args.storage}", payload, path)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    med = summarize(repeats)
    five = label.endswith("(5 seasons)")
    print(render(label, args.location, args.storage, med, args.repeat, five))
    print(f"\nresults: {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
