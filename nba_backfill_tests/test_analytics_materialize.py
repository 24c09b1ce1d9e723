"""Phase 3 materialized for real: offline source → lake → raw tables → the five analytics tables,
for three consecutive dates of 2023-24 (2023-11-01..03), in DuckDB under a temp directory.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey, AssetMaterialization, AssetSelection, DagsterInstance, materialize

from nba_backfill.assets import analytics
from nba_backfill.assets.analytics.lookback import unmaterialized_history
from nba_backfill.assets.common import player_lookup
from nba_backfill.checks.analytics import points_distribution_by_season
from nba_backfill.layers import ANALYTICS, RAW
from nba_backfill.partitions import DAILY_PARTITIONS, PREVIOUS_30_DAYS
from nba_backfill_tests.test_analytics_support import (
    check_results,
    logs_between,
    resources,
    run_analytics,
    run_upstream,
    table,
    upstream_assets,
)

FIRST, LAST = "2023-11-01", "2023-11-03"
OPENER, BEFORE_FIRST = "2023-10-24", "2023-10-31"
TABLES = [t.name for t in analytics.TABLES]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """The season's history (opener..10-31) materialized first, then FIRST..LAST in one run;
    `tables` holds the FIRST..LAST rows."""
    home = tmp_path_factory.mktemp("analytics_home")
    instance = DagsterInstance.ephemeral()
    run_upstream(home, OPENER, BEFORE_FIRST, instance)
    run_analytics(home, OPENER, BEFORE_FIRST, instance)
    run_upstream(home, FIRST, LAST, instance)
    result = run_analytics(home, FIRST, LAST, instance)
    tables = {}
    for name in TABLES:
        frame = table(home, name)
        frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
        tables[name] = frame[frame["game_date"] >= dt.date.fromisoformat(FIRST)].reset_index(drop=True)
    return home, instance, result, tables


@pytest.fixture(scope="module")
def no_history(tmp_path_factory):
    """FIRST..LAST alone: the history before 11-01 was never materialized."""
    home = tmp_path_factory.mktemp("analytics_no_history")
    instance = DagsterInstance.ephemeral()
    run_upstream(home, FIRST, LAST, instance)
    result = run_analytics(home, FIRST, LAST, instance, raise_on_error=False)
    return home, instance, result


def _logs():
    logs = logs_between(FIRST, LAST)
    logs["player_lookup"] = logs["PLAYER_NAME"].map(player_lookup)
    return logs


def test_lineage_states_what_each_date_reads():
    by_key = {a.key: a for a in analytics.assets}
    pgs = by_key[AssetKey([ANALYTICS, "player_game_summary"])]
    togs_key = AssetKey([ANALYTICS, "team_offense_game_summary"])
    assert togs_key in pgs.dependency_keys and pgs.get_partition_mapping_for_dep(togs_key) is None
    upgc = by_key[AssetKey([ANALYTICS, "upcoming_player_game_context"])]
    mapping = upgc.get_partition_mapping_for_dep(pgs.key)
    assert mapping == PREVIOUS_30_DAYS
    # on the opener the mapping reaches the previous season's last in-season days (its Finals);
    # the compute cuts every window at the opener, so none of them counts (test_analytics_windows)
    upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
        DAILY_PARTITIONS.subset_with_partition_keys(["2023-10-24"]), DAILY_PARTITIONS, DAILY_PARTITIONS
    ).partitions_subset.get_partition_keys()
    assert upstream[0] == "2023-05-14" and upstream[-1] == "2023-06-12"
    utgc = by_key[AssetKey([ANALYTICS, "upcoming_team_game_context"])]
    assert {k.path[-1] for k in utgc.dependency_keys} == {
        "nbac_schedule", "nbac_game_summary", "team_offense_game_summary", "team_defense_game_summary"}


def test_team_offense_matches_the_real_player_logs(pipeline):
    *_, tables = pipeline
    togs = tables["team_offense_game_summary"]
    sums = _logs().groupby(["GAME_DATE", "TEAM_ABBREVIATION"])[["PTS", "FGA", "FG3M", "AST"]].sum()
    assert len(togs) == len(sums) == 2 * logs_between(FIRST, LAST)["GAME_ID"].nunique()
    got = togs.set_index([togs["game_date"].map(str), "team_abbr"])[
        ["points_scored", "fg_attempts", "three_pt_makes", "assists"]].sort_index()
    assert (got.to_numpy() == sums.sort_index().to_numpy()).all()


def test_player_values_match_hand_computation_from_real_rows(pipeline):
    *_, tables = pipeline
    pgs = tables["player_game_summary"].set_index(["game_date", "player_lookup"])
    logs = _logs()
    team = logs.groupby(["GAME_ID", "TEAM_ABBREVIATION"])[["FGA", "FTA", "TOV"]].sum()
    for name, day in (("LeBron James", "2023-11-01"), ("Kawhi Leonard", "2023-11-01"),
                      ("Jayson Tatum", "2023-11-01"), ("Pascal Siakam", "2023-11-02")):
        r = logs[(logs["PLAYER_NAME"] == name) & (logs["GAME_DATE"] == day)].iloc[0]
        t = team.loc[(r["GAME_ID"], r["TEAM_ABBREVIATION"])]
        row = pgs.loc[(dt.date.fromisoformat(day), player_lookup(name))]
        usage = 100 * (r.FGA + 0.44 * r.FTA + r.TOV) * 48 / (r.MIN * (t.FGA + 0.44 * t.FTA + t.TOV))
        assert row["usage_rate"] == pytest.approx(round(usage, 2), abs=1e-9), name
        assert row["ts_pct"] == pytest.approx(round(r.PTS / (2 * (r.FGA + 0.44 * r.FTA)), 3)), name
        assert row["efg_pct"] == pytest.approx(round((r.FGM + 0.5 * r.FG3M) / r.FGA, 3)), name
        assert row["points"] == r.PTS and row["minutes_played"] == r.MIN
        assert bool(row["win_flag"]) == (r.WL == "W")  # computed from points, not left FALSE
        assert bool(row["starter_flag"]) == (r.MIN > 20)
    lebron = pgs.loc[(dt.date(2023, 11, 1), "lebronjames")]
    assert lebron["usage_rate"] == 26.13 and lebron["ts_pct"] == 0.748 and lebron["efg_pct"] == 0.789


def test_team_points_possessions_and_shot_zones(pipeline):
    *_, tables = pipeline
    togs, pgs = tables["team_offense_game_summary"], tables["player_game_summary"]
    summed = pgs.groupby(["game_id", "team_abbr"])["points"].sum()
    assert (togs.set_index(["game_id", "team_abbr"])["points_scored"] == summed.reindex(
        togs.set_index(["game_id", "team_abbr"]).index)).all()
    poss = togs["fg_attempts"] + 0.44 * togs["ft_attempts"] + togs["turnovers"] - togs["offensive_rebounds"]
    assert (togs["possessions"] - poss).abs().max() < 0.006
    assert ((togs["offensive_rating"] - 100 * togs["points_scored"] / poss).abs() < 0.006).all()
    assert ((togs["pace"] - poss * 48 / (togs["team_minutes"] / 5)).abs() < 0.051).all()
    lal = togs[(togs["game_date"] == dt.date(2023, 11, 1)) & (togs["team_abbr"] == "LAL")].iloc[0]
    assert lal["overtime_periods"] == 1 and lal["team_minutes"] == 265.0  # LAC @ LAL went to OT
    opp = togs.set_index(["game_id", "opponent_team_abbr"])["points_scored"]
    assert (togs["win_flag"] == (togs["points_scored"].to_numpy() > opp.reindex(
        pd.MultiIndex.from_arrays([togs["game_id"], togs["team_abbr"]])).to_numpy())).all()
    assert togs["win_flag"].sum() == len(togs) // 2
    # zones reconcile with the box score: paint + mid-range = 2PT attempts, per team and player
    assert togs["shot_zones_available"].all()
    assert (togs["team_paint_attempts"] + togs["team_mid_range_attempts"] + togs["three_pt_attempts"]
            == togs["fg_attempts"]).all()
    played = pgs[pgs["has_complete_shot_zones"]]
    assert len(played) == len(pgs)
    assert (played["paint_attempts"] + played["mid_range_attempts"] + played["three_pt_attempts"]
            == played["fg_attempts"]).all()
    assert (played["assisted_fg_makes"] + played["unassisted_fg_makes"] == played["fg_makes"]).all()
    tdgs = tables["team_defense_game_summary"].set_index(["game_id", "defending_team_abbr"])
    flipped = togs.set_index(["game_id", "opponent_team_abbr"])
    assert (tdgs["points_allowed"] == flipped["points_scored"].reindex(tdgs.index)).all()
    assert (tdgs["blocks_paint"] + tdgs["blocks_mid_range"] + tdgs["blocks_three_pt"] <= tdgs["blocks"]).all()


def test_back_to_back_on_a_real_date(pipeline):
    *_, tables = pipeline
    logs = _logs()
    # TOR, NOP, DET and UTA played on 2023-11-01 and again on 2023-11-02
    utgc = tables["upcoming_team_game_context"]
    on_2 = utgc[utgc["game_date"] == dt.date(2023, 11, 2)].set_index("team_abbr")
    b2b = on_2[on_2["is_back_to_back"]]
    assert set(b2b.index) == {"TOR", "NOP", "DET", "UTA"}
    assert (b2b["days_since_last_game"] == 1).all() and (b2b["team_days_rest"] == 0).all()
    history = logs_between("2023-10-24", "2023-11-01")  # the history materialized before the range
    last = pd.to_datetime(history.groupby("TEAM_ABBREVIATION")["GAME_DATE"].max())
    for team in ("ORL", "PHI", "PHX", "SAS"):  # last game before 11-01
        assert on_2.loc[team, "days_since_last_game"] == (pd.Timestamp("2023-11-02") - last[team]).days
    upgc = tables["upcoming_player_game_context"]
    players_2 = upgc[upgc["game_date"] == dt.date(2023, 11, 2)].set_index("player_lookup")
    both = set(logs[logs["GAME_DATE"] == "2023-11-01"]["player_lookup"]) & set(players_2.index)
    assert len(both) > 30 and set(players_2.loc[sorted(both), "team_abbr"]) == {"TOR", "NOP", "DET", "UTA"}
    assert players_2.loc[sorted(both), "back_to_back"].all()
    assert (players_2.loc[sorted(both), "days_rest"] == 1).all()
    on_3 = upgc[upgc["game_date"] == dt.date(2023, 11, 3)]
    assert not on_3["back_to_back"].any()


def test_a_range_without_its_history_blocks_only_the_tables_with_lookbacks(no_history):
    home, instance, result = no_history
    assert not result.success  # UPGC and UTGC failed: their windows are incomplete
    lookback = {(r[0], r[2]): r for r in check_results(result) if r[1] == "lookback_complete" and r[2]}
    assert set(lookback) == {(t, d) for t in ("upcoming_player_game_context", "upcoming_team_game_context")
                             for d in (FIRST, "2023-11-02", LAST)}
    assert not any(r[3] for r in lookback.values())
    first = lookback[("upcoming_player_game_context", FIRST)][4]
    assert ("nba_analytics.player_game_summary: 8 of 8 history days never materialized "
            "(2023-10-24..2023-10-31)") in first
    assert "nba_raw.nbac_schedule: 8 of 8" in first
    second = lookback[("upcoming_player_game_context", "2023-11-02")][4]
    assert "player_game_summary: 8 of 9 history days never materialized (2023-10-24..2023-10-31)" in second
    outcome = {(r[0], r[2]): r for r in check_results(result) if r[1] == "partition_ok" and r[2]}
    for name in ("upcoming_player_game_context", "upcoming_team_game_context"):
        assert table(home, name).empty  # an incomplete window writes no rows
        assert not instance.get_materialized_partitions(AssetKey([ANALYTICS, name]))
        assert all(not outcome[(name, d)][3] and outcome[(name, d)][4].startswith("blocked: check lookback_complete")
                   for d in (FIRST, "2023-11-02", LAST))
    # the same-date tables have no lookback: written, materialized and production-ready
    for name in ("team_offense_game_summary", "team_defense_game_summary", "player_game_summary"):
        assert instance.get_materialized_partitions(AssetKey([ANALYTICS, name])) == {FIRST, "2023-11-02", LAST}
    assert table(home, "team_offense_game_summary")["is_production_ready"].all()


def test_game_number_counts_the_games_before_the_range(pipeline):
    *_, tables = pipeline
    utgc = tables["upcoming_team_game_context"].set_index(["game_date", "team_abbr"])
    tor_games = logs_between("2023-10-24", "2023-11-01").query("TEAM_ABBREVIATION == 'TOR'")["GAME_ID"].nunique()
    assert utgc.loc[(dt.date(2023, 11, 2), "TOR"), "game_number_in_season"] == tor_games + 1  # game summaries
    assert not tables["upcoming_player_game_context"]["quality_issues"].map(
        lambda i: "lookback_incomplete" in list(i)).any()


def test_lookback_complete_once_every_history_day_is_materialized():
    instance = DagsterInstance.ephemeral()
    upgc = next(t for t in analytics.TABLES if t.name == "upcoming_player_game_context")
    history = [k for k in DAILY_PARTITIONS.get_partition_keys() if "2023-10-24" <= k <= "2023-11-01"]
    for upstream in upgc.history_inputs.values():
        for key in history:
            if not (upstream.key[1] == "player_game_summary" and key == "2023-10-28"):
                instance.report_runless_asset_event(AssetMaterialization(list(upstream.key), partition=key))
    missing = unmaterialized_history(instance, upgc, ["2023-10-24", "2023-10-26", "2023-11-02"])
    assert "2023-10-24" not in missing and "2023-10-26" not in missing  # opener: nothing before counts
    assert missing["2023-11-02"] == [
        "nba_analytics.player_game_summary: 1 of 9 history days never materialized (2023-10-28..2023-10-28)"]
    instance.report_runless_asset_event(AssetMaterialization([ANALYTICS, "player_game_summary"], partition="2023-10-28"))
    assert unmaterialized_history(instance, upgc, ["2023-11-02"]) == {}


def test_checks_pass_on_clean_data(pipeline):
    _, _, result, _ = pipeline
    results = check_results(result)
    per_partition = [r for r in results if r[2] is not None]
    assert {r[2] for r in per_partition} == {FIRST, "2023-11-02", LAST}
    blocking = {(a.key.path[-1], s.name) for a in analytics.assets for s in a.check_specs if s.blocking}
    failed = [r for r in per_partition if (r[0], r[1]) in blocking and not r[3]]
    assert failed == []  # the history was materialized first
    assert len({(r[0], r[1]) for r in per_partition}) == sum(len(a.check_specs) for a in analytics.assets)


def test_season_distribution_check_runs_against_the_warehouse(pipeline):
    home, instance, _, _ = pipeline
    result = materialize([*upstream_assets(), *analytics.assets, points_distribution_by_season],
                         selection=AssetSelection.checks(points_distribution_by_season),
                         resources=resources(home), instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed  # opener..11-03 of real player-games: judged, and inside the band
    assert evaluation.metadata["seasons_seen"].value == 1 and evaluation.metadata["seasons_judged"].value == 1


def test_rematerializing_a_partition_replaces_exactly_its_rows(pipeline):
    home, instance, _, tables = pipeline
    assert run_analytics(home, "2023-11-02", "2023-11-02", instance).success
    for name in TABLES:
        again = table(home, name)
        again["game_date"] = pd.to_datetime(again["game_date"]).dt.date
        again = again[again["game_date"] >= dt.date.fromisoformat(FIRST)]
        before = tables[name]
        assert len(again) == len(before), name
        key = [c for c in ("game_date", "player_lookup", "team_abbr", "defending_team_abbr") if c in again][:2]
        merged = before.merge(again, on=key, suffixes=("", "_again"))
        assert len(merged) == len(before), name
        assert (merged["data_hash"] == merged["data_hash_again"]).all(), name
        changed = merged["processed_at"] != merged["processed_at_again"]
        assert set(merged.loc[changed, "game_date"]) == {dt.date(2023, 11, 2)}, name


def test_missing_team_row_blocks_this_run_and_later_runs(pipeline, tmp_path):
    home, *_ = pipeline
    shutil.copy(home / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(f"delete from {RAW}.nbac_team_boxscore where game_date = '2023-11-02' and team_abbr = 'TOR'")
    con.close()
    instance = DagsterInstance.ephemeral()
    for asset in upstream_assets():  # the copied warehouse's raw dates, as materialized in this instance
        for key in asset.keys:
            if key.path[0] == RAW:
                instance.report_runless_asset_event(AssetMaterialization(key, partition="2023-11-02"))
    first = run_analytics(tmp_path, "2023-11-02", "2023-11-02", instance, raise_on_error=False,
                          select=["team_offense_game_summary", "player_game_summary"])
    togs = [r for r in check_results(first) if r[0] == "team_offense_game_summary" and r[1] == "teams_complete"]
    assert togs and not togs[0][3] and "missing TOR" in togs[0][4]
    assert not first.success  # the blocking check stopped PGS in the same run
    assert not any(r[0] == "player_game_summary" for r in check_results(first))

    later = run_analytics(tmp_path, "2023-11-02", "2023-11-02", instance, raise_on_error=False,
                          select=["player_game_summary"])
    guard = [r for r in check_results(later) if r[1] == "partition_ok"]
    assert guard and not guard[0][3]
    assert "team_offense_game_summary [2023-11-02] failed blocking check partition_ok" in guard[0][4]
    pgs = table(tmp_path, "player_game_summary")
    days = set(pd.to_datetime(pgs["game_date"]).dt.date)
    assert dt.date(2023, 11, 2) not in days and {dt.date(2023, 11, 1), dt.date(2023, 11, 3)} <= days
