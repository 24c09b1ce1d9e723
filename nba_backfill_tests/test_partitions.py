import datetime as dt
import os
import subprocess
import sys

import pytest
from dagster import AssetKey, TimeWindowPartitionMapping

from nba_backfill import partitions
from nba_backfill.guards import upstream_window
from nba_backfill.partitions import DAILY_PARTITIONS, partition_keys_between, season_keys
from nba_backfill.seasons import OFFLINE_LAST_DAY, SEASONS, current_season, season_by_label


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


def test_offline_partitions_end_at_the_bundled_data_last_day(keys, monkeypatch):
    """The offline default offers only what it can fill: nothing after the bundled data's last
    day (2024-25's last regular-season day), whatever today is; production keeps the calendar."""
    assert keys[-1] == OFFLINE_LAST_DAY.isoformat() == "2025-04-13"
    assert not any(k > "2025-04-13" for k in keys)
    monkeypatch.setenv("NBA_BACKFILL_ENV", "prod")
    assert partitions.last_day() == SEASONS[-1].finals_end
    prod = partitions.daily_partitions(SEASONS[0].opener).get_partition_keys(
        current_time=dt.datetime(2026, 1, 15, 12)
    )
    assert prod[-1] == "2026-01-14" and "2025-10-21" in prod  # to today, 2025-26 included


def test_prediction_partitions_are_the_current_season_days(keys):
    pred = partitions.PREDICTION_PARTITIONS.get_partition_keys()
    assert pred == keys[keys.index("2024-10-22"):]  # the offline default's current season: 2024-25
    assert partitions.partitions_for(AssetKey(["nba_predictions", "player_prop_predictions"])) is (
        partitions.PREDICTION_PARTITIONS
    )
    assert partitions.partitions_for(AssetKey(["nba_precompute", "ml_feature_store_v2"])) is DAILY_PARTITIONS


def test_prediction_windows_map_like_phase_4(keys):
    """A Phase 5 date reads the same upstream dates through a lookback as a Phase 4 date would,
    also across the off-season before the opener (offsets count in-season days in both)."""
    index = {k: i for i, k in enumerate(keys)}
    for day in ("2024-10-22", "2024-10-25", "2025-01-10"):
        for mapping in (partitions.ROLLING_60_DAYS, TimeWindowPartitionMapping()):
            got = mapping.get_upstream_mapped_partitions_result_for_partitions(
                partitions.PREDICTION_PARTITIONS.subset_with_partition_keys([day]),
                partitions.PREDICTION_PARTITIONS,
                DAILY_PARTITIONS,
            ).partitions_subset.get_partition_keys()
            assert list(got) == upstream_window(keys, index, day, mapping), (day, mapping)


def _import_calendar(**env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"NBA_BACKFILL_ENV", "NBA_BACKFILL_CURRENT_SEASON"}}
    code = ("from nba_backfill.partitions import DAILY_PARTITIONS as D, PREDICTION_PARTITIONS as P\n"
            "print(D.get_partition_keys()[-1], P.get_partition_keys()[0])")
    return subprocess.run([sys.executable, "-c", code], env={**env, **env_vars}, capture_output=True,
                          text=True, timeout=120)


def test_the_code_location_builds_its_calendar_from_the_environment(monkeypatch):
    """What a code server gets: the partitions follow NBA_BACKFILL_ENV and
    NBA_BACKFILL_CURRENT_SEASON of the process that imports them."""
    assert _import_calendar().stdout.split() == ["2025-04-13", "2024-10-22"]
    assert _import_calendar(NBA_BACKFILL_CURRENT_SEASON="2023-24").stdout.split() == ["2025-04-13", "2023-10-24"]
    monkeypatch.setenv("NBA_BACKFILL_ENV", "prod")
    to_today = partitions.daily_partitions(SEASONS[0].opener).get_partition_keys()[-1]
    assert _import_calendar(NBA_BACKFILL_ENV="prod").stdout.split() == [
        to_today, current_season(dt.date.today()).opener.isoformat()
    ]
    beyond = _import_calendar(NBA_BACKFILL_CURRENT_SEASON="2025-26")
    assert beyond.returncode != 0
    assert "offline data ends there: set NBA_BACKFILL_CURRENT_SEASON to a season up to 2024-25" in beyond.stderr
