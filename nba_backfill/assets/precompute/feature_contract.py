"""The MLFS feature contract: 60 features (indices 0–59), their sources and the quality score.

SPEC §4.5. Per feature we store its value, its source and its quality (the source's weight):
phase4, calculated, vegas, bettingpros = 100; minutes_ppm 95; opponent_history 90; phase3 87;
default or fallback 40; missing 0.

Score = mean of the per-feature qualities over 0–59, skipping optional features that are
unavailable; capped at 69 when 1–4 required features are default/fallback/missing and at 49 when
5 or more are. Tiers: gold ≥95, silver ≥85, bronze ≥70, poor ≥50, else critical.

Optional features: SPEC's {25–27, 37–59}, plus — a documented deviation — 10 (injury_risk) and
28 (has_vegas_line). SPEC §0 says sources we do not scrape (injury reports, odds) become optional
inputs; these two depend only on such sources, so they are NULL with source `missing` and, like
the vegas lines, do not count as required defaults (otherwise every row would be capped at 69 by
data the platform never collects, not by a failure).
"""

from __future__ import annotations

from collections.abc import Sequence

FEATURE_NAMES: tuple[str, ...] = (
    # 0–4 recent performance
    "points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10",
    "games_in_last_7_days",
    # 5–8 composite factors
    "fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score",
    # 9–12 derived
    "rest_advantage", "injury_risk", "recent_trend", "minutes_change",
    # 13–17 matchup
    "opponent_def_rating", "opponent_pace", "home_away", "back_to_back", "playoff_game",
    # 18–21 shot zones
    "pct_paint", "pct_mid_range", "pct_three", "pct_free_throw",
    # 22–24 team
    "team_pace", "team_off_rating", "team_win_pct",
    # 25–28 vegas
    "vegas_points_line", "vegas_opening_line", "vegas_line_move", "has_vegas_line",
    # 29–32 opponent history, minutes/efficiency
    "avg_points_vs_opponent", "games_vs_opponent", "minutes_avg_last_10", "ppm_avg_last_10",
    # 33–36 dnp risk, trajectory
    "dnp_rate", "pts_slope_10g", "pts_vs_season_zscore", "breakout_flag",
    # 37–38
    "star_teammates_out", "game_total_line",
    # 39–53
    "days_rest", "minutes_load_last_7d", "spread_magnitude", "implied_team_total",
    "points_avg_last_3", "scoring_trend_slope", "deviation_from_avg_last3",
    "consecutive_games_below_avg", "teammate_usage_available", "usage_rate_last_5",
    "games_since_structural_change", "multi_book_line_std", "prop_over_streak",
    "prop_under_streak", "line_vs_season_avg",
    # 54–59
    "prop_line_delta", "over_rate_last_10", "margin_vs_line_avg_last_5", "blowout_minutes_risk",
    "minutes_volatility_last_10", "opponent_pace_mismatch",
)
FEATURE_COUNT = len(FEATURE_NAMES)
FEATURE_VERSION = "v2_60features"
INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}

SOURCE_WEIGHTS: dict[str, float] = {
    "phase4": 100.0,
    "calculated": 100.0,
    "vegas": 100.0,
    "bettingpros": 100.0,
    "minutes_ppm": 95.0,
    "opponent_history": 90.0,
    "phase3": 87.0,
    "default": 40.0,
    "fallback": 40.0,
    "missing": 0.0,
}
DEFAULT_SOURCES = frozenset({"default", "fallback", "missing"})

SPEC_OPTIONAL = frozenset({25, 26, 27, *range(37, 60)})
UNSCRAPED_OPTIONAL = frozenset({10, 28})
OPTIONAL = SPEC_OPTIONAL | UNSCRAPED_OPTIONAL
REQUIRED = frozenset(range(FEATURE_COUNT)) - OPTIONAL

UNSCRAPED: dict[int, str] = {
    10: "injury report",
    25: "odds (player points line)",
    26: "odds (opening line)",
    27: "odds (line movement)",
    28: "odds (line availability)",
    37: "injury report + rosters (star teammates out)",
    38: "odds (game total)",
    41: "odds (game spread)",
    42: "odds (game total and spread)",
    47: "injury report (teammates available)",
    50: "odds (multiple books)",
    51: "odds (prop results)",
    52: "odds (prop results)",
    53: "odds (player points line)",
    54: "odds (player points line)",
    55: "graded predictions (prediction_accuracy)",
    56: "graded predictions (prediction_accuracy)",
}
"""Features whose only source is one we do not scrape: always NULL with source `missing`."""

MATCHUP = (5, 6, 7, 8, 13, 14)
PLAYER_HISTORY = (0, 1, 2, 3, 4, 29, 30, 31, 32, 33, 34, 35, 36, 37, 43, 44, 45, 46, 48, 49)

CAP_FEW_DEFAULTS = 69.0
CAP_MANY_DEFAULTS = 49.0
MANY_DEFAULTS = 5

# SPEC §7: feature ranges validated per day (WARN)
FEATURE_RANGES: dict[int, tuple[float, float]] = {18: (0.15, 0.65), 19: (0.03, 0.40), 20: (0.10, 0.60)}


def required_default_count(sources: Sequence[str]) -> int:
    return sum(1 for i, s in enumerate(sources) if i in REQUIRED and s in DEFAULT_SOURCES)


def quality_score(sources: Sequence[str]) -> float:
    """Mean source weight over the counted features, with the 69/49 caps (SPEC §4.5)."""
    if len(sources) != FEATURE_COUNT:
        raise ValueError(f"expected {FEATURE_COUNT} feature sources, got {len(sources)}")
    weights = [
        SOURCE_WEIGHTS[s]
        for i, s in enumerate(sources)
        if not (i in OPTIONAL and s in DEFAULT_SOURCES)
    ]
    score = sum(weights) / len(weights) if weights else 0.0
    defaults = required_default_count(sources)
    if defaults >= MANY_DEFAULTS:
        score = min(score, CAP_MANY_DEFAULTS)
    elif defaults >= 1:
        score = min(score, CAP_FEW_DEFAULTS)
    return round(score, 2)


def quality_tier(score: float) -> str:
    if score >= 95:
        return "gold"
    if score >= 85:
        return "silver"
    if score >= 70:
        return "bronze"
    if score >= 50:
        return "poor"
    return "critical"


def category_pct(sources: Sequence[str], indices: Sequence[int]) -> float:
    return round(sum(SOURCE_WEIGHTS[sources[i]] for i in indices) / len(indices), 1)


def readiness(sources: Sequence[str]) -> dict:
    """Score, tier, category qualities and the quality/training readiness flags (SPEC §4.5)."""
    score = quality_score(sources)
    tier = quality_tier(score)
    matchup = category_pct(sources, MATCHUP)
    history = category_pct(sources, PLAYER_HISTORY)
    defaults = required_default_count(sources)
    return {
        "feature_quality_score": score,
        "quality_tier": tier,
        "matchup_quality_pct": matchup,
        "player_history_quality_pct": history,
        "required_default_count": defaults,
        "default_feature_count": sum(1 for s in sources if s in DEFAULT_SOURCES),
        "is_quality_ready": tier in ("gold", "silver", "bronze") and score >= 70 and matchup >= 50 and defaults == 0,
        "is_training_ready": tier in ("gold", "silver") and matchup >= 70 and history >= 80,
    }
