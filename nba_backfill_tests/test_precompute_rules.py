"""Pure Phase 4 rules with hand-computed values (SPEC §4)."""

import datetime as dt

import pandas as pd
import pytest

from nba_backfill.assets.precompute import feature_contract as fc
from nba_backfill.assets.precompute import mlfs, rules
from nba_backfill.assets.precompute.completeness import TeamCalendar, player_games_window
from nba_backfill.checks import precompute as checks


@pytest.mark.parametrize("day,tdza,psza", [(0, 5, 3), (14, 9, 7), (18, 11, 9), (21, 12, 9), (22, 15, 10), (90, 15, 10)])
def test_minimum_games_by_day_since_opener(day, tdza, psza):
    # TDZA: min(5 + d//3, 14) while d ≤ 21 (day 14: 5+4=9, day 18: 5+6=11, day 21: 5+7=12), then 15.
    # PSZA: min(3 + d//3, 9) while d ≤ 21 (day 14: 3+4=7, day 18: 3+6=9, day 21: min(10, 9)=9), then 10.
    assert rules.tdza_min_games(day) == tdza
    assert rules.psza_min_games(day) == psza


def test_tiers_and_sample_quality():
    assert [rules.tdza_quality_tier(g) for g in (15, 14, 10, 9)] == ["high", "medium", "medium", "low"]
    assert [rules.psza_quality_tier(g, 10) for g in (10, 9, 7, 6)] == ["high", "medium", "medium", "low"]
    assert rules.psza_quality_tier(7, 7) == "high"  # day 14: the minimum in force is 7
    assert [rules.sample_quality(g, 10) for g in (10, 7, 5, 4)] == ["excellent", "good", "limited", "insufficient"]
    assert [fc.quality_tier(s) for s in (95, 94.99, 85, 84.9, 70, 69.9, 50, 49.9)] == [
        "gold", "silver", "silver", "bronze", "bronze", "poor", "poor", "critical"]
    assert [rules.source_quality_tier(s) for s in (95, 75, 50, 25, 24.9)] == [
        "gold", "silver", "bronze", "poor", "unusable"]


@pytest.mark.parametrize("rates,zone", [
    ((45.0, 20.0, 35.0), "paint"),
    ((40.0, 20.0, 40.0), "paint"),  # paint is tested first
    ((30.0, 20.0, 50.0), "perimeter"),
    ((25.0, 38.0, 37.0), "mid_range"),
    ((35.0, 30.0, 35.0), "balanced"),
    ((None, None, None), None),
])
def test_psza_primary_zone(rates, zone):
    assert rules.primary_scoring_zone(*rates) == zone


def test_zone_rates_need_all_zones_and_a_sum_of_100_within_2():
    assert rules.zone_rates(4, 3, 3, 10) == pytest.approx((40.0, 30.0, 30.0))
    assert rules.zone_rates(4, 3, 2.85, 10) == pytest.approx((40.0, 30.0, 28.5))  # 98.5: inside ± 2
    assert rules.zone_rates(4, 3, 2, 10) == (None, None, None)  # 90
    assert rules.zone_rates(4, None, 3, 10) == (None, None, None)
    assert rules.zone_rates(0, 0, 0, 0) == (None, None, None)


def test_quality_score_caps_and_optional_features():
    good = ["phase4"] * 60
    assert fc.quality_score(good) == 100.0
    one = ["missing"] + ["phase4"] * 59  # (59·100 + 0)/60 = 98.33, one required default → 69
    assert fc.quality_score(one) == 69.0
    five = ["default"] * 5 + ["phase4"] * 55  # (55·100 + 5·40)/60 = 95.0, five defaults → 49
    assert fc.quality_score(five) == 49.0
    optional = list(good)
    for i in (25, 26, 27, 10, 28, 55, 56):  # vegas, unscraped injury/line availability, graded
        optional[i] = "missing"
    assert fc.quality_score(optional) == 100.0 and fc.required_default_count(optional) == 0
    phase3 = list(good)
    phase3[15] = phase3[16] = "phase3"  # (58·100 + 2·87)/60 = 99.5667
    assert fc.quality_score(phase3) == pytest.approx(99.57)
    assert fc.quality_score(["phase3"] * 60) == 87.0 and fc.quality_tier(87.0) == "silver"


def test_readiness_flags():
    good = ["phase4"] * 60
    r = fc.readiness(good)
    assert (r["quality_tier"], r["is_quality_ready"], r["is_training_ready"], r["matchup_quality_pct"]) == (
        "gold", True, True, 100.0)
    no_defense = list(good)
    no_defense[13] = no_defense[14] = "missing"  # matchup (4·100 + 0 + 0)/6 = 66.7, 2 required defaults
    r = fc.readiness(no_defense)
    assert r["matchup_quality_pct"] == 66.7 and r["feature_quality_score"] == 69.0
    assert (r["quality_tier"], r["is_quality_ready"], r["is_training_ready"], r["required_default_count"]) == (
        "poor", False, False, 2)
    assert len(fc.FEATURE_NAMES) == 60 and fc.FEATURE_NAMES[18:21] == ("pct_paint", "pct_mid_range", "pct_three")


def test_fatigue_and_factor_scores():
    tired = rules.fatigue_score(days_rest=1, back_to_back=True, games_last_7=4, minutes_last_7=250.0,
                                avg_minutes_last_7=36.0, back_to_backs_last_14=2, player_age=None)
    assert tired == 100 - 15 - 10 - 10 - 8 - 12 == 45
    assert rules.fatigue_adjustment(tired) == -2.75
    rested = rules.fatigue_score(days_rest=3, back_to_back=False, games_last_7=2, minutes_last_7=60.0,
                                 avg_minutes_last_7=30.0, back_to_backs_last_14=0, player_age=None)
    assert rested == 100  # 105 clamped
    assert rules.shot_zone_mismatch("paint", 60.0, 6.0) == 7.2  # full weight, 6 > 5 → ×1.2
    assert rules.shot_zone_mismatch("paint", 25.0, 4.0) == 2.0  # half weight
    assert rules.shot_zone_mismatch("paint", 60.0, -12.0) == -10.0  # −14.4 clamped
    assert rules.shot_zone_mismatch("paint", 60.0, None) == 0.0
    assert rules.pace_score(3.5) == 1.75 and rules.pace_score(8.0) == 3.0 and rules.pace_score(None) == 0.0
    assert rules.usage_spike_score(30.0, 25.0, 2) == 1.95  # 5·0.3 = 1.5, ×1.30
    assert rules.usage_spike_score(None, 25.0, 0) == 0.0


def test_completeness_drops_dnp_games_and_counts_missing_upstream_days():
    d = [dt.date(2024, 11, day) for day in range(1, 6)]
    schedule = pd.DataFrame({"team_abbr": ["BOS"] * 5, "game_date": d, "game_id": list("abcde")})
    present = pd.DataFrame({"team_abbr": ["BOS"] * 4, "game_date": [d[0], d[1], d[3], d[4]]})  # d[2] never landed
    cal = TeamCalendar(schedule, present, "team_abbr")
    # the player played d0, d3, d4 and sat out d1 (team rows present): DNP dropped, d2 missing
    done = player_games_window([d[0], d[3], d[4]], {"BOS"}, cal, d[0], dt.date(2024, 11, 6))
    assert (done.expected, done.actual, done.missing, done.missing_dates) == (4, 3, 1, [d[2]])
    assert done.pct == 75.0 and done.production_ready
    team = cal.team_last_games("BOS", d[0], dt.date(2024, 11, 6), 15)
    assert (team.expected, team.actual, team.pct) == (5, 4, 80.0)
    assert rules.completeness_pct(0, 0) == 100.0 and not rules.is_production_ready(69.99)


def test_mlfs_calculated_features():
    assert rules.ols_slope([1, 2, 3]) == 1.0 and rules.ols_slope([10, 8, 6, 4]) == -2.0
    assert mlfs.trend_score([10, 10, 10, 20, 20]) == (2.0, "calculated")  # 20 − 10 = +10
    assert mlfs.trend_score([20, 20, 20, 17, 17]) == (-1.0, "calculated")  # 17 − 20 = −3
    assert mlfs.trend_score([20, 20]) == (0.0, "default")
    assert [mlfs.minutes_change(r, 30.0) for r in (33.0, 36.0, 27.0, 30.0)] == [1.0, 2.0, -1.0, 0.0]
    days = [dt.date(2024, 11, d) for d in (1, 3, 5, 25, 27)]
    assert mlfs.games_since_structural_change(["BOS"] * 5, days) == 2  # 20-day gap before the 4th game
    assert mlfs.games_since_structural_change(["BOS", "BOS", "NYK", "NYK", "NYK"], days[:3] + [
        dt.date(2024, 11, 7), dt.date(2024, 11, 9)]) == 3


def test_check_rules_fail_on_real_faults():
    frame = pd.DataFrame({"player_lookup": ["a", "a", "b"], "x": [1, 2, 3]})
    dup = checks.keys_unique(frame, ["player_lookup"])
    assert not dup.passed and dup.offending == ["a"]
    assert checks.keys_unique(frame.drop_duplicates("player_lookup"), ["player_lookup"]).passed
    rates = pd.DataFrame({"player_lookup": ["a", "b"], "paint_rate_last_10": [40.0, 50.0],
                          "mid_range_rate_last_10": [30.0, 20.0], "three_pt_rate_last_10": [30.0, 20.0]})
    assert checks.zone_rates_sum(rates).passed is False  # b sums to 90
    assert checks.zone_rates_sum(rates.iloc[:1]).passed
    zeroed = rates.assign(three_pt_rate_last_10=0.0)  # a zeroed column: mean 0 outside 10–60
    assert not checks.zone_rate_ranges(zeroed).passed and checks.zone_rate_ranges(rates).passed
    assert not checks.rows_per_day(120, (300, 500)).passed and checks.rows_per_day(350, (300, 500)).passed
    missing = checks.lookback_complete({"nba_analytics/player_game_summary": ["2024-11-10"]}, [])
    assert not missing.passed and "2024-11-10" in missing.message
    assert checks.lookback_complete({}, []).passed
