"""Phase 4 materialized for real: 2024-25 days 34–36 (2024-11-25..27) with their lookback dates.

Upstream = Phase 2/3 stand-ins built from the bundled real game logs
(`test_precompute_fixtures`); every expected value below is recomputed here from the parquet,
independently of the asset code.
"""

import datetime as dt

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance

from nba_backfill.assets import precompute
from nba_backfill.assets.precompute import lookback
from nba_backfill.assets.precompute import feature_contract as fc
from nba_backfill.assets.precompute import psza as psza_module
from nba_backfill.assets.precompute.factory import Day
from nba_backfill.assets.precompute.inputs import PGS, SCHEDULE, float_list, prepare
from nba_backfill.guards import upstream_window
from nba_backfill.partitions import DAILY_PARTITIONS, LAST_20_PLAYER_GAMES, partition_keys_between
from nba_backfill.seasons import season_by_label
from nba_backfill_tests.test_precompute_fixtures import (
    OPENER_2024, UPSTREAM, WINDOW, asset_by_table, chain, check_results, logs, pgs, pgs_frame, run, schedule, table,
    tdgs, upgc, utgc,
)

DAY = dt.date(2024, 11, 26)
BY = asset_by_table(precompute.assets)
PLAYERS = ("lebronjames", "jaysontatum", "nikolajokic", "stephencurry")
TEAMS = ("BOS", "LAL", "OKC")


def before(day: dt.date) -> pd.DataFrame:
    """Real 2024-25 player games strictly before `day`."""
    g = logs()
    return g[(g["season"] == "2024-25") & (g["game_date"] < day)].sort_values("game_date")


@pytest.fixture(scope="module")
def built():
    return chain()


def test_chain_runs_and_blocking_checks_pass(built):
    for name, result in built.results.items():
        assert result.success, name
    results = check_results(built.results["phase4"])
    blocking = {"upstream_checks_passed", "lookback_complete", "keys_unique"}
    for (check, part), passed in results.items():
        if check in blocking:
            assert passed, (check, part)
    psza = check_results(built.results["phase4"], "player_shot_zone_analysis")
    assert all(psza[(name, key)] for name in ("zone_rates_sum", "zone_rate_ranges", "rows_per_day")
               for key in ("2024-11-25", "2024-11-26", "2024-11-27"))
    mlfs = check_results(built.results["phase4"], "ml_feature_store_v2")
    assert all(mlfs[("feature_ranges", key)] for key in ("2024-11-25", "2024-11-26", "2024-11-27"))


def test_season_accumulators_run_the_range_sequentially_in_one_run(built):
    """Self-dependent asset, 37 partitions, ONE run: each date's state = previous state + that
    date's games, so the state entering 2024-11-26 equals the parquet's season-to-date sums."""
    result = built.results["player_totals"]
    materialized = {e.event_specific_data.materialization.partition for e in result.get_asset_materialization_events()}
    assert materialized == set(partition_keys_between(OPENER_2024, WINDOW[1]))  # 37 partitions, one run
    assert {r.run_id for r in built.instance.get_runs()} >= {result.run_id}
    totals = table(built.db, "nba_precompute.player_season_totals")
    assert totals[totals["as_of_date"] == dt.date(2024, 10, 22)].empty  # nothing before the opener
    expected = before(DAY).groupby("player_lookup").agg(games=("PTS", "size"), points=("PTS", "sum"),
                                                        minutes=("MIN", "sum"))
    got = totals[totals["as_of_date"] == DAY].set_index("player_lookup")
    assert len(got) == len(expected)
    for player in PLAYERS:
        assert got.loc[player, "games_played"] == expected.loc[player, "games"]
        assert got.loc[player, "points_sum"] == expected.loc[player, "points"]
        assert got.loc[player, "minutes_sum"] == expected.loc[player, "minutes"]
    teams = table(built.db, "nba_precompute.team_season_totals")
    bos = teams[(teams["as_of_date"] == DAY) & (teams["team_abbr"] == "BOS")].iloc[0]
    games = before(DAY)
    bos_games = games[games["TEAM_ABBREVIATION"] == "BOS"].drop_duplicates("game_id")
    wins = (bos_games["WL"] == "W").sum()
    assert (bos["games_played"], bos["wins"], bos["losses"]) == (len(bos_games), wins, len(bos_games) - wins)


def test_pdc_averages_match_the_real_games(built):
    pdc = table(built.db, "nba_precompute.player_daily_cache")
    pdc = pdc[pdc["cache_date"] == DAY].set_index("player_lookup")
    for player in PLAYERS:
        games = before(DAY)
        games = games[(games["player_lookup"] == player) & (games["MIN"] > 0)]
        row = pdc.loc[player]
        assert row["points_avg_last_5"] == pytest.approx(games["PTS"].tail(5).mean())
        assert row["points_avg_last_10"] == pytest.approx(games["PTS"].tail(10).mean())
        assert row["points_std_last_10"] == pytest.approx(games["PTS"].tail(10).std(ddof=1))
        assert row["minutes_avg_last_10"] == pytest.approx(games["MIN"].tail(10).mean())
        assert row["points_avg_season"] == pytest.approx(games["PTS"].mean())
        assert row["games_played_season"] == len(games)
        last7 = games[games["game_date"] >= DAY - dt.timedelta(days=7)]
        assert row["games_in_last_7_days"] == len(last7)
        assert row["is_production_ready"] and row["completeness_percentage"] == 100.0


def test_psza_rates_match_the_real_games(built):
    psza = table(built.db, "nba_precompute.player_shot_zone_analysis")
    assert 300 <= (psza["analysis_date"] == DAY).sum() <= 500
    psza = psza[psza["analysis_date"] == DAY].set_index("player_lookup")
    for player in PLAYERS:
        games = before(DAY)
        last10 = games[(games["player_lookup"] == player) & (games["MIN"] > 0)].tail(10)
        three = 100.0 * last10["FG3A"].sum() / last10["FGA"].sum()
        row = psza.loc[player]
        assert row["three_pt_rate_last_10"] == pytest.approx(three)
        assert row["paint_rate_last_10"] + row["mid_range_rate_last_10"] == pytest.approx(100.0 - three)
        assert row["three_pt_pct_last_10"] == pytest.approx(last10["FG3M"].sum() / last10["FG3A"].sum())
        assert row["games_in_sample_10"] == 10 and row["total_shots_last_10"] == last10["FGA"].sum()
        assert not row["early_season_flag"] and row["min_games_required"] == 10


def test_tdza_zone_fg_pct_allowed_matches_the_real_games(built):
    tdza = table(built.db, "nba_precompute.team_defense_zone_analysis")
    tdza = tdza[tdza["analysis_date"] == DAY].set_index("team_abbr")
    assert len(tdza) >= 25
    games = before(DAY)
    for team in TEAMS:
        opp = games[games["opponent"] == team]  # shots taken against `team`
        last15 = sorted(opp["game_id"].unique(), key=lambda g: g[:8])[-15:]
        shots = opp[opp["game_id"].isin(last15)]
        row = tdza.loc[team]
        assert row["games_in_sample"] == 15
        assert row["three_pt_pct_allowed_last_15"] == pytest.approx(shots["FG3M"].sum() / shots["FG3A"].sum())
        assert row["three_pt_attempts_allowed_per_game"] == pytest.approx(shots["FG3A"].sum() / 15)
        assert row["opponent_points_per_game"] == pytest.approx(shots["PTS"].sum() / 15)
        vs = (row["three_pt_pct_allowed_last_15"] - row["league_three_pt_pct"]) * 100
        assert row["three_pt_defense_vs_league_avg"] == pytest.approx(vs, abs=1e-3)
        assert row["completeness_percentage"] == 100.0 and row["is_production_ready"]


def test_mlfs_stores_the_feature_contract(built):
    mlfs = table(built.db, "nba_precompute.ml_feature_store_v2")
    day = mlfs[mlfs["game_date"] == DAY]
    players_on_day = set(before(DAY + dt.timedelta(days=1)).query("game_date == @DAY")["player_lookup"])
    assert set(day["player_lookup"]) == players_on_day
    pdc = table(built.db, "nba_precompute.player_daily_cache").query("cache_date == @DAY").set_index("player_lookup")
    for row in day.to_dict("records"):
        assert list(row["feature_names"]) == list(fc.FEATURE_NAMES) and row["feature_count"] == 60
        sources, values = list(row["feature_sources"]), float_list(row["features"])
        for i in fc.UNSCRAPED:
            assert sources[i] == "missing" and values[i] is None, (row["player_lookup"], i)
        assert all((v is None) == (s == "missing") for v, s in zip(values, sources))
        assert row["feature_quality_score"] == fc.quality_score(sources)
        assert list(row["feature_qualities"]) == [fc.SOURCE_WEIGHTS[s] for s in sources]
        if row["player_lookup"] in pdc.index:
            assert values[0] == pytest.approx(pdc.loc[row["player_lookup"], "points_avg_last_5"])
    gold = day[day["quality_tier"] == "gold"]
    assert len(gold) > 0.6 * len(day)
    assert gold["is_quality_ready"].all() and (gold["required_default_count"] == 0).all()
    assert not day["early_season_flag"].any() or day["early_season_flag"].mean() < 0.5


def test_rematerializing_a_date_replaces_exactly_its_rows(built):
    before_psza = table(built.db, "nba_precompute.player_shot_zone_analysis").drop(columns=["processed_at"])
    before_mlfs = table(built.db, "nba_precompute.ml_feature_store_v2").drop(columns=["processed_at"])
    result = run([BY["player_shot_zone_analysis"], BY["ml_feature_store_v2"]], built.all_assets, built.db,
                 built.instance, "2024-11-26", "2024-11-26")
    assert result.success
    after_psza = table(built.db, "nba_precompute.player_shot_zone_analysis").drop(columns=["processed_at"])
    after_mlfs = table(built.db, "nba_precompute.ml_feature_store_v2").drop(columns=["processed_at"])
    key = ["analysis_date", "player_lookup"]
    pd.testing.assert_frame_equal(before_psza.sort_values(key).reset_index(drop=True),
                                  after_psza.sort_values(key).reset_index(drop=True))
    assert len(after_mlfs) == len(before_mlfs)
    assert sorted(after_mlfs["data_hash"]) == sorted(before_mlfs["data_hash"])


def test_bootstrap_day_writes_no_phase4_rows_and_placeholder_features(built):
    boot = "2024-10-30"  # day 8 of 2024-25
    assets = [BY[t] for t in ("team_defense_zone_analysis", "player_shot_zone_analysis", "player_composite_factors",
                              "player_daily_cache", "ml_feature_store_v2")]
    result = run(assets, built.all_assets, built.db, built.instance, boot, boot)
    assert result.success
    day = dt.date.fromisoformat(boot)
    for name in ("team_defense_zone_analysis", "player_shot_zone_analysis"):
        assert (table(built.db, f"nba_precompute.{name}")["analysis_date"] == day).sum() == 0
    assert (table(built.db, "nba_precompute.player_composite_factors")["game_date"] == day).sum() == 0
    assert (table(built.db, "nba_precompute.player_daily_cache")["cache_date"] == day).sum() == 0
    mlfs = table(built.db, "nba_precompute.ml_feature_store_v2")
    rows = mlfs[mlfs["game_date"] == day]
    played = logs().query("game_date == @day")["player_lookup"]
    assert len(rows) == played.nunique() > 0
    assert all(float_list(v) is None for v in rows["features"]) and rows["early_season_flag"].all()
    assert (rows["feature_quality_score"] == 0).all() and (rows["quality_tier"] == "critical").all()
    assert (rows["data_source"] == "early_season_placeholder").all()


def test_season_boundary_first_days_never_use_the_previous_season():
    """2023-11-08 (day 15 of 2023-24): its 60-partition mapping over-declares 2022-23 partitions;
    the factory keeps the window inside 2023-24, even when 2022-23 rows are in the loaded frame."""
    season = season_by_label("2023-24")
    key, day = "2023-11-08", dt.date(2023, 11, 8)
    keys = DAILY_PARTITIONS.get_partition_keys()
    index = {k: i for i, k in enumerate(keys)}
    mapped = upstream_window(keys, index, key, LAST_20_PLAYER_GAMES)
    assert any(k < "2023-10-24" for k in mapped)  # the mapping reaches into 2022-23 (in-season days)
    assert all(k >= "2023-10-24" for k in lookback.window_keys(keys, index, key, LAST_20_PLAYER_GAMES, season))
    g = logs()
    real = g[(g["game_date"] >= dt.date(2023, 3, 25)) & (g["game_date"] < day)]  # 2022-23 end + 2023-24 start
    assert (real["season"] == "2022-23").any()
    frame = prepare(pgs_frame(real), PGS, "test")
    sched_rows = real.drop_duplicates("game_id")
    sched = prepare(pd.DataFrame({"game_id": sched_rows["game_id"], "game_date": sched_rows["game_date"],
                                  "home_team_tricode": sched_rows["home_abbr"],
                                  "away_team_tricode": sched_rows["away_abbr"]}), SCHEDULE, "test")
    frames = {"pgs": lookback.restrict(frame, "game_date", day, season, LAST_20_PLAYER_GAMES),
              "schedule": lookback.restrict(sched, "game_date", day, season, LAST_20_PLAYER_GAMES)}
    assert frames["pgs"]["game_date"].min() >= season.opener
    rows = psza_module.compute(Day(key=key, day=day, season=season, frames=frames)).set_index("player_lookup")
    this_season = real[(real["season"] == "2023-24") & (real["MIN"] > 0)].groupby("player_lookup").size()
    for player, row in rows.iterrows():
        assert row["games_in_sample_10"] == min(10, this_season[player])
        assert row["early_season_flag"] and row["min_games_required"] == 8  # min(3 + 15//3, 9)


def test_lookback_complete_names_a_missing_date_blocks_downstream_and_recovers(tmp_path):
    db, instance = str(tmp_path / "w.duckdb"), DagsterInstance.ephemeral()
    everything = UPSTREAM + precompute.assets
    psza, tdza, pcf = BY["player_shot_zone_analysis"], BY["team_defense_zone_analysis"], BY["player_composite_factors"]
    # 2024-11-10 is never materialized upstream
    history = [schedule, pgs, tdgs]
    assert run(history, everything, db, instance, OPENER_2024, "2024-11-09").success
    assert run(history, everything, db, instance, "2024-11-11", "2024-11-24").success
    assert run([*history, upgc, utgc], everything, db, instance, "2024-11-25", "2024-11-25").success
    result = run([psza], everything, db, instance, "2024-11-25", "2024-11-25", raise_on_error=False)
    failed = [e for e in result.get_asset_check_evaluations() if e.check_name == "lookback_complete"]
    assert failed and not failed[0].passed
    assert "nba_analytics/player_game_summary missing 2024-11-10" in failed[0].description
    assert "nba_raw/nbac_schedule missing 2024-11-10" in failed[0].description
    psza_rows = table(db, "nba_precompute.player_shot_zone_analysis")
    assert not (psza_rows["analysis_date"] == dt.date(2024, 11, 25)).any()  # an incomplete window writes nothing
    assert "2024-11-25" not in instance.get_materialized_partitions(psza.key)
    # a later run of PCF (another run: Dagster's own blocking does not reach it) is blocked by the guard
    run([tdza], everything, db, instance, "2024-11-25", "2024-11-25", raise_on_error=False)
    blocked = run([pcf], everything, db, instance, "2024-11-25", "2024-11-25", raise_on_error=False)
    upstream_ok = [e for e in blocked.get_asset_check_evaluations() if e.check_name == "partition_ok"]
    assert not upstream_ok[0].passed
    assert "nba_precompute/player_shot_zone_analysis [2024-11-25] failed blocking check partition_ok" in (
        upstream_ok[0].description)
    assert table(db, "nba_precompute.player_composite_factors").empty
    # fill the gap: the checks pass and PCF is unblocked
    assert run(history, everything, db, instance, "2024-11-10", "2024-11-10").success
    assert run([psza, tdza], everything, db, instance, "2024-11-25", "2024-11-25").success
    unblocked = run([pcf], everything, db, instance, "2024-11-25", "2024-11-25")
    assert check_results(unblocked)[("partition_ok", "2024-11-25")]
    assert len(table(db, "nba_precompute.player_composite_factors")) == upgc_rows(db, "2024-11-25")
    # the day's rows are deleted outside Dagster (still "materialized"): the check names it again
    with duckdb.connect(db) as conn:
        conn.execute("delete from nba_analytics.player_game_summary where game_date = ?", [dt.date(2024, 11, 10)])
    again = run([psza], everything, db, instance, "2024-11-25", "2024-11-25", raise_on_error=False)
    desc = [e.description for e in again.get_asset_check_evaluations() if e.check_name == "lookback_complete"][0]
    assert desc == "nba_analytics/player_game_summary missing 2024-11-10"
    psza_rows = table(db, "nba_precompute.player_shot_zone_analysis")
    assert not (psza_rows["analysis_date"] == dt.date(2024, 11, 25)).any()
    # re-materialized: complete again
    assert run([pgs], everything, db, instance, "2024-11-10", "2024-11-10").success
    assert run([psza], everything, db, instance, "2024-11-25", "2024-11-25").success
    row = table(db, "nba_precompute.player_shot_zone_analysis").query("player_lookup == 'jaysontatum'").iloc[0]
    assert row["missing_games_count"] == 0 and row["completeness_percentage"] == 100


def upgc_rows(db: str, key: str) -> int:
    frame = table(db, "nba_analytics.upcoming_player_game_context")
    return int((frame["game_date"] == dt.date.fromisoformat(key)).sum())


def test_accumulator_restarts_at_the_opener_and_reports_a_broken_chain(tmp_path):
    db, instance = str(tmp_path / "w.duckdb"), DagsterInstance.ephemeral()
    everything = UPSTREAM + precompute.assets
    totals = BY["player_season_totals"]
    assert run([schedule, pgs], everything, db, instance, "2024-06-16", "2024-10-24").success
    result = run([totals], everything, db, instance, "2024-06-16", "2024-10-24", raise_on_error=False)
    checks = check_results(result, "player_season_totals")
    assert not checks[("lookback_complete", "2024-06-16")] and not checks[("lookback_complete", "2024-06-17")]
    assert checks[("lookback_complete", "2024-10-22")] and checks[("lookback_complete", "2024-10-24")]
    rows = table(db, "nba_precompute.player_season_totals")
    assert set(rows["as_of_date"]) == {dt.date(2024, 10, 23), dt.date(2024, 10, 24)}  # opener state is empty
    g = logs()
    opener_games = g[g["game_date"] == dt.date(2024, 10, 22)]
    first = rows[rows["as_of_date"] == dt.date(2024, 10, 23)].set_index("player_lookup")
    assert set(first.index) == set(opener_games["player_lookup"])
    assert first["points_sum"].sum() == opener_games["PTS"].sum()
    assert (rows["season_year"] == 2024).all()


def test_backfill_daemon_runs_a_self_dependent_season_range_as_one_run():
    """The asset-backfill daemon's own iteration (no-op mirrors of every project asset, same
    graph, mappings and policies): the self-dependent single_run accumulator over a season
    range — and over a range crossing into the next season — is one run each, and it does not
    wait for the previous season's last partition (not targeted by the backfill)."""
    from nba_backfill_tests.dagster_harness import backfill_runs, daemon_workspace, launch_asset_backfill, run_backfill

    with daemon_workspace("nba_backfill_tests.dagster_harness", "mirror_definitions") as ws:
        for first, last in ((OPENER_2024, WINDOW[1]), ("2024-06-10", "2024-10-30")):
            backfill_id = launch_asset_backfill(ws, {"nba_precompute/player_season_totals": [(first, last)]})
            backfill = run_backfill(ws, backfill_id, max_iterations=20)
            runs = backfill_runs(ws.instance, backfill_id)
            assert backfill.status.value == "COMPLETED_SUCCESS"
            assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
                    for r in runs] == [(first, last)]
