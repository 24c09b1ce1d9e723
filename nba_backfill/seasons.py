"""NBA season calendar: the one place season dates live.

Every other module asks this one for openers, season ends and bootstrap windows; no other
module may hard-code a season date. Dates are US Eastern game dates (the NBA's own).

Sources: NBA.com season schedules. 2020-21 was the shortened 72-game COVID season (opener
2020-12-22, finals ended 2021-07-20). 2026-27 is provisional (opener announced, later dates
estimated from the usual calendar) and is marked as such.

The offline local environment (`NBA_BACKFILL_ENV` unset or `local`) replays the bundled data,
which ends at `OFFLINE_LAST_DAY`: there the calendar's "today" is that day, so the current season
is the bundled last season (2024-25) and the partitions end with it (`nba_backfill.partitions`).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from nba_backfill.environment import is_offline

BOOTSTRAP_DAYS = 14  # SPEC §0: days 0–13 after the opener are "bootstrap"


class UnknownSeasonError(ValueError):
    """Raised for a season label or date that the calendar does not cover."""


@dataclass(frozen=True)
class Season:
    """One NBA season (regular season through the Finals)."""

    label: str  # "2023-24"
    opener: dt.date
    regular_season_end: dt.date
    play_in_start: dt.date
    playoffs_start: dt.date
    finals_end: dt.date
    all_star_break_start: dt.date
    all_star_break_end: dt.date
    regular_season_games: int = 82
    provisional: bool = False

    def __post_init__(self) -> None:
        ordered = [
            self.opener,
            self.all_star_break_start,
            self.all_star_break_end,
            self.regular_season_end,
            self.play_in_start,
            self.playoffs_start,
            self.finals_end,
        ]
        if ordered != sorted(ordered):
            raise ValueError(f"season {self.label}: dates out of order: {ordered}")
        if int(self.label[:4]) != self.opener.year and self.label != "2020-21":
            raise ValueError(f"season {self.label}: opener {self.opener} in the wrong year")

    @property
    def season_year(self) -> int:
        """SPEC §0: the season's start year (2023 for 2023-24)."""
        return int(self.label[:4])

    @property
    def bootstrap_end(self) -> dt.date:
        """Last bootstrap day (opener + 13 days)."""
        return self.opener + dt.timedelta(days=BOOTSTRAP_DAYS - 1)

    def contains(self, day: dt.date) -> bool:
        return self.opener <= day <= self.finals_end

    def days_since_opener(self, day: dt.date) -> int:
        return (day - self.opener).days

    def is_bootstrap(self, day: dt.date) -> bool:
        """True on days 0..BOOTSTRAP_DAYS-1 after the opener."""
        return 0 <= self.days_since_opener(day) < BOOTSTRAP_DAYS

    def is_regular_season(self, day: dt.date) -> bool:
        return self.opener <= day <= self.regular_season_end

    def is_postseason(self, day: dt.date) -> bool:
        return self.play_in_start <= day <= self.finals_end

    def is_all_star_break(self, day: dt.date) -> bool:
        return self.all_star_break_start <= day <= self.all_star_break_end


def _d(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


# fmt: off
SEASONS: tuple[Season, ...] = (
    Season("2020-21", _d("2020-12-22"), _d("2021-05-16"), _d("2021-05-18"), _d("2021-05-22"),
           _d("2021-07-20"), _d("2021-03-05"), _d("2021-03-10"), regular_season_games=72),
    Season("2021-22", _d("2021-10-19"), _d("2022-04-10"), _d("2022-04-12"), _d("2022-04-16"),
           _d("2022-06-16"), _d("2022-02-18"), _d("2022-02-23")),
    Season("2022-23", _d("2022-10-18"), _d("2023-04-09"), _d("2023-04-11"), _d("2023-04-15"),
           _d("2023-06-12"), _d("2023-02-17"), _d("2023-02-22")),
    Season("2023-24", _d("2023-10-24"), _d("2024-04-14"), _d("2024-04-16"), _d("2024-04-20"),
           _d("2024-06-17"), _d("2024-02-16"), _d("2024-02-21")),
    Season("2024-25", _d("2024-10-22"), _d("2025-04-13"), _d("2025-04-15"), _d("2025-04-19"),
           _d("2025-06-22"), _d("2025-02-14"), _d("2025-02-19")),
    Season("2025-26", _d("2025-10-21"), _d("2026-04-12"), _d("2026-04-14"), _d("2026-04-18"),
           _d("2026-06-19"), _d("2026-02-13"), _d("2026-02-18")),
    Season("2026-27", _d("2026-10-21"), _d("2027-04-11"), _d("2027-04-13"), _d("2027-04-17"),
           _d("2027-06-20"), _d("2027-02-12"), _d("2027-02-17"), provisional=True),
)
# fmt: on

_BY_LABEL = {s.label: s for s in SEASONS}

OFFLINE_LAST_DAY = _d("2025-04-13")
"""Last game date of the bundled offline data (nba_backfill/source/data: the 2020-21..2024-25
regular seasons, so 2024-25's last regular-season day). Checked against the parquet by
`test_seasons`; the data is never loaded to find it."""


def season_by_label(label: str) -> Season:
    """The season called `label` ("2023-24"); UnknownSeasonError names the known ones."""
    try:
        return _BY_LABEL[label]
    except KeyError:
        known = ", ".join(_BY_LABEL)
        raise UnknownSeasonError(f"unknown season {label!r}; known seasons: {known}") from None


def season_for_date(day: dt.date | str) -> Season | None:
    """The season whose opener..finals window holds `day`, or None in the off-season."""
    if isinstance(day, str):
        day = parse_date(day)
    for season in SEASONS:
        if season.contains(day):
            return season
    return None


def season_label_for_year_start(day: dt.date) -> str:
    """SPEC §0 season_year rule: Oct–Dec belong to that year's season, Jan–Sep to the previous."""
    start = day.year if day.month >= 10 else day.year - 1
    return f"{start}-{str(start + 1)[2:]}"


def parse_date(value: str) -> dt.date:
    """Parse YYYY-MM-DD with an error that names the bad value."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"bad date {value!r}: expected YYYY-MM-DD") from None


def calendar_today() -> dt.date:
    """Today, as far as the data goes: the offline data's last day in the local environment
    (its clock stops there), the real date in production."""
    return OFFLINE_LAST_DAY if is_offline() else dt.date.today()


def current_season(today: dt.date | None = None) -> Season:
    """The current season: NBA_BACKFILL_CURRENT_SEASON if set, else the one `today` (default
    `calendar_today()`: the bundled last season offline, today's season in production) falls in.

    In the off-season the current season is the next one to open (or, past the calendar's
    end, the last known season). Read at call time.
    """
    override = os.environ.get("NBA_BACKFILL_CURRENT_SEASON")
    if override:
        return season_by_label(override)
    today = today or calendar_today()
    for season in SEASONS:
        if today <= season.finals_end:
            return season
    return SEASONS[-1]


def seasons_between(first: str, last: str) -> list[Season]:
    """Seasons from `first` to `last` inclusive, in calendar order."""
    a, b = season_by_label(first), season_by_label(last)
    return [s for s in SEASONS if a.opener <= s.opener <= b.opener]
