"""Points per period of every game, as the generated play-by-play scores them.

Generating a game's play-by-play plan takes ~10 ms, too slow for a date-level request such as
scoreboardv2 on a 15-game night, so the per-period points of every bundled game are precomputed
into data/period_points.json (a test checks they equal the plan's). Regenerate after changing the
generator:  python -m nba_backfill.source.linescore
"""

from __future__ import annotations

import json
import threading

from nba_backfill.source.data_store import DATA_DIR, get_store
from nba_backfill.source.pbp import build_plan

PERIODS_PATH = DATA_DIR / "period_points.json"
_CACHE: dict[str, list[list[int]]] | None = None
_LOCK = threading.Lock()


def _bundled() -> dict[str, list[list[int]]]:
    global _CACHE
    if _CACHE is None:
        with _LOCK:
            if _CACHE is None:
                try:
                    _CACHE = json.loads(PERIODS_PATH.read_text())
                except (OSError, ValueError):
                    _CACHE = {}
    return _CACHE


def period_points(game_id: str) -> tuple[list[int], list[int]]:
    """(home points per period, away points per period); a corrected game's from its new plan."""
    got = None if get_store().version(game_id) else _bundled().get(game_id)
    if got is None:
        plan = build_plan(game_id)
        got = [list(plan.period_pts[0]), list(plan.period_pts[1])]
    return got[0], got[1]


def regenerate() -> int:
    store = get_store()
    out = {}
    for gid in sorted(store.games):
        plan = build_plan(gid)
        out[gid] = [plan.period_pts[0], plan.period_pts[1]]
        build_plan.cache_clear() if len(out) % 500 == 0 else None
    PERIODS_PATH.write_text(json.dumps(out, separators=(",", ":")))
    return len(out)


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {regenerate()} games to {PERIODS_PATH}")
