"""What Phase 4 reads from Phase 2/3 tables: column contracts and window helpers.

Column names follow SPEC §2–§3 (the Phase 3 tables use SPEC's key-column names). A missing
required column fails the step with the table and the columns named; optional columns absent
upstream are read as NULL (they carry sources we do not scrape).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from dagster import AssetKey, TimeWindowPartitionMapping

from nba_backfill.layers import ANALYTICS, PRECOMPUTE, RAW
from nba_backfill.seasons import Season
from nba_backfill.assets.tables import Col


@dataclass(frozen=True)
class Table:
    """An upstream table as Phase 4 reads it."""

    layer: str
    name: str
    date_column: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def key(self) -> AssetKey:
        return AssetKey([self.layer, self.name])


SCHEDULE = Table(
    RAW, "nbac_schedule", "game_date",
    ("game_id", "game_date", "home_team_tricode", "away_team_tricode"),
    ("game_status", "season_year", "is_regular_season", "is_playoffs"),
)
PGS = Table(
    ANALYTICS, "player_game_summary", "game_date",
    ("player_lookup", "game_id", "game_date", "team_abbr", "opponent_team_abbr", "points",
     "minutes_played", "fg_attempts", "fg_makes", "three_pt_attempts", "three_pt_makes",
     "ft_attempts", "ft_makes", "paint_attempts", "paint_makes", "mid_range_attempts",
     "mid_range_makes", "assisted_fg_makes", "usage_rate", "ts_pct", "plus_minus"),
    ("universal_player_id", "player_name", "is_active", "is_dnp", "has_complete_shot_zones",
     "unassisted_fg_makes"),
)
TOGS = Table(
    ANALYTICS, "team_offense_game_summary", "game_date",
    ("game_id", "game_date", "team_abbr", "points_scored", "offensive_rating", "pace", "possessions"),
    ("opponent_team_abbr", "win_flag", "home_game"),
)
TDGS = Table(
    ANALYTICS, "team_defense_game_summary", "game_date",
    ("game_id", "game_date", "defending_team_abbr", "points_allowed", "opp_paint_attempts",
     "opp_paint_makes", "opp_mid_range_attempts", "opp_mid_range_makes", "opp_three_pt_attempts",
     "opp_three_pt_makes", "defensive_rating", "opponent_pace"),
    ("points_in_paint_allowed", "blocks_paint", "blocks_mid_range", "blocks_three_pt"),
)
UPGC = Table(
    ANALYTICS, "upcoming_player_game_context", "game_date",
    ("player_lookup", "game_id", "game_date", "team_abbr", "opponent_team_abbr", "home_game",
     "days_rest", "back_to_back", "games_in_last_7_days", "minutes_in_last_7_days"),
    ("universal_player_id", "avg_minutes_per_game_last_7", "back_to_backs_last_14_days",
     "avg_usage_rate_last_7_games", "player_age", "projected_usage_rate", "star_teammates_out",
     "player_status", "has_prop_line", "current_points_line", "team_pace_last_10", "opponent_pace_last_10",
     "pace_differential", "opponent_days_rest", "is_production_ready"),
)
UTGC = Table(
    ANALYTICS, "upcoming_team_game_context", "game_date",
    ("game_date", "team_abbr", "team_days_rest"),
    ("game_total", "game_spread", "is_back_to_back"),
)


PLAYER_GAME_COLS = (
    Col("game_date", "DATE"),
    Col("player_lookup", "STRING"),
    Col("universal_player_id", "STRING"),
    Col("game_id", "STRING"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
)
"""The leading columns of the per-player-per-game Phase 4 tables (PCF, MLFS), in that order."""


def precompute_table(name: str, date_column: str, required: tuple[str, ...]) -> Table:
    return Table(PRECOMPUTE, name, date_column, required)


def prepare(frame: pd.DataFrame | None, table: Table, asset: str) -> pd.DataFrame:
    """Validate the loaded frame's columns and normalise its date column to `datetime.date`."""
    cols = list(table.required) + [c for c in table.optional if c not in table.required]
    if frame is None or frame.empty and len(frame.columns) == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    missing = [c for c in table.required if c not in frame.columns]
    if missing:
        raise KeyError(
            f"{asset}: input {table.key.to_user_string()} lacks columns {missing} "
            f"(has {sorted(frame.columns)})"
        )
    out = frame.copy()
    for c in table.optional:
        if c not in out.columns:
            out[c] = pd.NA
    out[table.date_column] = pd.to_datetime(out[table.date_column]).dt.date
    return out


def in_window(frame: pd.DataFrame, date_column: str, start: dt.date, end_exclusive: dt.date) -> pd.DataFrame:
    """Rows with start <= date < end_exclusive."""
    if frame.empty:
        return frame
    dates = frame[date_column]
    return frame[(dates >= start) & (dates < end_exclusive)]


def history_start(day: dt.date, season: Season, mapping: TimeWindowPartitionMapping) -> dt.date:
    """First date of a history window of `mapping` ending before `day`, cut at the opener.

    Partitions are in-season days, so inside a season an offset of -N partitions is N calendar
    days; the cut at the opener keeps every window inside the season."""
    start = day + dt.timedelta(days=mapping.start_offset)
    return max(start, season.opener)


def team_games(schedule: pd.DataFrame) -> pd.DataFrame:
    """Schedule → one row per (team_abbr, game_date, game_id) for Final games (status 3 when the
    status is known)."""
    if schedule.empty:
        return pd.DataFrame(columns=["team_abbr", "game_date", "game_id"])
    sched = schedule
    if "game_status" in sched.columns and sched["game_status"].notna().any():
        sched = sched[pd.to_numeric(sched["game_status"], errors="coerce").fillna(3) == 3]
    home = sched[["home_team_tricode", "game_date", "game_id"]].rename(columns={"home_team_tricode": "team_abbr"})
    away = sched[["away_team_tricode", "game_date", "game_id"]].rename(columns={"away_team_tricode": "team_abbr"})
    out = pd.concat([home, away], ignore_index=True).drop_duplicates(["team_abbr", "game_date"])
    return out.sort_values(["team_abbr", "game_date"]).reset_index(drop=True)


def game_days(schedule_team_games: pd.DataFrame) -> set[dt.date]:
    return set(schedule_team_games["game_date"]) if len(schedule_team_games) else set()


def active_games(pgs: pd.DataFrame) -> pd.DataFrame:
    """Played games: minutes > 0 or FGA > 0, not flagged DNP (SPEC §4.2/§4.4: DNPs removed)."""
    if pgs.empty:
        return pgs
    minutes = pd.to_numeric(pgs["minutes_played"], errors="coerce").fillna(0)
    fga = pd.to_numeric(pgs["fg_attempts"], errors="coerce").fillna(0)
    played = (minutes > 0) | (fga > 0)
    if "is_dnp" in pgs.columns:
        played &= ~pgs["is_dnp"].astype("boolean").fillna(False).astype(bool)
    return pgs[played]


def numeric(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """A copy with `columns` as float (NULL -> NaN)."""
    out = frame.copy()
    for c in columns:
        if out[c].dtype != np.float64:  # float64 already is what the conversion would return
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out


def value(v):
    """A scalar from a frame cell, with pandas NA/NaN as None."""
    if v is None:
        return None
    kind = type(v)
    if kind is str or kind is int:  # the common cells, answered without pandas
        return v
    if kind is float:
        return None if v != v else v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return v
    return v.item() if hasattr(v, "item") else v


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def day_ordinals(dates: pd.Series) -> np.ndarray:
    """`date.toordinal()` of every cell, computed as one array (NaT: a number no window holds)."""
    if not len(dates):
        return np.array([], dtype=np.int64)
    days = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(days == np.iinfo(np.int64).min, days, days + _EPOCH_ORDINAL)


class Histories:
    """Per-entity game histories as numpy slices (rows sorted by entity, then date).

    `get(entity)` returns {column: array} for that entity's rows, oldest first, plus `_ord`
    (date ordinals) — cheap enough to walk hundreds of players per date."""

    def __init__(self, frame: pd.DataFrame, entity: str, columns, date_column: str = "game_date"):
        frame = frame.sort_values([entity, date_column], kind="stable")
        cols = list(dict.fromkeys([entity, date_column, *columns]))
        self.arrays = {c: frame[c].to_numpy() for c in cols}
        self.arrays["_ord"] = day_ordinals(frame[date_column])
        self.bounds: dict = {}
        keys = self.arrays[entity]
        if len(keys):
            change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
            starts = np.concatenate([[0], change])
            ends = np.concatenate([change, [len(keys)]])
            self.bounds = {keys[s]: (int(s), int(e)) for s, e in zip(starts, ends)}
        self.empty = {c: a[0:0] for c, a in self.arrays.items()}

    def __contains__(self, entity) -> bool:
        return entity in self.bounds

    def entities(self):
        return self.bounds.keys()

    def get(self, entity) -> dict:
        if entity not in self.bounds:
            return self.empty
        s, e = self.bounds[entity]
        return {c: a[s:e] for c, a in self.arrays.items()}


def float_list(values) -> list[float | None] | None:
    """An ARRAY<FLOAT64> cell as a list with None for NULL elements. DuckDB returns lists with
    NULLs as numpy masked arrays, whose masked elements would otherwise read as 0.0."""
    if values is None or values is pd.NA or (isinstance(values, float) and np.isnan(values)):
        return None
    items = values.tolist() if hasattr(values, "tolist") else list(values)  # masked -> None
    return [None if v is None or v is pd.NA or v != v else float(v) for v in items]


def records(frame: pd.DataFrame, key: str, columns) -> dict:
    """{frame[key]: {column: value}} over just the columns a computation reads (to_dict over
    every column of a wide table is the slow part of a day's step)."""
    cols = list(dict.fromkeys([key, *columns]))
    return {r[key]: r for r in frame[cols].to_dict("records")} if len(frame) else {}
