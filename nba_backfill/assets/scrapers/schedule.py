"""Which games a date has, read from the landed scheduleleaguev2 slice of that date.

The schedule scraper lands one object per date (`nba-com/schedule/<date>/schedule.json`) with
the real scheduleleaguev2 shape, its `gameDates` cut down to that date. Every other scraper reads
it to know the games to fetch; the raw schedule table parses the same object. The rule deciding
which games must have box scores lives here, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

SCHEDULE_KIND = "nba-com/schedule"
SCHEDULE_OBJECT = "schedule.json"

# stats.nba.com game id prefix -> season type (game ids are "00" + type digit + yy + number).
GAME_TYPES = {
    "001": "Pre Season",
    "002": "Regular Season",
    "003": "All Star",
    "004": "Playoffs",
    "005": "PlayIn",
    "006": "NBA Cup Final",
}
# Games whose box scores count in the season's statistics (and are scraped). The NBA Cup final
# (006) is played in-season but its stats are not part of the regular season (leaguegamelog
# Regular Season omits it), pre-season and All-Star games are exhibitions.
SCRAPED_GAME_TYPES = frozenset({"Regular Season", "Playoffs", "PlayIn"})
FINAL_STATUS = 3


class ScheduleError(ValueError):
    """The landed schedule slice is absent or does not have the scheduleleaguev2 shape."""


def schedule_key(day: str) -> str:
    return f"{SCHEDULE_KIND}/{day}/{SCHEDULE_OBJECT}"


def game_type(nba_game_id: str) -> str:
    """Season type of an NBA game id ('0022300061' -> 'Regular Season')."""
    kind = GAME_TYPES.get(str(nba_game_id)[:3])
    if kind is None:
        raise ScheduleError(f"unknown game type in game id {nba_game_id!r}")
    return kind


def game_day(entry: dict[str, Any]) -> str:
    """US Eastern game date (YYYY-MM-DD) of a scheduleleaguev2 `gameDates` entry or game."""
    if entry.get("gameDateEst"):
        return str(entry["gameDateEst"])[:10]
    raw = str(entry.get("gameDate") or "")
    try:
        return dt.datetime.strptime(raw[:10], "%m/%d/%Y").date().isoformat()
    except ValueError:
        raise ScheduleError(f"bad gameDate {raw!r}") from None


def slice_for_date(season_schedule: dict[str, Any], day: str) -> dict[str, Any]:
    """The scheduleleaguev2 response cut down to the games of `day` (same shape)."""
    try:
        league = season_schedule["leagueSchedule"]
        dates = league["gameDates"]
    except (KeyError, TypeError) as exc:
        raise ScheduleError(f"scheduleleaguev2 response lacks {exc}") from None
    games = [g for entry in dates for g in entry.get("games") or [] if game_day(g) == day]
    kept = [{"gameDate": _schedule_date_text(day), "games": games}] if games else []
    return {
        "meta": season_schedule.get("meta", {}),
        "leagueSchedule": {
            "seasonYear": league.get("seasonYear"),
            "leagueId": league.get("leagueId"),
            "gameDates": kept,
        },
    }


def _schedule_date_text(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{d.month:02d}/{d.day:02d}/{d.year} 00:00:00"


@dataclass(frozen=True)
class ScheduledGame:
    """One game of a date as the schedule states it."""

    nba_game_id: str
    game_type: str
    status: int
    home_tricode: str
    away_tricode: str

    @property
    def scraped(self) -> bool:
        """True when box scores must exist for it: a Final game of a counted season type."""
        return self.status == FINAL_STATUS and self.game_type in SCRAPED_GAME_TYPES


def games_in_slice(schedule_slice: dict[str, Any]) -> list[ScheduledGame]:
    """Every game of a landed schedule slice, in schedule order."""
    try:
        entries = schedule_slice["leagueSchedule"]["gameDates"]
        out = []
        for entry in entries:
            for g in entry.get("games") or []:
                out.append(
                    ScheduledGame(
                        nba_game_id=str(g["gameId"]),
                        game_type=game_type(str(g["gameId"])),
                        status=int(g["gameStatus"]),
                        home_tricode=str(g["homeTeam"]["teamTricode"]),
                        away_tricode=str(g["awayTeam"]["teamTricode"]),
                    )
                )
        return out
    except (KeyError, TypeError, ValueError) as exc:
        raise ScheduleError(f"schedule slice is malformed: {type(exc).__name__}: {exc}") from None


def scraped_games(schedule_slice: dict[str, Any]) -> list[ScheduledGame]:
    """The games whose box scores, play-by-play and summaries a date must have."""
    return [g for g in games_in_slice(schedule_slice) if g.scraped]
