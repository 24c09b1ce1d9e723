"""team_defense_game_summary (TDGS), SPEC §3.3."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_backfill.assets.analytics import formulas as f
from nba_backfill.assets.analytics.factory import META_COLUMNS, QUALITY_COLUMNS, AnalyticsTable, Upstream
from nba_backfill.assets.analytics.frames import Inputs, newest
from nba_backfill.assets.analytics.team_box import (
    PLAY_BY_PLAY,
    SCHEDULE_SAME_DATE,
    TEAM_BOXSCORE,
    pbp_completeness,
    team_games,
)
from nba_backfill.assets.tables import Col
from nba_backfill.layers import RAW

PLAYER_BOX_COLUMNS = (
    "game_id", "game_date", "player_lookup", "team_abbr", "steals", "blocks", "defensive_rebounds",
    "processed_at",
)
PLAYER_BOXSCORE = Upstream(
    (RAW, "nbac_player_boxscore"), None, PLAYER_BOX_COLUMNS, "same date: steals, blocks, DREB sums"
)
MIN_PLAYERS_FOR_SUMS = 5  # SPEC §3.3: sums from the player box score need ≥ 5 active players
BACKUP_SCORE = 85.0
MISSING_ZONES_PENALTY = 5.0

COLUMNS: tuple[Col, ...] = (
    Col("game_id", "STRING", "YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("defending_team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING", "team on offense"),
    Col("home_game", "BOOL", "defending team at home"),
    Col("points_allowed", "INT64"),
    Col("opp_fg_attempts", "INT64"),
    Col("opp_fg_makes", "INT64"),
    Col("opp_three_pt_attempts", "INT64"),
    Col("opp_three_pt_makes", "INT64"),
    Col("opp_ft_attempts", "INT64"),
    Col("opp_ft_makes", "INT64"),
    Col("opp_rebounds", "INT64"),
    Col("opp_offensive_rebounds", "INT64"),
    Col("opp_assists", "INT64"),
    Col("turnovers_forced", "INT64", "opponent turnovers"),
    Col("fouls_committed", "INT64", "defending team's personal fouls"),
    Col("opp_paint_attempts", "INT64"),
    Col("opp_paint_makes", "INT64"),
    Col("opp_mid_range_attempts", "INT64"),
    Col("opp_mid_range_makes", "INT64"),
    Col("points_in_paint_allowed", "INT64", "2 × opponent paint makes"),
    Col("mid_range_points_allowed", "INT64", "2 × opponent mid-range makes"),
    Col("three_pt_points_allowed", "INT64", "3 × opponent 3PM"),
    Col("blocks_paint", "INT64", "blocks on opponent paint attempts"),
    Col("blocks_mid_range", "INT64"),
    Col("blocks_three_pt", "INT64"),
    Col("steals", "INT64"),
    Col("blocks", "INT64"),
    Col("defensive_rebounds", "INT64"),
    Col("defensive_actions_source", "STRING", "nbac_player_boxscore (sum) or nbac_team_boxscore"),
    Col("opp_possessions", "FLOAT64"),
    Col("defensive_rating", "FLOAT64", "100·points allowed / opponent possessions"),
    Col("opponent_pace", "FLOAT64", "opponent possessions·48 / (player-minutes / 5)"),
    Col("opponent_ts_pct", "FLOAT64"),
    Col("shot_zones_available", "BOOL"),
    Col("win_flag", "BOOL", "defending team's points > points allowed"),
    Col("margin_of_victory", "INT64"),
    Col("overtime_periods", "INT64"),
    Col("primary_source_used", "STRING"),
    Col("source_nbac_boxscore_rows_found", "INT64"),
    Col("source_player_boxscore_rows_found", "INT64", "defending team's player rows"),
    Col("source_play_by_play_rows_found", "INT64"),
    Col("source_play_by_play_completeness_pct", "FLOAT64", "opponent FGA found in the play-by-play, %"),
    *QUALITY_COLUMNS,
    *META_COLUMNS,
)


def compute(days: list[dt.date], inputs: Inputs) -> pd.DataFrame:
    g = team_games(days, inputs)
    if not g.empty:
        g = g[g["has_opponent"]].reset_index(drop=True)  # the defense row IS the opponent's box row
    if g.empty:
        return pd.DataFrame(columns=[c.name for c in COLUMNS])
    players = newest(inputs.on_days("player_boxscore", days), ["game_id", "player_lookup"])
    sums = players.groupby(["game_id", "team_abbr"]).agg(
        player_rows=("player_lookup", "size"),
        p_steals=("steals", "sum"),
        p_blocks=("blocks", "sum"),
        p_dreb=("defensive_rebounds", "sum"),
    ).reset_index()
    g = g.merge(sums, on=["game_id", "team_abbr"], how="left")
    g["player_rows"] = g["player_rows"].fillna(0).astype(int)
    from_players = g["player_rows"] >= MIN_PLAYERS_FOR_SUMS
    zones_ok = g["opp_zones_complete"]

    def opp_zone(col: str) -> pd.Series:
        return g[f"opp_zone_{col}"].where(zones_ok)

    def blocked(col: str) -> pd.Series:
        return g[col].where(zones_ok)

    out = pd.DataFrame(
        {
            "game_id": g["game_id"],
            "nba_game_id": g["nba_game_id"],
            "game_date": g["game_date"],
            "season_year": g["season_year"],
            "defending_team_abbr": g["team_abbr"],
            "opponent_team_abbr": g["opponent_team_abbr"],
            "home_game": g["is_home"],
            "points_allowed": g["opp_points"],
            "opp_fg_attempts": g["opp_fg_attempted"],
            "opp_fg_makes": g["opp_fg_made"],
            "opp_three_pt_attempts": g["opp_three_pt_attempted"],
            "opp_three_pt_makes": g["opp_three_pt_made"],
            "opp_ft_attempts": g["opp_ft_attempted"],
            "opp_ft_makes": g["opp_ft_made"],
            "opp_rebounds": g["opp_total_rebounds"],
            "opp_offensive_rebounds": g["opp_offensive_rebounds"],
            "opp_assists": g["opp_assists"],
            "turnovers_forced": g["opp_turnovers"],
            "fouls_committed": g["personal_fouls"],
            "opp_paint_attempts": opp_zone("paint_attempts"),
            "opp_paint_makes": opp_zone("paint_makes"),
            "opp_mid_range_attempts": opp_zone("mid_range_attempts"),
            "opp_mid_range_makes": opp_zone("mid_range_makes"),
            "points_in_paint_allowed": 2 * opp_zone("paint_makes"),
            "mid_range_points_allowed": 2 * opp_zone("mid_range_makes"),
            "three_pt_points_allowed": 3 * g["opp_three_pt_made"],
            "blocks_paint": blocked("paint_blocks"),
            "blocks_mid_range": blocked("mid_range_blocks"),
            "blocks_three_pt": blocked("three_pt_blocks"),
            "steals": g["p_steals"].where(from_players, g["steals"]),
            "blocks": g["p_blocks"].where(from_players, g["blocks"]),
            "defensive_rebounds": g["p_dreb"].where(from_players, g["defensive_rebounds"]),
            "defensive_actions_source": from_players.map({True: "nbac_player_boxscore", False: "nbac_team_boxscore"}),
            "opp_possessions": g["opp_poss"].round(2),
            "defensive_rating": f.offensive_rating(g["opp_points"], g["opp_poss"]),
            "opponent_pace": f.pace(g["opp_poss"], g["opp_player_minutes"]),
            "opponent_ts_pct": f.ts_pct(g["opp_points"], g["opp_fg_attempted"], g["opp_ft_attempted"]),
            "shot_zones_available": zones_ok,
            "win_flag": g["win_flag"],
            "margin_of_victory": g["margin_of_victory"],
            "overtime_periods": g["overtime_periods"],
            "primary_source_used": from_players.map(
                {True: "nbac_team_boxscore+nbac_player_boxscore", False: "nbac_team_boxscore"}
            ),
            "source_nbac_boxscore_rows_found": g["source_box_rows_found"],
            "source_player_boxscore_rows_found": g["player_rows"],
            "source_play_by_play_rows_found": g["source_pbp_rows_found"],
            "source_play_by_play_completeness_pct": pbp_completeness(g, prefix="opp_zone_"),
        }
    )
    quality = [_quality(p, z) for p, z in zip(from_players, zones_ok)]
    scores, issues, sources = zip(*quality)
    return out.assign(**f.quality_columns(scores, issues, sources))


def _quality(from_players: bool, zones_ok: bool) -> tuple[float, list[str], list[str]]:
    """100/gold with defensive actions summed from ≥ 5 player rows; 85/silver with
    `missing_defensive_actions` + `backup_source_used` when the team's own box totals had to be
    used; −5 and `missing_shot_zones` without reconciled opponent zones."""
    score, issues, sources = 100.0, [], ["nbac_team_boxscore"]
    if from_players:
        sources.append("nbac_player_boxscore")
    else:
        score = BACKUP_SCORE
        issues += ["missing_defensive_actions", "backup_source_used"]
    if zones_ok:
        sources.append("nbac_play_by_play")
    else:
        score -= MISSING_ZONES_PENALTY
        issues.append("missing_shot_zones")
    return score, issues, sources


TABLE = AnalyticsTable(
    name="team_defense_game_summary",
    doc="""One row per defending team per game (merge key game_date, defending_team_abbr).

SPEC §3.3. The opponent's `nba_raw.nbac_team_boxscore` row with the perspective flipped (points
allowed, opponent shooting, turnovers forced, DRtg = 100·points allowed / opponent possessions,
opponent pace and TS%); steals, blocks and defensive rebounds summed from
`nba_raw.nbac_player_boxscore` when the team has ≥ 5 player rows (else the team's own box totals,
flagged `missing_defensive_actions`/`backup_source_used`); opponent zones and blocks by zone from
`nba_raw.nbac_play_by_play`; all inputs of the same date (+ the schedule for `teams_complete`).

win_flag is computed from the points of both teams. (The production system leaves it always
FALSE, a known gap; we fix it.)""",
    columns=COLUMNS,
    key=("game_date", "defending_team_abbr"),
    upstreams={
        "team_boxscore": TEAM_BOXSCORE,
        "player_boxscore": PLAYER_BOXSCORE,
        "play_by_play": PLAY_BY_PLAY,
        "schedule": SCHEDULE_SAME_DATE,
    },
    compute=compute,
    code_version="tdgs-1",
    cluster_by=("defending_team_abbr", "game_date", "home_game"),  # as TOGS
)
