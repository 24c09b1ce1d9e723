"""Table-content checksums of Phases 2–4 over a range: the equality harness for faster transformations.

It builds every table with the pandas floor's machinery (`benchmarks.pandas_floor`: the layers'
own functions, no Dagster) and hashes each table's content:
- the content is every column but `processed_at` and the TIMESTAMP columns (processing times that
  differ between two runs over the same data; see `TableSpec.hashed_columns`);
- each row is its values as DuckDB text (NULL as `\\N`, doubles in shortest round-trip form, so
  one bit of difference shows), rows are sorted, the table checksum is the MD5 of them all;
- a per-column digest (order-independent sum of value hashes) names the columns that differ.

The lake is scraped once into `--home` and reused by later runs over the same dates (Phase 1 is
not what changes; its dates are recorded in `home/scraped.json`). `--compare REF` exits 1 naming
every table whose rows differ from a reference results file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

_SKIP_TYPES = ("TIMESTAMP",)
_SKIP_NAMES = ("processed_at",)


def _content_columns(conn, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]).fetchall()
    return [name for name, kind in rows if name not in _SKIP_NAMES and not kind.upper().startswith(_SKIP_TYPES)]


def table_checksums(database: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """{schema.table: {rows, md5, columns: {column: digest}}} of the content columns of `names`."""
    import duckdb

    conn = duckdb.connect(str(database), read_only=True)
    try:
        out = {}
        for name in names:
            schema, table = name.split(".")
            cols = _content_columns(conn, schema, table)
            text = [f"coalesce(cast(\"{c}\" as varchar), '\\N')" for c in cols]
            row = " || chr(31) || ".join(text)
            count, digest = conn.execute(
                f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
                f"from (select {row} as r from {schema}.{table})").fetchone()
            sums = conn.execute(
                "select " + ", ".join(f"cast(sum(hash({t})) as varchar)" for t in text)
                + f" from {schema}.{table}").fetchone()
            out[name] = {"rows": count, "md5": digest, "columns": dict(zip(cols, sums))}
        return out
    finally:
        conn.close()


def differences(current: dict[str, dict], reference: dict[str, dict]) -> list[str]:
    """One line per table whose content differs, naming the columns whose digests differ."""
    lines = []
    for name in sorted(set(current) | set(reference)):
        a, b = current.get(name), reference.get(name)
        if a is None or b is None:
            lines.append(f"{name}: only in {'reference' if a is None else 'this run'}")
        elif a["md5"] != b["md5"]:
            cols = sorted(c for c in set(a["columns"]) | set(b["columns"])
                          if a["columns"].get(c) != b["columns"].get(c))
            lines.append(f"{name}: rows {b['rows']} -> {a['rows']}; columns differing: {cols or 'none (row pairing)'}")
    return lines


def run(home: Path, keys: list[str]) -> dict[str, Any]:
    """Scrape `keys` into `home` unless already there, rebuild every table, hash them."""
    from benchmarks.pandas_floor import build_tables, scrape

    home = Path(home).absolute()
    home.mkdir(parents=True, exist_ok=True)
    marker = home / "scraped.json"
    out: dict[str, Any] = {"partitions": len(keys), "phase_seconds": {}}
    if not marker.exists() or json.loads(marker.read_text()) != keys:
        t = time.perf_counter()
        out["requests"] = scrape(home, keys)
        out["phase_seconds"]["1_scrapers"] = round(time.perf_counter() - t, 3)
        marker.write_text(json.dumps(keys))
    (home / "warehouse.duckdb").unlink(missing_ok=True)
    t = time.perf_counter()
    build_tables(home, keys, out)
    out["tables_seconds"] = round(time.perf_counter() - t, 3)
    out["checksums"] = table_checksums(home / "warehouse.duckdb", list(out["table_rows"]))
    return out


def main(argv=None) -> int:
    """`python -m benchmarks.checksums --seasons 2024-25 --home DIR [--compare REF]`."""
    import argparse

    from benchmarks.common import keys_of_ranges, machine, write_results
    from benchmarks.full_backfill import add_range_args, resolve_range

    parser = argparse.ArgumentParser(prog="python -m benchmarks.checksums",
                                     description=__doc__.split("\n\n")[0])
    add_range_args(parser, "2024-25")
    parser.add_argument("--home", required=True, type=Path,
                        help="lake + warehouse directory; the lake is kept for later runs")
    parser.add_argument("--compare", type=Path, help="a checksums results file to compare with")
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/checksums-<time>.json)")
    args = parser.parse_args(argv)
    first, last, label = resolve_range(args)
    keys = keys_of_ranges([(first, last)])
    result = run(args.home, keys)
    payload = {"benchmark": "checksums", "range": {"first": first, "last": last, "label": label,
               "partitions": len(keys)}, "machine": machine(), **result}
    path = write_results("checksums", payload, args.out.absolute() if args.out else None)
    print(f"tables {result['tables_seconds']} s {result['phase_seconds']}; results: {path}")
    if args.compare:
        reference = json.loads(args.compare.read_text())
        if reference["range"] != payload["range"]:
            raise SystemExit(f"reference range {reference['range']} is not this range {payload['range']}")
        lines = differences(result["checksums"], reference["checksums"])
        print("\n".join(lines) if lines else f"identical: {len(result['checksums'])} tables")
        return 1 if lines else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
