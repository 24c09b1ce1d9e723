"""One factory for the five Phase 3 tables.

Naming rule: an `AnalyticsTable(name=...)` becomes the asset `nba_analytics/<name>`, stored as
table `nba_analytics.<name>`, in group `nba_analytics`. Its inputs are declared as `Upstream`s
(asset key + partition mapping from `partitions.py`; no mapping = same date), so the graph states
exactly which dates a partition reads. The factory wires, around the table's `compute`:
1. the cross-run guard: `blocked_partitions` first; blocked dates get no rows and fail the
   blocking check `upstream_checks_passed` with the reasons;
2. input validation: every input must carry the columns the table reads (a clear error naming
   the input, the partition range and the missing columns);
3. the computation of the range's unblocked dates over the input frames (`Inputs`),
   `processed_at`, `data_hash`, and `conform` to the declared columns;
4. the table's per-partition checks from `nba_backfill/checks/analytics.py`, plus, for tables
   with lookback inputs, the blocking `lookback_complete` (every history day of the window was
   materialized: Dagster itself does not verify lookback partitions outside a backfill).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd
from dagster import (
    AssetIn,
    AssetKey,
    AssetsDefinition,
    Failure,
    Output,
    TimeWindowPartitionMapping,
    asset,
)

from nba_backfill.assets.analytics.frames import Inputs
from nba_backfill.assets.analytics.lookback import mark_incomplete_history, unmaterialized_history
from nba_backfill.assets.common import WAREHOUSE_POOL, frame_metadata, partition_keys
from nba_backfill.assets.tables import Col, cluster_metadata, column_schema, conform
from nba_backfill.checks.analytics import TABLE_CHECKS, AnalyticsCheck, DayView
from nba_backfill.checks.results import Outcome, check_spec, emit_check
from nba_backfill.guards import blocked_partitions
from nba_backfill.layers import ANALYTICS
from nba_backfill.partitions import DAILY_PARTITIONS, TABLE_BACKFILL_POLICY
from nba_backfill.resources.warehouse import partition_expr

OWNERS = ["team:nba-data"]
UPSTREAM_CHECK = "upstream_checks_passed"
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
        names = [c.name for c in self.columns]
        problems = []
        if not _SNAKE.match(self.name):
            problems.append(f"table name {self.name!r} is not lower snake case")
        for required in (self.date_column, *self.key, *(c.name for c in (*QUALITY_COLUMNS, *META_COLUMNS))):
            if required not in names:
                problems.append(f"column {required!r} is not declared")
        for input_name in self.upstreams:
            if not _SNAKE.match(input_name):
                problems.append(f"input name {input_name!r} is not lower snake case")
        check_names = [c.name for c in TABLE_CHECKS.get(self.name, ())]
        if {UPSTREAM_CHECK, LOOKBACK_CHECK} & set(check_names) or len(set(check_names)) != len(check_names):
            problems.append(f"check names must be unique and not the factory's own: {check_names}")
        if not self.doc.strip().startswith("One row per"):
            problems.append("doc must start with the grain ('One row per ...')")
        if problems:
            raise ValueError(f"AnalyticsTable {self.name}: " + "; ".join(problems))
        column_schema(self.columns)  # raises on duplicate columns
        cluster_metadata(self.name, self.clustering, self.columns)  # raises on a bad clustering

    @property
    def clustering(self) -> tuple[str, ...]:
        return self.cluster_by or (*(k for k in self.key if k != self.date_column), self.date_column)

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


def data_hash(frame: pd.DataFrame, columns: tuple[Col, ...]) -> pd.Series:
    """A 16-hex-char hash per row over the business columns (quality and metadata excluded)."""
    hashed = [c.name for c in columns if c.name not in _NOT_HASHED and not c.type.startswith("ARRAY")]
    if frame.empty:
        return pd.Series([], dtype="string")
    values = pd.util.hash_pandas_object(frame[hashed].astype("string"), index=False)
    return values.map(lambda v: f"{int(v):016x}").astype("string")


def finish(table: AnalyticsTable, rows: pd.DataFrame, processed_at: pd.Timestamp) -> pd.DataFrame:
    """Add processed_at/data_hash and conform the rows to the declared columns."""
    rows = rows.assign(processed_at=processed_at, data_hash=None)
    out = conform(rows, table.columns)
    out["data_hash"] = data_hash(out, table.columns).to_numpy()
    return out


def _validate_inputs(table: AnalyticsTable, frames: Mapping[str, pd.DataFrame], keys: list[str]) -> None:
    span = f"{keys[0]}..{keys[-1]}" if keys else "(no partitions)"
    for name, upstream in table.upstreams.items():
        frame = frames[name]
        missing = [c for c in upstream.columns if c not in frame.columns]
        if missing:
            raise Failure(
                description=(
                    f"nba_analytics.{table.name} [{span}]: input {name} "
                    f"({'.'.join(upstream.key)}) lacks columns {missing}"
                )
            )


def _evaluate(check: AnalyticsCheck, key: str, rows: pd.DataFrame, inputs: Inputs) -> Outcome:
    """A check that cannot be evaluated fails for that partition, with the cause."""
    try:
        return check.evaluate(DayView(dt.date.fromisoformat(key), rows, inputs))
    except Exception as exc:  # noqa: BLE001 - reported as the partition's failed outcome
        return Outcome(passed=False, message=f"{check.name} could not run on {key}: {type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class RangeResult:
    """What `compute_range` made of a run's dates: the conformed rows, the rows of each date
    (an empty frame for a date without rows) and the inputs the checks read."""

    frame: pd.DataFrame
    per_day: dict[str, pd.DataFrame]
    inputs: Inputs


def compute_range(
    table: AnalyticsTable,
    keys: list[str],
    frames: Mapping[str, pd.DataFrame],
    *,
    processed_at: pd.Timestamp,
    blocked: Mapping[str, list[str]] | None = None,
    missing: dict[str, list[str]] | None = None,
) -> RangeResult:
    """The table's rows for `keys` from its input frames, without Dagster: inputs validated,
    blocked dates left out, dates with incomplete history marked, `finish`ed. A computation
    error becomes a `Failure` naming the table and the range."""
    blocked = blocked or {}
    _validate_inputs(table, frames, keys)
    inputs = Inputs(frames)
    open_days = [dt.date.fromisoformat(k) for k in keys if k not in blocked]
    span = f"{keys[0]}..{keys[-1]}" if keys else ""
    try:
        rows = table.compute(open_days, inputs) if open_days else pd.DataFrame()
        frame = finish(table, mark_incomplete_history(rows, missing or {}), processed_at) if len(rows) else table.empty()
    except Exception as exc:
        raise Failure(description=f"nba_analytics.{table.name} [{span}]: {type(exc).__name__}: {exc}") from exc
    by_day = {d.isoformat(): rows for d, rows in frame.groupby(table.date_column, sort=False)}
    per_day = {key: by_day[key] if key in by_day else table.empty() for key in keys}
    return RangeResult(frame, per_day, inputs)


def check_outcomes(table: AnalyticsTable, computed: RangeResult) -> dict[str, dict[str, Outcome]]:
    """Check name -> partition key -> outcome of the table's per-partition checks."""
    return {
        check.name: {key: _evaluate(check, key, rows, computed.inputs) for key, rows in computed.per_day.items()}
        for check in TABLE_CHECKS.get(table.name, ())
    }


def build_table_asset(table: AnalyticsTable) -> AssetsDefinition:
    """The asset `nba_analytics/<table.name>` (see the module docstring for what is wired)."""
    asset_key = table.asset_key
    checks = TABLE_CHECKS.get(table.name, ())
    specs = [
        check_spec(
            asset_key,
            UPSTREAM_CHECK,
            "Every upstream date this partition reads passed its blocking checks; blocked dates "
            "get no rows.",
            blocking=True,
        ),
        *(check_spec(asset_key, c.name, c.description, blocking=c.blocking) for c in checks),
    ]
    if table.history_inputs:
        specs.append(check_spec(
            asset_key,
            LOOKBACK_CHECK,
            "Every upstream partition of the lookback windows (before the date, from its season's "
            "opener) has been materialized; names the missing days.",
            blocking=True,
        ))
    ins = {
        name: AssetIn(key=AssetKey(list(up.key)), partition_mapping=up.mapping)
        for name, up in table.upstreams.items()
    }
    windows = {name: f"{'.'.join(up.key)} ({up.window})" for name, up in table.upstreams.items()}

    @asset(
        key=asset_key,
        group_name=ANALYTICS,
        description=table.doc,
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=TABLE_BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
        io_manager_key="io_manager",
        owners=OWNERS,
        kinds={"pandas"},
        code_version=table.code_version,
        metadata={
            "partition_expr": partition_expr(table.date_column),
            "dagster/column_schema": column_schema(table.columns),
            "primary_key": ", ".join(table.key),
            "inputs": ", ".join(f"{k}: {v}" for k, v in windows.items()),
            **cluster_metadata(table.name, table.clustering, table.columns),
        },
        check_specs=specs,
        ins=ins,
    )
    def _table(context, **frames):  # context: AssetExecutionContext (string annotations are refused)
        started = time.monotonic()
        keys = partition_keys(context)
        blocked = blocked_partitions(context, keys, asset_key)
        missing = unmaterialized_history(context.instance, table, keys)
        computed = compute_range(table, keys, frames, processed_at=pd.Timestamp.now(tz="UTC"),
                                 blocked=blocked, missing=missing)
        frame, per_day = computed.frame, computed.per_day
        yield Output(
            frame,
            metadata=frame_metadata(
                frame,
                partitions=len(keys),
                blocked_partitions=len(blocked),
                games=int(frame["game_id"].nunique()) if "game_id" in frame else 0,
                rows_per_day_min=min((len(v) for v in per_day.values()), default=0),
                rows_per_day_max=max((len(v) for v in per_day.values()), default=0),
                seconds=round(time.monotonic() - started, 3),
            ),
        )
        yield emit_check(
            context,
            asset_key,
            UPSTREAM_CHECK,
            {
                key: Outcome(
                    passed=key not in blocked,
                    counts={"blocked_reasons": len(blocked.get(key, []))},
                    offending=blocked.get(key, []),
                    message="; ".join(blocked.get(key, [])),
                )
                for key in keys
            },
            blocking=True,
        )
        if table.history_inputs:
            yield emit_check(
                context,
                asset_key,
                LOOKBACK_CHECK,
                {
                    key: Outcome(
                        passed=key not in missing,
                        counts={"upstreams_incomplete": len(missing.get(key, []))},
                        offending=missing.get(key, []),
                        message="; ".join(missing.get(key, [])),
                    )
                    for key in keys
                },
                blocking=True,
            )
        outcomes = check_outcomes(table, computed)
        for check in checks:
            yield emit_check(context, asset_key, check.name, outcomes[check.name], blocking=check.blocking)

    return _table
