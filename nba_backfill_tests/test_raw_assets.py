"""Phases 1-2 materialized for real (offline source, DuckDB in a temp home) vs the bundled logs."""

import json
import shutil

import duckdb
import pandas as pd
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_backfill.assets import raw, scrapers
from nba_backfill.assets.raw.specs import RAW_TABLES
from nba_backfill.checks import raw as raw_checks
from nba_backfill.source.data_store import PARQUET_PATH
from nba_backfill_tests.conftest import TEST_BACKOFF_SECONDS, TEST_REQUESTS_PER_SECOND

ALL_ASSETS = [*scrapers.assets, *raw.assets]
DAY = "2023-11-01"  # 13 games
RANGE = ("2023-12-24", "2023-12-26")  # off day (Christmas Eve), then 5 and 9 games
OFF_DAY = "2023-12-24"


def make_resources(home):
    from nba_backfill.resources.environment import local_resources
    from nba_backfill.resources.nba_api import NbaApiClient

    resources = local_resources(home)
    resources["nba_api"] = NbaApiClient(
        mode="offline", offline_faults_file=str(home / "offline_faults.json"),
        requests_per_second=TEST_REQUESTS_PER_SECOND, backoff_initial_seconds=TEST_BACKOFF_SECONDS,
        backoff_max_seconds=TEST_BACKOFF_SECONDS * 10)
    return resources


def run(resources, instance, *, day=None, days=None, selection=None, raise_on_error=True):
    tags = {}
    if days:
        tags = {ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[1]}
    return materialize(ALL_ASSETS, partition_key=day, tags=tags, selection=selection,
                       resources=resources, instance=instance, raise_on_error=raise_on_error)


def table(home, name: str, day: str | None = None) -> pd.DataFrame:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        sql = f"select * from nba_raw.{name}"  # noqa: S608 - test helper, fixed table names
        df = conn.execute(sql).df()
    if day is not None:
        df = df[pd.to_datetime(df["game_date"]).dt.strftime("%Y-%m-%d") == day]
    return df


def check_results(result, asset: str) -> dict:
    """check name -> evaluation, for the single-partition runs of this module."""
    key = AssetKey(["nba_raw", asset])
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == key}


@pytest.fixture(scope="module")
def logs() -> pd.DataFrame:
    return pd.read_parquet(PARQUET_PATH)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every scraper and raw table for 2023-11-01 (one run), then for 2023-12-24..26 as one
    ranged run, into one temp home and one instance."""
    home = tmp_path_factory.mktemp("home")
    resources = make_resources(home)
    instance = DagsterInstance.ephemeral()
    single = run(resources, instance, day=DAY)
    assert single.success
    ranged = run(resources, instance, days=RANGE)
    assert ranged.success
    yield home, resources, instance, single, ranged
    instance.dispose()


def assert_matches_logs(home, day: str, real: pd.DataFrame) -> None:
    """The raw tables of `day` against the real game logs of that date."""
    players = table(home, "nbac_player_boxscore", day)
    assert len(players) == len(real)
    merged = players.merge(real, left_on=["nba_game_id", "player_id"], right_on=["GAME_ID", "PLAYER_ID"])
    assert len(merged) == len(real)
    for mine, theirs in (("points", "PTS"), ("assists", "AST"), ("total_rebounds", "REB"),
                         ("plus_minus", "PLUS_MINUS"), ("minutes_decimal", "MIN"),
                         ("three_pointers_made", "FG3M"), ("turnovers", "TOV"), ("team_abbr", "TEAM_ABBREVIATION")):
        assert (merged[mine].astype(str) == merged[theirs].astype(players[mine].dtype).astype(str)).all(), mine
    schedule = table(home, "nbac_schedule", day)
    assert set(schedule.nba_game_id) == set(real.GAME_ID)
    final = pd.concat([
        schedule.set_index(["game_id", "home_team_tricode"]).home_team_score,
        schedule.set_index(["game_id", "away_team_tricode"]).away_team_score]).sort_index()
    final.index.names = ["game_id", "team_abbr"]
    assert len(final) == 2 * real.GAME_ID.nunique()
    real_team_points = real.groupby("GAME_ID").PTS.sum().sum()
    assert final.sum() == real_team_points
    for name in ("nbac_player_boxscore", "nbap_player_traditional", "bdl_player_boxscores"):
        sums = table(home, name, day).groupby(["game_id", "team_abbr"]).points.sum().sort_index()
        assert (sums == final).all(), name  # team points = sum of player points
    for name, column in (("nbac_team_boxscore", "points"), ("nbap_team_traditional", "points"),
                         ("nbac_game_summary", "points"), ("bdl_team_boxscores", "points")):
        teams = table(home, name, day).set_index(["game_id", "team_abbr"])[column].sort_index()
        assert (teams == final).all(), name
    pbp = table(home, "nbac_play_by_play", day)
    last = pbp.sort_values("event_sequence").groupby("game_id").tail(1).set_index("game_id")
    assert (last.score_home.sort_index() == schedule.set_index("game_id").home_team_score.sort_index()).all()
    assert pbp.player_1_lookup.notna().sum() == pbp.player_1_id.notna().sum()


def test_single_date_matches_the_real_logs(built, logs):
    home, _, _, single, _ = built
    real = logs[logs.GAME_DATE == DAY]
    assert len(real) == 279
    assert_matches_logs(home, DAY, real)
    scraped = single.asset_materializations_for_node("nbac_team_boxscore")[0].metadata
    assert (scraped["games"].value, scraped["requests"].value, scraped["retries"].value) == (13, 13, 0)
    assert scraped["bytes"].value > 0 and scraped["seconds"].value >= 0
    raw_meta = single.asset_materializations_for_node("nba_raw__nbac_player_boxscore")[0].metadata
    assert (raw_meta["rows"].value, raw_meta["games"].value) == (279, 13)


def test_ranged_run_in_one_run_with_an_off_day(built, logs, tmp_path):
    home, _, instance, _, ranged = built
    materialized = {(e.asset_key, e.partition) for e in ranged.get_asset_materialization_events()}
    assert len(materialized) == 3 * (22 + 21)  # every lake and raw asset, every date of the range
    for day in ("2023-12-25", "2023-12-26"):
        assert_matches_logs(home, day, logs[logs.GAME_DATE == day])
    assert not list((home / "lake" / "nba-com" / "team-boxscore").glob(f"{OFF_DAY}/*"))
    assert (home / "lake" / "nba-com" / "schedule" / OFF_DAY / "schedule.json").is_file()
    for spec in RAW_TABLES:
        assert table(home, spec.name, OFF_DAY).empty, spec.name
    off = [e for e in ranged.get_asset_check_evaluations() if e.partition == OFF_DAY]
    assert len(off) == sum(len(a.check_keys) for a in ALL_ASSETS)  # one result per check and date
    assert all(e.passed for e in off)


def test_every_raw_table_and_check_for_every_date(built):
    home, _, instance, _, _ = built
    for spec in RAW_TABLES:
        df = table(home, spec.name)
        assert len(df) > 0, spec.name
        assert list(df.columns) == [c.name for c in spec.cols], spec.name
        assert not df.duplicated(list(spec.keys)).any(), spec.name
        names = ["partition_ok", *(c.name for c in raw_checks.raw_check_defs(
            grain=spec.grain, keys=spec.keys, not_null=spec.not_null, points=spec.points,
            distribution=spec.distribution))]
        check_keys = [AssetCheckKey(AssetKey(["nba_raw", spec.name]), n) for n in names]
        records = instance.event_log_storage.get_asset_check_partition_info(
            check_keys, partition_keys=[DAY, *RANGE, "2023-12-25"])
        assert len(records) == 4 * len(check_keys), spec.name
        assert {r.latest_execution_status.value for r in records} == {"SUCCEEDED"}, spec.name
    teams = table(home, "nbac_team_boxscore")
    assert len(teams) == 2 * (13 + 5 + 9) and teams.minutes.str.endswith(":00").all()


# One table per grain and parser family (re-running all 21 costs ~3x the time, same code path).
REMATERIALIZED = [spec for spec in RAW_TABLES if spec.name in (
    "nbac_schedule", "nbac_player_boxscore", "nbac_team_boxscore", "nbac_play_by_play",
    "nbap_player_traditional", "bdl_player_boxscores")]


def test_rematerializing_a_date_replaces_exactly_its_rows(built):
    home, resources, instance, _, _ = built
    before = {spec.name: table(home, spec.name) for spec in REMATERIALIZED}
    result = run(resources, instance, day=DAY,
                 selection=[AssetKey(["nba_raw", spec.name]) for spec in REMATERIALIZED])
    assert result.success
    for spec in REMATERIALIZED:
        after = table(home, spec.name)
        old = before[spec.name]
        assert len(after) == len(old), spec.name
        assert not after.duplicated(list(spec.keys)).any(), spec.name
        cols = [c for c in after.columns if c != "processed_at"]
        a = after[cols].sort_values(list(spec.keys)).reset_index(drop=True)
        b = old[cols].sort_values(list(spec.keys)).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
        day = pd.to_datetime(after.game_date).dt.strftime("%Y-%m-%d")
        rewritten = after[day == DAY].processed_at.min()
        assert rewritten > old.processed_at.max(), spec.name  # 11-01 rewritten ...
        assert (after[day != DAY].processed_at <= old.processed_at.max()).all(), spec.name  # ... alone


def _copy_home(home, tmp_path):
    copy = tmp_path / "home"
    shutil.copytree(home / "lake", copy / "lake")
    shutil.copy(home / "warehouse.duckdb", copy / "warehouse.duckdb")
    return copy


def test_malformed_landed_json_fails_only_its_date_naming_the_object(built, tmp_path):
    home = _copy_home(built[0], tmp_path)
    resources = make_resources(home)
    before = table(home, "nbac_team_boxscore")
    bad = sorted((home / "lake" / "nba-com" / "team-boxscore" / "2023-12-26").glob("*.json"))[1]
    bad.write_text(bad.read_text()[:500])  # truncated
    with DagsterInstance.ephemeral() as instance:
        result = run(resources, instance, days=("2023-12-25", "2023-12-26"),
                     selection=[AssetKey(["nba_raw", "nbac_schedule"]), AssetKey(["nba_raw", "nbac_team_boxscore"])],
                     raise_on_error=False)
        key = AssetKey(["nba_raw", "nbac_team_boxscore"])
        assert instance.get_materialized_partitions(key) == {"2023-12-25"}  # the good date is done
    assert not result.success
    message = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE") \
        .event_specific_data.error.message
    assert "nba_raw/nbac_team_boxscore: 1 of 2 partitions not written" in message
    assert f"2023-12-26: landed object nba-com/team-boxscore/2023-12-26/{bad.name}" in message
    assert "not valid JSON" in message and "re-scrape to recover: nba_lake/nbac_team_boxscore:2023-12-26" in message
    after = table(home, "nbac_team_boxscore")
    def day(frame):
        return pd.to_datetime(frame.game_date).dt.strftime("%Y-%m-%d")

    assert (day(before) == "2023-12-26").sum() == 18
    assert not (day(after) == "2023-12-26").any()  # the bad date holds no rows
    kept = before[day(before) != "2023-12-26"]
    cols = [c for c in after.columns if c != "processed_at"]
    pd.testing.assert_frame_equal(after[cols].sort_values(["game_id", "team_abbr"]).reset_index(drop=True),
                                  kept[cols].sort_values(["game_id", "team_abbr"]).reset_index(drop=True))

    body = json.loads((built[0] / bad.relative_to(home)).read_text())
    body["boxScoreTraditional"]["awayTeam"]["statistics"]["points"] = "many"
    bad.write_text(json.dumps(body))
    with DagsterInstance.ephemeral() as instance:
        result = run(resources, instance, day="2023-12-26",
                     selection=[AssetKey(["nba_raw", "nbac_schedule"]), AssetKey(["nba_raw", "nbac_team_boxscore"])],
                     raise_on_error=False)
    message = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE") \
        .event_specific_data.error.message
    assert "malformed landed object" in message
    assert "boxScoreTraditional.awayTeam.statistics.points" in message
    assert not (day(table(home, "nbac_team_boxscore")) == "2023-12-26").any()


def test_duplicated_rows_fail_keys_unique_and_points_match(built, tmp_path):
    home = _copy_home(built[0], tmp_path)
    folder = home / "lake" / "nba-com" / "player-boxscores" / "2023-12-25"
    shutil.copy(folder / "regular-season.json", folder / "regular-season-again.json")
    with DagsterInstance.ephemeral() as instance:
        result = run(make_resources(home), instance, day="2023-12-25",
                     selection=[AssetKey(["nba_raw", "nbac_schedule"]), AssetKey(["nba_raw", "nbac_player_boxscore"])],
                     raise_on_error=False)
    checks = check_results(result, "nbac_player_boxscore")
    assert not checks["keys_unique"].passed and checks["keys_unique"].metadata["duplicate_rows"].value == 2 * 98
    assert not checks["points_match"].passed
    assert checks["games_complete"].passed


def test_a_value_that_does_not_fit_its_column_fails_only_its_date(built):
    """The range is conformed in one pass; a value that does not fit fails the date it came from
    (named, with the lake partition to re-scrape) and only that date."""
    from dataclasses import replace
    from types import SimpleNamespace

    from nba_backfill.assets.core import run_range
    from nba_backfill.assets.raw.factory import table_spec
    from nba_backfill.partitions import DAILY_PARTITIONS

    home, resources = built[0], built[1]
    spec = next(s for s in RAW_TABLES if s.name == "nbac_team_boxscore")
    column = next(c.name for c in spec.cols if c.type == "INT64" and c.name not in spec.not_null)
    days = [k for k in DAILY_PARTITIONS.get_partition_keys() if RANGE[0] <= k <= RANGE[1]]
    last = days[-1]

    def corrupted(objects, ctx):
        rows = spec.parse(objects, ctx)
        if ctx.day.isoformat() == last:
            rows[-1][column] = "many"
        return rows

    frames = {"schedule": table(home, "nbac_schedule")}
    context = SimpleNamespace(resources=SimpleNamespace(lake=resources["lake"]))
    clean = run_range(table_spec(spec), days, frames, context=context)
    assert len(clean.frame) == 2 * (5 + 9) and clean.computed.step_metadata["objects_read"] == 5 + 9
    assert all(o.ok for o in clean.outcomes.values())
    assert list(clean.checks["games_complete"]) == days and all(o.passed for o in clean.checks["games_complete"].values())
    bad = run_range(table_spec(replace(spec, parse=corrupted)), days, frames, context=context)
    assert [k for k, o in bad.outcomes.items() if not o.ok] == [last]
    cause = bad.outcomes[last].causes[0]
    assert cause.kind.value == "landed_object_malformed"
    assert f"{last}: rows do not fit the declared column types" in cause.text
    assert cause.refetch == (f"nba_lake/nbac_team_boxscore:{last}",)
    assert len(bad.frame) == 2 * 5  # the other game day is written
    assert set(bad.frame["game_date"].map(str)) == {d for d in days if d != last} & set(clean.frame["game_date"].map(str))
