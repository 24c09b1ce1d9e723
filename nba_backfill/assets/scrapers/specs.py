"""The Phase 1 scrapers: one typed spec per endpoint fetch (see `factory.build_scraper`).

A spec names the lake asset(s) one fetch serves — one, or a player/team pair when one response
carries both (stats.nba.com box scores) — the endpoint, how requests are planned for a date
(`plan`), and where the responses land in the lake (`lake_kind`, SPEC §1 layout
`<source>/<kind>/<date>/<object>.json`). Objects are named `<nba_game_id>.json` for per-game
plans, `<season type slug>.json` for leaguegamelog, `page-NNN.json` for balldontlie cursor pages
and `<endpoint>.json` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLANS = {
    "season_schedule": "scheduleleaguev2 once per season in the run, sliced per date",
    "stats_per_game": "one stats.nba.com request per scraped game of the date",
    "cdn_per_game": "one cdn.nba.com liveData request per scraped game of the date",
    "gamelog_per_season_type": "one leaguegamelog request per season type played on the date",
    "bdl_pages": "balldontlie cursor pagination over dates[]=<date>",
    "bdl_date": "one balldontlie request with date=<date>",
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KIND = re.compile(r"^(nba-com|ball-dont-lie)/[a-z0-9-]+$")

BOX_RANGE_PARAMS: tuple[tuple[str, object], ...] = (
    ("StartPeriod", 0),
    ("EndPeriod", 0),
    ("StartRange", 0),
    ("EndRange", 0),
    ("RangeType", 0),
)
"""Whole-game range parameters every stats.nba.com v2/v3 box score request carries."""


@dataclass(frozen=True)
class ScraperSpec:
    """One endpoint fetch and the lake asset(s) it materializes.

    names: asset names (key `nba_lake/<name>`); two names = one response serves both.
    endpoint: stats.nba.com endpoint, balldontlie path, or "playbyplay" for cdn liveData.
    plan: how a date's requests are planned (a key of PLANS).
    lake_kind: `<source>/<kind>` prefix; objects land under `<lake_kind>/<date>/`.
    params: fixed query parameters added to every request.
    """

    names: tuple[str, ...]
    endpoint: str
    plan: str
    lake_kind: str
    description: str
    params: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= len(self.names) <= 2:
            raise ValueError(f"scraper {self.names}: one fetch serves one or two assets")
        for name in self.names:
            if not _NAME.match(name):
                raise ValueError(f"scraper name {name!r} is not lower snake case")
        if self.plan not in PLANS:
            raise ValueError(f"scraper {self.names}: unknown plan {self.plan!r} ({sorted(PLANS)})")
        if not _KIND.match(self.lake_kind):
            raise ValueError(f"scraper {self.names}: lake kind {self.lake_kind!r} is not <source>/<kind>")
        if not self.endpoint:
            raise ValueError(f"scraper {self.names}: empty endpoint")

    @property
    def op_name(self) -> str:
        """Step name: the single asset's name, or `<endpoint>_scraper` for a pair."""
        return self.names[0] if len(self.names) == 1 else f"{self.endpoint}_scraper"

    def prefix(self, day: str) -> str:
        """Lake prefix holding this fetch's objects for `day`."""
        return f"{self.lake_kind}/{day}/"


def _box(player: str, team: str, endpoint: str, kind: str, what: str, params=BOX_RANGE_PARAMS):
    return ScraperSpec(
        names=(player, team),
        endpoint=endpoint,
        plan="stats_per_game",
        lake_kind=f"nba-com/{kind}",
        description=f"stats.nba.com {endpoint} per game: {what} (player and team rows).",
        params=params,
    )


SCRAPERS: tuple[ScraperSpec, ...] = (
    ScraperSpec(
        names=("nbac_schedule",),
        endpoint="scheduleleaguev2",
        plan="season_schedule",
        lake_kind="nba-com/schedule",
        description="stats.nba.com scheduleleaguev2: the season's schedule, landed per date "
        "(the source of truth for which games a date has).",
        params=(("LeagueID", "00"),),
    ),
    ScraperSpec(
        names=("nbac_team_boxscore",),
        endpoint="boxscoretraditionalv3",
        plan="stats_per_game",
        lake_kind="nba-com/team-boxscore",
        description="stats.nba.com boxscoretraditionalv3 per game (team totals and players).",
        params=BOX_RANGE_PARAMS,
    ),
    ScraperSpec(
        names=("nbac_player_boxscore",),
        endpoint="leaguegamelog",
        plan="gamelog_per_season_type",
        lake_kind="nba-com/player-boxscores",
        description="stats.nba.com leaguegamelog PlayerOrTeam=P for the date (active players).",
        params=(("LeagueID", "00"), ("PlayerOrTeam", "P"), ("Counter", 1000),
                ("Sorter", "DATE"), ("Direction", "ASC")),
    ),
    ScraperSpec(
        names=("nbac_game_summary",),
        endpoint="boxscoresummaryv2",
        plan="stats_per_game",
        lake_kind="nba-com/game-summary",
        description="stats.nba.com boxscoresummaryv2 per game (line score, officials, inactives).",
    ),
    ScraperSpec(
        names=("nbac_play_by_play",),
        endpoint="playbyplay",
        plan="cdn_per_game",
        lake_kind="nba-com/play-by-play",
        description="cdn.nba.com liveData playbyplay_<gameId>.json per game.",
    ),
    _box("nbap_player_traditional", "nbap_team_traditional", "boxscoretraditionalv2",
         "boxscore-traditional-v2", "traditional box score"),
    _box("nbap_player_advanced", "nbap_team_advanced", "boxscoreadvancedv3",
         "boxscore-advanced-v3", "ratings, pace, usage, PIE"),
    _box("nbap_player_misc", "nbap_team_misc", "boxscoremiscv3",
         "boxscore-misc-v3", "points off turnovers, second chance, fast break, paint"),
    _box("nbap_player_scoring", "nbap_team_scoring", "boxscorescoringv3",
         "boxscore-scoring-v3", "shot and points distribution, assisted shares"),
    _box("nbap_player_usage", "nbap_team_usage", "boxscoreusagev3",
         "boxscore-usage-v3", "shares of team events while on court"),
    _box("nbap_player_defense", "nbap_team_defense", "boxscoredefensivev2",
         "boxscore-defensive-v2", "matchup defense", params=()),
    _box("nbap_tracking_player", "nbap_tracking_team", "boxscoreplayertrackv3",
         "boxscore-player-track-v3", "player tracking (speed, distance, touches)", params=()),
    ScraperSpec(
        names=("bdl_games",),
        endpoint="games",
        plan="bdl_pages",
        lake_kind="ball-dont-lie/games",
        description="balldontlie /v1/games?dates[]=<date> (cursor pages).",
    ),
    ScraperSpec(
        names=("bdl_player_boxscores",),
        endpoint="stats",
        plan="bdl_pages",
        lake_kind="ball-dont-lie/player-box-scores",
        description="balldontlie /v1/stats?dates[]=<date> (cursor pages of player game stats).",
    ),
    ScraperSpec(
        names=("bdl_team_boxscores",),
        endpoint="box_scores",
        plan="bdl_date",
        lake_kind="ball-dont-lie/boxscores",
        description="balldontlie /v1/box_scores?date=<date> (both teams' players per game).",
    ),
)


def _validate(specs: tuple[ScraperSpec, ...]) -> dict[str, ScraperSpec]:
    by_name: dict[str, ScraperSpec] = {}
    kinds: set[str] = set()
    for spec in specs:
        if spec.lake_kind in kinds:
            raise ValueError(f"two scrapers land under {spec.lake_kind}")
        kinds.add(spec.lake_kind)
        for name in spec.names:
            if name in by_name:
                raise ValueError(f"scraper asset {name} is declared twice")
            by_name[name] = spec
    if "nbac_schedule" not in by_name:
        raise ValueError("the schedule scraper nbac_schedule is required")
    return by_name


SCRAPER_BY_NAME: dict[str, ScraperSpec] = _validate(SCRAPERS)
"""Lake asset name -> the spec whose fetch materializes it."""
