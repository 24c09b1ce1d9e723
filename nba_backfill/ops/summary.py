"""Where the local data is: warehouse tables and lake objects of one date.

    python -m nba_backfill.ops.summary 2024-11-15

Reads the local DuckDB file and lake folder of $NBA_BACKFILL_HOME (the `local` environment).
Row counts per date use each table asset's own `partition_expr` metadata.
"""

from __future__ import annotations

import sys
from collections import Counter

from nba_backfill.resources.environment import backfill_home, local_resources
from nba_backfill.seasons import parse_date


def table_rows(day: str) -> list[tuple[str, int, int]]:
    """(schema.table, rows of `day`, all rows) for every table asset present in the warehouse."""
    from dagster import AssetsDefinition

    from nba_backfill.definitions import defs

    warehouse = local_resources(backfill_home())["warehouse"]
    found = []
    for assets_def in defs.assets or []:
        if not isinstance(assets_def, AssetsDefinition):
            continue
        for spec in assets_def.specs:
            expr = (spec.metadata or {}).get("partition_expr")
            expr = getattr(expr, "value", expr)
            if not expr or len(spec.key.path) != 2:
                continue
            schema, table = spec.key.path
            if not warehouse.table_exists(schema, table):
                continue
            counts = warehouse.query(
                f"SELECT COUNT(*) FILTER (WHERE CAST({expr} AS DATE) = CAST(? AS DATE)) AS day_rows,"
                f" COUNT(*) AS all_rows FROM {schema}.{table}",
                [day],
            )
            found.append((f"{schema}.{table}", int(counts["day_rows"][0]), int(counts["all_rows"][0])))
    return sorted(found)


def lake_objects(day: str) -> Counter:
    """Objects landed for `day`, per `<source>/<kind>` prefix."""
    root = backfill_home() / "lake"
    counts: Counter = Counter()
    if root.exists():
        for path in root.glob(f"*/*/{day}/*"):
            if path.is_file():
                counts[str(path.parent.parent.relative_to(root))] += 1
    return counts


def render(day: str) -> str:
    home = backfill_home()
    lines = [f"Data for {day} under {home}:", f"  warehouse {home / 'warehouse.duckdb'}"]
    tables = table_rows(day)
    for name, day_rows, all_rows in tables:
        lines.append(f"    {name:<48} {day_rows:>7} rows on {day} ({all_rows} in total)")
    if not tables:
        lines.append("    (no tables yet)")
    lines.append(f"  lake {home / 'lake'}")
    objects = lake_objects(day)
    for prefix, count in sorted(objects.items()):
        lines.append(f"    {prefix + '/' + day + '/':<48} {count:>7} objects")
    if not objects:
        lines.append("    (nothing landed for this date)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m nba_backfill.ops.summary YYYY-MM-DD", file=sys.stderr)
        return 2
    try:
        day = parse_date(argv[0]).isoformat()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(day))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
