"""One factory for every Phase 4 table: typed spec in, partitioned asset with checks out.

Naming rule: asset key = [spec.layer, spec.table] (nba_precompute; the Phase 5 spec uses
nba_predictions), group = layer, one DuckDB/BigQuery table of the same name, date column
`spec.date_column` (partition_expr).

What every Phase 4 step does, for each date of its (single or ranged) run, in date order:
1. `blocked_partitions` (PREAMBLE guard): dates whose upstream inputs failed a blocking check
   write no rows and fail `upstream_checks_passed`.
2. Lookback (`lookback.py`): every upstream date of the date's windows *inside its season* must
   be materialized and, on scheduled game days, hold rows; gaps are named by
   `lookback_complete` (blocking). Rows are still computed from what exists, with completeness
   columns that show the gap (accumulators stop instead: a gap breaks the season state).
3. Season rules: every input frame is cut to [max(window start, opener), date) — windows never
   cross a season boundary even where a mapping over-declares previous-season partitions;
   bootstrap days (0–13 after the opener) write nothing (`bootstrap="skip"`), placeholder rows
   (`"placeholder"`) or are computed (`"compute"`, the season accumulators).
4. Accumulators (`spec.accumulator`) carry season-to-date state: the date's state = the previous
   in-season date's state + that date's games. They depend on themselves (PREVIOUS_DAY); in a
   ranged run the range is computed sequentially from the state before its first date (read
   from the warehouse), so one run covers a whole season.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    MetadataValue,
    Output,
    TimeWindowPartitionMapping,
    asset,
)

from nba_backfill.assets.common import WAREHOUSE_POOL, frame_metadata, partition_keys
from nba_backfill.assets.precompute.inputs import Table, prepare
from nba_backfill.assets.precompute.lookback import gaps, restrict, window_keys
from nba_backfill.assets.tables import Col, cluster_metadata, column_schema, conform
from nba_backfill.checks import precompute as checks
from nba_backfill.checks.results import Outcome, check_spec, emit_check
from nba_backfill.guards import blocked_partitions
from nba_backfill.layers import PRECOMPUTE
from nba_backfill.partitions import (
    DAILY_PARTITIONS,
    PREVIOUS_DAY,
    TABLE_BACKFILL_POLICY,
    all_partition_keys,
)
from nba_backfill.resources.warehouse import partition_expr
from nba_backfill.seasons import Season, season_for_date

BOOTSTRAP_MODES = ("skip", "placeholder", "compute")

COMPLETENESS_COLS = [
    Col("expected_games_count", "INT64", "Scheduled Final games in the entity's window (SPEC §4)"),
    Col("actual_games_count", "INT64", "Games found upstream for the entity in the window"),
    Col("missing_games_count", "INT64", "Scheduled games with no upstream rows"),
    Col("completeness_percentage", "FLOAT64", "actual/expected·100 (expected 0 = 100)"),
    Col("is_production_ready", "BOOL", "completeness ≥ 70 %"),
    Col("early_season_flag", "BOOL", "Early-season rules in force (see the asset's docstring)"),
    Col("insufficient_data_reason", "STRING", "Why a value is NULL/placeholder, if it is"),
    Col("data_hash", "STRING", "16-char hash of the row's business values"),
    Col("processed_at", "TIMESTAMP", "When this row was computed"),
]


@dataclass(frozen=True)
class Input:
    """One upstream table read by a Phase 4 asset (`mapping=None` = the same date)."""

    param: str
    table: Table
    mapping: TimeWindowPartitionMapping | None


@dataclass
class Day:
    """Everything a spec's compute function gets for one date."""

    key: str
    day: dt.date
    season: Season
    frames: dict[str, pd.DataFrame]
    state: pd.DataFrame | None = None
    lookback_missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def days_since_opener(self) -> int:
        return self.season.days_since_opener(self.day)

    @property
    def is_bootstrap(self) -> bool:
        return self.season.is_bootstrap(self.day)


@dataclass(frozen=True)
class ExtraCheck:
    """An asset-specific check evaluated per date on that date's rows (WARN unless blocking)."""

    name: str
    evaluate: Callable[[pd.DataFrame, Day], Outcome]
    blocking: bool = False
    description: str = ""

    def spec(self, asset_key: AssetKey):
        description = self.description or checks.DESCRIPTIONS[self.name]
        return check_spec(asset_key, self.name, description, blocking=self.blocking)


@dataclass(frozen=True)
class PrecomputeSpec:
    table: str
    doc: str
    cols: tuple[Col, ...]
    date_column: str
    key_columns: tuple[str, ...]
    inputs: tuple[Input, ...]
    compute: Callable[[Day], pd.DataFrame]
    bootstrap: str = "skip"
    placeholder: Callable[[Day], pd.DataFrame] | None = None
    accumulator: bool = False
    extra_checks: tuple[ExtraCheck, ...] = ()
    code_version: str = "1"
    layer: str = PRECOMPUTE
    add_completeness_cols: bool = True
    same_date_gaps: Callable[[Day], dict[str, list[str]]] | None = None
    """Extra `lookback_complete` gaps found in the loaded frames (e.g. a scheduled game with no
    upstream rows), as {upstream: [what is missing]}."""
    rows_on_game_days: tuple[str, ...] = ()
    """Inputs that must have rows on every date of the window where `schedule` (an input named
    so) has Final games: a date materialized but emptied (rows deleted, a failed load) is a gap
    just like a date never materialized."""
    cluster_by: tuple[str, ...] = ()
    """BigQuery clustering columns; empty = the key columns, then the date."""
    skip: Callable[[Day], str | None] | None = None
    """A reason to write no rows for a date at all (e.g. outside the current season); such dates
    pass every check as not applicable and are listed in the materialization metadata."""

    def __post_init__(self) -> None:
        if self.bootstrap not in BOOTSTRAP_MODES:
            raise ValueError(f"{self.table}: bootstrap must be one of {BOOTSTRAP_MODES}")
        if self.bootstrap == "placeholder" and self.placeholder is None:
            raise ValueError(f"{self.table}: bootstrap='placeholder' needs a placeholder function")
        names = [c.name for c in self.all_cols]
        for col in (self.date_column, *self.key_columns):
            if col not in names:
                raise ValueError(f"{self.table}: key column {col!r} is not declared")
        params = [i.param for i in self.inputs]
        if len(set(params)) != len(params):
            raise ValueError(f"{self.table}: duplicate input names {params}")
        cluster_metadata(self.table, self.clustering, self.all_cols)  # raises on a bad clustering

    @property
    def clustering(self) -> tuple[str, ...]:
        return self.cluster_by or (*self.key_columns, self.date_column)

    @property
    def key(self) -> AssetKey:
        return AssetKey([self.layer, self.table])

    @property
    def all_cols(self) -> tuple[Col, ...]:
        return self.cols + (tuple(COMPLETENESS_COLS) if self.add_completeness_cols else ())

    def check_specs(self) -> list:
        common = checks.specs(self.key, [checks.UPSTREAM_CHECKS_PASSED, checks.LOOKBACK_COMPLETE, checks.KEYS_UNIQUE])
        return common + [c.spec(self.key) for c in self.extra_checks]


def data_hash(frame: pd.DataFrame, exclude=("data_hash", "processed_at")) -> pd.Series:
    """16 hex chars per row: sha256 of the repr of the row's business values (call it on a
    conformed frame so dtypes, hence reprs, do not depend on the batch the row came in)."""
    cols = [c for c in frame.columns if c not in exclude]
    hashes = [hashlib.sha256(repr(row).encode()).hexdigest()[:16] for row in frame[cols].itertuples(index=False, name=None)]
    return pd.Series(hashes, index=frame.index, dtype="object")


def _guard(context: AssetExecutionContext, keys: list[str], own: AssetKey) -> dict[str, list[str]]:
    """`blocked_partitions`, minus an accumulator's own dates that this run recomputes."""
    reasons = blocked_partitions(context, keys, own)
    prefix = f"{own.to_user_string()} ["
    recomputed = set(keys)
    out: dict[str, list[str]] = {}
    for key, rs in reasons.items():
        kept = [r for r in rs if not (r.startswith(prefix) and r[len(prefix) : len(prefix) + 10] in recomputed)]
        if kept:
            out[key] = kept
    return out


def _load_previous_state(context: AssetExecutionContext, spec: PrecomputeSpec, prev_key: str) -> pd.DataFrame:
    warehouse = context.resources.warehouse
    if not warehouse.table_exists(spec.layer, spec.table):
        return pd.DataFrame()
    frame = warehouse.query(
        f"select * from {spec.layer}.{spec.table} where {spec.date_column} = ?",  # identifiers only
        [dt.date.fromisoformat(prev_key)],
    )
    return frame


@lru_cache(maxsize=1)
def _all_keys() -> tuple[list[str], dict[str, int]]:
    """Every partition key and its position (static: the partitions have a fixed end)."""
    keys = all_partition_keys()
    return keys, {k: i for i, k in enumerate(keys)}


@dataclass
class RangeResult:
    """What `compute_range` made of a run's dates: the conformed rows and, per date, its context,
    check inputs and row count."""

    frame: pd.DataFrame
    days: dict[str, Day]
    lookback: dict[str, Outcome]
    upstream_ok: dict[str, Outcome]
    per_day_rows: dict[str, int]
    skipped: dict[str, str]
    blocked: dict[str, list[str]]


def compute_range(
    spec: PrecomputeSpec,
    keys: list[str],
    frames: dict[str, pd.DataFrame],
    *,
    materialized: dict[str, set[str]],
    blocked: dict[str, list[str]] | None = None,
    own_materialized: set[str] | frozenset[str] = frozenset(),
    previous_state: Callable[[str], pd.DataFrame] | None = None,
) -> RangeResult:
    """Steps 1–4 of the module docstring for `keys` in date order, without Dagster: `frames` are
    the prepared inputs (param -> frame), `materialized` the upstream partitions that exist
    (param -> keys), `blocked` the guard's verdicts, `own_materialized`/`previous_state` an
    accumulator's existing dates and how to read the state before the first key. The asset calls
    it with what its run loaded; `benchmarks/pandas_floor.py` with plain tables."""
    name = spec.key.to_user_string()
    blocked = blocked or {}
    all_keys, index = _all_keys()
    outputs: list[pd.DataFrame] = []
    days: dict[str, Day] = {}
    lookback: dict[str, Outcome] = {}
    upstream_ok: dict[str, Outcome] = {}
    per_day_rows: dict[str, int] = {}
    skipped: dict[str, str] = {}
    state: pd.DataFrame | None = None
    chain_broken: str | None = None
    for key in keys:
        day = dt.date.fromisoformat(key)
        season = season_for_date(day)
        if season is None:  # DAILY_PARTITIONS holds in-season days only
            raise ValueError(f"{name}: partition {key} is outside every season")
        restricted = {
            i.param: restrict(frames[i.param], i.table.date_column, day, season, i.mapping) for i in spec.inputs
        }
        ctx = Day(key=key, day=day, season=season, frames=restricted)
        days[key] = ctx
        reason = spec.skip(ctx) if spec.skip is not None else None
        if reason:
            skipped[key] = reason
            lookback[key] = Outcome(True, {"applies": 0}, message=reason)
            upstream_ok[key] = Outcome(True, {"applies": 0}, message=reason)
            per_day_rows[key] = 0
            continue
        missing = gaps(ctx, spec, all_keys, index, materialized) if key not in blocked else {}
        reasons = list(blocked.get(key, []))
        if spec.accumulator:
            prev = window_keys(all_keys, index, key, PREVIOUS_DAY, season)
            if not prev:  # the opener: season-to-date state starts empty
                state, chain_broken = _empty_state(spec), None
            elif key == keys[0]:
                if prev[0] in own_materialized and previous_state is not None:
                    state, chain_broken = previous_state(prev[0]), None
                else:
                    missing[name] = [prev[0]]
                    state, chain_broken = None, prev[0]
            if chain_broken is None and (missing or reasons):
                chain_broken = key  # this date's state would be wrong: stop the chain here
            if chain_broken is not None and chain_broken != key and name not in missing:
                reasons.append(f"{name}: season-to-date state chain broken at {chain_broken}")
            ctx.state = state
        ctx.lookback_missing = missing
        upstream_ok[key] = checks.upstream_checks_passed(list(blocked.get(key, [])))
        lookback[key] = checks.lookback_complete(missing, reasons)
        if key in blocked or (spec.accumulator and chain_broken is not None):
            state = None
            per_day_rows[key] = 0
            continue
        if season.is_bootstrap(day) and spec.bootstrap == "skip":
            per_day_rows[key] = 0
            continue
        if season.is_bootstrap(day) and spec.bootstrap == "placeholder":
            frame = spec.placeholder(ctx)
        else:
            frame = spec.compute(ctx)
        frame = frame.copy()
        frame[spec.date_column] = day
        if spec.accumulator:
            state = frame
        per_day_rows[key] = len(frame)
        outputs.append(frame)

    cols = list(spec.all_cols)
    filled = [o for o in outputs if len(o)] or outputs  # empty days add no rows, only dtype noise
    result = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=[c.name for c in cols])
    for c in cols:
        if c.name not in result.columns:
            result[c.name] = pd.NA
    result = conform(result, cols)
    if {"data_hash", "processed_at"} <= {c.name for c in cols} and len(result):
        # hashed after conform: the same row hashes the same in a single or a ranged run
        result["data_hash"] = data_hash(result).astype("string")
        result["processed_at"] = pd.Timestamp.now(tz="UTC")
    return RangeResult(result, days, lookback, upstream_ok, per_day_rows, skipped, blocked)


def check_outcomes(spec: PrecomputeSpec, computed: RangeResult) -> list[tuple[str, dict[str, Outcome], bool]]:
    """(check name, outcome per date, blocking) for every check of `spec` over a computed range."""
    keys = list(computed.days)
    result = computed.frame
    groups = dict(tuple(result.groupby(spec.date_column, sort=False))) if len(result) else {}
    by_day = {k: groups.get(computed.days[k].day, result.iloc[0:0]) for k in keys}  # one pass, not one mask per date
    out = [
        (checks.UPSTREAM_CHECKS_PASSED, computed.upstream_ok, True),
        (checks.LOOKBACK_COMPLETE, computed.lookback, True),
        (checks.KEYS_UNIQUE, {k: checks.keys_unique(by_day[k], list(spec.key_columns)) for k in keys}, True),
    ]
    for extra in spec.extra_checks:
        outcomes = {
            k: Outcome(True, {"applies": 0}, message=computed.skipped[k])
            if k in computed.skipped
            else extra.evaluate(by_day[k], computed.days[k])
            for k in keys
        }
        out.append((extra.name, outcomes, extra.blocking))
    return out


def build_precompute_asset(spec: PrecomputeSpec):
    """A daily-partitioned table asset for `spec` (see the module docstring)."""
    cols = list(spec.all_cols)
    ins = {
        i.param: AssetIn(key=i.table.key, partition_mapping=i.mapping) if i.mapping else AssetIn(key=i.table.key)
        for i in spec.inputs
    }
    deps = [AssetDep(spec.key, partition_mapping=PREVIOUS_DAY)] if spec.accumulator else []
    name = spec.key.to_user_string()

    @asset(
        key=spec.key,
        group_name=spec.layer,
        description=spec.doc,
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=TABLE_BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
        io_manager_key="io_manager",
        required_resource_keys={"warehouse"} if spec.accumulator else set(),
        owners=["team:nba-data"],
        kinds={"pandas"},
        code_version=spec.code_version,
        metadata={
            "partition_expr": partition_expr(spec.date_column),
            "dagster/column_schema": column_schema(cols),
            "grain_key": ", ".join((spec.date_column, *spec.key_columns)),
            **cluster_metadata(spec.table, spec.clustering, cols),
        },
        check_specs=spec.check_specs(),
        ins=ins,
        deps=deps,
    )
    def _asset(context, **loaded):
        started = time.perf_counter()
        keys = partition_keys(context)
        computed = compute_range(
            spec,
            keys,
            {i.param: prepare(loaded.get(i.param), i.table, name) for i in spec.inputs},
            materialized={i.param: context.instance.get_materialized_partitions(i.table.key) for i in spec.inputs},
            blocked=_guard(context, keys, spec.key),
            own_materialized=context.instance.get_materialized_partitions(spec.key) if spec.accumulator else set(),
            previous_state=lambda prev_key: _load_previous_state(context, spec, prev_key),
        )
        result = computed.frame
        yield Output(
            result,
            metadata=frame_metadata(
                result,
                partitions=len(keys),
                rows_per_day=MetadataValue.json(computed.per_day_rows),
                entities=int(result[spec.key_columns[0]].nunique()) if len(result) else 0,
                blocked_partitions=len(computed.blocked),
                lookback_incomplete_partitions=sum(1 for o in computed.lookback.values() if not o.passed),
                bootstrap_partitions=sum(1 for d in computed.days.values() if d.is_bootstrap),
                **({"skipped_partitions": MetadataValue.json(computed.skipped)} if computed.skipped else {}),
                seconds=round(time.perf_counter() - started, 3),
            ),
        )
        for check_name, outcomes, blocking in check_outcomes(spec, computed):
            yield emit_check(context, spec.key, check_name, outcomes, blocking=blocking)

    return _asset


def _empty_state(spec: PrecomputeSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in spec.cols})
