"""`nba-backfill needs` (the console script) against a real `dagster dev` over a small real slice.

One `dagster dev` for the project's assets (temporary DAGSTER_HOME and NBA_BACKFILL_HOME, offline
source). The slice is materialized for real into that instance and home, in this process, on the
2024-25 opener (two games), with two source faults: the team box score drops the date's games
(the lake object lands, `nba_raw/nbac_team_boxscore` fails its blocking `partition_ok`), and
play-by-play answers HTTP 500 (`nba_lake/nbac_play_by_play` fails to materialize). The CLI then
reads every status from the webserver.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from nba_backfill.resources.environment import local_resources
from nba_backfill.resources.nba_api import NbaApiClient
from nba_backfill_tests.conftest import TEST_BACKOFF_SECONDS, TEST_REQUESTS_PER_SECOND
from nba_backfill_tests.dagster_harness import dagster_dev

DAY = "2024-10-22"  # 2024-25 opener
NBA_BACKFILL = str(Path(sys.executable).with_name("nba-backfill"))
FAULTS = [
    {"kind": "drop_game", "endpoint": "boxscoretraditionalv3", "date": DAY},
    {"kind": "status", "status": 500, "endpoint": "playbyplay", "date": DAY},
]
SLICE = ("nba_lake/nbac_schedule", "nba_raw/nbac_schedule", "nba_lake/nbac_team_boxscore",
         "nba_raw/nbac_team_boxscore", "nba_lake/nbac_play_by_play")


def _materialize(home: Path, dagster_home: Path) -> dict[str, bool]:
    """Each asset of SLICE for DAY, one run each, into the instance the webserver serves."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from nba_backfill.definitions import defs
    resources = local_resources(home)
    resources["nba_api"] = NbaApiClient(
        mode="offline", offline_faults_file=str(home / "offline_faults.json"),
        requests_per_second=TEST_REQUESTS_PER_SECOND, backoff_initial_seconds=TEST_BACKOFF_SECONDS,
        backoff_max_seconds=TEST_BACKOFF_SECONDS * 10)
    (home / "offline_faults.json").write_text(json.dumps(FAULTS))
    success = {}
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        for name in SLICE:
            result = materialize(list(defs.assets), selection=[AssetKey(name.split("/"))], partition_key=DAY,
                                 resources=resources, instance=instance, raise_on_error=False)
            success[name] = result.success
    return success


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    with dagster_dev(tmp_path_factory.mktemp("needs"), module="nba_backfill_tests.dagster_harness",
                     attribute="home_definitions", wait_for_daemon=False) as running:
        yield running


@pytest.fixture(scope="module")
def sliced(dev):
    before = needs(dev, "nba_raw/nbac_schedule", DAY)
    success = _materialize(dev.backfill_home, dev.dagster_home)
    assert success == {name: name not in {"nba_raw/nbac_team_boxscore", "nba_lake/nbac_play_by_play"}
                       for name in SLICE}
    return before


def needs(dev, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([NBA_BACKFILL, "--url", dev.url, "needs", *args],
                          env=dev.env, capture_output=True, text=True, timeout=300)


def rows(out: str) -> dict[str, str]:
    """asset -> "<partitions>: <verdict>" of each asset line of the report (not the failed list)."""
    found = {}
    for line in out.split("Failed:\n", 1)[0].splitlines():
        if line.startswith("  nba_"):
            asset, rest = line.strip().split(None, 1)
            found[asset] = rest
    return found


def test_nothing_materialized_is_missing_and_exits_1(sliced):
    assert sliced.returncode == 1, sliced.stderr
    assert rows(sliced.stdout) == {"nba_lake/nbac_schedule": f"{DAY}: missing"}


def test_ok_missing_and_failed_down_to_the_scrapers(dev, sliced):
    result = needs(dev, "nba_analytics/team_offense_game_summary", DAY)
    assert result.returncode == 1, result.stdout + result.stderr
    assert rows(result.stdout) == {
        "nba_lake/nbac_schedule": f"{DAY}: ok",
        "nba_lake/nbac_team_boxscore": f"{DAY}: ok",  # landed; its check files_landed only warns
        "nba_lake/nbac_play_by_play": f"{DAY}: failed",
        "nba_lake/nbac_player_boxscore": f"{DAY}: missing",
        "nba_raw/nbac_schedule": f"{DAY}: ok",
        "nba_raw/nbac_team_boxscore": f"{DAY}: failed",
        "nba_raw/nbac_player_boxscore": f"{DAY}: missing",
        "nba_raw/nbac_play_by_play": f"{DAY}: missing",
    }
    assert "reads 8 partitions of 8 assets (every input, down to the scrapers" in result.stdout
    assert "  2 failed, 3 missing, 3 ok" in result.stdout
    failed = result.stdout.split("Failed:\n", 1)[1].splitlines()
    assert failed[0] == f"  nba_lake/nbac_play_by_play {DAY}: materialization failed"
    # partition_ok's own account: outcome and cause
    assert failed[1] == f"  nba_raw/nbac_team_boxscore {DAY}: failed: check games_complete: missing games: " \
                        "20241022_MIN_LAL, 20241022_NYK_BOS"


def test_direct_lists_only_the_inputs(dev, sliced):
    result = needs(dev, "nba_analytics/team_offense_game_summary", DAY, "--direct")
    assert result.returncode == 1
    assert rows(result.stdout) == {
        "nba_raw/nbac_schedule": f"{DAY}: ok",
        "nba_raw/nbac_team_boxscore": f"{DAY}: failed",
        "nba_raw/nbac_play_by_play": f"{DAY}: missing",
    }


def test_everything_ok_exits_0(dev, sliced):
    result = needs(dev, "nba_raw/nbac_schedule", DAY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(result.stdout) == {"nba_lake/nbac_schedule": f"{DAY}: ok"}


def test_windows_are_cut_at_the_opener(dev, sliced):
    """On the opener every history window of UTGC is empty; its schedule window D-30..D+7 keeps D..D+7."""
    result = needs(dev, "upcoming_team_game_context", DAY, "--direct")
    assert result.returncode == 1
    assert rows(result.stdout) == {
        "nba_raw/nbac_schedule": f"{DAY}..2024-10-29 (8): missing 2024-10-23..2024-10-29 (7); ok {DAY}"}


@pytest.mark.parametrize(("args", "message"), [
    (("nba_raw/no_such_table", DAY), "unknown asset 'nba_raw/no_such_table'"),
    (("nbac_schedule", DAY), "ambiguous: nba_lake/nbac_schedule, nba_raw/nbac_schedule"),
    (("nba_raw/nbac_schedule", "2024-13-01"), "bad date '2024-13-01'"),
    (("nba_raw/nbac_schedule", "2024-08-01"), "2024-08-01 is an off-season day"),
    (("nba_raw/nbac_schedule", "2019-11-01"), "2019-11-01 is outside the partitions"),
])
def test_bad_input_exits_2(dev, args, message):
    result = needs(dev, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stdout == ""
