"""team_offense_game_summary (TOGS), SPEC §3.2."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_backfill.assets.analytics import formulas as f
from nba_backfill.assets.analytics.factory import META_COLUMNS, QUALITY_COLUMNS, AnalyticsTable
from nba_backfill.assets.analytics.frames import Inputs
from nba_backfill.assets.analytics.team_box import (
    PLAY_BY_PLAY,
    SCHEDULE_SAME_DATE,
    TEAM_BOXSCORE,
    pbp_completeness,
    team_games,
)
from nba_backfill.assets.tables import Col

COLUMNS: tuple[Col, ...] = (
    Col("game_id", "STRING", "YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64", "season start year"),
    Col("team_abbr", "STRING", "team on offense"),
    Col("opponent_team_abbr", "STRING"),
    Col("home_game", "BOOL"),
    Col("points_scored", "INT64"),
    Col("fg_attempts", "INT64"),
    Col("fg_makes", "INT64"),
    Col("three_pt_attempts", "INT64"),
    Col("three_pt_makes", "INT64"),
    Col("ft_attempts", "INT64"),
    Col("ft_makes", "INT64"),
    Col("offensive_rebounds", "INT64"),
    Col("defensive_rebounds", "INT64"),
    Col("rebounds", "INT64", "total rebounds"),
    Col("assists", "INT64"),
    Col("steals", "INT64"),
    Col("blocks", "INT64"),
    Col("turnovers", "INT64"),
    Col("personal_fouls", "INT64"),
    Col("team_minutes", "FLOAT64", "player-minutes (240 in regulation)"),
    Col("team_paint_attempts", "INT64", "2PT attempts ≤ 8 ft (play-by-play)"),
    Col("team_paint_makes", "INT64"),
    Col("team_mid_range_attempts", "INT64", "other 2PT attempts"),
    Col("team_mid_range_makes", "INT64"),
    Col("points_in_paint_scored", "INT64", "2 × paint makes"),
    Col("assisted_fg_makes", "INT64"),
    Col("unassisted_fg_makes", "INT64"),
    Col("shot_zones_available", "BOOL", "play-by-play reconciles with the box score"),
    Col("shot_zones_source", "STRING"),
    Col("possessions", "FLOAT64", "FGA + 0.44·FTA + TO − OREB"),
    Col("offensive_rating", "FLOAT64", "100·points / possessions"),
    Col("pace", "FLOAT64", "possessions·48 / (player-minutes / 5)"),
    Col("ts_pct", "FLOAT64", "points / (2·(FGA + 0.44·FTA))"),
    Col("efg_pct", "FLOAT64", "(FGM + 0.5·3PM) / FGA"),
    Col("win_flag", "BOOL", "points_scored > opponent's points"),
    Col("margin_of_victory", "INT64"),
    Col("overtime_periods", "INT64", "(player-minutes − 240) / 25"),
    Col("primary_source_used", "STRING"),
    Col("source_nbac_boxscore_rows_found", "INT64", "team rows of the game (2 expected)"),
    Col("source_nbac_boxscore_completeness_pct", "FLOAT64"),
    Col("source_nbac_boxscore_last_updated", "TIMESTAMP"),
    Col("source_play_by_play_rows_found", "INT64", "play-by-play events of the game"),
    Col("source_play_by_play_completeness_pct", "FLOAT64", "team FGA found in the play-by-play, %"),
    Col("source_play_by_play_last_updated", "TIMESTAMP"),
    *QUALITY_COLUMNS,
    *META_COLUMNS,
)

MISSING_ZONES_PENALTY = 5.0
MISSING_OPPONENT_PENALTY = 10.0


def compute(days: list[dt.date], inputs: Inputs) -> pd.DataFrame:
    g = team_games(days, inputs)
    if g.empty:
        return pd.DataFrame(columns=[c.name for c in COLUMNS])
    zones_ok = g["zones_complete"]

    def zone(col: str) -> pd.Series:
        return g[f"zone_{col}"].where(zones_ok)

    out = pd.DataFrame(
        {
            "game_id": g["game_id"],
            "nba_game_id": g["nba_game_id"],
            "game_date": g["game_date"],
            "season_year": g["season_year"],
            "team_abbr": g["team_abbr"],
            "opponent_team_abbr": g["opponent_team_abbr"],
            "home_game": g["is_home"],
            "points_scored": g["points"],
            "fg_attempts": g["fg_attempted"],
            "fg_makes": g["fg_made"],
            "three_pt_attempts": g["three_pt_attempted"],
            "three_pt_makes": g["three_pt_made"],
            "ft_attempts": g["ft_attempted"],
            "ft_makes": g["ft_made"],
            "offensive_rebounds": g["offensive_rebounds"],
            "defensive_rebounds": g["defensive_rebounds"],
            "rebounds": g["total_rebounds"],
            "assists": g["assists"],
            "steals": g["steals"],
            "blocks": g["blocks"],
            "turnovers": g["turnovers"],
            "personal_fouls": g["personal_fouls"],
            "team_minutes": g["player_minutes"],
            "team_paint_attempts": zone("paint_attempts"),
            "team_paint_makes": zone("paint_makes"),
            "team_mid_range_attempts": zone("mid_range_attempts"),
            "team_mid_range_makes": zone("mid_range_makes"),
            "points_in_paint_scored": 2 * zone("paint_makes"),
            "assisted_fg_makes": zone("assisted_fg_makes"),
            "unassisted_fg_makes": g["fg_made"].where(zones_ok) - zone("assisted_fg_makes"),
            "shot_zones_available": zones_ok,
            "shot_zones_source": pd.Series("nbac_play_by_play", index=g.index).where(zones_ok),
            "possessions": g["poss"].round(2),
            "offensive_rating": f.offensive_rating(g["points"], g["poss"]),
            "pace": f.pace(g["poss"], g["player_minutes"]),
            "ts_pct": f.ts_pct(g["points"], g["fg_attempted"], g["ft_attempted"]),
            "efg_pct": f.efg_pct(g["fg_made"], g["three_pt_made"], g["fg_attempted"]),
            "win_flag": g["win_flag"],
            "margin_of_victory": g["margin_of_victory"],
            "overtime_periods": g["overtime_periods"],
            "primary_source_used": "nbac_team_boxscore",
            "source_nbac_boxscore_rows_found": g["source_box_rows_found"],
            "source_nbac_boxscore_completeness_pct": (100.0 * g["source_box_rows_found"].astype("float64") / 2).clip(upper=100.0),
            "source_nbac_boxscore_last_updated": g["source_box_last_updated"],
            "source_play_by_play_rows_found": g["source_pbp_rows_found"],
            "source_play_by_play_completeness_pct": pbp_completeness(g),
            "source_play_by_play_last_updated": g["source_pbp_last_updated"],
        }
    )
    quality = [_quality(*q) for q in zip(zones_ok, g["player_minutes"], g["has_opponent"])]
    scores, issues, sources = zip(*quality)
    return out.assign(**f.quality_columns(scores, issues, sources))


def _quality(zones_ok: bool, player_minutes, has_opponent: bool) -> tuple[float, list[str], list[str]]:
    """SPEC §3.2: the team box score is the primary source (100/gold); −5 without reconciled
    play-by-play zones; −10 and `missing_opponent_row` when the opponent's box row is missing
    (win_flag/margin NULL); a missing minutes string leaves pace/OT NULL (issue only)."""
    score, issues, sources = 100.0, [], ["nbac_team_boxscore"]
    if not has_opponent:
        score -= MISSING_OPPONENT_PENALTY
        issues.append("missing_opponent_row")
    if zones_ok:
        sources.append("nbac_play_by_play")
    else:
        score -= MISSING_ZONES_PENALTY
        issues.append("missing_shot_zones")
    if player_minutes is None or pd.isna(player_minutes):
        issues.append("missing_team_minutes")
    return score, issues, sources


TABLE = AnalyticsTable(
    name="team_offense_game_summary",
    doc="""One row per team per game (merge key game_date, team_abbr): the team's offense.

SPEC §3.2. Source `nba_raw.nbac_team_boxscore` (newest row per game and team; rows with 0 points
or 0 FGA dropped), shot zones from `nba_raw.nbac_play_by_play` of the same date (paint ≤ 8 ft,
mid-range = other 2PT; NULL unless the play-by-play reconciles with the box score FGA/FGM), and
`nba_raw.nbac_schedule` of the same date for the `teams_complete` check. possessions = FGA +
0.44·FTA + TO − OREB; ORtg = 100·pts/poss; pace = poss·48/(player-minutes/5); OT periods =
(player-minutes − 240)/25.

win_flag is computed from the points of both teams. (The production system this replaces
leaves win_flag always FALSE, a known gap; we fix it.)
Quality: 100/gold from the primary box score, −5 without reconciled zones; production-ready per
the common SPEC rule.""",
    columns=COLUMNS,
    key=("game_date", "team_abbr"),
    upstreams={
        "team_boxscore": TEAM_BOXSCORE,
        "play_by_play": PLAY_BY_PLAY,
        "schedule": SCHEDULE_SAME_DATE,
    },
    compute=compute,
    code_version="togs-1",
    cluster_by=("team_abbr", "game_date", "home_game"),  # SPEC §3
)
