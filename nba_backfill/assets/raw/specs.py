"""The Phase 2 raw tables: one typed spec per table (see `factory.build_raw_table`).

Table name = scraper name; each parses the lake objects its scraper landed for the same date.
`bdl_games` has no raw table: SPEC §1 notes the production system lands `/v1/games` but never
loads it (the schedule is nbac_schedule's job), so it stays a lake-only asset here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from nba_backfill.assets.raw.parsers import bdl, boxscore_v2, boxscore_v3, gamelog, pbp, schedule, summary
from nba_backfill.assets.raw.parsers.boxscore_v3 import V3Family
from nba_backfill.assets.raw.parsers.v3_families import (
    ADVANCED,
    DEFENSE,
    MISC,
    SCORING,
    TRACKING,
    TRADITIONAL_V3,
    USAGE,
)
from nba_backfill.assets.raw.parsing import ParseContext
from nba_backfill.assets.scrapers.specs import SCRAPER_BY_NAME
from nba_backfill.assets.tables import Col

GRAINS = {
    "game": "One row per game",
    "team": "One row per team per game",
    "player": "One row per player per game",
    "event": "One row per play-by-play event per game",
}
CLUSTERING = {
    # SPEC §2's clustering per grain (nbac_schedule, nbac_team_boxscore, nbac_player_boxscores,
    # nbac_play_by_play), in its order; the schedule's `data_source` is left out: one source
    # here, a constant.
    "game": ("game_date", "home_team_tricode", "away_team_tricode", "season_year"),
    "team": ("game_id", "team_abbr", "season_year", "is_home"),
    "player": ("player_lookup", "team_abbr", "game_date"),
    "event": ("game_id", "period", "event_type"),
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Parser = Callable[[Mapping[str, Any], ParseContext], list[dict[str, Any]]]


@dataclass(frozen=True)
class RawSpec:
    """One raw table.

    name: table (asset `nba_raw/<name>`); lake: the lake asset whose objects it parses.
    keys: unique key; not_null: columns that must never be NULL (keys included).
    points: column compared with the schedule's final scores (None = no such check).
    distribution: run `points_distribution` (player box scores with points and minutes).
    player_lookups: the parser needs `nba_raw.nbac_player_boxscore` (player id -> lookup).
    """

    name: str
    lake: str
    parse: Parser
    cols: tuple[Col, ...]
    grain: str
    keys: tuple[str, ...]
    not_null: tuple[str, ...]
    description: str
    points: str | None = None
    distribution: bool = False
    player_lookups: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"raw table name {self.name!r} is not lower snake case")
        if self.lake not in SCRAPER_BY_NAME:
            raise ValueError(f"raw table {self.name}: no scraper named {self.lake}")
        if self.grain not in GRAINS:
            raise ValueError(f"raw table {self.name}: unknown grain {self.grain!r}")
        names = {c.name for c in self.cols}
        wanted = {*self.keys, *self.not_null, "game_date", "processed_at"}
        if self.grain != "game":
            wanted |= {"game_id", "team_abbr"} if self.grain != "event" else {"game_id"}
        if self.points:
            wanted.add(self.points)
        if self.distribution:
            wanted |= {"minutes_decimal", "season_year"}
        missing = wanted - names
        if missing:
            raise ValueError(f"raw table {self.name}: columns {sorted(missing)} are not declared")
        if not set(self.keys) <= set(self.not_null):
            raise ValueError(f"raw table {self.name}: key columns must be in not_null")

    @property
    def cluster_by(self) -> tuple[str, ...]:
        """BigQuery clustering columns: by grain (`CLUSTERING`)."""
        return CLUSTERING[self.grain]

    @property
    def lake_prefix_kind(self) -> str:
        return SCRAPER_BY_NAME[self.lake].lake_kind


V3_TABLES = (  # (player table, team table, family, what the player rows hold, what the team rows hold)
    ("nbap_player_advanced", "nbap_team_advanced", ADVANCED, "Ratings, pace, usage and PIE", "Ratings, pace and PIE"),
    ("nbap_player_misc", "nbap_team_misc", MISC, "Points off turnovers, second chance, fast break, paint",
     "Points off turnovers, second chance, fast break, paint"),
    ("nbap_player_scoring", "nbap_team_scoring", SCORING, "Shot and points distribution", "Shot and points distribution"),
    ("nbap_player_usage", "nbap_team_usage", USAGE, "Shares of team events", "Shares of team events"),
    ("nbap_player_defense", "nbap_team_defense", DEFENSE, "Matchup defense", "Matchup defense summed over the team's players"),
    ("nbap_tracking_player", "nbap_tracking_team", TRACKING, "Player tracking", "Team tracking"),
)
"""The stats.nba.com v3 box score families: one player and one team table each."""

PLAYER_NOT_NULL = ("game_id", "nba_game_id", "game_date", "player_id", "player_lookup", "team_abbr")
TEAM_NOT_NULL = ("game_id", "nba_game_id", "game_date", "team_id", "team_abbr")


def _player_lines(name: str, parse: Parser, cols: tuple[Col, ...], description: str) -> RawSpec:
    """A player box score with points: compared with the final scores and the season's real
    points/minutes distribution."""
    return RawSpec(
        name=name, lake=name, parse=parse, cols=cols, grain="player", keys=("game_id", "player_id"),
        not_null=PLAYER_NOT_NULL, description=description, points="points", distribution=True,
    )


def _v3_players(name: str, family: V3Family, what: str) -> RawSpec:
    return RawSpec(
        name=name, lake=name, parse=partial(boxscore_v3.parse_players, family),
        cols=family.player_cols(), grain="player", keys=("game_id", "player_id"),
        not_null=PLAYER_NOT_NULL,
        description=f"{what} (stats.nba.com {family.root}).",
    )


def _v3_teams(name: str, family: V3Family, what: str, points: str | None = None) -> RawSpec:
    return RawSpec(
        name=name, lake=name, parse=partial(boxscore_v3.parse_teams, family),
        cols=family.team_cols(), grain="team", keys=("game_id", "team_abbr"),
        not_null=TEAM_NOT_NULL,
        description=f"{what} (stats.nba.com {family.root}).", points=points,
    )


RAW_TABLES: tuple[RawSpec, ...] = (
    RawSpec(
        name="nbac_schedule", lake="nbac_schedule", parse=schedule.parse_schedule,
        cols=schedule.COLS, grain="game", keys=("nba_game_id",),
        not_null=("nba_game_id", "game_id", "game_date", "season_year", "game_status",
                  "season_type", "home_team_tricode", "away_team_tricode"),
        description="The schedule of the date (every game, any status): the source of truth "
        "for which games a date has.",
    ),
    _player_lines("nbac_player_boxscore", gamelog.parse_player_gamelog, gamelog.COLS,
                  "Box score lines of the players who played (leaguegamelog P)."),
    _v3_teams("nbac_team_boxscore", TRADITIONAL_V3, "Traditional team totals", points="points"),
    RawSpec(
        name="nbac_game_summary", lake="nbac_game_summary",
        parse=summary.parse_game_summary, cols=summary.COLS, grain="team",
        keys=("game_id", "team_abbr"), not_null=TEAM_NOT_NULL,
        description="Line score, other stats, attendance, officials and inactive players "
        "(boxscoresummaryv2).", points="points",
    ),
    RawSpec(
        name="nbac_play_by_play", lake="nbac_play_by_play", parse=pbp.parse_play_by_play,
        cols=pbp.COLS, grain="event", keys=("game_id", "event_id"),
        not_null=("game_id", "nba_game_id", "game_date", "event_id", "event_sequence", "period",
                  "event_type"),
        description="Play-by-play actions (cdn.nba.com liveData).", points="score_home",
        player_lookups=True,
    ),
    _player_lines("nbap_player_traditional", boxscore_v2.parse_players, boxscore_v2.PLAYER_COLS,
                  "Traditional box score per listed player, DNPs included (boxscoretraditionalv2)."),
    RawSpec(
        name="nbap_team_traditional", lake="nbap_team_traditional",
        parse=boxscore_v2.parse_teams, cols=boxscore_v2.TEAM_COLS, grain="team",
        keys=("game_id", "team_abbr"), not_null=TEAM_NOT_NULL,
        description="Traditional team totals (boxscoretraditionalv2).", points="points",
    ),
    *(spec for player, team, family, player_what, team_what in V3_TABLES
      for spec in (_v3_players(player, family, player_what), _v3_teams(team, family, team_what))),
    RawSpec(
        name="bdl_player_boxscores", lake="bdl_player_boxscores", parse=bdl.parse_player_stats,
        cols=bdl.PLAYER_COLS, grain="player", keys=("game_id", "bdl_player_id"),
        not_null=("game_id", "game_date", "bdl_player_id", "player_lookup", "team_abbr"),
        description="balldontlie player game stats (/v1/stats), SPEC §2 bdl_player_boxscores.",
        points="points", distribution=True,
    ),
    RawSpec(
        name="bdl_team_boxscores", lake="bdl_team_boxscores", parse=bdl.parse_team_box_scores,
        cols=bdl.TEAM_COLS, grain="team", keys=("game_id", "team_abbr"),
        not_null=("game_id", "game_date", "team_abbr"),
        description="balldontlie box scores (/v1/box_scores): final score and player-line sums.",
        points="player_points_sum",
    ),
)


def _validate(specs: tuple[RawSpec, ...]) -> dict[str, RawSpec]:
    by_name: dict[str, RawSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise ValueError(f"raw table {spec.name} is declared twice")
        by_name[spec.name] = spec
    if "nbac_schedule" not in by_name or "nbac_player_boxscore" not in by_name:
        raise ValueError("nbac_schedule and nbac_player_boxscore are required raw tables")
    return by_name


RAW_BY_NAME: dict[str, RawSpec] = _validate(RAW_TABLES)
