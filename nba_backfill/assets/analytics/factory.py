"""Phase 3 on the table-asset core: an `AnalyticsTable` becomes a `TableSpec`.

Naming rule: an `AnalyticsTable(name=...)` becomes the asset `nba_analytics/<name>`, stored as
table `nba_analytics.<name>`, in group `nba_analytics`. Its inputs are declared as `Upstream`s
(asset key + partition mapping from `partitions.py`; no mapping = same date), so the graph states
exactly which dates a partition reads. The layer supplies only:
1. `compute`: input validation (every input carries the columns the table reads), then the
   table's own function over the open dates (`Inputs`); an error is pinned to its dates by the
   core, which recomputes halves of the range;
2. `evaluate`: the table's per-partition checks from `nba_backfill/checks/analytics.py`, plus,
   for tables with lookback inputs, the blocking `lookback_complete` (every history day of the
   window was materialized: Dagster itself does not verify lookback partitions outside a
   backfill). A date with an incomplete window is blocked and writes no rows.
The guard, hashing (quality columns and arrays excluded), conforming, the write and the events
are the core's (`nba_backfill.assets.core`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd
from dagster import AssetKey, AssetsDefinition, TimeWindowPartitionMapping

from nba_backfill.assets.analytics.frames import Inputs
from nba_backfill.assets.analytics.lookback import unmaterialized_history
from nba_backfill.assets.core import CheckDef, Computed, RangeInput, TableInput, TableSpec, build_table_assets
from nba_backfill.assets.tables import Col, conform
from nba_backfill.checks.analytics import TABLE_CHECKS, AnalyticsCheck, DayView
from nba_backfill.checks.results import Outcome
from nba_backfill.layers import ANALYTICS

OWNERS = ["team:nba-data"]
LOOKBACK_CHECK = "lookback_complete"

QUALITY_COLUMNS: tuple[Col, ...] = (
    Col("quality_tier", "STRING", "gold ≥95, silver ≥75, bronze ≥50, poor ≥25, else unusable"),
    Col("quality_score", "FLOAT64", "0–100"),
    Col("quality_issues", "ARRAY<STRING>", "issue codes, incl. sources we do not scrape"),
    Col("data_sources", "ARRAY<STRING>", "tables the row was built from"),
    Col("is_production_ready", "BOOL", "see the table's docstring"),
    Col("data_quality_tier", "STRING", "legacy tier: high (gold), medium (silver), low"),
)
META_COLUMNS: tuple[Col, ...] = (
    Col("data_hash", "STRING", "16 hex chars: hash of the row's business columns"),
    Col("processed_at", "TIMESTAMP", "when the step computed the row"),
)
_NOT_HASHED = {c.name for c in (*QUALITY_COLUMNS, *META_COLUMNS)}
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Upstream:
    """One input: an asset key, its partition mapping (None = same date), the columns read."""

    key: tuple[str, str]
    mapping: TimeWindowPartitionMapping | None
    columns: tuple[str, ...]
    window: str = "same date"


@dataclass(frozen=True)
class AnalyticsTable:
    """A Phase 3 table: columns, key, inputs and the compute function.

    `compute(days, inputs)` returns the rows of the (unblocked) `days` of the run with every
    declared column except `data_hash` and `processed_at` (the factory adds those). Same-date
    tables compute all days at once (every grouping key holds the game); history tables loop
    over the days (`frames.per_day`)."""

    name: str
    doc: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    upstreams: Mapping[str, Upstream]
    compute: Callable[[list[dt.date], Inputs], pd.DataFrame]
    code_version: str
    date_column: str = "game_date"
    cluster_by: tuple[str, ...] = ()
    """BigQuery clustering columns; empty = the key's entity columns, then the date."""

    def __post_init__(self) -> None:
        names = {c.name for c in self.columns}
        problems = [f"column {c.name!r} is not declared" for c in (*QUALITY_COLUMNS, *META_COLUMNS)
                    if c.name not in names]
        problems += [f"input name {n!r} is not lower snake case" for n in self.upstreams if not _SNAKE.match(n)]
        if problems:
            raise ValueError(f"AnalyticsTable {self.name}: " + "; ".join(problems))
        table_spec(self)  # the core validates key, columns, checks, grain and clustering at load time

    @property
    def history_inputs(self) -> dict[str, Upstream]:
        """Inputs read through a lookback window (their history must have been materialized)."""
        return {n: u for n, u in self.upstreams.items() if isinstance(u.mapping, TimeWindowPartitionMapping)}

    @property
    def asset_key(self) -> AssetKey:
        return AssetKey([ANALYTICS, self.name])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def empty(self) -> pd.DataFrame:
        """A zero-row frame with the table's columns and dtypes (built once per table)."""
        if self.name not in _EMPTY:
            _EMPTY[self.name] = conform(pd.DataFrame({c: [] for c in self.column_names}), self.columns)
        return _EMPTY[self.name].copy()


_EMPTY: dict[str, pd.DataFrame] = {}


def _validate_inputs(table: AnalyticsTable, frames: Mapping[str, pd.DataFrame], keys: list[str]) -> None:
    span = f"{keys[0]}..{keys[-1]}" if keys else "(no partitions)"
    for name, upstream in table.upstreams.items():
        frame = frames[name]
        missing = [c for c in upstream.columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"nba_analytics.{table.name} [{span}]: input {name} "
                f"({'.'.join(upstream.key)}) lacks columns {missing}"
            )


def _evaluate(check: AnalyticsCheck, key: str, rows: pd.DataFrame, inputs: Inputs) -> Outcome:
    """A check that cannot be evaluated fails for that partition, with the cause."""
    try:
        return check.evaluate(DayView(dt.date.fromisoformat(key), rows, inputs))
    except Exception as exc:  # noqa: BLE001 - reported as the partition's failed outcome
        return Outcome(passed=False, message=f"{check.name} could not run on {key}: {type(exc).__name__}: {exc}")


def compute(table: AnalyticsTable, rin: RangeInput) -> Computed:
    """The table's rows for the open dates (the core's compute of an analytics table). The
    history windows of each date are checked against what the instance holds (`lookback_complete`)."""
    _validate_inputs(table, rin.frames, rin.keys)
    inputs = Inputs(dict(rin.frames))
    days = [dt.date.fromisoformat(k) for k in rin.open_keys]
    rows = table.compute(days, inputs) if days else pd.DataFrame()
    missing = unmaterialized_history(rin.context.instance, table, rin.open_keys) if (
        table.history_inputs and rin.context is not None) else {}
    return Computed(rows=rows, state={"inputs": inputs, "missing": missing})


def evaluate(table: AnalyticsTable, computed: Computed, rows_by_key: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, Outcome]]:
    """The table's per-partition checks, plus `lookback_complete` for tables with history inputs."""
    inputs, missing = computed.state["inputs"], computed.state["missing"]
    out = {
        check.name: {key: _evaluate(check, key, rows, inputs) for key, rows in rows_by_key.items()}
        for check in TABLE_CHECKS.get(table.name, ())
    }
    if table.history_inputs:
        out[LOOKBACK_CHECK] = {
            key: Outcome(passed=key not in missing, counts={"upstreams_incomplete": len(missing.get(key, []))},
                         offending=missing.get(key, []), message="; ".join(missing.get(key, [])))
            for key in rows_by_key
        }
    return out


def table_spec(table: AnalyticsTable) -> TableSpec:
    """The core spec of one analytics table."""
    checks = [CheckDef(c.name, c.description, c.blocking) for c in TABLE_CHECKS.get(table.name, ())]
    if table.history_inputs:
        checks.append(CheckDef(
            LOOKBACK_CHECK,
            "Every upstream partition of the lookback windows (before the date, from its season's "
            "opener) has been materialized; names the missing days. Incomplete = blocked, no rows.",
            blocking=True,
        ))
    return TableSpec(
        key=table.asset_key,
        doc=table.doc,
        columns=table.columns,
        date_column=table.date_column,
        key_columns=table.key,
        inputs=tuple(TableInput(name, AssetKey(list(up.key)), up.mapping, up.window)
                     for name, up in table.upstreams.items()),
        compute=lambda rin, table=table: compute(table, rin),
        evaluate=lambda computed, rows, table=table: evaluate(table, computed, rows),
        checks=tuple(checks),
        code_version=table.code_version,
        unhashed=frozenset(c.name for c in QUALITY_COLUMNS) | frozenset(
            c.name for c in table.columns if c.type.startswith("ARRAY")),
        lookback_checks=frozenset({LOOKBACK_CHECK}) if table.history_inputs else frozenset(),
        cluster_by=table.cluster_by,
        metadata={"primary_key": ", ".join(table.key)},
        resources=frozenset(),
    )


def build_analytics_tables(tables) -> list[AssetsDefinition]:
    return build_table_assets([table_spec(t) for t in tables])
