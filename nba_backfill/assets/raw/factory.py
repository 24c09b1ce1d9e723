"""One factory turns every `RawSpec` into a Phase 2 table asset.

Naming rule: the spec `name` becomes the asset `nba_raw/<name>` = table `nba_raw.<name>`, group
nba_raw. Every table:
- depends on its lake asset `nba_lake/<lake>` for the same date (`deps=[AssetDep(...)]`: the
  lake is read through the `lake` resource, not an IO manager), and — except the schedule
  itself — on `nba_raw.nbac_schedule` (same date) for the games a date must have;
- calls `blocked_partitions` first: blocked dates get no rows and a failed
  `upstream_checks_passed`;
- parses every lake object under `<lake kind>/<date>/` of every date of the run with its pure
  parser; a malformed object fails the step naming the partition, object key and first bad
  field, before anything is written (the IO manager replaces the whole range in one
  transaction, so nothing is ever half-written);
- returns the conformed frame (declared `dagster/column_schema`, `partition_expr` on
  game_date) and its checks, one evaluation per partition.
"""

import datetime as dt
import time
from typing import Any

import numpy as np
import pandas as pd
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from nba_backfill.assets.common import WAREHOUSE_POOL, frame_metadata, partition_keys
from nba_backfill.assets.raw.parsing import GameRef, ParseContext, ParseError
from nba_backfill.assets.raw.specs import GRAINS, RawSpec
from nba_backfill.assets.tables import cluster_metadata, column_schema, conform
from nba_backfill.checks import raw as checks
from nba_backfill.checks.results import Outcome, emit_check
from nba_backfill.guards import blocked_partitions
from nba_backfill.layers import LAKE, RAW
from nba_backfill.partitions import DAILY_PARTITIONS, TABLE_BACKFILL_POLICY
from nba_backfill.resources.lake import Lake
from nba_backfill.resources.warehouse import partition_expr

CODE_VERSION = "1"
SCHEDULE = AssetKey([RAW, "nbac_schedule"])
PLAYER_BOXSCORE = AssetKey([RAW, "nbac_player_boxscore"])


def raw_key(name: str) -> AssetKey:
    return AssetKey([RAW, name])


def _by_day(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """A loaded input split per partition key (DATE columns come back as datetime64)."""
    if frame is None or frame.empty:
        return {}
    days = pd.to_datetime(frame["game_date"]).dt.strftime("%Y-%m-%d")
    return {day: part for day, part in frame.groupby(days)}


def game_refs(schedule_day: pd.DataFrame) -> dict[str, GameRef]:
    return {
        r.nba_game_id: GameRef(r.nba_game_id, r.game_id, int(r.home_team_id), int(r.away_team_id),
                               r.home_team_tricode, r.away_team_tricode)
        for r in schedule_day.itertuples()
    }


def read_objects(lake: Lake, prefix: str, asset_name: str, day: str) -> dict[str, Any]:
    objects = {}
    for key in lake.list_keys(prefix):
        try:
            objects[key] = lake.read_json(key)
        except ValueError as exc:
            raise Failure(
                description=f"{asset_name} partition {day}: landed object {key} is not valid JSON: {exc}",
                metadata={"partition": day, "object": key},
            ) from None
    return objects


def _blocked_outcome(reasons: list[str]) -> Outcome:
    return Outcome(False, {"rows": 0}, [], f"not evaluated, partition blocked: {'; '.join(reasons[:3])}")


def evaluate(spec: RawSpec, frame: pd.DataFrame, expected: pd.DataFrame,
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


def parse_rows(spec: RawSpec, day: str, objects: dict[str, Any], schedule_day: pd.DataFrame,
               players_day: pd.DataFrame | None) -> pd.DataFrame:
    """The parsed rows of one date, not yet conformed; Failure naming partition, object and field
    if a landed object is malformed."""
    asset_name = raw_key(spec.name).to_user_string()
    lookups = {}
    if spec.player_lookups and players_day is not None:
        lookups = dict(zip(players_day["player_id"].astype(int), players_day["player_lookup"]))
    ctx = ParseContext(day=dt.date.fromisoformat(day),
                       games=game_refs(schedule_day) if len(schedule_day) else {},
                       player_lookups=lookups)
    try:
        rows = spec.parse(objects, ctx)
    except ParseError as exc:
        raise Failure(
            description=f"{asset_name} partition {day}: malformed landed object {exc.key}: "
            f"{exc.cause}. Nothing was written for the run's range.",
            metadata={"partition": day, "object": exc.key, "cause": exc.cause},
        ) from None
    return pd.DataFrame(rows, columns=[c.name for c in spec.cols])


def _conform_range(spec: RawSpec, parsed: dict[str, pd.DataFrame],
                   processed_at: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """All parsed dates conformed in one pass (per-date conversion cost ~15 ms x 21 tables x
    every date of a season), split back per date. A value that does not fit fails naming the
    first date it occurs on."""
    asset_name = raw_key(spec.name).to_user_string()
    filled = [f for f in parsed.values() if len(f)]
    whole = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(
        columns=[c.name for c in spec.cols])
    whole["processed_at"] = processed_at
    try:
        df = conform(whole, spec.cols)
    except (ValueError, TypeError):
        for day, frame in parsed.items():  # find the date, for the message
            try:
                conform(frame.assign(processed_at=processed_at), spec.cols)
            except (ValueError, TypeError) as exc:
                raise Failure(description=f"{asset_name} partition {day}: rows do not fit the "
                                          f"declared column types: {exc}") from None
        raise
    empty = df.iloc[0:0]
    sizes = [len(f) for f in parsed.values()]
    bounds = np.cumsum([0, *sizes])
    per_day = {day: (df.iloc[bounds[i]:bounds[i + 1]].reset_index(drop=True) if sizes[i] else empty)
               for i, day in enumerate(parsed)}
    return df, per_day


def parse_range(spec: RawSpec, lake: Lake, days: list[str], *,
                schedules: dict[str, pd.DataFrame], players: dict[str, pd.DataFrame],
                blocked: dict[str, list[str]] | None = None,
                processed_at: pd.Timestamp | None = None,
                ) -> tuple[pd.DataFrame, dict[str, dict[str, Outcome]], int]:
    """Every date of a run, without Dagster: (conformed rows of the whole range, check name ->
    date -> outcome, lake objects read). `schedules`/`players` are the loaded inputs split per
    date (`_by_day`), `blocked` the guard's verdicts. The asset calls it; so does the pandas
    floor of `benchmarks/`."""
    asset_name = raw_key(spec.name).to_user_string()
    blocked = blocked or {}
    processed_at = processed_at if processed_at is not None else pd.Timestamp.now(tz="UTC")
    results: dict[str, dict[str, Outcome]] = {c.name: {} for c in _check_specs(spec)}
    conformed: list[pd.DataFrame] = []
    parsed: dict[str, pd.DataFrame] = {}  # dates parsed and not yet conformed
    objects_read = 0

    def flush() -> None:
        """Conform the parsed dates held so far and run their checks (bounded memory: parsed
        rows are object columns, several times the size of conformed ones)."""
        chunk, per_day = _conform_range(spec, parsed, processed_at)
        conformed.append(chunk)
        for day, frame in per_day.items():
            schedule_day = schedules.get(day, _NO_GAMES)
            expected = checks.expected_games(frame if spec.name == SCHEDULE.path[-1] else schedule_day)
            season_year = int(frame["season_year"].iloc[0]) if "season_year" in frame and len(frame) else None
            results[checks.UPSTREAM_CHECKS_PASSED][day] = checks.upstream_checks_passed([])
            for name, outcome in evaluate(spec, frame, expected, season_year).items():
                results[name][day] = outcome
        parsed.clear()

    for day in days:
        if day in blocked:
            for name in results:
                results[name][day] = (checks.upstream_checks_passed(blocked[day])
                                      if name == checks.UPSTREAM_CHECKS_PASSED
                                      else _blocked_outcome(blocked[day]))
            continue
        objects = read_objects(lake, f"{spec.lake_prefix_kind}/{day}/", asset_name, day)
        objects_read += len(objects)
        parsed[day] = parse_rows(spec, day, objects, schedules.get(day, _NO_GAMES), players.get(day))
        if sum(map(len, parsed.values())) >= CONFORM_CHUNK_ROWS:
            flush()
    if parsed or not conformed:  # the rest; an empty range still gets its typed empty frame
        flush()
    filled = [c for c in conformed if len(c)] or conformed[:1]
    df = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    in_order = {name: {d: by_day[d] for d in days if d in by_day} for name, by_day in results.items()}
    return df, in_order, objects_read


_NO_GAMES = pd.DataFrame(columns=["game_id"])
CONFORM_CHUNK_ROWS = 20_000
"""Parsed rows conformed per batch: large enough that the per-batch cost vanishes (a date has
30-5,000 rows), small enough that the unconformed objects never hold a season."""


def _check_specs(spec: RawSpec) -> list:
    return checks.raw_check_specs(raw_key(spec.name), grain=spec.grain, keys=spec.keys,
                                  not_null=spec.not_null, points=spec.points,
                                  distribution=spec.distribution)


def build_raw_table(spec: RawSpec):
    """The table asset of one raw spec."""
    key = raw_key(spec.name)
    ins = {}
    if spec.name != SCHEDULE.path[-1]:
        ins["schedule"] = AssetIn(key=SCHEDULE)
    if spec.player_lookups:
        ins["player_boxscore"] = AssetIn(key=PLAYER_BOXSCORE)
    check_specs = _check_specs(spec)
    asset_name = key.to_user_string()

    @asset(
        key=key,
        ins=ins,
        deps=[AssetDep(AssetKey([LAKE, spec.lake]))],
        description=f"{GRAINS[spec.grain]}. {spec.description} Parsed from "
        f"`{spec.lake_prefix_kind}/<date>/*.json` (nba_lake/{spec.lake}).",
        group_name=RAW,
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=TABLE_BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
        io_manager_key="io_manager",
        owners=["team:nba-data"],
        kinds={"pandas", "json"},
        code_version=CODE_VERSION,
        metadata={
            "partition_expr": partition_expr("game_date"),
            "dagster/column_schema": column_schema(spec.cols),
            "grain": GRAINS[spec.grain],
            "keys": ", ".join(spec.keys),
            **cluster_metadata(spec.name, spec.cluster_by, spec.cols),
        },
        check_specs=check_specs,
    )
    def _table(context: AssetExecutionContext, lake: Lake, **inputs):
        started = time.monotonic()
        days = partition_keys(context)
        blocked = blocked_partitions(context, days)
        schedules = _by_day(inputs.get("schedule"))
        players = _by_day(inputs.get("player_boxscore"))
        for day, reasons in blocked.items():
            context.log.warning(f"{asset_name} {day} blocked: {reasons}")
        df, results, objects_read = parse_range(spec, lake, days, schedules=schedules,
                                                players=players, blocked=blocked)
        extra: dict[str, Any] = {
            "partitions": len(days),
            "partitions_blocked": len(blocked),
            "objects_read": objects_read,
            "seconds": round(time.monotonic() - started, 3),
        }
        if "game_id" in df:
            extra["games"] = int(df["game_id"].nunique())
        if "player_lookup" in df:
            extra["players"] = int(df["player_lookup"].nunique())
        if blocked:
            extra["blocked"] = MetadataValue.json(blocked)
        yield Output(df, metadata=frame_metadata(df, **extra))
        for spec_ in check_specs:
            yield emit_check(context, key, spec_.name, results[spec_.name], blocking=spec_.blocking)

    return _table
