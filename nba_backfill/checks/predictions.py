"""Asset checks of the nba_predictions layer: pure rules, evaluated per partition inside the
prediction asset's step (declared with `check_specs=`; `checks` is therefore empty).

Blocking: `partition_ok` (the core's), `lookback_complete`, `keys_unique` (one row per player ×
system), `players_predicted` (every MLFS player that passed the quality gate has a row from every
system), `predicted_points_range` (no NULL, 0–80).
"""

from __future__ import annotations

import pandas as pd

from nba_backfill.checks.results import Outcome

PLAYERS_PREDICTED = "players_predicted"
PREDICTED_POINTS_RANGE = "predicted_points_range"
POINTS_RANGE = (0.0, 80.0)  # SPEC §7: points per player-game 0–80

DESCRIPTIONS = {
    PLAYERS_PREDICTED: "Every MLFS player of the date that passed the quality gate has exactly one "
    "prediction from every system.",
    PREDICTED_POINTS_RANGE: "predicted_points is never NULL and lies in 0–80.",
}

checks: list = []


def players_predicted(frame: pd.DataFrame, expected_players: set[str], systems: tuple[str, ...]) -> Outcome:
    have = set(zip(frame["player_lookup"], frame["system_id"])) if len(frame) else set()
    missing = sorted(f"{p}:{s}" for p in expected_players for s in systems if (p, s) not in have)
    extra = sorted(f"{p}:{s}" for p, s in have if p not in expected_players)
    ok = not missing and not extra
    message = ""
    if missing:
        message = f"{len(missing)} player×system predictions missing"
    if extra:
        message += ("; " if message else "") + f"{len(extra)} predictions for players not passing the gate"
    return Outcome(ok, {"expected_players": len(expected_players), "systems": len(systems), "rows": len(frame),
                        "missing": len(missing), "unexpected": len(extra)},
                   offending=missing + extra, message=message)


def predicted_points_range(frame: pd.DataFrame) -> Outcome:
    if frame.empty:
        return Outcome(True, {"rows": 0})
    pts = pd.to_numeric(frame["predicted_points"], errors="coerce")
    lo, hi = POINTS_RANGE
    bad = frame[pts.isna() | (pts < lo) | (pts > hi)]
    offending = [f"{p}:{s}={v}" for p, s, v in zip(bad["player_lookup"], bad["system_id"], bad["predicted_points"])]
    return Outcome(bad.empty, {"rows": len(frame), "null_or_out_of_range": len(bad),
                               "min": float(pts.min()), "max": float(pts.max())},
                   offending=offending, message=f"{len(bad)} predictions NULL or outside {lo}–{hi}" if len(bad) else "")
