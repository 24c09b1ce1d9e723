"""Shared pieces of the raw parsers: context, validation errors, small value converters.

Parsers are pure functions `parse(objects, ctx) -> list[dict]` over the landed JSON of one date
(`objects` = lake key -> decoded JSON). Response shapes are validated with pydantic models
(strict types at the JSON boundary): a malformed object raises `ParseError` naming the object
key and the first bad field path, e.g. `boxScoreTraditional.homeTeam.players.3.statistics.points`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from nba_backfill.assets.scrapers.schedule import GAME_TYPES

M = TypeVar("M", bound=BaseModel)


class ParseError(ValueError):
    """A landed object that does not have the expected shape."""

    def __init__(self, key: str, cause: str):
        self.key, self.cause = key, cause
        super().__init__(f"{key}: {cause}")


class Strict(BaseModel):
    """Base of the response models: strict JSON types, unknown fields allowed (APIs grow)."""

    model_config = ConfigDict(strict=True, extra="allow")


def validate(model: type[M], body: Any, key: str) -> M:
    """`model` validated from `body`; ParseError names the first bad field of `key`."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        value = repr(first.get("input"))[:80]
        raise ParseError(key, f"field {where}: {first['msg']} (got {value})") from None


@dataclass(frozen=True)
class GameRef:
    """One game of the date as the raw schedule states it."""

    nba_game_id: str
    game_id: str  # SPEC code YYYYMMDD_AWAY_HOME
    home_team_id: int
    away_team_id: int
    home_abbr: str
    away_abbr: str

    def side(self, team_id: int) -> tuple[bool, str, str] | None:
        """(is_home, team_abbr, opponent_abbr) of `team_id` in this game, None if not playing."""
        if team_id == self.home_team_id:
            return True, self.home_abbr, self.away_abbr
        if team_id == self.away_team_id:
            return False, self.away_abbr, self.home_abbr
        return None


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know beyond the landed objects of its own endpoint."""

    day: dt.date
    games: Mapping[str, GameRef] = field(default_factory=dict)  # nba_game_id -> ref
    player_lookups: Mapping[int, str] = field(default_factory=dict)  # NBA player id -> lookup

    def game(self, nba_game_id: str, key: str) -> GameRef:
        ref = self.games.get(nba_game_id)
        if ref is None:
            raise ParseError(key, f"game {nba_game_id} is not in the schedule of {self.day}")
        return ref


def season_type_of_game(nba_game_id: str, key: str, where: str) -> str:
    """Season type from the game id prefix; ParseError for an unknown prefix."""
    kind = GAME_TYPES.get(str(nba_game_id)[:3])
    if kind is None:
        raise ParseError(key, f"field {where}: unknown game type in game id {nba_game_id!r}")
    return kind


def season_year_of_game(nba_game_id: str) -> int:
    """SPEC §0 season_year from the NBA game id ('0022300061' -> 2023)."""
    return 2000 + int(str(nba_game_id)[3:5])


def minutes_decimal(value: Any) -> float | None:
    """'45:55' -> 45.917, 30 -> 30.0, '' / None -> None ('PT31M12.00S' also understood)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    iso = re.fullmatch(r"PT(\d+)M([\d.]+)S", text)
    if iso:
        return round(int(iso.group(1)) + float(iso.group(2)) / 60, 3)
    if ":" in text:
        mins, secs = text.split(":", 1)
        return round(float(mins) + float(secs) / 60, 3)
    return float(text)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z])(?=[0-9])")


@lru_cache(maxsize=4096)
def snake(name: str) -> str:
    """camelCase API field -> snake_case column ('reboundsOffensive' -> 'rebounds_offensive',
    'pacePer40' -> 'pace_per_40', 'PIE' -> 'pie'). Cached: the same few hundred field names are
    converted for every player row of every date."""
    return _CAMEL.sub("_", name).lower()


def data_hash(values: Mapping[str, Any]) -> str:
    """16-character content hash of a source row (SPEC: most raw rows carry one)."""
    text = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def result_set(body: Mapping[str, Any], name: str, key: str) -> list[dict[str, Any]]:
    """Rows of a stats.nba.com `resultSets` entry as dicts (header -> value)."""
    sets = body.get("resultSets") if isinstance(body, Mapping) else None
    if not isinstance(sets, list):
        raise ParseError(key, "field resultSets: missing or not a list")
    for i, rs in enumerate(sets):
        if isinstance(rs, Mapping) and rs.get("name") == name:
            headers, rows = rs.get("headers"), rs.get("rowSet")
            if not isinstance(headers, list) or not isinstance(rows, list):
                raise ParseError(key, f"field resultSets.{i} ({name}): headers/rowSet missing")
            out = []
            for j, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != len(headers):
                    raise ParseError(key, f"field resultSets.{i}.rowSet.{j}: expected "
                                          f"{len(headers)} values, got {row!r:.80}")
                out.append(dict(zip(headers, row)))
            return out
    raise ParseError(key, f"field resultSets: no result set named {name}")


def require(row: Mapping[str, Any], column: str, kind: type | tuple[type, ...], key: str,
            where: str, nullable: bool = False) -> Any:
    """One typed value of a result-set row (bool is never accepted as a number)."""
    value = row.get(column)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ParseError(key, f"field {where}.{column}: expected {_kind_name(kind)}, got {value!r:.60}")
    return value


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)
