"""The input frames of one analytics step, sliced per date and per history window.

A ranged (single-run) step receives, for each input, the union of the mapped windows of every
date in the range. `Inputs` normalises the date column once, sorts by it, and hands the compute
functions exactly the rows of a set of dates (`on_days`: same-date tables compute a whole range
at once), of one date (`on`) or of a closed date interval (`between`: history windows).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DATE_COLUMN = "game_date"


def normalise(df: pd.DataFrame, date_column: str = DATE_COLUMN) -> pd.DataFrame:
    """Date column as datetime64 (midnight), rows sorted by it; DuckDB DATE loads vary in type."""
    out = df.copy()
    if date_column in out.columns:
        dates = pd.to_datetime(out[date_column])
        if dates.dt.tz is not None:
            dates = dates.dt.tz_localize(None)
        out[date_column] = dates.dt.normalize().astype("datetime64[ns]")
        out = out.sort_values(date_column, kind="stable").reset_index(drop=True)
    return out


def newest(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per key: the newest `processed_at` wins (SPEC §3 dedup rule)."""
    if df.empty:
        return df
    if "processed_at" in df.columns:
        df = df.sort_values("processed_at", kind="stable", na_position="first")
    return df.drop_duplicates(keys, keep="last").reset_index(drop=True)


class Inputs:
    """Named input frames with per-date and per-interval slicing."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self._frames = {name: normalise(df) for name, df in frames.items()}
        self._dates = {
            name: df[DATE_COLUMN].to_numpy(dtype="datetime64[ns]")
            for name, df in self._frames.items()
            if DATE_COLUMN in df.columns
        }
        self._derived: dict = {}

    def derived(self, name: str, build) -> pd.DataFrame:
        """`build(frame)` of the whole input `name`, computed once per step and kept."""
        key = (name, build)
        if key not in self._derived:
            self._derived[key] = build(self._frames[name])
        return self._derived[key]

    def between(self, name: str, first: dt.date, last: dt.date) -> pd.DataFrame:
        """Rows with first ≤ game_date ≤ last (an empty frame with the columns when none)."""
        frame = self._frames[name]
        if last < first:
            return frame.iloc[0:0]
        dates = self._dates[name]
        lo = np.searchsorted(dates, np.datetime64(first, "ns"), side="left")
        hi = np.searchsorted(dates, np.datetime64(last, "ns"), side="right")
        return frame.iloc[lo:hi]

    def on(self, name: str, day: dt.date) -> pd.DataFrame:
        return self.between(name, day, day)

    def on_days(self, name: str, days: list[dt.date]) -> pd.DataFrame:
        """Rows of any of `days` (a ranged run's dates that are not blocked)."""
        frame = self._frames[name]
        wanted = np.array([np.datetime64(d, "ns") for d in days], dtype="datetime64[ns]")
        return frame[np.isin(self._dates[name], wanted)]


def per_day(days: list[dt.date], compute_day) -> pd.DataFrame:
    """Concatenate `compute_day(day)` over days; an error names the day it happened on."""
    parts = []
    for day in days:
        try:
            parts.append(compute_day(day))
        except Exception as exc:
            raise ValueError(f"{day}: {type(exc).__name__}: {exc}") from exc
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
