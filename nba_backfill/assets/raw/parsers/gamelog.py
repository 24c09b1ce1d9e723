"""leaguegamelog PlayerOrTeam=P -> nba_raw.nbac_player_boxscore rows (one per player per game).

Home/away and the opponent come from MATCHUP ("CLE vs. IND" = CLE at home, "CLE @ IND" = CLE
away at IND), so the game code needs nothing but the response itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nba_backfill.assets.common import game_code, player_lookup
from nba_backfill.assets.raw.parsing import (
    ParseContext,
    ParseError,
    data_hash,
    minutes_decimal,
    require,
    result_set,
    season_type_of_game,
    season_year_of_game,
)
from nba_backfill.assets.tables import Col

STATS = (  # (leaguegamelog column, raw column)
    ("PTS", "points"),
    ("FGM", "field_goals_made"),
    ("FGA", "field_goals_attempted"),
    ("FG3M", "three_pointers_made"),
    ("FG3A", "three_pointers_attempted"),
    ("FTM", "free_throws_made"),
    ("FTA", "free_throws_attempted"),
    ("OREB", "offensive_rebounds"),
    ("DREB", "defensive_rebounds"),
    ("REB", "total_rebounds"),
    ("AST", "assists"),
    ("STL", "steals"),
    ("BLK", "blocks"),
    ("TOV", "turnovers"),
    ("PF", "personal_fouls"),
    ("PLUS_MINUS", "plus_minus"),
)

COLS = (
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("season_type", "STRING"),
    Col("player_id", "INT64"),
    Col("player_lookup", "STRING"),
    Col("player_name", "STRING"),
    Col("team_abbr", "STRING"),
    Col("team_id", "INT64"),
    Col("opponent_team_abbr", "STRING"),
    Col("home_team_abbr", "STRING"),
    Col("away_team_abbr", "STRING"),
    Col("is_home", "BOOL"),
    Col("game_status", "STRING", "'Final' (leaguegamelog lists completed games only)"),
    Col("win_loss", "STRING", "'W' / 'L'"),
    Col("minutes_decimal", "FLOAT64"),
    *(Col(name, "INT64") for _, name in STATS),
    Col("data_hash", "STRING", "16-char hash of the source row"),
    Col("processed_at", "TIMESTAMP"),
)


def split_matchup(matchup: str, key: str, where: str) -> tuple[str, str, bool]:
    """'CLE vs. IND' -> ('CLE', 'IND', True); 'CLE @ IND' -> ('CLE', 'IND', False)."""
    for sep, home in ((" vs. ", True), (" @ ", False)):
        if sep in matchup:
            team, opp = (part.strip() for part in matchup.split(sep, 1))
            if team and opp:
                return team, opp, home
    raise ParseError(key, f"field {where}.MATCHUP: cannot read home/away from {matchup!r}")


def parse_player_gamelog(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    rows = []
    for key, body in sorted(objects.items()):
        for i, r in enumerate(result_set(body, "LeagueGameLog", key)):
            where = f"resultSets.LeagueGameLog.rowSet.{i}"
            gid = require(r, "GAME_ID", str, key, where)
            day = require(r, "GAME_DATE", str, key, where)[:10]
            if day != ctx.day.isoformat():
                raise ParseError(key, f"field {where}.GAME_DATE: {day} is not the partition {ctx.day}")
            first, second, first_home = split_matchup(require(r, "MATCHUP", str, key, where), key, where)
            abbr = require(r, "TEAM_ABBREVIATION", str, key, where)
            # Five real 2024-25 games (neutral sites, NBA Cup) carry the same MATCHUP text on both
            # teams' rows ("MIA @ WAS" on WAS's rows too): read the row's side from its team.
            if abbr == first:
                team, opp, is_home = first, second, first_home
            elif abbr == second:
                team, opp, is_home = second, first, not first_home
            else:
                raise ParseError(key, f"field {where}.MATCHUP: {r['MATCHUP']!r} does not name {abbr}")
            home, away = (team, opp) if is_home else (opp, team)
            name = require(r, "PLAYER_NAME", str, key, where)
            row = {
                "game_id": game_code(day, away, home),
                "nba_game_id": gid,
                "game_date": day,
                "season_year": season_year_of_game(gid),
                "season_type": season_type_of_game(gid, key, f"{where}.GAME_ID"),
                "player_id": require(r, "PLAYER_ID", int, key, where),
                "player_lookup": player_lookup(name),
                "player_name": name,
                "team_abbr": team,
                "team_id": require(r, "TEAM_ID", int, key, where),
                "opponent_team_abbr": opp,
                "home_team_abbr": home,
                "away_team_abbr": away,
                "is_home": is_home,
                "game_status": "Final",
                "win_loss": require(r, "WL", str, key, where, nullable=True),
                "minutes_decimal": minutes_decimal(require(r, "MIN", (int, float, str), key, where,
                                                           nullable=True)),
            }
            for src, col in STATS:
                row[col] = require(r, src, (int, float), key, where, nullable=src == "PLUS_MINUS")
            row["data_hash"] = data_hash(r)
            rows.append(row)
    return rows
