"""balldontlie /v1/stats and /v1/box_scores -> player and team rows (SPEC §2 bdl_player_boxscores).

balldontlie has its own game, team and player ids; the SPEC game code (YYYYMMDD_AWAY_HOME) is
built from the team abbreviations, which is how these rows meet the NBA.com tables. In /v1/stats
the nested game carries only balldontlie team ids, so the opponent is read from the other team
seen in the same game (every game lists both teams' lines). `/v1/games` has no raw table (SPEC §1:
the production system lands but never loads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nba_backfill.assets.common import game_code, player_lookup
from nba_backfill.assets.raw.parsing import ParseContext, ParseError, Strict, minutes_decimal, validate
from nba_backfill.assets.tables import Col

STATS = (  # (balldontlie field, raw column)
    ("pts", "points"),
    ("reb", "rebounds"),
    ("oreb", "offensive_rebounds"),
    ("dreb", "defensive_rebounds"),
    ("ast", "assists"),
    ("stl", "steals"),
    ("blk", "blocks"),
    ("turnover", "turnovers"),
    ("pf", "personal_fouls"),
    ("fgm", "field_goals_made"),
    ("fga", "field_goals_attempted"),
    ("fg3m", "three_pointers_made"),
    ("fg3a", "three_pointers_attempted"),
    ("ftm", "free_throws_made"),
    ("fta", "free_throws_attempted"),
    ("plus_minus", "plus_minus"),
)


class _Team(Strict):
    id: int
    abbreviation: str


class _Player(Strict):
    id: int
    first_name: str
    last_name: str


class _Line(Strict):
    min: str | None = None
    fgm: int | None
    fga: int | None
    fg3m: int | None
    fg3a: int | None
    ftm: int | None
    fta: int | None
    oreb: int | None
    dreb: int | None
    reb: int | None
    ast: int | None
    stl: int | None
    blk: int | None
    turnover: int | None
    pf: int | None
    pts: int | None
    plus_minus: int | None = None
    player: _Player


class _StatGame(Strict):
    id: int
    date: str
    season: int
    postseason: bool | None = None
    home_team_id: int | None = None
    visitor_team_id: int | None = None
    home_team: _Team | None = None
    visitor_team: _Team | None = None


class _Stat(_Line):
    id: int
    team: _Team
    game: _StatGame


class StatsPage(Strict):
    data: list[_Stat]


class _BoxTeam(Strict):
    id: int | None = None
    abbreviation: str | None = None
    team: _Team | None = None
    players: list[_Line]


class _Box(Strict):
    date: str
    season: int
    status: str | None = None
    postseason: bool | None = None
    home_team_score: int
    visitor_team_score: int
    home_team: _BoxTeam
    visitor_team: _BoxTeam


class BoxScoresResponse(Strict):
    data: list[_Box]


_LINE_COLS = (
    Col("minutes", "STRING", "as published (whole minutes or MM:SS)"),
    Col("minutes_decimal", "FLOAT64"),
    *(Col(col, "INT64") for _, col in STATS),
)
_TEAM_IN_GAME = (
    Col("season_year", "INT64"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
    Col("is_home", "BOOL"),
    Col("bdl_team_id", "INT64"),
)
PLAYER_COLS = (
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("bdl_game_id", "INT64"),
    Col("game_date", "DATE"),
    *_TEAM_IN_GAME,
    Col("bdl_player_id", "INT64"),
    Col("player_lookup", "STRING"),
    Col("player_name", "STRING"),
    Col("played", "BOOL", "logged minutes"),
    *_LINE_COLS,
    Col("processed_at", "TIMESTAMP"),
)
TEAM_COLS = (
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("game_date", "DATE"),
    *_TEAM_IN_GAME,
    Col("game_status", "STRING"),
    Col("points", "INT64", "the team's final score"),
    Col("opponent_points", "INT64"),
    Col("players", "INT64", "player lines listed"),
    Col("players_played", "INT64"),
    *(Col(f"player_{col}_sum" if col == "points" else col, "INT64") for _, col in STATS),
    Col("processed_at", "TIMESTAMP"),
)


def _line_values(line: _Line) -> dict[str, Any]:
    mins = minutes_decimal(line.min)
    out = {"minutes": line.min, "minutes_decimal": mins, "played": bool(mins)}
    out.update({col: getattr(line, src) for src, col in STATS})
    return out


def _check_day(date: str, ctx: ParseContext, key: str, where: str) -> str:
    day = date[:10]
    if day != ctx.day.isoformat():
        raise ParseError(key, f"field {where}: {day} is not the partition {ctx.day}")
    return day


def parse_player_stats(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    stats = []
    for key, body in sorted(objects.items()):
        for i, s in enumerate(validate(StatsPage, body, key).data):
            stats.append((key, i, s))
    teams_by_game: dict[int, dict[int, str]] = {}
    for _, _, s in stats:
        teams_by_game.setdefault(s.game.id, {})[s.team.id] = s.team.abbreviation
    rows = []
    for key, i, s in stats:
        where = f"data.{i}"
        day = _check_day(s.game.date, ctx, key, f"{where}.game.date")
        home_id = s.game.home_team_id if s.game.home_team_id is not None else (
            s.game.home_team.id if s.game.home_team else None)
        if home_id is None:
            raise ParseError(key, f"field {where}.game.home_team_id: missing")
        teams = teams_by_game[s.game.id]
        others = [abbr for tid, abbr in teams.items() if tid != s.team.id]
        opp = others[0] if len(others) == 1 else None
        is_home = s.team.id == home_id
        home, away = (s.team.abbreviation, opp) if is_home else (opp, s.team.abbreviation)
        name = f"{s.player.first_name} {s.player.last_name}".strip()
        row = {
            "game_id": game_code(day, away, home) if opp else None,
            "bdl_game_id": s.game.id,
            "game_date": day,
            "season_year": s.game.season,
            "team_abbr": s.team.abbreviation,
            "opponent_team_abbr": opp,
            "is_home": is_home,
            "bdl_team_id": s.team.id,
            "bdl_player_id": s.player.id,
            "player_lookup": player_lookup(name),
            "player_name": name,
        }
        row.update(_line_values(s))
        rows.append(row)
    return rows


def _box_team(team: _BoxTeam, key: str, where: str) -> _Team:
    if team.team is not None:
        return team.team
    if team.id is None or team.abbreviation is None:
        raise ParseError(key, f"field {where}: neither a nested team nor id/abbreviation")
    return _Team(id=team.id, abbreviation=team.abbreviation)


def parse_team_box_scores(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    rows = []
    for key, body in sorted(objects.items()):
        for i, box in enumerate(validate(BoxScoresResponse, body, key).data):
            where = f"data.{i}"
            day = _check_day(box.date, ctx, key, f"{where}.date")
            home = _box_team(box.home_team, key, f"{where}.home_team")
            away = _box_team(box.visitor_team, key, f"{where}.visitor_team")
            code = game_code(day, away.abbreviation, home.abbreviation)
            for side, team, opp, score, opp_score, is_home in (
                (box.home_team, home, away, box.home_team_score, box.visitor_team_score, True),
                (box.visitor_team, away, home, box.visitor_team_score, box.home_team_score, False),
            ):
                lines = [_line_values(p) for p in side.players]
                row = {
                    "game_id": code,
                    "game_date": day,
                    "season_year": box.season,
                    "team_abbr": team.abbreviation,
                    "opponent_team_abbr": opp.abbreviation,
                    "is_home": is_home,
                    "bdl_team_id": team.id,
                    "game_status": box.status,
                    "points": score,
                    "opponent_points": opp_score,
                    "players": len(lines),
                    "players_played": sum(1 for line in lines if line["played"]),
                }
                for _, col in STATS:
                    name = "player_points_sum" if col == "points" else col
                    row[name] = sum(line[col] or 0 for line in lines)
                rows.append(row)
    return rows
