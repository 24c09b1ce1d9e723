"""Phase 5: prediction systems (pure) and player_prop_predictions materialized on real data."""

import datetime as dt

import pytest
from dagster import TimeWindowPartitionMapping

from nba_backfill import partitions
from nba_backfill.assets import predictions
from nba_backfill.assets.precompute.inputs import float_list
from nba_backfill.assets.predictions import systems
from nba_backfill.checks import predictions as checks
from nba_backfill.seasons import current_season
from nba_backfill_tests.test_precompute_fixtures import WINDOW, chain, check_results, logs, run, table

FEATURES = {"points_avg_last_5": 20.0, "points_avg_last_10": 18.0, "points_avg_season": 16.0,
            "points_std_last_10": 4.0, "back_to_back": 0.0, "home_away": 1.0, "days_rest": 2.0,
            "opponent_def_rating": 115.0, "team_pace": 100.0, "opponent_pace": 104.0,
            "shot_zone_mismatch_score": 5.0}


def test_moving_average_and_ensemble_by_hand():
    ma = systems.moving_average(FEATURES, 100.0)
    assert ma.points == 18.5  # 0.45·20 + 0.35·18 + 0.20·16 = 9 + 6.3 + 3.2
    assert ma.confidence == pytest.approx(1 - 4.0 / (18.0 + 8.0), abs=1e-3)  # 0.846
    b2b = systems.moving_average({**FEATURES, "back_to_back": 1.0}, 100.0)
    assert b2b.points == 17.9  # 18.5 × 0.97 = 17.945
    zone = systems.zone_matchup(FEATURES, 100.0, league_def_rating=110.0)
    # (0.5·18 + 0.5·16) × 115/110 × (100 + 104)/(2·100) × 1.05 = 17 × 1.04545 × 1.02 × 1.05
    assert zone.points == pytest.approx(round(17 * 115 / 110 * 1.02 * 1.05, 1))
    parts = {"moving_average": systems.Prediction(18.5, 0.8, {}), "zone_matchup_v1": systems.Prediction(20.0, 0.7, {}),
             "similarity_balanced_v1": systems.Prediction(17.0, 0.6, {})}
    ens = systems.ensemble(parts)
    assert ens.points == 18.6  # 0.35·18.5 + 0.35·20 + 0.30·17 = 18.575
    assert ens.factors["variance"] == 1.5  # deviations 0, +1.5, −1.5 from 18.5: (0 + 2.25 + 2.25)/3


def test_similarity_weights_similar_past_games():
    history = [systems.PastGame(30.0, True, 2, 110.0), systems.PastGame(10.0, False, 1, 120.0),
               systems.PastGame(30.0, True, 2, 110.0)]
    sim = systems.similarity_balanced(FEATURES, 100.0, history, opponent_allowed=110.0)
    similar = sim.factors["similar_estimate"]
    assert 25.0 < similar < 30.0  # the two home/2-day-rest games dominate the away one
    assert sim.points == pytest.approx(round(0.5 * similar + 0.3 * 18 + 0.2 * 16, 1), abs=0.051)
    few = systems.similarity_balanced(FEATURES, 100.0, history[:2], opponent_allowed=110.0)
    assert few.factors["similar_estimate"] is None and few.points == pytest.approx(0.6 * 18 + 0.4 * 16, abs=0.05)


def test_recommendation_and_quality_gate_rules():
    assert systems.recommendation(25.0, None, 0.9) == "NO_LINE"
    assert systems.recommendation(25.0, 22.5, 0.6) == "OVER"  # edge 2.5
    assert systems.recommendation(24.0, 22.5, 0.6) == "PASS"  # edge 1.5 ≤ 2
    assert systems.recommendation(18.0, 22.5, 0.45) == "PASS"  # confidence ≤ 0.45
    assert systems.recommendation(18.0, 22.5, 0.6) == "UNDER"
    assert systems.quality_gate(98.6, 100.0, 0) is None
    assert "69" in systems.quality_gate(69.0, 100.0, 1)
    assert "matchup" in systems.quality_gate(90.0, 40.0, 0)
    assert "required" in systems.quality_gate(90.0, 100.0, 2)


def test_prediction_checks_fail_on_real_faults():
    import pandas as pd

    frame = pd.DataFrame({"player_lookup": ["a", "a"], "system_id": ["moving_average", "ensemble_v1"],
                          "predicted_points": [12.0, None]})
    assert not checks.predicted_points_range(frame).passed
    assert checks.predicted_points_range(frame.fillna(11.0)).passed
    assert not checks.predicted_points_range(frame.fillna(95.0)).passed
    missing = checks.players_predicted(frame, {"a", "b"}, ("moving_average", "ensemble_v1"))
    assert not missing.passed and "b:moving_average" in missing.offending
    assert checks.players_predicted(frame, {"a"}, ("moving_average", "ensemble_v1")).passed


def test_predictions_for_the_current_season(monkeypatch):
    monkeypatch.setenv("NBA_BACKFILL_CURRENT_SEASON", "2024-25")
    built = chain()
    result = run(predictions.assets, built.all_assets, built.db, built.instance, *WINDOW)
    assert result.success
    assert all(check_results(result).values())
    preds = table(built.db, "nba_predictions.player_prop_predictions")
    mlfs = table(built.db, "nba_precompute.ml_feature_store_v2")
    day = dt.date(2024, 11, 26)
    gated = mlfs[(mlfs["game_date"] == day) & (mlfs["feature_quality_score"] >= 70)
                 & (mlfs["matchup_quality_pct"] >= 50) & (mlfs["required_default_count"] == 0)]
    today = preds[preds["game_date"] == day]
    assert set(today["player_lookup"]) == set(gated["player_lookup"]) and len(gated) > 50
    assert sorted(today["system_id"].unique()) == sorted(systems.SYSTEMS)
    assert len(today) == 4 * len(gated)
    assert (today["recommendation"] == "NO_LINE").all() and not today["has_prop_line"].any()
    assert today["predicted_points"].between(0, 80).all() and today["predicted_points"].notna().all()
    # accuracy on these real games (players averaging ≥ 15 minutes over their last 10)
    actual = logs()[["player_lookup", "game_date", "PTS"]]
    scored = preds.merge(actual, on=["player_lookup", "game_date"])
    mfs = mlfs.set_index(["player_lookup", "game_date"])["features"]
    minutes = [float_list(mfs.get((p, d)))[31] for p, d in zip(scored["player_lookup"], scored["game_date"])]
    scored = scored[[m is not None and m >= 15 for m in minutes]]
    mae = (scored["predicted_points"] - scored["PTS"]).abs().groupby(scored["system_id"]).mean()
    print("MAE by system, 2024-11-25..27:", mae.round(3).to_dict(), "n =", len(scored) // 4)
    assert (mae < 8.0).all()  # SPEC §7: MAE < 8 acceptable
    assert mae["ensemble_v1"] <= max(mae[s] for s in systems.ENSEMBLE_WEIGHTS)


def test_predictions_partitions_start_at_the_current_season_opener():
    """SPEC: Phase 5 for the current season only — no earlier prediction partition exists (the
    offline default's current season is the bundled last one, 2024-25), while Phase 4 keeps every
    season and maps onto it date for date."""
    (asset,) = predictions.assets
    keys = asset.partitions_def.get_partition_keys()
    assert asset.partitions_def == partitions.PREDICTION_PARTITIONS
    assert keys[0] == current_season().opener.isoformat() == "2024-10-22"
    assert keys[-1] == partitions.DAILY_PARTITIONS.get_partition_keys()[-1]
    assert not asset.partitions_def.has_partition_key("2024-06-17")  # 2023-24's Finals
    daily = partitions.DAILY_PARTITIONS.get_partition_keys()
    assert keys == daily[daily.index(keys[0]):]
    mlfs = partitions.DAILY_PARTITIONS
    same_date = TimeWindowPartitionMapping()
    down = same_date.get_downstream_partitions_for_partitions(
        mlfs.subset_with_partition_keys(["2024-06-17", "2024-10-22", "2025-01-10"]), mlfs, asset.partitions_def
    )
    assert list(down.get_partition_keys()) == ["2024-10-22", "2025-01-10"]


def test_other_seasons_get_no_predictions(monkeypatch):
    """Should the current season move on while a process runs, a prediction date outside it
    writes nothing and says why."""
    monkeypatch.setenv("NBA_BACKFILL_CURRENT_SEASON", "2025-26")
    built = chain()
    result = run(predictions.assets, built.all_assets, built.db, built.instance, "2024-11-20", "2024-11-20")
    assert result.success
    materialization = result.get_asset_materialization_events()[0].event_specific_data.materialization
    assert "not the current season 2025-26" in materialization.metadata["skipped"].value
    preds = table(built.db, "nba_predictions.player_prop_predictions")
    assert (preds["game_date"] == dt.date(2024, 11, 20)).sum() == 0
