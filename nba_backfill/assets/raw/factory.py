"""Phase 2 on the table-asset core: a `RawSpec` becomes a `TableSpec` whose compute parses the lake.

Naming rule: the spec `name` becomes the asset `nba_raw/<name>` = table `nba_raw.<name>`, group
nba_raw. Every table depends on its lake asset `nba_lake/<lake>` for the same date (read through
the `lake` resource, not an IO manager) and — except the schedule itself — reads
`nba_raw.nbac_schedule` (same date) for the games a date must have; tables that map player ids
read `nba_raw.nbac_player_boxscore` too.

Per date of the run: every object under `<lake kind>/<date>/` is read and parsed by the table's
pure parser. A malformed object (invalid JSON, a field of the wrong shape, "0 rows, expected 1")
fails **that date only**, naming the object and the first bad field, with the lake partition to
re-scrape; the other dates are written. A completeness check that finds a scheduled game missing
means the landed data is incomplete: the date fails with the lake partition to re-scrape too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from dagster import AssetDep, AssetKey

from nba_backfill.assets.core import (
    Cause,
    CauseKind,
    Computed,
    RangeInput,
    TableInput,
    TableSpec,
    build_table_assets,
)
from nba_backfill.assets.raw.parsing import GameRef, ParseContext, ParseError
from nba_backfill.assets.raw.specs import GRAINS, RawSpec
from nba_backfill.assets.tables import conform
from nba_backfill.checks import raw as checks
from nba_backfill.checks.results import Outcome
from nba_backfill.layers import LAKE, RAW
from nba_backfill.resources.lake import Lake

CODE_VERSION = "1"
SCHEDULE = AssetKey([RAW, "nbac_schedule"])
PLAYER_BOXSCORE = AssetKey([RAW, "nbac_player_boxscore"])
CONFORM_CHUNK_ROWS = 20_000
"""Parsed rows conformed per batch: large enough that the per-batch cost vanishes (a date has
30-5,000 rows), small enough that the unconformed objects never hold a season."""
_NO_GAMES = pd.DataFrame(columns=["game_id"])


def raw_key(name: str) -> AssetKey:
    return AssetKey([RAW, name])


def by_day(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """A loaded input split per partition key (DATE columns come back as datetime64)."""
    if frame is None or frame.empty:
        return {}
    days = pd.to_datetime(frame["game_date"]).dt.strftime("%Y-%m-%d")
    return {day: part for day, part in frame.groupby(days)}


_REF_COLUMNS = ("nba_game_id", "game_id", "home_team_id", "away_team_id", "home_team_tricode", "away_team_tricode")


def game_refs(schedule_day: pd.DataFrame) -> dict[str, GameRef]:
    """nba_game_id -> GameRef of the date's schedule rows (column lists zipped, no row objects)."""
    columns = [schedule_day[c].to_list() for c in _REF_COLUMNS]
    return {
        nba_id: GameRef(nba_id, game_id, int(home), int(away), home_abbr, away_abbr)
        for nba_id, game_id, home, away, home_abbr, away_abbr in zip(*columns)
    }


class LandedDataError(Exception):
    """A landed object of one date that cannot be parsed (the date's cause)."""

    def __init__(self, kind: CauseKind, text: str):
        self.kind, self.text = kind, text
        super().__init__(text)


def read_objects(lake: Lake, prefix: str, day: str) -> dict[str, Any]:
    objects = {}
    for key in lake.list_keys(prefix):
        try:
            objects[key] = lake.read_json(key)
        except ValueError as exc:
            raise LandedDataError(CauseKind.LANDED_OBJECT_MALFORMED,
                                  f"{day}: landed object {key} is not valid JSON: {exc}") from None
    return objects


def parse_rows(spec: RawSpec, day: str, objects: dict[str, Any], schedule_day: pd.DataFrame,
               players_day: pd.DataFrame | None) -> pd.DataFrame:
    """The parsed rows of one date, not yet conformed; `LandedDataError` naming the object and
    field if a landed object is malformed."""
    lookups = {}
    if spec.player_lookups and players_day is not None:
        lookups = dict(zip(players_day["player_id"].astype(int), players_day["player_lookup"]))
    ctx = ParseContext(day=dt.date.fromisoformat(day),
                       games=game_refs(schedule_day) if len(schedule_day) else {},
                       player_lookups=lookups)
    try:
        rows = spec.parse(objects, ctx)
    except ParseError as exc:
        raise LandedDataError(CauseKind.LANDED_OBJECT_MALFORMED,
                              f"{day}: malformed landed object {exc.key}: {exc.cause}") from None
    return pd.DataFrame(rows, columns=[c.name for c in spec.cols])


def _conform_batch(spec: RawSpec, parsed: dict[str, pd.DataFrame], failed: dict[str, Cause]) -> pd.DataFrame:
    """The parsed dates conformed in one pass; a date whose values do not fit the declared types
    fails alone (found by conforming the dates one by one only when the batch does not fit)."""
    filled = [f.assign(processed_at=pd.NaT) for f in parsed.values() if len(f)]
    if not filled:
        return conform(pd.DataFrame({c.name: [] for c in spec.cols}), spec.cols)
    try:
        return conform(pd.concat(filled, ignore_index=True), spec.cols)
    except (ValueError, TypeError):
        good = []
        for day, frame in parsed.items():
            try:
                good.append(conform(frame.assign(processed_at=pd.NaT), spec.cols))
            except (ValueError, TypeError) as exc:
                failed[day] = Cause(CauseKind.LANDED_OBJECT_MALFORMED,
                                    f"{day}: rows do not fit the declared column types: {exc}")
        return pd.concat(good, ignore_index=True) if good else _conform_batch(spec, {}, failed)


def compute(spec: RawSpec, rin: RangeInput, lake: Lake | None = None) -> Computed:
    """Parse every open date of the run (the core's compute of a raw table)."""
    lake = lake if lake is not None else rin.context.resources.lake
    schedules = by_day(rin.frames.get("schedule"))
    players = by_day(rin.frames.get("player_boxscore"))
    failed: dict[str, Cause] = {}
    batches: list[pd.DataFrame] = []
    parsed: dict[str, pd.DataFrame] = {}
    objects_read: dict[str, int] = {}
    for day in rin.open_keys:
        try:
            objects = read_objects(lake, f"{spec.lake_prefix_kind}/{day}/", day)
            objects_read[day] = len(objects)
            parsed[day] = parse_rows(spec, day, objects, schedules.get(day, _NO_GAMES), players.get(day))
        except LandedDataError as exc:
            failed[day] = Cause(exc.kind, exc.text)
            continue
        if sum(map(len, parsed.values())) >= CONFORM_CHUNK_ROWS:
            batches.append(_conform_batch(spec, parsed, failed))
            parsed.clear()
    if parsed or not batches:
        batches.append(_conform_batch(spec, parsed, failed))
    batches = [b for b in batches if len(b)] or batches[:1]
    rows = pd.concat(batches, ignore_index=True) if len(batches) > 1 else batches[0]
    return Computed(
        rows=rows.drop(columns=["processed_at"]),
        failed=failed,
        state={"schedules": schedules},
        metadata={day: {"objects_read": n} for day, n in objects_read.items()},
        step_metadata={"objects_read": int(np.sum(list(objects_read.values()) or [0]))},
        conformed=True,
    )


def evaluate(spec: RawSpec, computed: Computed, rows_by_key: dict[str, pd.DataFrame]) -> dict[str, dict[str, Outcome]]:
    """Every data check of `spec` for each computed date."""
    schedules = computed.state["schedules"]
    out: dict[str, dict[str, Outcome]] = {}
    for day, frame in rows_by_key.items():
        expected = checks.expected_games(frame if spec.name == SCHEDULE.path[-1] else schedules.get(day, _NO_GAMES))
        season_year = int(frame["season_year"].iloc[0]) if "season_year" in frame and len(frame) else None
        for name, outcome in evaluate_day(spec, frame, expected, season_year).items():
            out.setdefault(name, {})[day] = outcome
    return out


def evaluate_day(spec: RawSpec, frame: pd.DataFrame, expected: pd.DataFrame,
                 season_year: int | None) -> dict[str, Outcome]:
    """Every data check of `spec` for one date (name -> outcome)."""
    out = {
        checks.KEYS_UNIQUE: checks.keys_unique(frame, spec.keys),
        checks.KEYS_NOT_NULL: checks.keys_not_null(frame, spec.not_null),
    }
    if spec.grain != "game":
        out[checks.GAMES_COMPLETE] = checks.games_complete(frame, expected)
    if spec.grain in ("team", "player"):
        out[checks.TEAMS_COMPLETE] = checks.teams_complete(frame, expected, spec.grain)
    if spec.points:
        out[checks.POINTS_MATCH] = checks.points_match(frame, expected, spec.grain, spec.points)
    if spec.distribution:
        out[checks.POINTS_DISTRIBUTION] = checks.points_distribution(
            frame, season_year, "points", "minutes_decimal")
    return out


def check_defs(spec: RawSpec):
    return checks.raw_check_defs(grain=spec.grain, keys=spec.keys, not_null=spec.not_null,
                                 points=spec.points, distribution=spec.distribution)


def table_spec(spec: RawSpec) -> TableSpec:
    """The core spec of one raw table."""
    inputs = []
    if spec.name != SCHEDULE.path[-1]:
        inputs.append(TableInput("schedule", SCHEDULE, None, "the date's games"))
    if spec.player_lookups:
        inputs.append(TableInput("player_boxscore", PLAYER_BOXSCORE, None, "player id -> lookup"))
    lake_key = AssetKey([LAKE, spec.lake])
    return TableSpec(
        key=raw_key(spec.name),
        doc=f"{GRAINS[spec.grain]}. {spec.description} Parsed from "
        f"`{spec.lake_prefix_kind}/<date>/*.json` (nba_lake/{spec.lake}).",
        columns=spec.cols,
        date_column="game_date",
        key_columns=spec.keys,
        inputs=tuple(inputs),
        compute=lambda rin, spec=spec: compute(spec, rin),
        evaluate=lambda computed, rows, spec=spec: evaluate(spec, computed, rows),
        checks=check_defs(spec),
        code_version=CODE_VERSION,
        deps=(AssetDep(lake_key),),
        landed_checks=frozenset({checks.GAMES_COMPLETE, checks.TEAMS_COMPLETE}) & {c.name for c in check_defs(spec)},
        refetch=lambda key, lake_key=lake_key: (f"{lake_key.to_user_string()}:{key}",),
        cluster_by=spec.cluster_by,
        kinds=frozenset({"pandas", "json"}),
        metadata={"grain": GRAINS[spec.grain], "keys": ", ".join(spec.keys)},
        resources=frozenset({"lake"}),
    )


def build_raw_tables(specs) -> list:
    return build_table_assets([table_spec(s) for s in specs])
