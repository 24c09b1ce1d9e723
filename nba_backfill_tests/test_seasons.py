import datetime as dt

import pytest

from nba_backfill import seasons
from nba_backfill.seasons import (
    SEASONS,
    UnknownSeasonError,
    current_season,
    season_by_label,
    season_for_date,
)


def test_known_openers():
    assert season_by_label("2020-21").opener == dt.date(2020, 12, 22)
    assert season_by_label("2020-21").regular_season_games == 72
    assert season_by_label("2023-24").opener == dt.date(2023, 10, 24)
    assert season_by_label("2024-25").opener == dt.date(2024, 10, 22)


def test_every_season_from_2020_21_to_current_is_listed_in_order():
    labels = [s.label for s in SEASONS]
    assert labels[0] == "2020-21"
    years = [int(label[:4]) for label in labels]
    assert years == list(range(2020, 2020 + len(years)))
    assert current_season(dt.date(2026, 11, 22)).label in labels
    for prev, nxt in zip(SEASONS, SEASONS[1:]):
        assert prev.finals_end < nxt.opener


def test_bootstrap_is_14_days():
    s = season_by_label("2023-24")
    assert s.is_bootstrap(dt.date(2023, 10, 24))
    assert s.is_bootstrap(dt.date(2023, 11, 6))  # day 13
    assert not s.is_bootstrap(dt.date(2023, 11, 7))  # day 14
    assert s.bootstrap_end == dt.date(2023, 11, 6)


def test_season_for_date_and_off_season():
    assert season_for_date("2024-01-15").label == "2023-24"
    assert season_for_date("2024-06-17").label == "2023-24"  # Finals end
    assert season_for_date("2024-08-01") is None


def test_unknown_season_names_known_ones():
    with pytest.raises(UnknownSeasonError, match="2019-20.*known seasons: 2020-21"):
        season_by_label("2019-20")


def test_current_season_override(monkeypatch):
    monkeypatch.setenv("NBA_BACKFILL_CURRENT_SEASON", "2024-25")
    assert current_season().label == "2024-25"
    monkeypatch.setenv("NBA_BACKFILL_CURRENT_SEASON", "1999-00")
    with pytest.raises(UnknownSeasonError):
        current_season()


def test_current_season_from_date(monkeypatch):
    monkeypatch.delenv("NBA_BACKFILL_CURRENT_SEASON", raising=False)
    assert current_season(dt.date(2024, 1, 10)).label == "2023-24"
    assert current_season(dt.date(2024, 8, 10)).label == "2024-25"  # off-season: next season


def test_calendar_rejects_out_of_order_dates():
    with pytest.raises(ValueError, match="out of order"):
        seasons.Season(
            "2030-31", *(dt.date(2030, 10, 20),) * 2, dt.date(2030, 10, 1),
            dt.date(2031, 4, 20), dt.date(2031, 6, 1), dt.date(2031, 2, 1), dt.date(2031, 2, 5),
        )


def test_bad_date_is_named():
    with pytest.raises(ValueError, match="bad date '2024-13-01'"):
        seasons.parse_date("2024-13-01")


def test_offline_last_day_is_the_bundled_data_last_game_date():
    """The constant the offline calendar ends at is the parquet's true last game date, of its
    last season (the data is read here, never at import)."""
    import pandas as pd

    from nba_backfill.source.data_store import PARQUET_PATH

    logs = pd.read_parquet(PARQUET_PATH, columns=["GAME_DATE", "SEASON_LABEL"])
    assert seasons.OFFLINE_LAST_DAY == dt.date.fromisoformat(str(logs["GAME_DATE"].max())[:10])
    assert season_for_date(seasons.OFFLINE_LAST_DAY).label == logs["SEASON_LABEL"].max() == "2024-25"


def test_current_season_offline_is_the_bundled_last_season(monkeypatch):
    monkeypatch.delenv("NBA_BACKFILL_CURRENT_SEASON", raising=False)
    monkeypatch.delenv("NBA_BACKFILL_ENV", raising=False)
    assert seasons.calendar_today() == seasons.OFFLINE_LAST_DAY
    assert current_season().label == "2024-25"
    monkeypatch.setenv("NBA_BACKFILL_ENV", "local")
    assert current_season().label == "2024-25"
    monkeypatch.setenv("NBA_BACKFILL_CURRENT_SEASON", "2023-24")  # the override still wins
    assert current_season().label == "2023-24"


def test_current_season_in_production_follows_today(monkeypatch):
    monkeypatch.delenv("NBA_BACKFILL_CURRENT_SEASON", raising=False)
    monkeypatch.setenv("NBA_BACKFILL_ENV", "prod")
    assert seasons.calendar_today() == dt.date.today()
    assert current_season() == current_season(dt.date.today())
