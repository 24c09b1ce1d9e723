"""Phase 3 formulas (SPEC §3), as pure functions over scalars or pandas Series.

Every ratio returns NULL (None / NaN) where its denominator is zero instead of a made-up 0.
Rounding follows the production column types (NUMERIC(6,2) ratings, NUMERIC(5,1) pace,
NUMERIC(5,3) shooting percentages).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGULATION_PLAYER_MINUTES = 240.0  # 5 players × 48 minutes
OVERTIME_PLAYER_MINUTES = 25.0  # 5 players × 5 minutes
FTA_WEIGHT = 0.44
USAGE_NULL_ABOVE = 100.0  # SPEC §3.1: usage above 100 is set to NULL
STARTER_MINUTES = 20.0  # SPEC §3.1: starter_flag = minutes > 20


def _div(num, den):
    """num / den with NULL where den is 0 or missing (works on scalars and Series)."""
    if isinstance(num, pd.Series) or isinstance(den, pd.Series):
        index = num.index if isinstance(num, pd.Series) else den.index
        num_s = pd.Series(num, index=index).astype("float64")
        den_s = pd.Series(den, index=index).astype("float64")
        return num_s / den_s.where(den_s != 0)
    if num is None or den is None or pd.isna(num) or pd.isna(den) or den == 0:
        return None
    return num / den


def possessions(fga, fta, tov, oreb):
    """SPEC §3.2: possessions = FGA + 0.44·FTA + TO − OREB."""
    return fga + FTA_WEIGHT * fta + tov - oreb


def offensive_rating(points, poss):
    """SPEC §3.2: ORtg = 100·pts / possessions (also DRtg with the opponent's points/poss)."""
    out = _div(points * 100.0, poss)
    return _round(out, 2)


def pace(poss, player_minutes):
    """SPEC §3.2: pace = possessions·48 / (player-minutes / 5)."""
    out = _div(poss * 48.0, player_minutes / 5.0)
    return _round(out, 1)


def overtime_periods(player_minutes):
    """SPEC §3.2: OT periods = (player-minutes − 240) / 25, never negative."""
    raw = (player_minutes - REGULATION_PLAYER_MINUTES) / OVERTIME_PLAYER_MINUTES
    if isinstance(raw, pd.Series):
        return raw.round().clip(lower=0).astype("Int64")
    return max(0, int(round(raw)))


def ts_pct(points, fga, fta):
    """SPEC §3.1: ts_pct = PTS / (2·(FGA + 0.44·FTA))."""
    return _round(_div(points, 2.0 * (fga + FTA_WEIGHT * fta)), 3)


def efg_pct(fgm, fg3m, fga):
    """SPEC §3.1: efg_pct = (FGM + 0.5·3PM) / FGA."""
    return _round(_div(fgm + 0.5 * fg3m, fga), 3)


def usage_rate(fga, fta, tov, minutes, team_fga, team_fta, team_tov):
    """SPEC §3.1: usage = 100·(FGA + 0.44·FTA + TO)·48 / (min·(teamFGA + 0.44·teamFTA + teamTO)).

    48 is the production formula's constant (regulation team minutes / 5). NULL when the
    player has no minutes or the team has no plays, and NULL above 100 (SPEC)."""
    plays = fga + FTA_WEIGHT * fta + tov
    team_plays = team_fga + FTA_WEIGHT * team_fta + team_tov
    value = _div(100.0 * plays * 48.0, minutes * team_plays)
    if isinstance(value, pd.Series):
        return value.where(value <= USAGE_NULL_ABOVE).round(2)
    if value is None or value > USAGE_NULL_ABOVE:
        return None
    return round(value, 2)


def parse_player_minutes(value) -> float | None:
    """Team box score minutes "240:00" (player-minutes, MM:SS) → 240.0; NULL stays NULL."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    if not text:
        return None
    if ":" in text:
        minutes, seconds = text.split(":", 1)
        return int(minutes) + int(seconds) / 60.0
    return float(text)


def _round(value, digits: int):
    if isinstance(value, pd.Series):
        return value.round(digits)
    return None if value is None else round(value, digits)


# --- Shot zones (SPEC §3.1) -----------------------------------------------------------------
PAINT_MAX_FEET = 8.0


def shot_zone(shot_type, distance):
    """'three' for 3PT, 'paint' for a 2PT ≤ 8 ft, 'mid_range' for other 2PT; None otherwise
    (not a field goal, or a 2PT without a distance)."""
    if shot_type == "3PT":
        return "three"
    if shot_type == "2PT":
        if distance is None or pd.isna(distance):
            return None
        return "paint" if distance <= PAINT_MAX_FEET else "mid_range"
    return None


def shot_zones(shot_type: pd.Series, distance: pd.Series) -> pd.Series:
    """Vectorised `shot_zone`."""
    zone = pd.Series(pd.NA, index=shot_type.index, dtype="object")
    two = shot_type == "2PT"
    zone[shot_type == "3PT"] = "three"
    zone[two & (distance <= PAINT_MAX_FEET)] = "paint"
    zone[two & (distance > PAINT_MAX_FEET)] = "mid_range"
    return zone


# --- Quality (SPEC §3 common mechanics) ------------------------------------------------------
TIERS = (("gold", 95.0), ("silver", 75.0), ("bronze", 50.0), ("poor", 25.0))
UNUSABLE = "unusable"
BLOCKING_ISSUES = frozenset({"all_sources_failed", "missing_required", "placeholder_created"})
LEGACY_TIER = {"gold": "high", "silver": "medium"}


def quality_tier(score: float) -> str:
    """gold ≥95, silver ≥75, bronze ≥50, poor ≥25, else unusable."""
    for tier, floor in TIERS:
        if score >= floor:
            return tier
    return UNUSABLE


def is_production_ready(tier: str, score: float, issues) -> bool:
    """Tier gold/silver/bronze, score ≥ 50, and none of the blocking issues."""
    return (
        tier in ("gold", "silver", "bronze")
        and score >= 50.0
        and not BLOCKING_ISSUES.intersection(issues or ())
    )


def legacy_quality_tier(tier: str) -> str:
    """The legacy data_quality_tier column: high (gold), medium (silver), low (otherwise)."""
    return LEGACY_TIER.get(tier, "low")


def completeness_pct(actual: int, expected: int) -> float:
    """SPEC §4: actual/expected·100, capped at 100; expected 0 counts as 100 %."""
    if expected <= 0:
        return 100.0
    return round(min(100.0, 100.0 * actual / expected), 2)


def quality_columns(scores, issues, sources, production_ready=None, tiers=None) -> dict[str, list]:
    """The common quality columns from per-row scores, issue lists and source lists.

    Tiers default to the score cut-offs and readiness to the common rule; a table with its own
    SPEC rule (UPGC completeness, UTGC L14d tiers) passes them in."""
    scores = [float(s) for s in scores]
    tiers = list(tiers) if tiers is not None else [quality_tier(s) for s in scores]
    issues = [list(i) for i in issues]
    if production_ready is None:
        production_ready = [is_production_ready(t, s, i) for t, s, i in zip(tiers, scores, issues)]
    return {
        "quality_tier": tiers,
        "quality_score": scores,
        "quality_issues": issues,
        "data_sources": [list(s) for s in sources],
        "is_production_ready": [bool(r) for r in production_ready],
        "data_quality_tier": [legacy_quality_tier(t) for t in tiers],
    }
