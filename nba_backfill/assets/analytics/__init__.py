"""Phase 3 analytics (`nba_analytics`): five tables from one factory.

Order is declared by the inputs, never by hand: TOGS and TDGS read the date's raw box scores and
play-by-play; PGS reads TOGS of the same date (usage needs team totals); UPGC reads the date's
player box scores, PGS/TOGS/TDGS of the previous 30 days and the schedule from 30 days before to
7 days after the date; UTGC reads that schedule window, the game summaries and TOGS/TDGS of the
previous 30 days.
"""

from nba_backfill.assets.analytics import (
    player_game_summary,
    team_defense,
    team_offense,
    upcoming_player_context,
    upcoming_team_context,
)
from nba_backfill.assets.analytics.factory import AnalyticsTable, build_analytics_tables

TABLES: tuple[AnalyticsTable, ...] = (
    team_offense.TABLE,
    team_defense.TABLE,
    player_game_summary.TABLE,
    upcoming_player_context.TABLE,
    upcoming_team_context.TABLE,
)

assets: list = build_analytics_tables(TABLES)
