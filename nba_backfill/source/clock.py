"""Wall-clock helpers: tip-off times in Eastern and UTC, ISO-8601 durations (PT11M42.00S)."""

from __future__ import annotations

import datetime as dt

try:  # zoneinfo needs tzdata; fall back to a fixed US DST rule when it is missing
    from zoneinfo import ZoneInfo

    _ET = ZoneInfo("America/New_York")
    _ET.utcoffset(dt.datetime(2024, 1, 1))
except Exception:  # pragma: no cover - depends on the host
    _ET = None


def _et_offset_hours(day: dt.date) -> int:
    if _ET is not None:
        return int(_ET.utcoffset(dt.datetime(day.year, day.month, day.day, 12)).total_seconds() // 3600)
    march = dt.date(day.year, 3, 8)
    dst_start = march + dt.timedelta(days=(6 - march.weekday()) % 7)
    nov = dt.date(day.year, 11, 1)
    dst_end = nov + dt.timedelta(days=(6 - nov.weekday()) % 7)
    return -4 if dst_start <= day < dst_end else -5


def tip_datetimes(date: str, tip_et: str) -> tuple[dt.datetime, dt.datetime]:
    """(naive Eastern datetime, naive UTC datetime) of a tip-off."""
    day = dt.date.fromisoformat(date)
    hh, mm = (int(x) for x in tip_et.split(":"))
    et = dt.datetime(day.year, day.month, day.day, hh, mm)
    return et, et - dt.timedelta(hours=_et_offset_hours(day))


def iso_clock(seconds_left: float) -> str:
    seconds_left = max(0.0, seconds_left)
    m = int(seconds_left // 60)
    s = seconds_left - 60 * m
    return f"PT{m:02d}M{s:05.2f}S"


def utc_z(ts: dt.datetime, frac: bool = True) -> str:
    if frac:
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 100000}Z"
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
