"""Pure Phase 4 rules from SPEC §4: minimum games, tiers, completeness, zones, composite factors.

Everything here is a plain function of numbers (no Dagster, no frames) so each rule has a direct
unit test with hand-computed values. Days are counted from the season opener of
`nba_backfill.seasons` (never from a hard-coded Oct 1, the production defect SPEC §4.1 notes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

PRODUCTION_READY_PCT = 70.0
"""SPEC §4: a window is production-ready at ≥ 70 % completeness (90 % is an opt-in strict mode)."""

EARLY_RAMP_LAST_DAY = 21
"""SPEC §4.1/4.2: reduced minimum-games rules apply while ≤ 21 days have passed since the opener."""


# --- minimum games ---------------------------------------------------------------------------
def tdza_min_games(days_since_opener: int) -> int:
    """TDZA: min(5 + days÷3, 14) while ≤ 21 days have passed since the opener, 15 after."""
    if days_since_opener <= EARLY_RAMP_LAST_DAY:
        return min(5 + days_since_opener // 3, 14)
    return 15


def psza_min_games(days_since_opener: int) -> int:
    """PSZA: min(3 + days÷3, 9) for the first 21 days after the opener, 10 after."""
    if days_since_opener <= EARLY_RAMP_LAST_DAY:
        return min(3 + days_since_opener // 3, 9)
    return 10


PSZA_TARGET_GAMES = 10
TDZA_TARGET_GAMES = 15
PDC_MIN_GAMES = 3  # SPEC §4.4 skip rule: fewer than 3 season games
PDC_EARLY_SEASON_GAMES = 10  # SPEC §4.4: early_season_flag while games < 10
PDC_STALE_DAYS = 30  # SPEC §4.4: no game in the last 30 days -> STALE_DATA


# --- tiers -----------------------------------------------------------------------------------
def tdza_quality_tier(games: int) -> str:
    """SPEC §4.1: high ≥ 15 games, medium ≥ 10, otherwise low."""
    return "high" if games >= 15 else "medium" if games >= 10 else "low"


def psza_quality_tier(games: int, min_games: int) -> str:
    """SPEC §4.2: high at ≥ the minimum in force, medium ≥ 7, otherwise low."""
    return "high" if games >= min_games else "medium" if games >= 7 else "low"


def sample_quality(games: int, target: int) -> str:
    """SPEC §4.2: excellent ≥ target, good ≥ 70 %, limited ≥ 50 %, otherwise insufficient."""
    if games >= target:
        return "excellent"
    if games >= 0.7 * target:
        return "good"
    if games >= 0.5 * target:
        return "limited"
    return "insufficient"


def source_quality_tier(score: float) -> str:
    """SPEC §3 tier cut-offs (also PDC's cache quality): gold ≥95, silver ≥75, bronze ≥50,
    poor ≥25, else unusable."""
    if score >= 95:
        return "gold"
    if score >= 75:
        return "silver"
    if score >= 50:
        return "bronze"
    if score >= 25:
        return "poor"
    return "unusable"


# --- completeness ----------------------------------------------------------------------------
def completeness_pct(actual: int, expected: int) -> float:
    """SPEC §4: actual/expected·100; expected = 0 counts as 100 %."""
    if expected <= 0:
        return 100.0
    return round(100.0 * min(actual, expected) / expected, 2)


def is_production_ready(pct: float) -> bool:
    return pct >= PRODUCTION_READY_PCT


# --- shot zones ------------------------------------------------------------------------------
RATES_SUM_TOLERANCE = 2.0


def zone_rates(
    paint_att: float | None, mid_att: float | None, three_att: float | None, fg_att: float
) -> tuple[float | None, float | None, float | None]:
    """Percent of FGA per zone; all NULL unless all three zones have data and the rates sum to
    100 ± 2 (SPEC §4.2)."""
    if fg_att is None or fg_att <= 0 or any(v is None or _nan(v) for v in (paint_att, mid_att, three_att)):
        return None, None, None
    rates = tuple(100.0 * v / fg_att for v in (paint_att, mid_att, three_att))
    if abs(sum(rates) - 100.0) > RATES_SUM_TOLERANCE:
        return None, None, None
    return rates  # type: ignore[return-value]


def primary_scoring_zone(paint_rate: float | None, mid_rate: float | None, three_rate: float | None) -> str | None:
    """SPEC §4.2: paint if paint ≥ 40 %; perimeter if three ≥ 40 %; mid_range if mid ≥ 35 %;
    otherwise balanced (NULL when the rates are NULL)."""
    if paint_rate is None or mid_rate is None or three_rate is None:
        return None
    if paint_rate >= 40:
        return "paint"
    if three_rate >= 40:
        return "perimeter"
    if mid_rate >= 35:
        return "mid_range"
    return "balanced"


def ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def _nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


# --- TDZA league comparison ------------------------------------------------------------------
LEAGUE_DEFAULT_PCT = {"paint": 0.580, "mid_range": 0.410, "three_pt": 0.355}
"""SPEC §4.1: league zone FG% defaults when fewer than 10 teams have ≥ 10 games in 30 days."""
LEAGUE_MIN_TEAMS = 10
LEAGUE_MIN_TEAM_GAMES = 10
LEAGUE_WINDOW_DAYS = 30


def vs_league(team_pct: float | None, league_pct: float) -> float | None:
    """(team − league) × 100: positive = the defence allows more than the league (weak)."""
    return None if team_pct is None else round((team_pct - league_pct) * 100.0, 3)


def strongest_weakest(vs: dict[str, float | None]) -> tuple[str | None, str | None]:
    """Strongest zone = most negative vs-league, weakest = most positive."""
    known = {z: v for z, v in vs.items() if v is not None}
    if not known:
        return None, None
    return min(known, key=known.get), max(known, key=known.get)  # type: ignore[arg-type]


# --- PCF composite factors (calculation_version v1_4factors) ---------------------------------
def fatigue_score(
    *,
    days_rest: float | None,
    back_to_back: bool | None,
    games_last_7: float | None,
    minutes_last_7: float | None,
    avg_minutes_last_7: float | None,
    back_to_backs_last_14: float | None,
    player_age: float | None,
) -> int:
    """0–100, higher = fresher. Start 100; back-to-back −15 (else ≥3 days rest +5); ≥4 games in
    7 days −10; >240 minutes in 7 days −10; >35 min/game over 7 days −8; back-to-backs in 14
    days: ≥2 −12, 1 −5; age ≥35 −10, ≥30 −5 (unknown age: no age term). Missing workload
    values take the production defaults (3 games, 200 min, 30 min/game)."""
    score = 100
    if back_to_back:
        score -= 15
    elif days_rest is not None and not _nan(days_rest) and days_rest >= 3:
        score += 5
    games = 3 if games_last_7 is None or _nan(games_last_7) else games_last_7
    minutes = 200.0 if minutes_last_7 is None or _nan(minutes_last_7) else minutes_last_7
    avg_min = 30.0 if avg_minutes_last_7 is None or _nan(avg_minutes_last_7) else avg_minutes_last_7
    if games >= 4:
        score -= 10
    if minutes > 240:
        score -= 10
    if avg_min > 35:
        score -= 8
    b2b = 0 if back_to_backs_last_14 is None or _nan(back_to_backs_last_14) else back_to_backs_last_14
    if b2b >= 2:
        score -= 12
    elif b2b == 1:
        score -= 5
    if player_age is not None and not _nan(player_age):
        if player_age >= 35:
            score -= 10
        elif player_age >= 30:
            score -= 5
    return max(0, min(100, score))


def fatigue_adjustment(score: int) -> float:
    """SPEC §4.3: (score − 100)/20, i.e. −5 .. 0."""
    return (score - 100) / 20.0


ZONE_RATE_FIELD = {"paint": "paint", "mid_range": "mid_range", "perimeter": "three_pt"}


def shot_zone_mismatch(primary_zone: str | None, zone_rate: float | None, defense_vs_league: float | None) -> float:
    """−10 .. +10: the opponent's vs-league FG% allowed in the player's primary zone, weighted by
    how much the player uses that zone (full weight at ≥ 50 %), ×1.2 beyond ±5. 0 when data is
    missing (a 'balanced' player is scored on the paint, as production does)."""
    if defense_vs_league is None or _nan(defense_vs_league):
        return 0.0
    rate = 50.0 if zone_rate is None or _nan(zone_rate) else zone_rate
    weighted = defense_vs_league * min(rate / 50.0, 1.0)
    if abs(weighted) > 5.0:
        weighted *= 1.2
    return round(max(-10.0, min(10.0, weighted)), 1)


def pace_score(pace_differential: float | None) -> float:
    """−3 .. +3: pace differential / 2 (0 when unknown)."""
    if pace_differential is None or _nan(pace_differential):
        return 0.0
    return round(max(-3.0, min(3.0, pace_differential / 2.0)), 2)


def usage_spike_score(projected_usage: float | None, baseline_usage: float | None, stars_out: float | None) -> float:
    """−3 .. +3: (projected − recent usage) × 0.3, boosted 15 %/30 % for 1/2+ stars out on a
    positive spike. 0 when the projection or baseline is unknown."""
    if projected_usage is None or baseline_usage is None or _nan(projected_usage) or _nan(baseline_usage):
        return 0.0
    if baseline_usage == 0:
        return 0.0
    score = (projected_usage - baseline_usage) * 0.3
    if stars_out and not _nan(stars_out) and score > 0:
        score *= 1.30 if stars_out >= 2 else 1.15
    return round(max(-3.0, min(3.0, score)), 2)


PCF_WARN_FATIGUE = 50
PCF_WARN_ZONE = 8.0
PCF_WARN_TOTAL = 12.0


# --- small statistics used by PDC / MLFS -----------------------------------------------------
def mean(values: Sequence[float]) -> float | None:
    vals = [float(v) for v in values if v is not None and not _nan(v)]
    return sum(vals) / len(vals) if vals else None


def sample_std(values: Sequence[float]) -> float | None:
    vals = [float(v) for v in values if v is not None and not _nan(v)]
    if len(vals) < 2:
        return None
    m = sum(vals) / len(vals)
    return math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))


def ols_slope(values_oldest_first: Sequence[float]) -> float | None:
    """Least-squares slope of values against 1..n (oldest first); None below 2 values."""
    ys = [float(v) for v in values_oldest_first]
    n = len(ys)
    if n < 2:
        return None
    xs = range(1, n + 1)
    sx, sy = sum(xs), sum(ys)
    sxy = sum(x * y for x, y in zip(xs, ys))
    sxx = sum(x * x for x in xs)
    den = n * sxx - sx * sx
    return (n * sxy - sx * sy) / den if den else None
