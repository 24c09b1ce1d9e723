"""What one dependency's partition mapping reads for a date D: in words (asset descriptions) and as
partition keys (`nba-backfill needs`). Both derive from the mapping's offsets, so the text cannot
drift from what Dagster declares.

Partitions are in-season days (off-season days are excluded, `partitions.py`), so an offset of
-60 is 60 in-season days. Every window is cut to D's own season, as the steps read it: a history
window starts no earlier than the opener (`partitions.window_start`), a forward one ends no later
than the Finals end. Dagster's mapping itself counts partitions across the off-season and so
declares a few previous-season days near an opener; those are never read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dagster import IdentityPartitionMapping, PartitionMapping, TimeWindowPartitionMapping

from nba_backfill.seasons import season_for_date

SEASON_CUT = (
    "Partitions are in-season days. No window crosses D's season: history starts at its opener "
    "(`partitions.window_start`), forward windows end at its Finals end."
)


def offsets(mapping: PartitionMapping | None) -> tuple[int, int]:
    """(start, end) offsets in partitions of a dependency's mapping; None/identity = (0, 0).
    A mapping that is not a time window raises: its window could not be stated."""
    if mapping is None or isinstance(mapping, IdentityPartitionMapping):
        return 0, 0
    if isinstance(mapping, TimeWindowPartitionMapping):
        return mapping.start_offset, mapping.end_offset
    raise TypeError(f"cannot state the window of a {type(mapping).__name__}: only time windows are used")


def _day(offset: int) -> str:
    return "D" if offset == 0 else f"D{offset:+d}"


def window_text(mapping: PartitionMapping | None) -> str:
    """The window in words with its size in partitions and its season cut, e.g. "60 in-season
    days before D (D-60..D-1: up to 60 partitions, cut at the season opener)"."""
    start, end = offsets(mapping)
    size = end - start + 1
    span = f"{_day(start)}..{_day(end)}"
    if (start, end) == (0, 0):
        return "same date (D: 1 partition)"
    if (start, end) == (-1, -1):
        return "the previous in-season day (D-1: 1 partition; none on the season opener)"
    cuts = " and ".join(c for c, applies in (("opener", start < 0), ("Finals end", end > 0)) if applies)
    if end == -1:
        return f"{-start} in-season days before D ({span}: up to {size} partitions, cut at the season {cuts})"
    if start == -end:
        return f"D ±{end} days ({span}: up to {size} partitions, cut at the season {cuts})"
    return f"{span} (up to {size} partitions, cut at the season {cuts})"


def season_window(key: str, mapping: PartitionMapping | None, all_keys: Sequence[str],
                  index: dict[str, int]) -> list[str]:
    """The partitions of a dependency that partition `key` reads: the mapping's window over
    `all_keys` (`index`: key -> position), cut to `key`'s season."""
    start, end = offsets(mapping)
    i = index[key]
    window = all_keys[max(0, i + start): max(0, i + end + 1)]
    season = season_for_date(dt.date.fromisoformat(key))
    if season is None:
        return list(window)
    first, last = season.opener.isoformat(), season.finals_end.isoformat()
    return [k for k in window if first <= k <= last]
