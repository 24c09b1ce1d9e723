"""boxscoretraditionalv2 (resultSets PlayerStats / TeamStats) -> player or team rows.

The v2 response does not say which team is at home: the date's schedule (`ParseContext.games`)
supplies home/away, the opponent and the game code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nba_backfill.assets.common import player_lookup
from nba_backfill.assets.raw.parsing import (
    ParseContext,
    ParseError,
    minutes_decimal,
    require,
    result_set,
    season_year_of_game,
)
from nba_backfill.assets.tables import Col

STATS = (  # (v2 column, raw column)
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
    ("TO", "turnovers"),
    ("PF", "personal_fouls"),
    ("PTS", "points"),
    ("PLUS_MINUS", "plus_minus"),
)
PCTS = (("FG_PCT", "field_goal_pct"), ("FG3_PCT", "three_point_pct"), ("FT_PCT", "free_throw_pct"))

_GAME = (
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("team_id", "INT64"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
    Col("is_home", "BOOL"),
)
_STAT_COLS = (
    Col("minutes", "STRING"),
    Col("minutes_decimal", "FLOAT64"),
    *(Col(name, "INT64") for _, name in STATS),
    *(Col(name, "FLOAT64") for _, name in PCTS),
    Col("processed_at", "TIMESTAMP"),
)
PLAYER_COLS = _GAME + (
    Col("player_id", "INT64"),
    Col("player_lookup", "STRING"),
    Col("player_name", "STRING"),
    Col("start_position", "STRING", "F/C/G for starters, NULL for bench"),
    Col("comment", "STRING", "e.g. DNP - Coach's Decision"),
    Col("played", "BOOL", "logged minutes"),
) + _STAT_COLS
TEAM_COLS = _GAME + (Col("team_name", "STRING"), Col("team_city", "STRING")) + _STAT_COLS


def _common(r: Mapping[str, Any], ctx: ParseContext, key: str, where: str) -> dict[str, Any]:
    gid = require(r, "GAME_ID", str, key, where)
    team_id = require(r, "TEAM_ID", int, key, where)
    ref = ctx.game(gid, key)
    side = ref.side(team_id)
    if side is None:
        raise ParseError(key, f"field {where}.TEAM_ID: team {team_id} does not play game {gid}")
    is_home, abbr, opp = side
    if require(r, "TEAM_ABBREVIATION", str, key, where) != abbr:
        raise ParseError(key, f"field {where}.TEAM_ABBREVIATION: {r['TEAM_ABBREVIATION']!r} but "
                              f"the schedule has {abbr} for team {team_id}")
    minutes = require(r, "MIN", str, key, where, nullable=True) or None
    row = {
        "game_id": ref.game_id,
        "nba_game_id": gid,
        "game_date": ctx.day,
        "season_year": season_year_of_game(gid),
        "team_id": team_id,
        "team_abbr": abbr,
        "opponent_team_abbr": opp,
        "is_home": is_home,
        "minutes": minutes,
        "minutes_decimal": minutes_decimal(minutes),
    }
    for src, col in STATS:
        row[col] = require(r, src, (int, float), key, where, nullable=True)
    for src, col in PCTS:
        row[col] = require(r, src, (int, float), key, where, nullable=True)
    return row


def _rows(objects: Mapping[str, Any], ctx: ParseContext, result: str):
    """(object key, JSON path, raw row, common columns) of every row of result set `result`."""
    for key, body in sorted(objects.items()):
        for i, r in enumerate(result_set(body, result, key)):
            where = f"resultSets.{result}.rowSet.{i}"
            yield key, where, r, _common(r, ctx, key, where)


def parse_players(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    rows = []
    for key, where, r, row in _rows(objects, ctx, "PlayerStats"):
        name = require(r, "PLAYER_NAME", str, key, where)
        row.update({
            "player_id": require(r, "PLAYER_ID", int, key, where),
            "player_lookup": player_lookup(name),
            "player_name": name,
            "start_position": require(r, "START_POSITION", str, key, where, nullable=True) or None,
            "comment": (require(r, "COMMENT", str, key, where, nullable=True) or "").strip() or None,
            "played": bool(row["minutes_decimal"]),
        })
        rows.append(row)
    return rows


def parse_teams(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    rows = []
    for key, where, r, row in _rows(objects, ctx, "TeamStats"):
        row["team_name"] = require(r, "TEAM_NAME", str, key, where, nullable=True)
        row["team_city"] = require(r, "TEAM_CITY", str, key, where, nullable=True)
        rows.append(row)
    return rows
