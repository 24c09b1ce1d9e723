"""player_game_summary (PGS), SPEC §3.1."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_backfill.assets.analytics import formulas as f
from nba_backfill.assets.analytics.factory import META_COLUMNS, QUALITY_COLUMNS, AnalyticsTable, Upstream
from nba_backfill.assets.analytics.frames import Inputs, newest
from nba_backfill.assets.analytics.team_box import PLAY_BY_PLAY, season_years
from nba_backfill.assets.analytics.zones import (
    BLOCK_COUNTS,
    SHOT_COUNTS,
    blocks_by_zone,
    field_goal_events,
    shooter_zones,
    zones_complete,
)
from nba_backfill.assets.tables import Col
from nba_backfill.layers import ANALYTICS, RAW

PLAYER_BOX_COLUMNS = (
    "game_id", "nba_game_id", "game_date", "player_id", "player_lookup", "player_name", "team_abbr",
    "opponent_team_abbr", "is_home", "game_status", "minutes_decimal", "points", "field_goals_made",
    "field_goals_attempted", "three_pointers_made", "three_pointers_attempted", "free_throws_made",
    "free_throws_attempted", "offensive_rebounds", "defensive_rebounds", "total_rebounds", "assists",
    "steals", "blocks", "turnovers", "personal_fouls", "plus_minus", "processed_at",
)
TOGS_COLUMNS = ("game_id", "game_date", "team_abbr", "fg_attempts", "ft_attempts", "turnovers", "points_scored")

BACKUP_SCORE = 85.0  # SPEC §3.1: sources other than the gamebook start at silver/85
PENALTY = 5.0  # SPEC §3.1: −5 for missing plus_minus, −5 for missing zones
NOT_SCRAPED = ("missing_prop_line",)  # odds_api / bettingpros are not among our sources

COLUMNS: tuple[Col, ...] = (
    Col("player_lookup", "STRING"),
    Col("universal_player_id", "STRING", "NBA person id (no player registry is scraped)"),
    Col("player_id", "INT64", "NBA person id"),
    Col("player_full_name", "STRING"),
    Col("game_id", "STRING", "YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
    Col("home_game", "BOOL"),
    Col("points", "INT64"),
    Col("minutes_played", "FLOAT64", "decimal minutes"),
    Col("assists", "INT64"),
    Col("offensive_rebounds", "INT64"),
    Col("defensive_rebounds", "INT64"),
    Col("total_rebounds", "INT64"),
    Col("steals", "INT64"),
    Col("blocks", "INT64"),
    Col("turnovers", "INT64"),
    Col("personal_fouls", "INT64"),
    Col("fg_attempts", "INT64"),
    Col("fg_makes", "INT64"),
    Col("three_pt_attempts", "INT64"),
    Col("three_pt_makes", "INT64"),
    Col("ft_attempts", "INT64"),
    Col("ft_makes", "INT64"),
    Col("plus_minus", "INT64"),
    Col("paint_attempts", "INT64", "2PT attempts ≤ 8 ft"),
    Col("paint_makes", "INT64"),
    Col("mid_range_attempts", "INT64", "other 2PT attempts"),
    Col("mid_range_makes", "INT64"),
    Col("paint_blocks", "INT64", "the player's blocks on paint attempts"),
    Col("mid_range_blocks", "INT64"),
    Col("three_pt_blocks", "INT64"),
    Col("has_complete_shot_zones", "BOOL", "play-by-play reconciles with the box FGA/FGM"),
    Col("assisted_fg_makes", "INT64"),
    Col("unassisted_fg_makes", "INT64"),
    Col("usage_rate", "FLOAT64", "SPEC formula; NULL above 100 or without team totals"),
    Col("ts_pct", "FLOAT64"),
    Col("efg_pct", "FLOAT64"),
    Col("starter_flag", "BOOL", "minutes > 20 (SPEC)"),
    Col("win_flag", "BOOL", "team's points > opponent's points"),
    Col("points_line", "FLOAT64", "NULL: prop lines are not scraped"),
    Col("over_under_result", "STRING", "NULL: needs points_line"),
    Col("margin", "FLOAT64", "NULL: needs points_line"),
    Col("is_active", "BOOL"),
    Col("player_status", "STRING"),
    Col("is_dnp", "BOOL"),
    Col("dnp_reason_category", "STRING", "NULL: DNP rows need the gamebook (not scraped)"),
    Col("primary_source_used", "STRING"),
    Col("is_partial_game_data", "BOOL", "the box score row was not Final"),
    Col("source_player_boxscore_last_updated", "TIMESTAMP"),
    Col("source_team_offense_rows_found", "INT64", "TOGS rows of the player's team-game (1)"),
    Col("source_play_by_play_rows_found", "INT64", "the player's field-goal events"),
    *QUALITY_COLUMNS,
    *META_COLUMNS,
)

_STAT_MAP = {
    "points": "points",
    "assists": "assists",
    "offensive_rebounds": "offensive_rebounds",
    "defensive_rebounds": "defensive_rebounds",
    "total_rebounds": "total_rebounds",
    "steals": "steals",
    "blocks": "blocks",
    "turnovers": "turnovers",
    "personal_fouls": "personal_fouls",
    "fg_attempts": "field_goals_attempted",
    "fg_makes": "field_goals_made",
    "three_pt_attempts": "three_pointers_attempted",
    "three_pt_makes": "three_pointers_made",
    "ft_attempts": "free_throws_attempted",
    "ft_makes": "free_throws_made",
    "plus_minus": "plus_minus",
}


def compute(days: list[dt.date], inputs: Inputs) -> pd.DataFrame:
    box = newest(inputs.on_days("player_boxscore", days), ["game_id", "player_lookup"])
    if box.empty:
        return pd.DataFrame(columns=[c.name for c in COLUMNS])
    p = box.copy()
    for col in _STAT_MAP.values():
        p[col] = pd.to_numeric(p[col]).astype("float64")
    p["minutes"] = pd.to_numeric(p["minutes_decimal"]).astype("float64")

    # team totals for usage (TOGS of the same date) and team points for win_flag (player sums)
    togs = inputs.on_days("team_offense", days)
    team = togs[["game_id", "team_abbr", "fg_attempts", "ft_attempts", "turnovers"]].rename(
        columns={"fg_attempts": "team_fga", "ft_attempts": "team_fta", "turnovers": "team_tov"}
    )
    team_rows = togs.groupby(["game_id", "team_abbr"]).size().rename("togs_rows").reset_index()
    team = team.drop_duplicates(["game_id", "team_abbr"]).merge(team_rows, on=["game_id", "team_abbr"])
    p = p.merge(team, on=["game_id", "team_abbr"], how="left")
    team_points = p.groupby(["game_id", "team_abbr"])["points"].sum()
    p["team_points"] = [team_points.get((g, t)) for g, t in zip(p["game_id"], p["team_abbr"])]
    p["opp_points"] = [team_points.get((g, t)) for g, t in zip(p["game_id"], p["opponent_team_abbr"])]

    # play-by-play zones, shot creation and blocks by zone
    pbp = inputs.on_days("play_by_play", days)
    events = field_goal_events(pbp)
    shots = shooter_zones(events, ["game_id", "player_lookup"])
    blocks = blocks_by_zone(events, ["game_id", "blocker_lookup"]).rename(columns={"blocker_lookup": "player_lookup"})
    p = p.merge(shots, on=["game_id", "player_lookup"], how="left").merge(blocks, on=["game_id", "player_lookup"], how="left")
    has_pbp = p["game_id"].astype(str).isin(set(pbp["game_id"].astype(str)))
    for col in [*SHOT_COUNTS, *BLOCK_COUNTS]:
        counts = p[col].astype("float64")
        p[col] = counts.mask(counts.isna() & has_pbp, 0.0)
    zones_ok = zones_complete(p, p["field_goals_attempted"], p["field_goals_made"])
    blocks_ok = zones_ok & (p[BLOCK_COUNTS].sum(axis=1, min_count=1) == p["blocks"])

    out = pd.DataFrame(
        {
            "player_lookup": p["player_lookup"],
            "universal_player_id": p["player_id"].astype("Int64").astype("string"),
            "player_id": p["player_id"],
            "player_full_name": p["player_name"],
            "game_id": p["game_id"],
            "nba_game_id": p["nba_game_id"],
            "game_date": p["game_date"],
            "season_year": season_years(p["game_date"]),
            "team_abbr": p["team_abbr"],
            "opponent_team_abbr": p["opponent_team_abbr"],
            "home_game": p["is_home"],
            **{ours: p[theirs] for ours, theirs in _STAT_MAP.items()},
            "minutes_played": p["minutes"].round(1),
            "paint_attempts": p["paint_attempts"].where(zones_ok),
            "paint_makes": p["paint_makes"].where(zones_ok),
            "mid_range_attempts": p["mid_range_attempts"].where(zones_ok),
            "mid_range_makes": p["mid_range_makes"].where(zones_ok),
            "paint_blocks": p["paint_blocks"].where(blocks_ok),
            "mid_range_blocks": p["mid_range_blocks"].where(blocks_ok),
            "three_pt_blocks": p["three_pt_blocks"].where(blocks_ok),
            "has_complete_shot_zones": zones_ok,
            "assisted_fg_makes": p["assisted_fg_makes"].where(zones_ok),
            "unassisted_fg_makes": (p["field_goals_made"] - p["assisted_fg_makes"]).where(zones_ok),
            "usage_rate": f.usage_rate(
                p["field_goals_attempted"], p["free_throws_attempted"], p["turnovers"], p["minutes"],
                p["team_fga"], p["team_fta"], p["team_tov"],
            ),
            "ts_pct": f.ts_pct(p["points"], p["field_goals_attempted"], p["free_throws_attempted"]),
            "efg_pct": f.efg_pct(p["field_goals_made"], p["three_pointers_made"], p["field_goals_attempted"]),
            "starter_flag": p["minutes"] > f.STARTER_MINUTES,
            "win_flag": pd.Series(p["team_points"] > p["opp_points"]).where(p["opp_points"].notna()),
            "points_line": None,
            "over_under_result": None,
            "margin": None,
            "is_active": True,
            "player_status": "active",
            "is_dnp": False,
            "dnp_reason_category": None,
            "primary_source_used": "nbac_player_boxscore",
            "is_partial_game_data": p["game_status"].astype("string").str.lower() != "final",
            "source_player_boxscore_last_updated": p["processed_at"],
            "source_team_offense_rows_found": p["togs_rows"].fillna(0),
            "source_play_by_play_rows_found": p["pbp_fg_attempts"].fillna(0),
        }
    )
    quality = [
        _quality(z, pm, t)
        for z, pm, t in zip(zones_ok, p["plus_minus"].notna(), p["togs_rows"].notna())
    ]
    scores, issues, sources = zip(*quality)
    return out.assign(**f.quality_columns(scores, issues, sources))


def _quality(zones_ok: bool, has_plus_minus: bool, has_team: bool) -> tuple[float, list[str], list[str]]:
    """SPEC §3.1: gamebook rows start at 100/gold, other sources at 85/silver with
    `backup_source_used`. We do not scrape the gamebook (no DNP/inactive rows), so every row
    starts at 85; −5 without plus_minus, −5 without reconciled zones. Missing TOGS (usage NULL)
    and the unscraped prop line are listed as issues without a deduction."""
    score, issues = BACKUP_SCORE, ["backup_source_used"]
    sources = ["nbac_player_boxscore"]
    if has_team:
        sources.append("team_offense_game_summary")
    else:
        issues.append("missing_team_stats")
    if zones_ok:
        sources.append("nbac_play_by_play")
    else:
        score -= PENALTY
        issues.append("missing_shot_zones")
    if not has_plus_minus:
        score -= PENALTY
        issues.append("missing_plus_minus")
    issues += NOT_SCRAPED
    return score, issues, sources


TABLE = AnalyticsTable(
    name="player_game_summary",
    doc="""One row per player per game date (merge key game_date, player_lookup).

SPEC §3.1. Box stats from `nba_raw.nbac_player_boxscore` (newest row per game and player; the
gamebook is not among our sources, so the player box score is the only stats source and rows
carry `backup_source_used` at 85/silver as SPEC prescribes for non-gamebook rows). Team totals for
usage come from `nba_analytics.team_offense_game_summary` of the same date (TOGS is upstream of
PGS); shot zones (paint ≤ 8 ft, mid-range = other 2PT), assisted/unassisted makes and blocks by
zone from `nba_raw.nbac_play_by_play` of the same date, NULL unless they reconcile with the box.

usage = 100·(FGA + 0.44·FTA + TO)·48 / (min·(teamFGA + 0.44·teamFTA + teamTO)), NULL above 100;
ts_pct = PTS/(2·(FGA + 0.44·FTA)); efg_pct = (FGM + 0.5·3PM)/FGA; starter_flag = minutes > 20.
win_flag is computed truthfully from the team points (sum of the team's player points vs the
opponent's). The production system leaves it always FALSE, a known gap; we fix it.
points_line / over_under_result / margin are NULL: prop lines are not scraped
(`missing_prop_line` in quality_issues).""",
    columns=COLUMNS,
    key=("game_date", "player_lookup"),
    upstreams={
        "player_boxscore": Upstream((RAW, "nbac_player_boxscore"), None, PLAYER_BOX_COLUMNS),
        "play_by_play": PLAY_BY_PLAY,
        "team_offense": Upstream(
            (ANALYTICS, "team_offense_game_summary"), None, TOGS_COLUMNS,
            "same date: team FGA/FTA/TO for usage; TOGS is upstream of PGS",
        ),
    },
    compute=compute,
    code_version="pgs-1",
    cluster_by=("universal_player_id", "player_lookup", "team_abbr", "game_date"),  # SPEC §3
)
