"""Every asset's description lists what its partition D reads, derived from the declared mappings."""

from __future__ import annotations

import warnings

import pytest
from dagster import AssetKey, TimeWindowPartitionMapping

from nba_backfill.assets.core.windows import SEASON_CUT, offsets, window_text
from nba_backfill.partitions import LOOKBACK_MAPPINGS, ROLLING_60_DAYS, SCHEDULE_AROUND_DATE


@pytest.fixture(scope="module")
def graph():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from nba_backfill.definitions import defs
    return defs.resolve_asset_graph()


@pytest.mark.parametrize(("mapping", "text"), [
    (None, "same date (D: 1 partition)"),
    (LOOKBACK_MAPPINGS["previous_day"],
     "the previous in-season day (D-1: 1 partition; none on the season opener)"),
    (ROLLING_60_DAYS,
     "60 in-season days before D (D-60..D-1: up to 60 partitions, cut at the season opener)"),
    (SCHEDULE_AROUND_DATE,
     "D ±5 days (D-5..D+5: up to 11 partitions, cut at the season opener and Finals end)"),
    (LOOKBACK_MAPPINGS["schedule_minus_30_plus_7"],
     "D-30..D+7 (up to 38 partitions, cut at the season opener and Finals end)"),
    (TimeWindowPartitionMapping(start_offset=0, end_offset=3),
     "D..D+3 (up to 4 partitions, cut at the season Finals end)"),
])
def test_window_text_states_the_window_its_size_and_its_cut(mapping, text):
    assert window_text(mapping) == text


def test_every_lookback_mapping_has_a_text_with_its_own_size():
    for name, mapping in LOOKBACK_MAPPINGS.items():
        start, end = offsets(mapping)
        text = window_text(mapping)
        assert f"{end - start + 1} partition" in text, (name, text)


def test_mlfs_lists_each_input_with_its_window(graph):
    description = graph.get(AssetKey(["nba_precompute", "ml_feature_store_v2"])).description
    reads = description.split("**Reads, for partition D:**\n", 1)[1]
    assert ("- `pgs` ← nba_analytics/player_game_summary: 60 in-season days before D "
            "(D-60..D-1: up to 60 partitions, cut at the season opener)") in reads
    assert "- `pdc` ← nba_precompute/player_daily_cache: same date (D: 1 partition)" in reads
    assert reads.rstrip().endswith(SEASON_CUT)


def test_accumulator_lists_its_own_previous_day(graph):
    description = graph.get(AssetKey(["nba_precompute", "player_season_totals"])).description
    assert ("- (read directly) ← nba_precompute/player_season_totals (itself: season-to-date state): "
            "the previous in-season day (D-1: 1 partition; none on the season opener)") in description


def test_analytics_inputs_keep_their_purpose(graph):
    description = graph.get(AssetKey(["nba_analytics", "upcoming_team_game_context"])).description
    assert ("- `schedule` ← nba_raw/nbac_schedule: D-30..D+7 (up to 38 partitions, cut at the season "
            "opener and Finals end) — rest, streaks, completeness expected games") in description


def test_every_asset_description_states_every_dependency_with_the_graphs_mapping(graph):
    """The text comes from the mapping Dagster resolves for each edge: it cannot drift from it."""
    checked = 0
    for key in graph.materializable_asset_keys:
        node = graph.get(key)
        reads = node.description.split("**Reads, for partition D:**", 1)
        assert len(reads) == 2, key
        for parent in node.parent_keys:
            line = f"← {parent.to_user_string()}"
            listed = [entry for entry in reads[1].splitlines() if line + ":" in entry or line + " (itself" in entry]
            assert len(listed) == 1, (key, parent, reads[1])
            assert window_text(graph.get_partition_mapping(key, parent)) in listed[0], (key, parent)
            checked += 1
        if not node.parent_keys:
            assert "no asset" in reads[1], key
    assert checked > 100


def test_scrapers_state_the_schedule_slice_they_read(graph):
    description = graph.get(AssetKey(["nba_lake", "nbac_team_boxscore"])).description
    assert ("- (read directly) ← nba_lake/nbac_schedule: same date (D: 1 partition) — the date's "
            "schedule slice: which games to fetch") in description
