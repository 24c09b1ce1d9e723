"""stats.nba.com nested box scores (boxscore*v3, boxscoredefensivev2) -> player or team rows.

All share one shape: `{<root>: {gameId, homeTeamId, awayTeamId, homeTeam, awayTeam}}` where a team
has `teamId, teamTricode, ..., players[{personId, firstName, familyName, ..., statistics{}}],
statistics{}`. A `V3Family` lists each endpoint's statistics fields with their types; the column
name is the snake_case field name unless a contract name is given. Statistics are validated with
a pydantic model built from that list (every listed field required, null allowed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import create_model

from nba_backfill.assets.common import player_lookup
from nba_backfill.assets.raw.parsing import (
    ParseContext,
    ParseError,
    Strict,
    minutes_decimal,
    season_year_of_game,
    snake,
    validate,
)
from nba_backfill.assets.tables import Col

_PY_TYPES = {"INT64": int, "FLOAT64": float, "STRING": str}


@dataclass(frozen=True)
class Field:
    """One statistics field: JSON name, column type, optional column name (default snake_case)."""

    source: str
    type: str
    column: str = ""

    @property
    def name(self) -> str:
        return self.column or snake(self.source)


def fields(type_: str, *names: str) -> tuple[Field, ...]:
    return tuple(Field(n, type_) for n in names)


@dataclass(frozen=True)
class V3Family:
    """One nested box score endpoint: root key and the statistics of players and of teams.

    player_minutes: statistics field holding a player's minutes ("minutes", or "matchupMinutes"
    on the defensive box score). team_sums: player fields summed into team rows when the team
    block does not carry them (the defensive box score's team block has minutes only).
    """

    root: str
    player_fields: tuple[Field, ...]
    team_fields: tuple[Field, ...]
    player_minutes: str = "minutes"
    team_sums: tuple[str, ...] = ()

    @cached_property
    def player_model(self):
        return _stats_model(f"{self.root}Player", self.player_fields, self.player_minutes)

    @cached_property
    def team_model(self):
        return _stats_model(f"{self.root}Team", self.team_fields, "minutes")

    def player_cols(self) -> tuple[Col, ...]:
        return PLAYER_ID_COLS + tuple(Col(f.name, f.type) for f in self.player_fields) + (
            Col("processed_at", "TIMESTAMP"),)

    def team_cols(self) -> tuple[Col, ...]:
        sums = tuple(Col(snake(s), _sum_type(self, s)) for s in self.team_sums)
        return TEAM_ID_COLS + tuple(Col(f.name, f.type) for f in self.team_fields) + sums + (
            Col("processed_at", "TIMESTAMP"),)


def _sum_type(family: V3Family, source: str) -> str:
    for f in family.player_fields:
        if f.source == source:
            return f.type
    raise ValueError(f"{family.root}: team sum {source} is not a player field")


def _stats_model(name: str, stat_fields: tuple[Field, ...], minutes_field: str):
    spec: dict[str, Any] = {minutes_field: (str | None, ...)}
    for f in stat_fields:
        spec[f.source] = (_PY_TYPES[f.type] | None, ...)
    return create_model(name, __base__=Strict, **spec)


class _Player(Strict):
    personId: int
    firstName: str
    familyName: str
    position: str | None = None
    comment: str | None = None
    statistics: dict[str, Any]


class _Team(Strict):
    teamId: int
    teamTricode: str
    teamCity: str | None = None
    teamName: str | None = None
    players: list[_Player]
    statistics: dict[str, Any]


class _Box(Strict):
    gameId: str
    homeTeamId: int
    awayTeamId: int
    homeTeam: _Team
    awayTeam: _Team


GAME_COLS = (
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("team_id", "INT64"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
    Col("is_home", "BOOL"),
)
PLAYER_ID_COLS = GAME_COLS + (
    Col("player_id", "INT64"),
    Col("player_lookup", "STRING"),
    Col("player_name", "STRING"),
    Col("position", "STRING", "starting position (F/C/G), empty for bench players"),
    Col("comment", "STRING", "e.g. DNP - Coach's Decision"),
    Col("played", "BOOL", "logged minutes"),
    Col("minutes", "STRING", "MM:SS as published"),
    Col("minutes_decimal", "FLOAT64"),
)
TEAM_ID_COLS = GAME_COLS + (
    Col("team_city", "STRING"),
    Col("team_name", "STRING"),
    Col("minutes", "STRING", "player-minutes, e.g. 240:00"),
)


def _stats(model, stats: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    try:
        return validate(model, stats, key).model_dump()
    except ParseError as exc:
        raise ParseError(key, exc.cause.replace("field ", f"field {where}.", 1)) from None


def _sides(box: _Box, root: str):
    for side, team, opp in (("homeTeam", box.homeTeam, box.awayTeam),
                            ("awayTeam", box.awayTeam, box.homeTeam)):
        yield f"{root}.{side}", team, opp, side == "homeTeam"


def _team_sides(family: V3Family, objects: Mapping[str, Any], ctx: ParseContext):
    """(object key, JSON path, team, game columns) for both teams of every landed game."""
    for key, body in sorted(objects.items()):
        box = _box(family, body, key)
        if box is None:
            continue
        ref = ctx.game(box.gameId, key)
        for where, team, opp, is_home in _sides(box, family.root):
            yield key, where, team, _game_cols(ref, box.gameId, ctx, team, opp, is_home)


def parse_players(family: V3Family, objects: Mapping[str, Any], ctx: ParseContext) -> list[dict]:
    rows = []
    for key, where, team, game in _team_sides(family, objects, ctx):
        for i, p in enumerate(team.players):
            stats = _stats(family.player_model, p.statistics, key, f"{where}.players.{i}.statistics")
            minutes = stats.pop(family.player_minutes) or None
            name = f"{p.firstName} {p.familyName}".strip()
            mins = minutes_decimal(minutes)
            row = dict(game)
            row.update({
                "player_id": p.personId,
                "player_lookup": player_lookup(name),
                "player_name": name,
                "position": p.position or None,
                "comment": p.comment or None,
                "played": bool(mins),
                "minutes": minutes,
                "minutes_decimal": mins,
            })
            row.update({f.name: stats[f.source] for f in family.player_fields})
            rows.append(row)
    return rows


def parse_teams(family: V3Family, objects: Mapping[str, Any], ctx: ParseContext) -> list[dict]:
    rows = []
    for key, where, team, game in _team_sides(family, objects, ctx):
        stats = _stats(family.team_model, team.statistics, key, f"{where}.statistics")
        row = dict(game)
        row.update({"team_city": team.teamCity, "team_name": team.teamName, "minutes": stats["minutes"]})
        row.update({f.name: stats[f.source] for f in family.team_fields})
        if family.team_sums:
            players = [
                _stats(family.player_model, p.statistics, key, f"{where}.players.{i}.statistics")
                for i, p in enumerate(team.players)
            ]
            for source in family.team_sums:
                row[snake(source)] = sum(p[source] or 0 for p in players)
        rows.append(row)
    return rows


def _box(family: V3Family, body: Any, key: str) -> _Box | None:
    """The validated box, or None when stats.nba.com answered "no box score" for the game
    (HTTP 200 with team ids 0 and no players: the game is then absent from the table, which
    `games_complete` reports by name)."""
    if not isinstance(body, Mapping) or family.root not in body:
        raise ParseError(key, f"field {family.root}: missing")
    box = validate(_Box, body[family.root], key)
    if is_empty_box(box):
        return None
    for side, team_id in (("homeTeam", box.homeTeamId), ("awayTeam", box.awayTeamId)):
        if getattr(box, side).teamId != team_id:
            raise ParseError(key, f"field {family.root}.{side}.teamId: {getattr(box, side).teamId} "
                                  f"!= {side[:4]}TeamId {team_id}")
    return box


def is_empty_box(box: _Box) -> bool:
    return box.homeTeamId == 0 and box.awayTeamId == 0 and not (
        box.homeTeam.players or box.awayTeam.players)


def _game_cols(ref, nba_game_id: str, ctx: ParseContext, team: _Team, opp: _Team,
               is_home: bool) -> dict[str, Any]:
    return {
        "game_id": ref.game_id,
        "nba_game_id": nba_game_id,
        "game_date": ctx.day,
        "season_year": season_year_of_game(nba_game_id),
        "team_id": team.teamId,
        "team_abbr": team.teamTricode,
        "opponent_team_abbr": opp.teamTricode,
        "is_home": is_home,
    }
