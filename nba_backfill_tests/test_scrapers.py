"""Phase 1 scrapers against the offline source: layout, retries, failures, completeness."""

import json

import pytest
from dagster import AssetKey, materialize

from nba_backfill.assets import raw, scrapers
from nba_backfill.assets.scrapers.specs import SCRAPER_BY_NAME, SCRAPERS, ScraperSpec
from nba_backfill.assets.raw.specs import RAW_TABLES, RawSpec
from nba_backfill.assets.raw.parsers import gamelog

DAY = "2023-11-02"  # 4 games: 0022300128..0022300131
GAMES = ["0022300128", "0022300129", "0022300130", "0022300131"]
ALL_ASSETS = [*scrapers.assets, *raw.assets]


def lake(*names):
    return [AssetKey(["nba_lake", n]) for n in names]


def raw_keys(*names):
    return [AssetKey(["nba_raw", n]) for n in names]


def run(resources, instance, selection, day=DAY):
    return materialize(ALL_ASSETS, partition_key=day, selection=selection, resources=resources,
                       instance=instance, raise_on_error=False)


def failure_message(result) -> str:
    return next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE") \
        .event_specific_data.error.message


def checks_of(result, layer, name):
    return {e.check_name: e for e in result.get_asset_check_evaluations()
            if e.asset_key == AssetKey([layer, name])}


def test_one_spec_per_fetch_and_22_lake_assets():
    names = [n for spec in SCRAPERS for n in spec.names]
    assert len(names) == len(set(names)) == 22
    assert sum(len(a.keys) for a in scrapers.assets) == 22
    pairs = [spec for spec in SCRAPERS if len(spec.names) == 2]
    assert {s.endpoint for s in pairs} == {
        "boxscoretraditionalv2", "boxscoreadvancedv3", "boxscoremiscv3", "boxscorescoringv3",
        "boxscoreusagev3", "boxscoredefensivev2", "boxscoreplayertrackv3"}
    for asset in scrapers.assets:
        assert asset.op.pool == "nba_api"
        assert asset.backfill_policy.max_partitions_per_run == 30
    assert {s.name for s in RAW_TABLES} == set(names) - {"bdl_games"}


def test_bad_specs_raise_at_load():
    with pytest.raises(ValueError, match="unknown plan"):
        ScraperSpec(names=("x",), endpoint="e", plan="nope", lake_kind="nba-com/x", description="")
    with pytest.raises(ValueError, match="not lower snake case"):
        ScraperSpec(names=("Bad-Name",), endpoint="e", plan="bdl_date", lake_kind="nba-com/x",
                    description="")
    with pytest.raises(ValueError, match=r"columns \['points'\] are not declared"):
        RawSpec(name="t", lake="nbac_player_boxscore", parse=gamelog.parse_player_gamelog,
                cols=tuple(c for c in gamelog.COLS if c.name != "points"), grain="player",
                keys=("game_id", "player_id"), not_null=("game_id", "player_id"), description="",
                points="points")
    with pytest.raises(ValueError, match="no scraper named"):
        RawSpec(name="t", lake="bdl_nothing", parse=gamelog.parse_player_gamelog,
                cols=gamelog.COLS, grain="player", keys=("game_id",), not_null=("game_id",),
                description="")


def test_lands_real_layout_and_one_fetch_serves_a_pair(local_resources, dagster_instance, tmp_path):
    result = run(local_resources, dagster_instance,
                 lake("nbac_schedule", "nbap_player_advanced", "nbap_team_advanced", "bdl_player_boxscores"))
    assert result.success
    root = tmp_path / "lake"
    assert sorted(p.name for p in (root / "nba-com/boxscore-advanced-v3" / DAY).iterdir()) == [
        f"{g}.json" for g in GAMES]
    schedule = json.loads((root / "nba-com/schedule" / DAY / "schedule.json").read_text())
    assert {g["gameId"] for d in schedule["leagueSchedule"]["gameDates"] for g in d["games"]} == set(GAMES)
    assert (root / "ball-dont-lie/player-box-scores" / DAY / "page-001.json").is_file()
    player = result.asset_materializations_for_node("boxscoreadvancedv3_scraper")
    meta = {m.asset_key.path[-1]: m.metadata for m in player}
    assert set(meta) == {"nbap_player_advanced", "nbap_team_advanced"}
    assert meta["nbap_player_advanced"]["requests"].value == 4  # one request per game serves both
    assert meta["nbap_team_advanced"]["games"].value == 4
    landed = checks_of(result, "nba_lake", "nbap_team_advanced")["files_landed"]
    assert landed.passed and landed.metadata["games_landed"].value == 4


def test_retried_503_is_recorded(local_resources, dagster_instance, offline_faults):
    offline_faults([{"kind": "status", "status": 503, "endpoint": "boxscoretraditionalv3",
                     "game_id": GAMES[2], "times": 1}])
    result = run(local_resources, dagster_instance, lake("nbac_schedule", "nbac_team_boxscore"))
    assert result.success
    meta = result.asset_materializations_for_node("nbac_team_boxscore")[0].metadata
    assert (meta["requests"].value, meta["retries"].value, meta["games"].value) == (4, 1, 4)


def test_persistent_500_fails_naming_date_endpoint_game_status_and_lands_nothing(
        local_resources, dagster_instance, offline_faults, tmp_path):
    prefix = tmp_path / "lake/nba-com/boxscore-misc-v3" / DAY
    assert run(local_resources, dagster_instance, lake("nbac_schedule", "nbap_player_misc", "nbap_team_misc")).success
    landed = {p.name: p.read_bytes() for p in prefix.iterdir()}
    offline_faults([{"kind": "status", "status": 500, "endpoint": "boxscoremiscv3", "game_id": GAMES[1]}])
    result = run(local_resources, dagster_instance, lake("nbap_player_misc", "nbap_team_misc"))
    assert not result.success
    message = failure_message(result)
    for part in (f"partition {DAY}", "boxscoremiscv3", f"game {GAMES[1]}", "HTTP status 500"):
        assert part in message
    assert {p.name: p.read_bytes() for p in prefix.iterdir()} == landed  # old objects untouched

    fresh = "2023-11-03"
    run(local_resources, dagster_instance, lake("nbac_schedule"), day=fresh)
    offline_faults([{"kind": "status", "status": 500, "endpoint": "boxscoremiscv3", "date": fresh}])
    failed = run(local_resources, dagster_instance, lake("nbap_player_misc", "nbap_team_misc"), day=fresh)
    assert not failed.success and f"partition {fresh}" in failure_message(failed)
    assert not (tmp_path / "lake/nba-com/boxscore-misc-v3" / fresh).exists()


def test_truncated_body_fails_as_a_truncated_response_not_as_no_http_status(
        local_resources, dagster_instance, offline_faults):
    assert run(local_resources, dagster_instance, lake("nbac_schedule")).success
    offline_faults([{"kind": "truncated", "endpoint": "boxscoremiscv3", "game_id": GAMES[1]}])
    result = run(local_resources, dagster_instance, lake("nbap_player_misc", "nbap_team_misc"))
    assert not result.success
    message = failure_message(result)
    assert f"game {GAMES[1]} with HTTP status 200: truncated response: " in message
    assert "bytes received, the JSON document ends early" in message
    assert "HTTP status none" not in message


def test_scraper_without_landed_schedule_names_the_missing_step(local_resources, dagster_instance):
    result = run(local_resources, dagster_instance, lake("nbac_game_summary"))
    assert not result.success
    assert "materialize nba_lake/nbac_schedule for 2023-11-02 first" in failure_message(result)


def test_dropped_game_fails_games_complete_and_blocks_downstream_runs(
        local_resources, dagster_instance, offline_faults, tmp_path):
    dropped = GAMES[3]
    offline_faults([{"kind": "drop_game", "endpoint": ["leaguegamelog", "bdl_box_scores"],
                     "game_id": dropped}])
    first = run(local_resources, dagster_instance,
                lake("nbac_schedule", "nbac_player_boxscore", "nbac_play_by_play", "bdl_team_boxscores")
                + raw_keys("nbac_schedule", "nbac_player_boxscore", "bdl_team_boxscores"))
    assert not first.success  # a failed blocking check fails its step
    schedule = json.loads((tmp_path / "lake/nba-com/schedule" / DAY / "schedule.json").read_text())
    game = next(g for d in schedule["leagueSchedule"]["gameDates"] for g in d["games"] if g["gameId"] == dropped)
    code = f"{DAY.replace('-', '')}_{game['awayTeam']['teamTricode']}_{game['homeTeam']['teamTricode']}"
    complete = checks_of(first, "nba_raw", "nbac_player_boxscore")["games_complete"]
    assert not complete.passed and code in complete.description
    assert complete.metadata["offending_sample"].value == code
    assert complete.metadata["games_missing"].value == 1
    bdl = checks_of(first, "nba_raw", "bdl_team_boxscores")["games_complete"]
    assert not bdl.passed and code in bdl.description
    lake_check = checks_of(first, "nba_lake", "bdl_team_boxscores")["files_landed"]
    assert not lake_check.passed and lake_check.metadata["offending_sample"].value == dropped

    offline_faults([])
    blocked = run(local_resources, dagster_instance, raw_keys("nbac_play_by_play"))
    assert not blocked.success  # the blocked date fails its step, naming why
    upstream = checks_of(blocked, "nba_raw", "nbac_play_by_play")["partition_ok"]
    assert not upstream.passed
    assert upstream.description.startswith("blocked: nba_raw/nbac_player_boxscore [2023-11-02] failed "
                                           "blocking check partition_ok (failed, landed_object_missing: "
                                           "check games_complete"), upstream.description
    assert code in upstream.description  # the root cause names the dropped game
    assert not blocked.asset_materializations_for_node("nba_raw__nbac_play_by_play")
    assert "2023-11-02" not in dagster_instance.get_materialized_partitions(AssetKey(["nba_raw", "nbac_play_by_play"]))
