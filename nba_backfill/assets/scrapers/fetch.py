"""Request planning for one scraper spec and one date: every response in memory, then landed.

`fetch_date` returns `{object name: JSON body}` for the whole date or raises `FetchError`
(partition date, game id or None for a date-level request, and the client's `NbaApiError` with
endpoint, status and cause) — the caller lands nothing for a date whose fetch did not complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nba_backfill.assets.scrapers.schedule import ScheduledGame
from nba_backfill.assets.scrapers.specs import ScraperSpec
from nba_backfill.resources.nba_api import ApiResponse, NbaApiClient, NbaApiError
from nba_backfill.seasons import season_for_date


class FetchError(Exception):
    """A request of `day` (for `game_id`, None = date-level) that failed for good."""

    def __init__(self, day: str, game_id: str | None, error: NbaApiError):
        self.day, self.game_id, self.error = day, game_id, error
        super().__init__(str(error))


def _call(day: str, game_id: str | None, request: Callable[[str], ApiResponse]) -> ApiResponse:
    try:
        return request(request_context(day, game_id))
    except NbaApiError as exc:
        raise FetchError(day, game_id, exc) from exc


@dataclass
class FetchStats:
    """What a fetch cost: logical requests, HTTP attempts, bytes received."""

    requests: int = 0
    attempts: int = 0
    bytes: int = 0

    def add(self, response: ApiResponse) -> Any:
        self.requests += 1
        self.attempts += response.attempts
        self.bytes += response.bytes
        return response.data

    @property
    def retries(self) -> int:
        return self.attempts - self.requests


def request_context(day: str, game_id: str | None = None) -> str:
    """Context string carried into NbaApiError messages."""
    return f"partition {day}, game {game_id}" if game_id else f"partition {day}, date-level request"


def season_label(day: str) -> str:
    season = season_for_date(dt.date.fromisoformat(day))
    if season is None:
        raise ValueError(f"partition {day} is outside every season in nba_backfill.seasons")
    return season.label


def fetch_season_schedule(client: NbaApiClient, spec: ScraperSpec, label: str, day: str,
                          stats: FetchStats) -> dict[str, Any]:
    """scheduleleaguev2 for one season (`day` = the first partition of the run needing it)."""
    params = dict(spec.params, Season=label)
    return stats.add(_call(day, None, lambda ctx: client.stats(spec.endpoint, params, context=ctx)))


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")


def _us_date(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def _stats_per_game(client, spec, day, games, stats):
    out = {}
    for game in games:
        params = dict(spec.params, GameID=game.nba_game_id)
        response = _call(day, game.nba_game_id,
                         lambda ctx: client.stats(spec.endpoint, params, context=ctx))
        out[f"{game.nba_game_id}.json"] = stats.add(response)
    return out


def _cdn_per_game(client, spec, day, games, stats):
    out = {}
    for game in games:
        response = _call(day, game.nba_game_id,
                         lambda ctx: client.cdn_playbyplay(game.nba_game_id, context=ctx))
        out[f"{game.nba_game_id}.json"] = stats.add(response)
    return out


def _gamelog_per_season_type(client, spec, day, games, stats):
    out = {}
    label = season_label(day)
    for season_type in sorted({g.game_type for g in games}):
        params = dict(spec.params, Season=label, SeasonType=season_type,
                      DateFrom=_us_date(day), DateTo=_us_date(day))
        response = _call(day, None, lambda ctx: client.stats(spec.endpoint, params, context=ctx))
        out[f"{_slug(season_type)}.json"] = stats.add(response)
    return out


def _bdl_pages(client, spec, day, games, stats):
    if not games:
        return {}
    pages = client.bdl_paginate(spec.endpoint, {"dates[]": day}, context=request_context(day))
    out = {}
    try:
        for i, page in enumerate(pages, start=1):
            out[f"page-{i:03d}.json"] = stats.add(page)
    except NbaApiError as exc:
        raise FetchError(day, None, exc) from exc
    return out


def _bdl_date(client, spec, day, games, stats):
    if not games:
        return {}
    response = _call(day, None, lambda ctx: client.bdl(spec.endpoint, {"date": day}, context=ctx))
    return {f"{spec.endpoint}.json": stats.add(response)}


_PLANNERS: dict[str, Callable[..., dict[str, Any]]] = {
    "stats_per_game": _stats_per_game,
    "cdn_per_game": _cdn_per_game,
    "gamelog_per_season_type": _gamelog_per_season_type,
    "bdl_pages": _bdl_pages,
    "bdl_date": _bdl_date,
}


def fetch_date(client: NbaApiClient, spec: ScraperSpec, day: str, games: list[ScheduledGame],
               stats: FetchStats) -> dict[str, Any]:
    """Every response of `spec` for `day` (games = the scraped games of the date's schedule)."""
    return _PLANNERS[spec.plan](client, spec, day, games, stats)
