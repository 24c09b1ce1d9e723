"""Floor (a): the same Phases 1–4 work as one plain Python/pandas script, no Dagster.

It calls the layers' own pure functions over the same dates, in dependency order:
- Phase 1: `scrapers.factory.fetch_one_date` per scraper spec and date (same HTTP client with its
  default request budget, same offline source, same lake layout, `Lake.replace_prefix`); the
  schedule first, then the other scrapers in 2 worker processes (the `nba_api` pool limit: two
  scraper steps at a time, each process with its own client, as in the real backfill);
- Phases 2-4: every table's `TableSpec` through the table-asset core's `run_range` (the asset's
  own path: the layer's compute — lake parse, analytics compute, Phase 4's per-date loop with
  window restriction, bootstrap/skip rules and season-to-date state — then error isolation,
  finish, hashing, the per-date checks and outcomes), without the instance queries.
Tables are written to a DuckDB file (one transaction per table, like a ranged run) and read back
for the next layer, so I/O and dtypes match the IO manager's. What is left out is exactly
Dagster: runs, steps, events, the cross-run guard's instance queries.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pandas as pd


def _scrape_specs(args: tuple[str, list[str], list[str]]) -> dict[str, Any]:
    """Worker: run the named scraper specs over `days` into the lake at `home`."""
    home, names, days = args
    from nba_backfill.assets.scrapers.factory import fetch_one_date
    from nba_backfill.assets.scrapers.fetch import FetchStats
    from nba_backfill.assets.scrapers.specs import SCRAPER_BY_NAME
    from nba_backfill.resources.environment import local_resources

    resources = local_resources(Path(home))
    lake, client = resources["lake"], resources["nba_api"]
    stats = FetchStats()
    started = time.perf_counter()
    for name in names:
        spec = SCRAPER_BY_NAME[name]
        seasons: dict = {}
        for day in days:
            objects, _games, _outcome = fetch_one_date(spec, day, lake, client, stats, seasons)
            prefix = spec.prefix(day)
            lake.replace_prefix(prefix, {prefix + n: body for n, body in objects.items()})
    return {"requests": stats.requests, "attempts": stats.attempts, "bytes": stats.bytes,
            "seconds": time.perf_counter() - started}


class _Tables:
    """DuckDB-backed tables: write a whole range in one transaction, read back as the IO manager would."""

    def __init__(self, database: Path):
        import duckdb

        self.conn = duckdb.connect(str(database))
        self.rows: dict[str, int] = {}

    def write(self, schema: str, table: str, frame: pd.DataFrame, cols) -> None:
        from nba_backfill.assets.tables import duckdb_ddl, column_schema
        from nba_backfill.resources.warehouse import analyse_every_row

        name = f"{schema}.{table}"
        self.conn.begin()
        self.conn.execute(f"create schema if not exists {schema}")
        self.conn.execute(f"drop table if exists {name}")
        self.conn.execute(duckdb_ddl(name, column_schema(cols)))
        if len(frame):
            analyse_every_row(self.conn, frame)
            self.conn.register("frame_view", frame)
            self.conn.execute(f"insert into {name} by name select * from frame_view")
            self.conn.unregister("frame_view")
        self.conn.commit()
        self.rows[name] = len(frame)

    def read(self, schema: str, table: str) -> pd.DataFrame:
        return self.conn.execute(f"select * from {schema}.{table}").df()

    def close(self) -> None:
        self.conn.close()


def _run_layer(tables: _Tables, specs, keys: list[str], **context) -> None:
    """Each table spec through the core's own range run (`run_range`: compute, error isolation,
    finish, checks, outcomes) on plain tables, then written like a ranged run."""
    from types import SimpleNamespace

    from nba_backfill.assets.core import run_range

    for spec in specs:
        frames = {i.name: tables.read(*i.key.path) for i in spec.inputs}
        result = run_range(spec, keys, frames, context=SimpleNamespace(**context))
        tables.write(spec.layer, spec.name, result.frame, list(spec.columns))


def _phase2(tables: _Tables, lake, keys: list[str]) -> None:
    """Raw tables: the lake parse of every date and the data checks."""
    from types import SimpleNamespace

    from nba_backfill.assets.raw.factory import table_spec
    from nba_backfill.assets.raw.specs import RAW_TABLES

    order = sorted(RAW_TABLES, key=lambda s: (s.name != "nbac_schedule", s.name != "nbac_player_boxscore"))
    _run_layer(tables, [table_spec(s) for s in order], keys, resources=SimpleNamespace(lake=lake))


class _RangeDone:
    """The instance as the analytics lookback query sees it: every date of the range materialized
    (like Phase 4's `Sources`), so the history windows are judged, not errors of a missing instance."""

    def __init__(self, keys: list[str]):
        self.keys = set(keys)

    def get_materialized_partitions(self, _key) -> set[str]:
        return self.keys


def _phase3(tables: _Tables, keys: list[str]) -> None:
    """Analytics: validation, compute, the per-date checks, with every date of the range done."""
    from nba_backfill.assets.analytics import TABLES
    from nba_backfill.assets.analytics.factory import table_spec

    _run_layer(tables, [table_spec(t) for t in TABLES], keys, instance=_RangeDone(keys))


def _phase4(tables: _Tables, keys: list[str]) -> None:
    """Phase 4: the per-date loop with every upstream date of the range counted as materialized."""
    from dataclasses import replace

    from nba_backfill.assets.precompute import SPECS
    from nba_backfill.assets.precompute.factory import Sources, compute, table_spec

    done = set(keys)
    specs = []
    for spec in SPECS:
        sources = Sources(materialized={i.param: done for i in spec.inputs})
        specs.append(replace(table_spec(spec), compute=lambda rin, spec=spec, sources=sources: compute(spec, rin, sources)))
    _run_layer(tables, specs, keys)


def scrape(home: Path, keys: list[str], scraper_processes: int = 2) -> int:
    """Phase 1 over `keys` into `home`'s lake: the schedule first, then the other scrapers in
    `scraper_processes` workers; returns the number of requests."""
    from nba_backfill.assets.scrapers.specs import SCRAPERS

    first = _scrape_specs((str(home), ["nbac_schedule"], keys))
    others = [n for spec in SCRAPERS for n in spec.names[:1] if n != "nbac_schedule"]
    chunks = [others[i::scraper_processes] for i in range(scraper_processes)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(scraper_processes) as pool:
        parts = pool.map(_scrape_specs, [(str(home), chunk, keys) for chunk in chunks])
    return first["requests"] + sum(p["requests"] for p in parts)


def build_tables(home: Path, keys: list[str], out: dict[str, Any]) -> None:
    """Phases 2–4 over `keys` from `home`'s lake into `home`/warehouse.duckdb (replaced table by
    table); seconds per phase into `out["phase_seconds"]`, rows per table into `out["table_rows"]`."""
    from nba_backfill.resources.environment import local_resources

    tables = _Tables(home / "warehouse.duckdb")
    try:
        lake = local_resources(home)["lake"]
        for label, step in (("2_raw", lambda: _phase2(tables, lake, keys)),
                            ("3_analytics", lambda: _phase3(tables, keys)),
                            ("4_precompute", lambda: _phase4(tables, keys))):
            t = time.perf_counter()
            step()
            out["phase_seconds"][label] = round(time.perf_counter() - t, 3)
        out["table_rows"] = dict(tables.rows)
    finally:
        tables.close()


def run_floor(home: Path, keys: list[str], scraper_processes: int = 2) -> dict[str, Any]:
    """Phases 1–4 over `keys` into `home` (lake + warehouse.duckdb); seconds per phase."""
    home = Path(home).absolute()
    home.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"partitions": len(keys), "phase_seconds": {}}
    t0 = time.perf_counter()
    out["requests"] = scrape(home, keys, scraper_processes)
    out["phase_seconds"]["1_scrapers"] = round(time.perf_counter() - t0, 3)
    build_tables(home, keys, out)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def main(argv=None) -> int:
    """`python -m benchmarks.pandas_floor --seasons 2024-25`: floor (a) alone, results file."""
    import argparse
    import shutil
    import tempfile

    from benchmarks.common import keys_of_ranges, machine, markdown_table, write_results
    from benchmarks.full_backfill import add_range_args, resolve_range

    parser = argparse.ArgumentParser(prog="python -m benchmarks.pandas_floor",
                                     description=__doc__.split("\n\n")[0])
    add_range_args(parser, "2024-25")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    first, last, label = resolve_range(args)
    keys = keys_of_ranges([(first, last)])
    info = machine()
    runs = []
    for _ in range(args.repeat):
        home = Path(tempfile.mkdtemp(prefix="nba_floor_"))
        try:
            runs.append(run_floor(home, keys))
        finally:
            shutil.rmtree(home, ignore_errors=True)
    payload = {"benchmark": "pandas_floor", "range": {"first": first, "last": last, "label": label,
               "partitions": len(keys)}, "repeat": args.repeat, "machine": info, "runs": runs}
    path = write_results("pandas_floor", payload)
    rows = [(i + 1, r["seconds"], *r["phase_seconds"].values(), r["requests"]) for i, r in enumerate(runs)]
    print(markdown_table(["repeat", "total (s)", "1 scrapers", "2 raw", "3 analytics", "4 precompute",
                          "requests"], rows))
    print(f"\nresults: {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
