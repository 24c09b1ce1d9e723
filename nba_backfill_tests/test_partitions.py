import datetime as dt

import pytest
from dagster import TimeWindowPartitionMapping

from nba_backfill import partitions
from nba_backfill.guards import upstream_window
from nba_backfill.partitions import DAILY_PARTITIONS, partition_keys_between, season_keys
from nba_backfill.seasons import SEASONS, season_by_label


@pytest.fixture(scope="module")
def keys():
    return DAILY_PARTITIONS.get_partition_keys()


def test_partitions_start_at_first_opener_and_exclude_off_season(keys):
    assert keys[0] == "2020-12-22"
    assert "2021-07-20" in keys and "2021-07-21" not in keys
    assert "2021-08-15" not in keys and "2021-10-18" not in keys and "2021-10-19" in keys
    for key in keys:
        day = dt.date.fromisoformat(key)
        assert any(s.contains(day) for s in SEASONS), key


def test_season_has_every_in_season_day(keys):
    s = season_by_label("2023-24")
    got = season_keys(s)
    assert got[0] == "2023-10-24" and got[-1] == "2024-06-17"
    assert len(got) == (s.finals_end - s.opener).days + 1


def test_partition_keys_between_validates():
    assert partition_keys_between("2021-07-19", "2021-10-20") == [
        "2021-07-19", "2021-07-20", "2021-10-19", "2021-10-20",
    ]
    with pytest.raises(ValueError, match="reversed"):
        partition_keys_between("2023-11-05", "2023-11-01")
    with pytest.raises(ValueError, match="outside"):
        partition_keys_between("2010-01-01", "2010-02-01")
    with pytest.raises(ValueError, match="bad date"):
        partition_keys_between("2023-11-xx", "2023-11-05")


def test_lookback_mappings_stay_under_100_partitions_and_end_before_the_date():
    for name, mapping in partitions.LOOKBACK_MAPPINGS.items():
        assert isinstance(mapping, TimeWindowPartitionMapping)
        assert mapping.end_offset - mapping.start_offset + 1 < 100, name
    for name in ("previous_30_days", "last_15_team_games", "last_20_player_games", "rolling_60_days"):
        assert partitions.LOOKBACK_MAPPINGS[name].end_offset == -1, name


def test_lookback_mapping_matches_dagster_and_crosses_off_season(keys):
    index = {k: i for i, k in enumerate(keys)}
    mapping = partitions.SCHEDULE_AROUND_DATE
    ours = upstream_window(keys, index, "2021-10-20", mapping)
    dagster = mapping.get_upstream_mapped_partitions_result_for_partitions(
        DAILY_PARTITIONS.subset_with_partition_keys(["2021-10-20"]), DAILY_PARTITIONS, DAILY_PARTITIONS
    ).partitions_subset.get_partition_keys()
    assert ours == list(dagster)
    assert ours[:4] == ["2021-07-17", "2021-07-18", "2021-07-19", "2021-07-20"]


def test_window_start_is_cut_at_opener():
    assert partitions.window_start(dt.date(2023, 11, 1), 30) == dt.date(2023, 10, 24)
    assert partitions.window_start(dt.date(2024, 1, 31), 30) == dt.date(2024, 1, 1)


def test_exclusions_are_exactly_the_off_season(keys):
    in_season = set()
    for season in SEASONS:
        day = season.opener
        while day <= season.finals_end:
            in_season.add(day.isoformat())
            day += dt.timedelta(days=1)
    assert set(keys) == {k for k in in_season if k <= keys[-1]}
    assert len(DAILY_PARTITIONS.exclusions) < 200  # crons + single days, not ~700 single days
