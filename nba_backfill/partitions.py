"""The daily partitions definitions, their lookback mappings and backfill policies.

Partitions: one per in-season day (opener .. Finals end) of every season in `seasons.SEASONS`,
up to `last_day()`: the bundled data's last day in the offline local environment (nothing after
it can be filled), the calendar's end (bounded by today, as Dagster does) in production.
Phase 5 (predictions, SPEC: current season only) has its own definition with the same days from
the current season's opener on (`PREDICTION_PARTITIONS`, `partitions_for`), so no past-season
prediction partition exists. Both are built when this module is imported, so they follow the
NBA_BACKFILL_ENV and NBA_BACKFILL_CURRENT_SEASON of the process that loads the code location.
Off-season days are excluded with `DailyPartitionsDefinition(exclusions=...)` so a multi-season
backfill does not pay Dagster bookkeeping for ~100 empty days a year. Consequence (measured in
tests): a `TimeWindowPartitionMapping` offset counts *partitions*, i.e. in-season days, so a
-30 offset on the first days of a season reaches back into the previous season's last days.
That is harmless because every window is also cut at the season opener in code (windows never
cross a season boundary, see `window_start`), but it means such an edge over-declares a few
previous-season days; we prefer that to an unsupported custom PartitionMapping class.

Every offset below stays under 100 partitions: Dagster ignores wider edges for staleness.
History windows end at -1 (strictly before the partition date: SPEC §4 "game_date < analysis_date").
Season-to-date values are not served by a mapping (a season is up to ~240 partitions); see
`nba_backfill/assets/precompute` for how they are computed.
"""

from __future__ import annotations

import datetime as dt

from dagster import AssetKey, BackfillPolicy, DailyPartitionsDefinition, TimeWindowPartitionMapping

from nba_backfill.environment import is_offline
from nba_backfill.layers import PREDICTIONS
from nba_backfill.seasons import (
    OFFLINE_LAST_DAY,
    SEASONS,
    Season,
    current_season,
    parse_date,
    season_for_date,
)


# Off-season months/day-ranges that hold no game in ANY season of the calendar, as cron
# exclusions. Dagster serialises the partitions definition (exclusions included) into every
# planned asset/check event; ~700 single-day exclusions made each such event ~62 KB, these crons
# plus the remaining single days ~16 KB. `_validated_crons` refuses a cron that would exclude an
# in-season day (e.g. 2020-21's Finals ran to 2021-07-20, so July 1-20 cannot be a cron).
_OFF_SEASON_CRONS = (
    ("0 0 * 8,9 *", lambda d: d.month in (8, 9)),
    ("0 0 21-31 7 *", lambda d: d.month == 7 and d.day >= 21),
    ("0 0 1-17 10 *", lambda d: d.month == 10 and d.day <= 17),
)


def _off_season_days() -> list[dt.date]:
    days: list[dt.date] = []
    for prev, nxt in zip(SEASONS, SEASONS[1:]):
        day = prev.finals_end + dt.timedelta(days=1)
        while day < nxt.opener:
            days.append(day)
            day += dt.timedelta(days=1)
    return days


def _validated_crons() -> list[tuple[str, object]]:
    day, last = SEASONS[0].opener, SEASONS[-1].finals_end
    while day <= last:
        for cron, matches in _OFF_SEASON_CRONS:
            if matches(day) and season_for_date(day) is not None:
                raise ValueError(f"exclusion {cron!r} would drop in-season day {day}")
        day += dt.timedelta(days=1)
    return list(_OFF_SEASON_CRONS)


def _exclusions(last: dt.date) -> list[str | dt.datetime]:
    crons = _validated_crons()
    singles = [
        dt.datetime(d.year, d.month, d.day)
        for d in _off_season_days()
        if d <= last and not any(matches(d) for _, matches in crons)
    ]
    return [cron for cron, _ in crons] + singles


def last_day() -> dt.date:
    """The last day the partitions offer: the offline data's last day in the local environment,
    the calendar's last Finals day in production (where Dagster also stops at today)."""
    return OFFLINE_LAST_DAY if is_offline() else SEASONS[-1].finals_end


def daily_partitions(start: dt.date) -> DailyPartitionsDefinition:
    """One partition per in-season day from `start` to `last_day()` (the off-season excluded)."""
    last = last_day()
    if start > last:
        raise ValueError(
            f"partitions cannot start at {start} after their last day {last}"
            + (" (the offline data ends there: set NBA_BACKFILL_CURRENT_SEASON to a season up to "
               f"{season_for_date(last).label}, or run with NBA_BACKFILL_ENV=prod)" if is_offline() else "")
        )
    return DailyPartitionsDefinition(
        start_date=start.isoformat(),
        end_date=(last + dt.timedelta(days=1)).isoformat(),  # exclusive
        exclusions=_exclusions(last),
    )


DAILY_PARTITIONS = daily_partitions(SEASONS[0].opener)
"""One partition per in-season game date up to `last_day()`, key YYYY-MM-DD (US Eastern game
date). Phases 1-4."""

PREDICTION_PARTITIONS = daily_partitions(current_season().opener)
"""Phase 5: the days of `DAILY_PARTITIONS` from the current season's opener on (same cadence and
exclusions, so same-date and lookback mappings from Phase 4 line up key for key)."""


def partitions_for(asset_key: AssetKey) -> DailyPartitionsDefinition:
    """The partitions definition of a table asset (and its checks), by its layer."""
    return PREDICTION_PARTITIONS if asset_key.path[0] == PREDICTIONS else DAILY_PARTITIONS


# --- Backfill policies -----------------------------------------------------------------------
# Scrapers call rate-limited HTTP sources: chunk them so a failed chunk re-runs a week, not a
# season, and so runs interleave fairly with other work in the `nba_api` pool.
SCRAPER_BACKFILL_POLICY = BackfillPolicy.multi_run(max_partitions_per_run=30)
# Warehouse tables: one run per contiguous range (delete+insert of the whole range).
TABLE_BACKFILL_POLICY = BackfillPolicy.single_run()

RUN_STAGE_LIMIT = 10_000
"""Larger than any range of the calendar (about 240 partitions a season)."""


def table_backfill_policy(stage: int) -> BackfillPolicy:
    """The backfill policy of the table assets of one run stage: one run per contiguous range,
    like `single_run()`, but a distinct policy per stage.

    Why not `single_run()` for every table: Dagster puts a child asset in its parent's run when
    both have the same policy (`asset_backfill._get_cant_run_because_of_parent_reason`). A table
    step that finds a bad date fails after writing its good dates (`nba_backfill.assets.core`);
    a child in the same run would then be skipped for the *whole* range and the backfill would
    count every one of its partitions as failed. With one policy per stage (phase x 10 + depth
    inside the layer, `assets.core.factory.run_stages`) a table never shares a run with a table
    it reads: the child runs once the parent's good partitions exist, over exactly those, and
    only the bad dates and what reads them end failed. Independent tables of a stage still share
    one run."""
    if not 0 <= stage < 100:
        raise ValueError(f"run stage {stage} is outside 0..99")
    return BackfillPolicy.multi_run(max_partitions_per_run=RUN_STAGE_LIMIT + stage)


# --- Lookback mappings (upstream windows) ----------------------------------------------------
# Same-date dependencies use no mapping (identity). Each constant names the window it serves.

SCHEDULE_AROUND_DATE = TimeWindowPartitionMapping(start_offset=-5, end_offset=5)
"""UPGC: schedule ±5 days around D (SPEC §3.4: rest days, back-to-backs, next game)."""

SCHEDULE_MINUS_30_PLUS_7 = TimeWindowPartitionMapping(start_offset=-30, end_offset=7)
"""UTGC: schedule from 30 days before to 7 days after D (SPEC §3.5)."""

PREVIOUS_30_DAYS = TimeWindowPartitionMapping(start_offset=-30, end_offset=-1)
"""UPGC: PGS of the previous 30 days; UTGC/UPGC: team last-10-games history (10 games ≈ 21
days + All-Star break ≤ 30 days); PDC: TOGS last 10 games."""

LAST_15_TEAM_GAMES = TimeWindowPartitionMapping(start_offset=-45, end_offset=-1)
"""TDZA: last 15 TDGS games of a team (15 × ~2.1 days ≈ 32 days + 6-day All-Star break + slack)
and the 30-day league averages inside it."""

LAST_20_PLAYER_GAMES = TimeWindowPartitionMapping(start_offset=-60, end_offset=-1)
"""PSZA: last 10 and last 20 PGS games (20 team games ≈ 42 days + break + slack)."""

PLAYER_RECENT_40_DAYS = TimeWindowPartitionMapping(start_offset=-40, end_offset=-1)
"""PDC: last 5/10 played games and the 7/14/30-day counts (30 days + break-lengthened windows)."""

ROLLING_60_DAYS = TimeWindowPartitionMapping(start_offset=-60, end_offset=-1)
"""MLFS: 60-day rolling stats, last 10 games within 60 days, 30-day minutes, 14-day previous line."""

PREVIOUS_DAY = TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
"""Cumulative season-to-date state carried from the previous in-season partition."""


LOOKBACK_MAPPINGS: dict[str, TimeWindowPartitionMapping] = {
    "schedule_around_date": SCHEDULE_AROUND_DATE,
    "schedule_minus_30_plus_7": SCHEDULE_MINUS_30_PLUS_7,
    "previous_30_days": PREVIOUS_30_DAYS,
    "last_15_team_games": LAST_15_TEAM_GAMES,
    "last_20_player_games": LAST_20_PLAYER_GAMES,
    "player_recent_40_days": PLAYER_RECENT_40_DAYS,
    "rolling_60_days": ROLLING_60_DAYS,
    "previous_day": PREVIOUS_DAY,
}


_KEYS_CACHE: dict[dt.date, tuple[str, ...]] = {}


def all_partition_keys() -> list[str]:
    """Every partition key up to now, computed once per process per day (it takes ~20-600 ms
    with the exclusions, and guards/lookbacks need it in every step)."""
    today = dt.date.today()
    if today not in _KEYS_CACHE:
        _KEYS_CACHE.clear()
        _KEYS_CACHE[today] = tuple(DAILY_PARTITIONS.get_partition_keys())
    return list(_KEYS_CACHE[today])


def partition_keys_between(start: str, end: str) -> list[str]:
    """In-season partition keys from start to end inclusive (bad or reversed dates raise)."""
    a, b = parse_date(start), parse_date(end)
    if b < a:
        raise ValueError(f"reversed range: {start} is after {end}")
    keys = all_partition_keys()
    if not keys or a > parse_date(keys[-1]) or b < parse_date(keys[0]):
        raise ValueError(f"range {start}..{end} is outside the partitions {keys[0]}..{keys[-1]}")
    return [k for k in keys if start <= k <= end]


def season_keys(season: Season) -> list[str]:
    """Every partition key of one season (opener .. Finals end, bounded by today)."""
    return [k for k in all_partition_keys() if season.contains(parse_date(k))]


def window_start(day: dt.date, days_back: int) -> dt.date:
    """Start of a `days_back` history window ending before `day`, cut at the season opener."""
    season = season_for_date(day)
    start = day - dt.timedelta(days=days_back)
    if season is not None and start < season.opener:
        return season.opener
    return start
