"""Phase 5 prediction systems (SPEC §5): pure functions of one player's MLFS features.

Systems: `moving_average`, `zone_matchup_v1`, `similarity_balanced_v1` and `ensemble_v1`.
SPEC's validation also expects `xgboost_v1`; no gradient-boosting library is in our package set
(xgboost, lightgbm, catboost and scikit-learn are all absent), so it is not built — the other
four use numpy/pure Python only.

Every system returns (predicted_points, confidence 0–1, key_factors). Features are read by name
from the feature contract; a system falls back to the averages it has when an input is NULL and
says so in key_factors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SYSTEMS = ("moving_average", "zone_matchup_v1", "similarity_balanced_v1", "ensemble_v1")
ENSEMBLE_WEIGHTS = {"moving_average": 0.35, "zone_matchup_v1": 0.35, "similarity_balanced_v1": 0.30}

EDGE_PASS = 2.0  # SPEC §5: PASS when the edge ≤ 2.0 points
CONFIDENCE_PASS = 0.45  # ... or confidence ≤ 0.45


@dataclass(frozen=True)
class Prediction:
    points: float
    confidence: float
    factors: dict


def _f(features: dict, name: str) -> float | None:
    v = features.get(name)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _blend(parts: Sequence[tuple[float | None, float]]) -> float | None:
    """Weighted mean over the parts that exist (weights renormalised)."""
    have = [(v, w) for v, w in parts if v is not None]
    total = sum(w for _, w in have)
    return sum(v * w for v, w in have) / total if total else None


def _clamp(v: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, v))


def consistency_confidence(features: dict, quality_score: float) -> float:
    """Confidence from scoring consistency (std of the last 10 vs their mean) and feature quality."""
    std = _f(features, "points_std_last_10")
    mean = _f(features, "points_avg_last_10")
    consistency = 0.6 if std is None or mean is None else 1.0 - std / (mean + 8.0)
    return round(_clamp(consistency, 0.2, 0.95) * _clamp(quality_score / 100.0, 0.0, 1.0), 3)


def moving_average(features: dict, quality_score: float) -> Prediction:
    """0.45·L5 + 0.35·L10 + 0.20·season; ×0.97 on the second night of a back-to-back."""
    base = _blend([(_f(features, "points_avg_last_5"), 0.45), (_f(features, "points_avg_last_10"), 0.35),
                   (_f(features, "points_avg_season"), 0.20)])
    if base is None:
        raise ValueError("moving_average needs at least one points average")
    b2b = _f(features, "back_to_back") == 1.0
    pred = base * (0.97 if b2b else 1.0)
    return Prediction(round(pred, 1), consistency_confidence(features, quality_score),
                      {"base": round(base, 2), "back_to_back": b2b})


def zone_matchup(features: dict, quality_score: float, league_def_rating: float | None) -> Prediction:
    """(0.5·L10 + 0.5·season) × opponent defence (its rating ÷ the day's league mean) × game pace
    (mean of both teams' pace ÷ own team pace) × (1 + shot-zone mismatch/100)."""
    base = _blend([(_f(features, "points_avg_last_10"), 0.5), (_f(features, "points_avg_season"), 0.5)])
    if base is None:
        raise ValueError("zone_matchup_v1 needs a points average")
    opp_def = _f(features, "opponent_def_rating")
    defense = opp_def / league_def_rating if opp_def and league_def_rating else 1.0
    team_pace, opp_pace = _f(features, "team_pace"), _f(features, "opponent_pace")
    pace = (team_pace + opp_pace) / (2.0 * team_pace) if team_pace and opp_pace else 1.0
    mismatch = _f(features, "shot_zone_mismatch_score") or 0.0
    zone = 1.0 + mismatch / 100.0
    pred = base * _clamp(defense, 0.85, 1.15) * _clamp(pace, 0.9, 1.1) * zone
    return Prediction(round(pred, 1), consistency_confidence(features, quality_score),
                      {"base": round(base, 2), "defense_factor": round(defense, 4), "pace_factor": round(pace, 4),
                       "zone_factor": round(zone, 4)})


@dataclass(frozen=True)
class PastGame:
    points: float
    home: bool
    rest_days: int | None
    opponent_allowed: float | None  # the opponent's points allowed per game in the window


def similarity_balanced(features: dict, quality_score: float, history: Sequence[PastGame],
                        opponent_allowed: float | None) -> Prediction:
    """Points in the player's own past games weighted by how similar their context is (home/away,
    rest, opponent's points allowed) and by recency, balanced 0.5/0.3/0.2 with the L10 and
    season averages. Fewer than 3 past games: the averages alone, lower confidence."""
    l10, season = _f(features, "points_avg_last_10"), _f(features, "points_avg_season")
    home = _f(features, "home_away") == 1.0
    rest = _f(features, "days_rest")
    weights, total = 0.0, 0.0
    n = len(history)
    for i, g in enumerate(history):  # oldest first
        d2 = 0.0 if g.home == home else 1.0
        if rest is not None and g.rest_days is not None:
            d2 += ((min(g.rest_days, 3) - min(rest, 3)) / 2.0) ** 2
        if opponent_allowed is not None and g.opponent_allowed is not None:
            d2 += ((g.opponent_allowed - opponent_allowed) / 6.0) ** 2
        w = math.exp(-d2) * 0.97 ** (n - 1 - i)
        weights += w
        total += w * g.points
    similar = total / weights if n >= 3 and weights else None
    pred = _blend([(similar, 0.5), (l10, 0.3), (season, 0.2)])
    if pred is None:
        raise ValueError("similarity_balanced_v1 needs a points average or past games")
    conf = consistency_confidence(features, quality_score) * (1.0 if similar is not None else 0.8)
    return Prediction(round(pred, 1), round(conf, 3),
                      {"similar_games": n, "similar_estimate": None if similar is None else round(similar, 2)})


def ensemble(parts: dict[str, Prediction]) -> Prediction:
    """Weighted mean of the three systems; confidence = their mean × agreement (1 − spread/10)."""
    pred = _blend([(parts[k].points, w) for k, w in ENSEMBLE_WEIGHTS.items() if k in parts])
    values = [p.points for p in parts.values()]
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    agreement = _clamp(1.0 - math.sqrt(variance) / 10.0, 0.5, 1.0)
    conf = sum(p.confidence for p in parts.values()) / len(parts) * agreement
    return Prediction(round(pred, 1), round(conf, 3),
                      {"variance": round(variance, 3), "systems": {k: p.points for k, p in parts.items()}})


def recommendation(predicted: float, line: float | None, confidence: float) -> str:
    """SPEC §5: NO_LINE without a line; PASS when |edge| ≤ 2.0 or confidence ≤ 0.45; else
    OVER/UNDER."""
    if line is None or (isinstance(line, float) and math.isnan(line)):
        return "NO_LINE"
    edge = predicted - line
    if abs(edge) <= EDGE_PASS or confidence <= CONFIDENCE_PASS:
        return "PASS"
    return "OVER" if edge > 0 else "UNDER"


QUALITY_GATE_BACKFILL = 70.0  # SPEC §5: LAST_CALL and BACKFILL thresholds
MATCHUP_FLOOR = 50.0


def quality_gate(score: float | None, matchup_pct: float | None, required_defaults: int | None,
                 threshold: float = QUALITY_GATE_BACKFILL) -> str | None:
    """None when the row may be predicted, else the reason it is held back (SPEC §5 hard floors:
    matchup quality ≥ 50, zero required defaults; threshold 70 in backfill)."""
    if score is None or score < threshold:
        return f"feature quality {score} < {threshold}"
    if matchup_pct is None or matchup_pct < MATCHUP_FLOOR:
        return f"matchup quality {matchup_pct} < {MATCHUP_FLOOR}"
    if required_defaults:
        return f"{required_defaults} required features defaulted"
    return None
