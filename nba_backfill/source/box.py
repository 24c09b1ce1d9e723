"""Per-game box scores built from the real player lines (numbers are the parquet's).

Starters are not in the data: the five players with the most minutes are listed as starters,
with positions F, F, C, G, G (C = best rebounder, G = best passers) — generated, documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from nba_backfill.source.data_store import Game, get_store, name_initial, slugify, split_name
from nba_backfill.source.teams import TEAMS, Team

SUM_KEYS = ["FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST", "STL", "BLK",
            "TOV", "PF", "PTS", "PLUS_MINUS"]


def pct(made: int, att: int, nd: int = 3) -> float:
    return round(made / att, nd) if att else 0.0


def pct_or_none(made: int, att: int) -> float | None:
    return round(made / att, 3) if att else None


def min_str(minutes: int) -> str:
    return f"{minutes}:00"


@dataclass
class Player:
    line: dict  # the parquet row
    starter: bool
    position: str
    order: int

    @property
    def pid(self) -> int:
        return self.line["PLAYER_ID"]

    @property
    def name(self) -> str:
        return self.line["PLAYER_NAME"]

    @property
    def first(self) -> str:
        return split_name(self.name)[0]

    @property
    def last(self) -> str:
        return split_name(self.name)[1]

    @property
    def name_i(self) -> str:
        return name_initial(self.name)

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def __getitem__(self, key: str):
        return self.line[key]


@dataclass
class TeamBox:
    team: Team
    players: list[Player]
    totals: dict
    minutes: int  # team minutes: 240 + 25 per overtime
    is_home: bool

    @property
    def team_id(self) -> int:
        return self.team.team_id

    def subset(self, starters: bool) -> dict:
        ps = [p for p in self.players if p.starter == starters]
        d = {k: sum(p[k] for p in ps) for k in SUM_KEYS}
        d["MIN"] = sum(p["MIN"] for p in ps)
        return d


@dataclass
class GameBox:
    game: Game
    home: TeamBox
    away: TeamBox

    def sides(self) -> tuple[TeamBox, TeamBox]:
        return self.home, self.away

    def opponent(self, tb: TeamBox) -> TeamBox:
        return self.away if tb is self.home else self.home


def _order_players(lines: tuple[dict, ...]) -> list[Player]:
    ranked = sorted(lines, key=lambda r: (-r["MIN"], -r["PTS"], r["PLAYER_ID"]))
    starters, bench = ranked[:5], ranked[5:]
    center = max(starters, key=lambda r: (r["REB"] - r["AST"], r["BLK"], -r["PLAYER_ID"]))
    rest = [r for r in starters if r is not center]
    guards = sorted(rest, key=lambda r: (-r["AST"], r["REB"], r["PLAYER_ID"]))[:2]
    forwards = [r for r in rest if all(r is not g for g in guards)]
    ordered = [(r, "F") for r in forwards] + [(center, "C")] + [(r, "G") for r in guards]
    out = [Player(r, True, pos, i + 1) for i, (r, pos) in enumerate(ordered)]
    out += [Player(r, False, "", len(out) + i + 1) for i, r in enumerate(bench)]
    return out


def game_box(game_id: str) -> GameBox:
    """The box of `game_id` in the current store (cached per game and correction version)."""
    return _game_box(game_id, get_store().version(game_id))


@lru_cache(maxsize=4096)
def _game_box(game_id: str, version: tuple) -> GameBox:
    store = get_store()
    g = store.games[game_id]
    home_lines, away_lines = store.lines(game_id)
    team_minutes = 240 + 25 * (g.periods - 4)
    sides = []
    for tid, lines, is_home in ((g.home_id, home_lines, True), (g.away_id, away_lines, False)):
        players = _order_players(lines)
        totals = {k: sum(r[k] for r in lines) for k in SUM_KEYS}
        sides.append(TeamBox(TEAMS[tid], players, totals, team_minutes, is_home))
    home, away = sides
    # Team plus-minus is the point margin (the sum of player +/- is five times it).
    home.totals["PLUS_MINUS"] = g.home_pts - g.away_pts
    away.totals["PLUS_MINUS"] = g.away_pts - g.home_pts
    return GameBox(g, home, away)
