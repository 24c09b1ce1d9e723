"""Shared preparation of one date's team box scores for TOGS and TDGS (SPEC §3.2, §3.3).

Source: `nba_raw.nbac_team_boxscore`, newest row per (game, team); rows with 0 points or 0 FGA
are dropped (SPEC). Each team row is paired with its opponent's row of the same game, and the
play-by-play field-goal attempts of the date are aggregated per shooting team.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_backfill.assets.analytics import formulas as f
from nba_backfill.assets.analytics.frames import Inputs, newest
from nba_backfill.assets.analytics.zones import (
    BLOCK_COUNTS,
    SHOT_COUNTS,
    blocks_by_zone,
    field_goal_events,
    shooter_zones,
    zones_complete,
)
from nba_backfill.assets.analytics.factory import Upstream
from nba_backfill.layers import RAW
from nba_backfill.seasons import season_for_date

TEAM_BOX_COLUMNS = (
    "game_id", "nba_game_id", "game_date", "team_abbr", "opponent_team_abbr", "is_home", "minutes",
    "fg_made", "fg_attempted", "three_pt_made", "three_pt_attempted", "ft_made", "ft_attempted",
    "offensive_rebounds", "defensive_rebounds", "total_rebounds", "assists", "steals", "blocks",
    "turnovers", "personal_fouls", "points", "processed_at",
)
PBP_COLUMNS = (
    "game_id", "game_date", "event_type", "player_1_lookup", "player_1_team_abbr",
    "player_2_lookup", "player_3_lookup", "shot_made", "shot_type", "shot_distance", "processed_at",
)
SCHEDULE_COLUMNS = (
    "game_id", "nba_game_id", "game_date", "game_status", "home_team_tricode", "away_team_tricode",
    "home_team_score", "away_team_score", "is_all_star",
)

TEAM_BOXSCORE = Upstream((RAW, "nbac_team_boxscore"), None, TEAM_BOX_COLUMNS)
PLAY_BY_PLAY = Upstream((RAW, "nbac_play_by_play"), None, PBP_COLUMNS)
SCHEDULE_SAME_DATE = Upstream(
    (RAW, "nbac_schedule"), None, SCHEDULE_COLUMNS, "same date: the Final games teams_complete expects"
)

STATS = [
    "fg_made", "fg_attempted", "three_pt_made", "three_pt_attempted", "ft_made", "ft_attempted",
    "offensive_rebounds", "defensive_rebounds", "total_rebounds", "assists", "steals", "blocks",
    "turnovers", "personal_fouls", "points",
]


def season_year(day: dt.date) -> int:
    season = season_for_date(day)
    if season is None:
        raise ValueError(f"{day} is outside every season of nba_backfill.seasons")
    return season.season_year


def season_years(dates: pd.Series) -> pd.Series:
    """season_year of every game date (from seasons.py, not from the source rows)."""
    years = {d: season_year(d.date()) for d in pd.to_datetime(dates).unique()}
    return pd.to_datetime(dates).map(years).astype("Int64")


def team_games(days: list[dt.date], inputs: Inputs) -> pd.DataFrame:
    """One row per team-game of `days` with the team's stats, `opp_*` stats (NaN when the
    opponent's row is missing: `has_opponent`), derived possessions, player-minutes, zone counts
    (`zone_*`, NaN without play-by-play) and source tracking."""
    raw = inputs.on_days("team_boxscore", days)
    box = newest(raw, ["game_id", "team_abbr"])
    box = box[(box["points"].fillna(0) > 0) & (box["fg_attempted"].fillna(0) > 0)].copy()
    if box.empty:
        return box
    for col in STATS:
        box[col] = pd.to_numeric(box[col]).astype("float64")
    box["player_minutes"] = box["minutes"].map(f.parse_player_minutes).astype("float64")
    box["poss"] = f.possessions(box["fg_attempted"], box["ft_attempted"], box["turnovers"], box["offensive_rebounds"])

    rows_per_game = raw.groupby("game_id").size()
    box["source_box_rows_found"] = box["game_id"].map(rows_per_game).astype("Int64")
    box["source_box_last_updated"] = box["game_id"].map(raw.groupby("game_id")["processed_at"].max())

    opp = box[["game_id", "team_abbr", *STATS, "player_minutes", "poss"]].rename(
        columns=lambda c: c if c == "game_id" else f"opp_{c}"
    )
    games = box.merge(opp, left_on=["game_id", "opponent_team_abbr"], right_on=["game_id", "opp_team_abbr"], how="left")

    pbp = inputs.on_days("play_by_play", days)
    events = field_goal_events(pbp)
    by_team = shooter_zones(events, ["game_id", "team_abbr"]).rename(columns=lambda c: c if c in ("game_id", "team_abbr") else f"zone_{c}")
    opp_zones = by_team.rename(columns={"team_abbr": "opponent_team_abbr", **{c: f"opp_{c}" for c in by_team.columns if c.startswith("zone_")}})
    # blocks of the team = blocked attempts of the opponent's shooters, by zone
    blocks = blocks_by_zone(events, ["game_id", "team_abbr"]).rename(columns={"team_abbr": "opponent_team_abbr"})
    games = games.merge(by_team, on=["game_id", "team_abbr"], how="left")
    games = games.merge(opp_zones, on=["game_id", "opponent_team_abbr"], how="left")
    games = games.merge(blocks, on=["game_id", "opponent_team_abbr"], how="left")

    pbp_games = set(pbp["game_id"].astype(str))
    has_pbp = games["game_id"].astype(str).isin(pbp_games)
    for col in [f"zone_{c}" for c in SHOT_COUNTS] + [f"opp_zone_{c}" for c in SHOT_COUNTS] + BLOCK_COUNTS:
        counts = games[col].astype("float64")
        games[col] = counts.mask(counts.isna() & has_pbp, 0.0)
    games["zones_complete"] = zones_complete(
        games[[f"zone_{c}" for c in ("pbp_fg_attempts", "pbp_fg_makes", "unzoned_attempts")]].rename(columns=lambda c: c[5:]),
        games["fg_attempted"], games["fg_made"],
    )
    games["opp_zones_complete"] = zones_complete(
        games[[f"opp_zone_{c}" for c in ("pbp_fg_attempts", "pbp_fg_makes", "unzoned_attempts")]].rename(columns=lambda c: c[9:]),
        games["opp_fg_attempted"], games["opp_fg_made"],
    )
    pbp_rows = pbp.groupby("game_id").size()
    games["source_pbp_rows_found"] = games["game_id"].map(pbp_rows).fillna(0).astype("Int64")
    games["source_pbp_last_updated"] = games["game_id"].map(pbp.groupby("game_id")["processed_at"].max())
    games["season_year"] = season_years(games["game_date"])
    games["has_opponent"] = games["opp_points"].notna()
    games["win_flag"] = (games["points"] > games["opp_points"]).where(games["has_opponent"])
    games["margin_of_victory"] = games["points"] - games["opp_points"]
    games["overtime_periods"] = f.overtime_periods(games["player_minutes"])
    return games.reset_index(drop=True)


def pbp_completeness(games: pd.DataFrame, prefix: str = "zone_") -> pd.Series:
    """Share of the box score's field-goal attempts found in the play-by-play, in % (cap 100)."""
    found = games[f"{prefix}pbp_fg_attempts"].fillna(0)
    expected = games["fg_attempted" if prefix == "zone_" else "opp_fg_attempted"]
    return (100.0 * found / expected.where(expected > 0)).clip(upper=100.0).round(2).fillna(100.0)
