"""Phase 4/5 on the table-asset core: a `PrecomputeSpec` becomes a `TableSpec`.

Naming rule: asset key = [spec.layer, spec.table] (nba_precompute; the Phase 5 spec uses
nba_predictions), group = layer, one DuckDB/BigQuery table of the same name, date column
`spec.date_column` (partition_expr).

What the layer's compute does for each date of its (single or ranged) run, in date order (the
guard, outcome, hashing, write and events are the core's, `nba_backfill.assets.core`):
1. Lookback (`lookback.py`): every upstream date of the date's windows *inside its season* must
   be materialized and, on scheduled game days, hold rows; gaps are named by
   `lookback_complete` (blocking): such a date is blocked and writes no rows.
2. Season rules: every input frame is cut to [max(window start, opener), date) — windows never
   cross a season boundary even where a mapping over-declares previous-season partitions;
   bootstrap days (0–13 after the opener) write nothing (`bootstrap="skip"`), placeholder rows
   (`"placeholder"`) or are computed (`"compute"`, the season accumulators).
3. Accumulators (`spec.accumulator`) carry season-to-date state: the date's state = the previous
   in-season date's state + that date's games. They depend on themselves (PREVIOUS_DAY); in a
   ranged run the range is computed sequentially from the state before its first date (read
   from the warehouse), so one run covers a whole season. A blocked or failed date breaks the
   chain: the dates after it in the run are blocked too.
4. A date whose computation raises fails alone, with the error as its cause.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
from dagster import AssetDep, AssetExecutionContext, AssetKey, TimeWindowPartitionMapping

from nba_backfill.assets.core import (
    Cause,
    CauseKind,
    CheckDef,
    Computed,
    RangeInput,
    TableInput,
    TableSpec,
    build_table_assets,
)
from nba_backfill.assets.precompute.inputs import Table, prepare, team_games
from nba_backfill.assets.precompute.lookback import Dated, gaps, window_keys
from nba_backfill.assets.tables import Col
from nba_backfill.checks import precompute as checks
from nba_backfill.checks.results import Outcome
from nba_backfill.layers import PRECOMPUTE
from nba_backfill.partitions import PREVIOUS_DAY, all_partition_keys
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
    games: pd.DataFrame | None = None
    """`team_games` of the `schedule` frame; the factory cuts it from the range's team games."""

    def team_games(self) -> pd.DataFrame:
        """The Final team-games of the date's `schedule` window (`inputs.team_games`)."""
        if self.games is None:
            self.games = team_games(self.frames["schedule"])
        return self.games

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

    def check_def(self) -> CheckDef:
        return CheckDef(self.name, self.description or checks.DESCRIPTIONS[self.name], self.blocking)


@dataclass(frozen=True)
class PrecomputeSpec:
    """A Phase 4/5 table: its columns (completeness columns added unless `add_completeness_cols`
    is off), its inputs and the per-date `compute(Day)`."""

    table: str
    doc: str
    cols: tuple[Col, ...]
    date_column: str
    key_columns: tuple[str, ...]
    inputs: tuple[Input, ...]
    compute: Callable[[Day], pd.DataFrame]
    """The rows of one date (its frames already cut to the date's windows)."""
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
    """BigQuery clustering columns; empty = the key columns, then the date (the core's rule)."""
    skip: Callable[[Day], str | None] | None = None
    """A reason to write no rows for a date at all (e.g. outside the current season); such dates
    pass every check as not applicable and are listed in the materialization metadata."""

    def __post_init__(self) -> None:
        if self.bootstrap not in BOOTSTRAP_MODES:
            raise ValueError(f"{self.table}: bootstrap must be one of {BOOTSTRAP_MODES}")
        if self.bootstrap == "placeholder" and self.placeholder is None:
            raise ValueError(f"{self.table}: bootstrap='placeholder' needs a placeholder function")
        table_spec(self)  # the core validates columns, keys, inputs and clustering at load time

    @property
    def key(self) -> AssetKey:
        return AssetKey([self.layer, self.table])

    @property
    def all_cols(self) -> tuple[Col, ...]:
        return self.cols + (tuple(COMPLETENESS_COLS) if self.add_completeness_cols else ())

    def check_defs(self) -> list[CheckDef]:
        return checks.defs([checks.LOOKBACK_COMPLETE, checks.KEYS_UNIQUE]) + [c.check_def() for c in self.extra_checks]


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
class Sources:
    """What a Phase 4 compute reads besides its input frames: the upstream partitions that exist
    (param -> keys), an accumulator's own existing dates and how to read the state before the
    first date. The asset takes them from the instance and the warehouse; the pandas floor of
    `benchmarks/` passes plain values."""

    materialized: dict[str, set[str]]
    own_materialized: set[str] | frozenset[str] = frozenset()
    previous_state: Callable[[str], pd.DataFrame] | None = None


def _sources(spec: PrecomputeSpec, context) -> Sources:
    instance = context.instance
    return Sources(
        materialized={i.param: instance.get_materialized_partitions(i.table.key) for i in spec.inputs},
        own_materialized=instance.get_materialized_partitions(spec.key) if spec.accumulator else frozenset(),
        previous_state=lambda prev_key: _load_previous_state(context, spec, prev_key),
    )


def compute(spec: PrecomputeSpec, rin: RangeInput, sources: Sources | None = None) -> Computed:
    """Steps 2-4 of the module docstring for every date of the run, in date order (the core's
    compute of a Phase 4/5 table). A date that raises fails alone (and, for an accumulator,
    breaks the season state of the dates after it in the run)."""
    name = spec.key.to_user_string()
    sources = sources if sources is not None else _sources(spec, rin.context)
    frames = {i.param: Dated(prepare(rin.frames.get(i.param), i.table, name), i.table.date_column)
              for i in spec.inputs}
    schedule = next((i for i in spec.inputs if i.param == "schedule"), None)
    games = Dated(team_games(frames["schedule"].frame), "game_date") if schedule is not None else None
    all_keys, index = _all_keys()
    outputs: list[pd.DataFrame] = []
    days: dict[str, Day] = {}
    lookback: dict[str, Outcome] = {}
    failed: dict[str, Cause] = {}
    skipped: dict[str, str] = {}
    state: pd.DataFrame | None = None
    chain_broken: str | None = None
    for key in rin.keys:
        day = dt.date.fromisoformat(key)
        season = season_for_date(day)
        if season is None:  # DAILY_PARTITIONS holds in-season days only
            raise ValueError(f"{name}: partition {key} is outside every season")
        ctx = Day(key=key, day=day, season=season, frames={
            i.param: frames[i.param].restrict(day, season, i.mapping) for i in spec.inputs})
        if games is not None:  # team_games commutes with the window: every date's rows are kept or cut together
            ctx.games = games.restrict(day, season, schedule.mapping).reset_index(drop=True)
        days[key] = ctx
        reason = spec.skip(ctx) if spec.skip is not None else None
        if reason:
            skipped[key] = reason
            lookback[key] = Outcome(True, {"applies": 0}, message=reason)
            continue
        blocked = key in rin.blocked
        missing = gaps(ctx, spec, all_keys, index, sources.materialized) if not blocked else {}
        reasons: list[str] = []
        if spec.accumulator:
            prev = window_keys(all_keys, index, key, PREVIOUS_DAY, season)
            if not prev:  # the opener: season-to-date state starts empty
                state, chain_broken = _empty_state(spec), None
            elif key == rin.keys[0]:
                if prev[0] in sources.own_materialized and sources.previous_state is not None:
                    state, chain_broken = sources.previous_state(prev[0]), None
                else:
                    missing[name] = [prev[0]]
                    state, chain_broken = None, prev[0]
            if chain_broken is not None and chain_broken != key and name not in missing:
                reasons.append(f"{name}: season-to-date state chain broken at {chain_broken}")
            ctx.state = state
        ctx.lookback_missing = missing
        lookback[key] = checks.lookback_complete(missing, reasons)
        if blocked or missing or reasons:
            if spec.accumulator and chain_broken is None:
                chain_broken = key  # this date's state would be wrong: stop the chain here
            state = None
            continue
        if season.is_bootstrap(day) and spec.bootstrap == "skip":
            continue
        try:
            frame = spec.placeholder(ctx) if season.is_bootstrap(day) and spec.bootstrap == "placeholder" else spec.compute(ctx)
        except Exception as exc:  # noqa: BLE001 - the date's cause; the other dates go on
            failed[key] = Cause(CauseKind.COMPUTE_ERROR, f"{key}: {type(exc).__name__}: {str(exc)[:500]}")
            if spec.accumulator:
                chain_broken, state = key, None
            continue
        frame = frame.copy()
        frame[spec.date_column] = day
        if spec.accumulator:
            state = frame
        outputs.append(frame)
    filled = [o for o in outputs if len(o)]  # empty days add no rows, only dtype noise
    rows = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=[c.name for c in spec.all_cols])
    return Computed(
        rows=rows,
        failed=failed,
        state={"days": days, "lookback": lookback, "skipped": skipped},
        metadata={k: {"bootstrap": days[k].is_bootstrap} for k in days}
        | {k: {"skipped": r} for k, r in skipped.items()},
        step_metadata={"bootstrap_partitions": sum(1 for d in days.values() if d.is_bootstrap)},
    )


def evaluate(spec: PrecomputeSpec, computed: Computed, rows_by_key: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, Outcome]]:
    """(check -> date -> outcome) for every check of `spec` over the computed dates."""
    days, lookback, skipped = computed.state["days"], computed.state["lookback"], computed.state["skipped"]
    keys = list(rows_by_key)
    out = {
        checks.LOOKBACK_COMPLETE: {k: lookback[k] for k in keys},
        checks.KEYS_UNIQUE: {k: checks.keys_unique(rows_by_key[k], list(spec.key_columns)) for k in keys},
    }
    for extra in spec.extra_checks:
        out[extra.name] = {
            k: Outcome(True, {"applies": 0}, message=skipped[k]) if k in skipped else extra.evaluate(rows_by_key[k], days[k])
            for k in keys
        }
    return out


def table_spec(spec: PrecomputeSpec) -> TableSpec:
    """The core spec of one Phase 4/5 table."""
    return TableSpec(
        key=spec.key,
        doc=spec.doc,
        columns=spec.all_cols,
        date_column=spec.date_column,
        key_columns=spec.key_columns,
        inputs=tuple(TableInput(i.param, i.table.key, i.mapping, _window(i.mapping)) for i in spec.inputs),
        compute=lambda rin, spec=spec: compute(spec, rin),
        evaluate=lambda computed, rows, spec=spec: evaluate(spec, computed, rows),
        checks=tuple(spec.check_defs()),
        code_version=spec.code_version,
        deps=(AssetDep(spec.key, partition_mapping=PREVIOUS_DAY),) if spec.accumulator else (),
        lookback_checks=frozenset({checks.LOOKBACK_COMPLETE}),
        cluster_by=spec.cluster_by,
        skip=None if spec.skip is None else (lambda key, spec=spec: spec.skip(_bare_day(key))),
        isolate_errors=False,  # the per-date loop isolates dates itself
        self_dependent=spec.accumulator,
    )


def _bare_day(key: str) -> Day:
    """A date without frames (what a spec's `skip` rule reads: the date and its season)."""
    day = dt.date.fromisoformat(key)
    season = season_for_date(day)
    if season is None:
        raise ValueError(f"partition {key} is outside every season")
    return Day(key=key, day=day, season=season, frames={})


def _window(mapping) -> str:
    if mapping is None:
        return "same date"
    return f"partitions {mapping.start_offset}..{mapping.end_offset}, cut at the season opener"


def build_precompute_tables(specs) -> list:
    return build_table_assets([table_spec(s) for s in specs])


def _empty_state(spec: PrecomputeSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in spec.cols})
