"""What one partition reads (`nba_backfill.ops.needs.needed_partitions`) on the real asset graph and
the real calendar, and how the report is rendered."""

from __future__ import annotations

import pytest
from dagster import AssetKey

from nba_backfill.ops.needs import (
    FAILED,
    MISSING,
    OK,
    AssetNeeds,
    NeedsReport,
    asset_graph,
    needed_partitions,
    render,
    resolve_asset,
    resolve_date,
    resolve_target,
)
from nba_backfill.ops.plan import BackfillInputError
from nba_backfill.partitions import DAILY_PARTITIONS, partition_keys_between

MLFS = AssetKey(["nba_precompute", "ml_feature_store_v2"])
PGS = AssetKey(["nba_analytics", "player_game_summary"])
SCHEDULE = AssetKey(["nba_raw", "nbac_schedule"])
LAKE_SCHEDULE = AssetKey(["nba_lake", "nbac_schedule"])
PST = AssetKey(["nba_precompute", "player_season_totals"])
OPENER_2023 = "2023-10-24"


@pytest.fixture(scope="module")
def graph():
    return asset_graph()


@pytest.fixture(scope="module")
def all_keys():
    return DAILY_PARTITIONS.get_partition_keys()


def test_mlfs_mid_november_reads_pgs_cut_at_the_opener(graph, all_keys):
    """60 in-season days before 2023-11-15 reach 2023-09-16; the window starts at the opener."""
    direct = needed_partitions(graph, MLFS, "2023-11-15", all_keys, transitive=False)
    assert sorted(direct[PGS]) == partition_keys_between(OPENER_2023, "2023-11-14")  # 22 days, not 60
    assert sorted(direct[SCHEDULE]) == partition_keys_between(OPENER_2023, "2023-11-14")
    same_date = {k.to_user_string() for k, v in direct.items() if v == {"2023-11-15"}}
    assert same_date == {"nba_analytics/upcoming_player_game_context", "nba_precompute/player_daily_cache",
                         "nba_precompute/player_composite_factors", "nba_precompute/player_shot_zone_analysis",
                         "nba_precompute/team_defense_zone_analysis"}
    assert all(k <= "2023-11-15" and k >= OPENER_2023 for keys in direct.values() for k in keys)


def test_mlfs_late_in_the_season_reads_exactly_60_days(graph, all_keys):
    direct = needed_partitions(graph, MLFS, "2024-03-15", all_keys, transitive=False)
    assert sorted(direct[PGS]) == partition_keys_between("2024-01-15", "2024-03-14")
    assert len(direct[PGS]) == 60


def test_transitive_reaches_the_scrapers_and_forward_windows(graph, all_keys):
    """UPGC (read same-date by MLFS) reads the schedule D-30..D+7, so the lake schedule is needed
    to 2023-11-22; the season accumulator reads its own dates back to the opener."""
    needed = needed_partitions(graph, MLFS, "2023-11-15", all_keys)
    assert sorted(needed[LAKE_SCHEDULE]) == partition_keys_between(OPENER_2023, "2023-11-22")
    assert sorted(needed[PST]) == partition_keys_between(OPENER_2023, "2023-11-15")
    assert sorted(needed[PGS]) == partition_keys_between(OPENER_2023, "2023-11-14")
    assert MLFS not in needed  # its own date is not a need of itself
    assert {k.path[0] for k in needed} == {"nba_lake", "nba_raw", "nba_analytics", "nba_precompute"}


def test_forward_window_stops_at_the_finals_end(graph, all_keys):
    """D+7 from 2024-06-15 counts partitions into the next season's opener days: cut at the Finals."""
    direct = needed_partitions(graph, AssetKey(["nba_analytics", "upcoming_team_game_context"]),
                               "2024-06-15", all_keys, transitive=False)
    assert sorted(direct[SCHEDULE]) == partition_keys_between("2024-05-16", "2024-06-17")


def test_an_accumulator_reads_nothing_on_the_opener_and_its_previous_day_after(graph, all_keys):
    assert needed_partitions(graph, PST, OPENER_2023, all_keys, transitive=False) == {}
    direct = needed_partitions(graph, PST, "2023-10-26", all_keys, transitive=False)
    assert direct == {PST: {"2023-10-25"}, PGS: {"2023-10-25"}, SCHEDULE: {"2023-10-25"}}
    needed = needed_partitions(graph, PST, "2023-10-26", all_keys)
    assert needed[PST] == {"2023-10-24", "2023-10-25"}


@pytest.mark.parametrize(("text", "key"), [
    ("nba_precompute/ml_feature_store_v2", MLFS),
    ("nba_precompute.ml_feature_store_v2", MLFS),
    ("ml_feature_store_v2", MLFS),
])
def test_asset_names(graph, text, key):
    assert resolve_asset(graph, text) == key


@pytest.mark.parametrize(("text", "message"), [
    ("nbac_schedule", "ambiguous: nba_lake/nbac_schedule, nba_raw/nbac_schedule"),
    ("feature_store", "unknown asset 'feature_store'; similar: nba_precompute/ml_feature_store_v2"),
])
def test_bad_asset_names(graph, text, message):
    with pytest.raises(BackfillInputError, match=message):
        resolve_asset(graph, text)


@pytest.mark.parametrize(("text", "message"), [
    ("2023-11-31", "bad date '2023-11-31'"),
    ("2023-07-30", "2023-07-30 is an off-season day"),
    ("2019-12-01", "2019-12-01 is outside the partitions"),
])
def test_bad_dates(all_keys, text, message):
    with pytest.raises(BackfillInputError, match=message):
        resolve_date(text, all_keys)


def test_a_date_must_be_a_partition_of_the_asset(graph, all_keys):
    """Phase 5 has partitions from the current season's opener only."""
    predictions = AssetKey(["nba_predictions", "player_prop_predictions"])
    own = graph.get(predictions).partitions_def.get_partition_keys()
    assert resolve_target(graph, "player_prop_predictions", own[-1], all_keys) == (predictions, own[-1])
    earlier = all_keys[all_keys.index(own[0]) - 1]
    with pytest.raises(BackfillInputError, match=f"{earlier} is not a partition of nba_predictions/"):
        resolve_target(graph, "player_prop_predictions", earlier, all_keys)


def test_render_groups_ranges_by_class(all_keys):
    pgs = AssetNeeds("nba_analytics/player_game_summary", partition_keys_between(OPENER_2023, "2023-11-14"))
    for key in pgs.partitions:
        pgs.status[key] = OK if key < "2023-11-01" else MISSING
    pgs.status["2023-11-05"] = FAILED
    pgs.causes["2023-11-05"] = "failed: blocked by nba_raw/nbac_player_boxscore [2023-11-05]"
    report = NeedsReport("nba_precompute/ml_feature_store_v2", "2023-11-15", True, [pgs])
    lines = render(report, all_keys, limit=5).splitlines()
    assert lines[0].startswith("nba_precompute/ml_feature_store_v2 2023-11-15 reads 22 partitions of 1 assets")
    assert lines[1] == "  1 failed, 13 missing, 8 ok"
    assert lines[2] == ("  nba_analytics/player_game_summary  2023-10-24..2023-11-14 (22): failed 2023-11-05; "
                        "missing 2023-11-01..2023-11-04 (4), 2023-11-06..2023-11-14 (9); ok 2023-10-24..2023-10-31 (8)")
    assert lines[3:] == ["Failed:", "  nba_analytics/player_game_summary 2023-11-05: failed: blocked by "
                                    "nba_raw/nbac_player_boxscore [2023-11-05]"]
    assert not report.ok
