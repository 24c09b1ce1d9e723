"""Pure tests of the Phase 3 formulas and checks, with hand-computed values from real rows.

Real lines used (2023-11-01, 0022300127 LAC @ LAL, one overtime):
  LeBron James (LAL): 42 min, 35 pts, 13-19 FG, 4-8 3PT, 5-10 FT, 0 OREB, 12 DREB, 7 AST, 4 TOV
  LAL team: 130 pts, 46-90 FG, 11-32 3PT, 27-36 FT, 9 OREB, 14 TOV, 265 player-minutes
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from nba_backfill.assets.analytics import formulas as f
from nba_backfill.assets.analytics import history as h
from nba_backfill.assets.analytics.frames import Inputs
from nba_backfill.checks import analytics as checks
from nba_backfill.seasons import season_by_label

# --- formulas -----------------------------------------------------------------------------------


def test_usage_ts_efg_of_a_real_player_line():
    # LeBron James, 2023-11-01, team totals of LAL that night
    usage = f.usage_rate(19, 10, 4, 42.0, 90, 36, 14)
    by_hand = 100 * (19 + 0.44 * 10 + 4) * 48 / (42 * (90 + 0.44 * 36 + 14))  # 131520 / 5033.28
    assert usage == pytest.approx(26.13, abs=0.005)
    assert usage == round(by_hand, 2)
    assert f.ts_pct(35, 19, 10) == round(35 / (2 * (19 + 4.4)), 3) == 0.748
    assert f.efg_pct(13, 4, 19) == round((13 + 2) / 19, 3) == 0.789


def test_team_possessions_rating_pace_overtime_of_a_real_game():
    poss = f.possessions(90, 36, 14, 9)
    assert poss == pytest.approx(90 + 0.44 * 36 + 14 - 9) == pytest.approx(110.84)
    assert f.offensive_rating(130, poss) == round(100 * 130 / 110.84, 2) == 117.29
    assert f.pace(poss, 265.0) == round(110.84 * 48 / (265 / 5), 1) == 100.4
    assert f.overtime_periods(265.0) == 1
    assert f.overtime_periods(240.0) == 0
    assert f.overtime_periods(315.0) == 3
    assert f.parse_player_minutes("265:00") == 265.0
    assert f.parse_player_minutes("240:30") == 240.5
    assert f.parse_player_minutes(None) is None


def test_ratios_are_null_not_zero_without_a_denominator_and_usage_above_100_is_null():
    assert f.ts_pct(0, 0, 0) is None
    assert f.efg_pct(0, 0, 0) is None
    assert f.usage_rate(3, 0, 0, 0.0, 90, 20, 12) is None  # no minutes
    assert f.usage_rate(10, 4, 2, 1.0, 80, 20, 12) is None  # 1 minute, 13.76 plays → > 100
    series = f.usage_rate(pd.Series([19, 10]), pd.Series([10, 4]), pd.Series([4, 2]), pd.Series([42.0, 1.0]),
                          pd.Series([90, 80]), pd.Series([36, 20]), pd.Series([14, 12]))
    assert series.iloc[0] == pytest.approx(26.13)
    assert pd.isna(series.iloc[1])


def test_shot_zones_paint_is_at_most_8_feet():
    assert f.shot_zone("2PT", 8.0) == "paint"
    assert f.shot_zone("2PT", 8.1) == "mid_range"
    assert f.shot_zone("3PT", 24.0) == "three"
    assert f.shot_zone("2PT", None) is None
    assert f.shot_zone(None, 3.0) is None
    zones = f.shot_zones(pd.Series(["2PT", "2PT", "3PT", None]), pd.Series([2.0, 19.0, 26.0, 1.0]))
    assert zones.tolist()[:3] == ["paint", "mid_range", "three"] and pd.isna(zones.iloc[3])


def test_quality_tiers_and_production_readiness():
    assert [f.quality_tier(s) for s in (100, 95, 94.9, 75, 50, 25, 24.9)] == [
        "gold", "gold", "silver", "silver", "bronze", "poor", "unusable"]
    assert f.is_production_ready("bronze", 50, [])
    assert not f.is_production_ready("poor", 45, [])
    assert not f.is_production_ready("gold", 100, ["missing_required"])
    assert f.is_production_ready("silver", 85, ["backup_source_used", "missing_prop_line"])
    assert f.completeness_pct(0, 0) == 100.0
    assert f.completeness_pct(3, 4) == 75.0
    assert f.completeness_pct(5, 4) == 100.0


# --- season windows -----------------------------------------------------------------------------


def test_history_windows_are_cut_at_the_opener():
    season = season_by_label("2023-24")
    first, last = h.history_bounds(season.opener)
    assert first == season.opener and last < first  # empty: nothing before the opener counts
    first, last = h.history_bounds(season.opener + dt.timedelta(days=10))
    assert first == season.opener and last == season.opener + dt.timedelta(days=9)
    first, _ = h.history_bounds(dt.date(2024, 1, 15))
    assert first == dt.date(2023, 12, 16)


def test_inputs_slice_by_date_with_duckdb_like_dates():
    frame = pd.DataFrame({"game_date": pd.to_datetime(["2023-11-02", "2023-11-01", "2023-11-03"]), "v": [2, 1, 3]})
    inputs = Inputs({"x": frame})
    assert inputs.on("x", dt.date(2023, 11, 2))["v"].tolist() == [2]
    assert inputs.between("x", dt.date(2023, 11, 1), dt.date(2023, 11, 2))["v"].tolist() == [1, 2]
    assert inputs.between("x", dt.date(2023, 11, 4), dt.date(2023, 11, 3)).empty


# --- checks ------------------------------------------------------------------------------------

SCHEDULE = pd.DataFrame({
    "game_id": ["20231101_LAC_LAL", "20231101_IND_BOS"],
    "game_status": [3, 3],
    "is_all_star": [False, False],
    "away_team_tricode": ["LAC", "IND"],
    "home_team_tricode": ["LAL", "BOS"],
})


def _teams(*pairs):
    return pd.DataFrame({"game_id": [g for g, _ in pairs], "team_abbr": [t for _, t in pairs]})


def test_teams_complete_passes_on_two_rows_per_final_game_and_names_the_missing_team():
    clean = _teams(("20231101_LAC_LAL", "LAC"), ("20231101_LAC_LAL", "LAL"),
                   ("20231101_IND_BOS", "IND"), ("20231101_IND_BOS", "BOS"))
    assert checks.teams_complete(clean, SCHEDULE, "team_abbr").passed
    missing = checks.teams_complete(clean.iloc[1:], SCHEDULE, "team_abbr")
    assert not missing.passed and missing.offending == ["20231101_LAC_LAL: missing LAC"]
    doubled = checks.teams_complete(pd.concat([clean, clean.iloc[:1]]), SCHEDULE, "team_abbr")
    assert not doubled.passed and "2 rows for LAC" in doubled.offending[0]
    shifted = _teams(("20231102_LAC_LAL", "LAC"), ("20231102_LAC_LAL", "LAL"))
    out = checks.teams_complete(pd.concat([clean.iloc[2:], shifted]), SCHEDULE, "team_abbr")
    assert not out.passed
    assert "20231101_LAC_LAL: missing LAC, missing LAL" in out.offending
    assert "20231102_LAC_LAL: not a Final game of the schedule" in out.offending
    assert checks.teams_complete(clean.iloc[0:0], SCHEDULE.iloc[0:0], "team_abbr").passed  # no games


def test_player_count_per_game_fails_on_one_team_only_and_counts_alerts():
    rows = pd.DataFrame({
        "game_id": ["20231101_LAC_LAL"] * 20 + ["20231101_IND_BOS"] * 9,
        "team_abbr": ["LAC"] * 10 + ["LAL"] * 10 + ["BOS"] * 9,
    })
    out = checks.player_count_per_game(rows, ["20231101_LAC_LAL", "20231101_IND_BOS", "20231101_DEN_UTA"])
    assert not out.passed
    assert out.offending == ["20231101_DEN_UTA: no players", "20231101_IND_BOS: only one team present (IND missing)"]
    assert out.counts["games_below_18"] == 2 and out.counts["games"] == 3
    assert checks.player_count_per_game(rows.iloc[:20], ["20231101_LAC_LAL"]).passed
    band = checks.player_count_band(rows)
    assert not band.passed and band.offending == ["20231101_IND_BOS: 9 players"]


def test_team_points_consistent_and_cross_phase_players():
    players = pd.DataFrame({"game_id": ["g_A_B"] * 3, "team_abbr": ["A", "A", "B"], "points": [10, 5, 7],
                            "player_lookup": ["a1", "a2", "b1"]})
    teams = pd.DataFrame({"game_id": ["g_A_B", "g_A_B"], "team_abbr": ["A", "B"], "points_scored": [15, 7]})
    assert checks.team_points_consistent(players, teams).passed
    zeroed = players.assign(points=0)
    out = checks.team_points_consistent(zeroed, teams)
    assert not out.passed and out.counts["mismatched"] == 2
    raw = players[["game_id", "player_lookup"]]
    assert checks.cross_phase_players(players, raw).passed
    dropped = checks.cross_phase_players(players.iloc[1:], raw)
    assert not dropped.passed and dropped.offending == ["g_A_B a1"]


def test_keys_unique_not_null_and_value_ranges():
    rows = pd.DataFrame({"game_date": ["d", "d", "d"], "player_lookup": ["a", "b", "b"],
                         "game_id": ["g", "g", "g"], "points": [10, 81, 3]})
    out = checks.keys_unique(rows, ["game_date", "player_lookup"])
    assert not out.passed and out.offending == ["d|b"] and out.counts["duplicate_rows"] == 2
    assert checks.keys_unique(rows.iloc[:2], ["game_date", "player_lookup"]).passed
    assert not checks.not_null(rows.assign(player_lookup=[None, "b", "c"]), "player_lookup", ["game_id"]).passed
    ranges = checks.value_ranges(rows, {"points": (0, 80)}, ["game_id", "player_lookup"])
    assert not ranges.passed and ranges.offending == ["g|b points=81"]


def test_season_points_band_comes_from_the_real_seasons():
    low, high = checks.points_band()
    assert 9.0 < low < high < 13.0  # real seasons 2020-21..2024-25 average 10.5–11.5 points
    ok = pd.DataFrame({"season_year": [2023], "player_games": [26000], "mean_points": [11.2]})
    assert checks.season_points_outcome(ok)[0]
    zeroed = pd.DataFrame({"season_year": [2023, 2024], "player_games": [26000, 500], "mean_points": [0.0, 0.0]})
    passed, meta, offending = checks.season_points_outcome(zeroed)
    assert not passed and len(offending) == 1 and meta["seasons_judged"] == 1  # 500 games: not judged yet
