"""Window completeness (SPEC §4): expected games from the schedule vs games found upstream.

expected = the entity's Final games in the window according to `nba_raw.nbac_schedule`;
actual = the games the upstream table has for the entity; missing = scheduled games whose
upstream rows are absent. For players, a scheduled team game that the upstream table *has*
(teammates present) but the player lacks is a DNP and is dropped from expected (SPEC: "DNP games
are dropped from expected"); so expected = actual + team games with no upstream data at all.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from nba_backfill.assets.precompute import rules


@dataclass
class Completeness:
    expected: int
    actual: int
    missing_dates: list[dt.date] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return max(self.expected - self.actual, 0)

    @property
    def pct(self) -> float:
        return rules.completeness_pct(self.actual, self.expected)

    @property
    def production_ready(self) -> bool:
        return rules.is_production_ready(self.pct)

    def columns(self) -> dict:
        return {
            "expected_games_count": self.expected,
            "actual_games_count": self.actual,
            "missing_games_count": self.missing,
            "completeness_percentage": self.pct,
            "is_production_ready": self.production_ready,
        }


class TeamCalendar:
    """Scheduled Final game dates per team, and the dates an upstream table has rows for."""

    def __init__(self, schedule_team_games: pd.DataFrame, present: pd.DataFrame, team_column: str):
        self.scheduled: dict[str, list[dt.date]] = defaultdict(list)
        for team, d in zip(schedule_team_games["team_abbr"], schedule_team_games["game_date"]):
            self.scheduled[team].append(d)
        for dates in self.scheduled.values():
            dates.sort()
        self.present: dict[str, set[dt.date]] = defaultdict(set)
        if len(present):
            for team, d in zip(present[team_column], present["game_date"]):
                self.present[team].add(d)

    def scheduled_between(self, team: str, start: dt.date, end_exclusive: dt.date) -> list[dt.date]:
        dates = self.scheduled.get(team, [])
        return dates[bisect.bisect_left(dates, start) : bisect.bisect_left(dates, end_exclusive)]

    def missing_between(self, teams, start: dt.date, end_exclusive: dt.date) -> list[dt.date]:
        out = set()
        for team in teams:
            for d in self.scheduled_between(team, start, end_exclusive):
                if d not in self.present.get(team, ()):
                    out.add(d)
        return sorted(out)

    def team_last_games(self, team: str, start: dt.date, day: dt.date, n: int) -> Completeness:
        """The team's last `n` scheduled games in [start, day): how many the upstream has."""
        last = self.scheduled_between(team, start, day)[-n:]
        have = self.present.get(team, set())
        missing = [d for d in last if d not in have]
        return Completeness(expected=len(last), actual=len(last) - len(missing), missing_dates=missing)


def player_games_window(
    player_dates: list[dt.date],
    teams,
    calendar: TeamCalendar,
    window_start: dt.date,
    day: dt.date,
    n_games: int | None = None,
) -> Completeness:
    """Completeness of a player's window: the last `n_games` played games (span from the n-th
    most recent game, or the window start when fewer), or every game since `window_start` when
    `n_games` is None (day windows)."""
    dates = sorted(d for d in player_dates if window_start <= d < day)
    if n_games is not None and len(dates) >= n_games:
        games = dates[-n_games:]
        span_start = games[0]
    else:
        games = dates
        span_start = window_start
    missing = calendar.missing_between(teams, span_start, day)
    return Completeness(expected=len(games) + len(missing), actual=len(games), missing_dates=missing)
