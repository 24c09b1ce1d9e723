"""Lookback rules shared by every Phase 4/5 step: season-bounded windows and their gaps.

`lookback_complete` names, per upstream table, (1) window partitions never materialized
(`instance.get_materialized_partitions`; Dagster itself does not check lookbacks outside a
backfill), (2) window dates with scheduled Final games but no rows (materialized, then emptied),
(3) a spec's own same-date gaps. Windows are always cut at the date's season opener, so a mapping
that over-declares previous-season partitions never feeds them to a computation.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nba_backfill.assets.precompute.inputs import day_ordinals
from nba_backfill.guards import upstream_window
from nba_backfill.seasons import Season

if TYPE_CHECKING:
    from nba_backfill.assets.precompute.factory import Day, PrecomputeSpec


def window_keys(all_keys: list[str], index: dict[str, int], key: str, mapping, season: Season) -> list[str]:
    """Upstream partition keys of `key` under `mapping`, restricted to the key's season."""
    ups = upstream_window(all_keys, index, key, mapping)
    return [u for u in ups if season.contains(dt.date.fromisoformat(u))]


def gaps(day: Day, spec: PrecomputeSpec, all_keys, index, materialized) -> dict[str, list[str]]:
    """Everything `lookback_complete` names for a date: window partitions never materialized,
    window dates with scheduled games but no rows, and the spec's own same-date gaps."""
    missing: dict[str, list[str]] = {}
    for i in spec.inputs:
        window = window_keys(all_keys, index, day.key, i.mapping, day.season)
        never = [w for w in window if w not in materialized[i.param]]
        if never:
            missing[i.table.key.to_user_string()] = never
    if spec.rows_on_game_days:
        for table, dates in empty_game_days(day, spec).items():
            missing[table] = sorted(set(missing.get(table, [])) | set(dates))
    if spec.same_date_gaps is not None:
        for table, items in spec.same_date_gaps(day).items():
            if items:
                missing[table] = sorted(set(missing.get(table, [])) | set(items))
    return missing


def empty_game_days(day: Day, spec: PrecomputeSpec) -> dict[str, list[str]]:
    """{input table: [dates with scheduled Final games but no rows]} inside the day's windows."""
    sched = day.team_games()
    game_dates = set(sched["game_date"]) if len(sched) else set()
    out: dict[str, list[str]] = {}
    for i in spec.inputs:
        if i.param not in spec.rows_on_game_days:
            continue
        if i.mapping is None:
            first = last = day.day
        else:
            first = max(day.day + dt.timedelta(days=i.mapping.start_offset), day.season.opener)
            last = day.day + dt.timedelta(days=i.mapping.end_offset)
        frame = day.frames[i.param]
        have = set(frame[i.table.date_column]) if len(frame) else set()
        gaps = sorted(d.isoformat() for d in game_dates - have if first <= d <= last)
        if gaps:
            out[i.table.key.to_user_string()] = gaps
    return out


class Dated:
    """A frame with its date column as day ordinals: each date's window is an integer mask over
    one array (the same rows, in the same order, as comparing the `datetime.date` cells)."""

    def __init__(self, frame: pd.DataFrame, date_column: str):
        self.frame = frame
        self.days = day_ordinals(frame[date_column]) if len(frame) else np.array([], dtype=np.int64)

    def restrict(self, day: dt.date, season: Season, mapping) -> pd.DataFrame:
        """The rows this date may use: its window, cut at the season opener."""
        if self.frame.empty:
            return self.frame
        if mapping is None:
            return self.frame[self.days == day.toordinal()]
        start = max(day + dt.timedelta(days=mapping.start_offset), season.opener)
        end = day + dt.timedelta(days=mapping.end_offset + 1)
        return self.frame[(self.days >= start.toordinal()) & (self.days < end.toordinal())]


def restrict(self, day: dt.date, season: Season, mapping) -> pd.DataFrame:
        """The rows this date may use: its window, cut at the season opener."""
        if self.frame.empty:
            return self.frame
        if mapping is None:
            return self.frame[self.days == _day_number(day)]
        start = max(day + dt.timedelta(days=mapping.start_offset), season.opener)
        end = day + dt.timedelta(days=mapping.end_offset + 1)
        return self.frame[(self.days >= _day_number(start)) & (self.days < _day_number(end))]


_EPOCH = dt.date(1970, 1, 1).toordinal()


def _day_number(day: dt.date) -> int:
    return day.toordinal() - _EPOCH


def restrict(frame: pd.DataFrame, date_column: str, day: dt.date, season: Season, mapping) -> pd.DataFrame:
    """The input rows this date may use: its window, cut at the season opener."""
    return Dated(frame, date_column).restrict(day, season, mapping)
