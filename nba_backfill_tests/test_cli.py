"""`nba-backfill` (the console script) against a real `dagster dev` (webserver + daemon).

One `dagster dev` for the module (temporary DAGSTER_HOME and NBA_BACKFILL_HOME, offline source,
the project's assets with the in-process executor). Backfills launched by the CLI run through
the real daemon; their ids, exact per-asset ranges and progress are read back over GraphQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nba_backfill_tests.dagster_harness import CODE_VERSION_OVERRIDES, dagster_dev

DAY = "2024-10-22"  # 2024-25 opener: two games, every lookback window complete on its own
FINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
NBA_BACKFILL = str(Path(sys.executable).with_name("nba-backfill"))

BACKFILLS = "{ partitionBackfillsOrError(limit: 100) { ... on PartitionBackfills { results { id } } } }"
BACKFILL = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status assetSelection { path } } } }
"""
TARGET = """
query($id: String!, $key: AssetKeyInput!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { partitionsTargetedForAssetKey(assetKey: $key) { ranges { start end } } } } }
"""


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    with dagster_dev(
        tmp_path_factory.mktemp("cli"),
        module="nba_backfill_tests.dagster_harness",
        attribute="home_definitions",
        extra_env={"NBA_BACKFILL_CURRENT_SEASON": "2024-25"},
    ) as running:
        yield running


def nba(dev, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NBA_BACKFILL, "--url", dev.url, *args],
        env=dev.env, capture_output=True, text=True, timeout=600,
    )


def backfill_ids(dev) -> list[str]:
    return [b["id"] for b in dev.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"]]


def wait_for(dev, backfill_id: str, timeout: float = 900) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = dev.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]["status"]
        if status in FINAL:
            return status
        time.sleep(2)
    raise AssertionError(f"backfill {backfill_id} not finished in {timeout}s; log:\n{dev.log_tail()}")


def launch(dev, *args: str) -> str:
    result = nba(dev, "backfill", *args)
    assert result.returncode == 0, result.stderr
    backfill_id = result.stdout.strip()
    assert backfill_id in backfill_ids(dev)
    assert f"Launched backfill {backfill_id}" in result.stderr
    return backfill_id


def targeted(dev, backfill_id: str, asset: str):
    data = dev.graphql(TARGET, {"id": backfill_id, "key": {"path": asset.split("/")}})
    target = data["partitionBackfillOrError"]["partitionsTargetedForAssetKey"]
    return None if target is None else [(r["start"], r["end"]) for r in target["ranges"]]


@pytest.fixture(scope="module")
def first_backfill(dev):
    # preflight first: its warehouse probe must not race a running backfill for the DuckDB lock
    preflight = nba(dev, "preflight", "--from", DAY, "--to", DAY)
    backfill_id = launch(dev, "--from", DAY, "--to", DAY, "--phases", "1-2")
    return backfill_id, wait_for(dev, backfill_id), preflight


def test_preflight_passes_on_a_running_instance(first_backfill):
    preflight = first_backfill[2]
    assert preflight.returncode == 0, preflight.stdout + preflight.stderr
    lines = preflight.stdout.splitlines()
    for name in ("dagster", "daemon", "sources", "schedule", "warehouse", "lake"):
        assert any(line.startswith("PASS") and f" {name} " in line for line in lines), (name, lines)
    assert "2024-25: 1/1 days with games" in preflight.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backfill", "--from", DAY, "--to", DAY, "--assets", "nba_raw/no_such_table"],
         "unknown asset 'nba_raw/no_such_table'"),
        (["backfill", "--season", "2023-24", "--phases", "5"], "phase 5 (predictions) runs only"),
        (["backfill", "--season", "2031-32"], "unknown season '2031-32'"),
        (["backfill", "--from", "2024-10-25", "--to", DAY], "reversed range"),
        (["backfill", "--from", DAY, "--to", DAY, "--phases", "2-6"], "phase 6 does not exist"),
        (["stale", "--from", DAY, "--to", DAY, "--assets", "nope"], "unknown asset 'nope'"),
    ],
)
def test_bad_input_exits_2_and_launches_nothing(dev, args, message):
    before = backfill_ids(dev)
    result = nba(dev, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert result.stdout == ""
    assert backfill_ids(dev) == before


def test_backfill_targets_exact_ranges_and_completes(dev, first_backfill):
    backfill_id, status, _ = first_backfill
    assert status == "COMPLETED_SUCCESS", dev.log_tail()
    assert targeted(dev, backfill_id, "nba_lake/nbac_schedule") == [(DAY, DAY)]
    assert targeted(dev, backfill_id, "nba_raw/nbac_player_boxscore") == [(DAY, DAY)]
    selection = dev.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]["assetSelection"]
    assert {p["path"][0] for p in selection} == {"nba_lake", "nba_raw"}  # phases 1-2 only


def test_status_reports_progress_per_phase_and_season(dev, first_backfill):
    backfill_id = first_backfill[0]
    result = nba(dev, "status", backfill_id)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"Backfill {backfill_id}  COMPLETED_SUCCESS" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isdigit()}
    assert rows["1"][1] == "nba_lake" and rows["1"][3] == rows["1"][4] and rows["1"][5] == "0"
    assert rows["2"][1] == "nba_raw" and rows["2"][3] == rows["2"][4] and rows["2"][5] == "0"
    assert any(line.startswith("2024-25") for line in out.splitlines())
    assert "No failed partitions." in out
    latest = nba(dev, "status")
    assert latest.returncode == 0 and f"Backfill {backfill_id}" in latest.stdout


def test_only_missing_or_failed_skips_done_partitions(dev, first_backfill):
    before = backfill_ids(dev)
    result = nba(dev, "backfill", "--from", DAY, "--to", DAY, "--phases", "1-2", "--only-missing-or-failed")
    assert result.returncode == 0, result.stderr
    assert "Nothing to backfill" in result.stderr and result.stdout == ""
    assert backfill_ids(dev) == before


def test_stale_after_a_code_version_bump_lists_and_relaunches(dev, first_backfill):
    assert "0 stale partitions" in nba(dev, "stale", "--from", DAY, "--to", DAY).stdout
    # a logic change: nba_raw/nbac_schedule gets a new code version
    (dev.backfill_home / CODE_VERSION_OVERRIDES).write_text(json.dumps({"nba_raw/nbac_schedule": "2-test"}))
    dev.reload_location()

    # the sensor `stale_partitions` marks them at its next tick (through a mark_stale run)
    deadline = time.monotonic() + 240
    while (listed := nba(dev, "stale", "--from", DAY, "--to", DAY, "--limit", "500")).returncode == 3:
        assert time.monotonic() < deadline, "the stale_partitions sensor (and its mark_stale run) marked nothing within 240 s"
        time.sleep(3)
    assert listed.returncode == 0, listed.stderr
    causes = {
        (line.split()[0], line.split()[1].rstrip(":")): line.split(":", 1)[1]
        for line in listed.stdout.splitlines()[1:]
        if line.startswith("  nba_")
    }
    assert ("nba_raw/nbac_schedule", DAY) in causes, listed.stdout
    assert "code version" in causes[("nba_raw/nbac_schedule", DAY)].lower()
    assert {asset.split("/")[0] for asset, _ in causes} == {"nba_raw"}  # nothing upstream of it
    assert {day for _, day in causes} == {DAY}

    relaunch = nba(dev, "stale", "--from", DAY, "--to", DAY, "--launch")
    assert relaunch.returncode == 0, relaunch.stderr
    backfill_id = relaunch.stdout.strip().splitlines()[-1]
    assert wait_for(dev, backfill_id) == "COMPLETED_SUCCESS"
    selection = dev.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]["assetSelection"]
    assert {"/".join(p["path"]) for p in selection} == {asset for asset, _ in causes}
    assert targeted(dev, backfill_id, "nba_raw/nbac_schedule") == [(DAY, DAY)]
    fresh = nba(dev, "stale", "--from", DAY, "--to", DAY)
    assert fresh.returncode == 3 and "0 stale partitions" in fresh.stdout  # 3: nothing is stale
    nothing = nba(dev, "stale", "--launch")
    assert (nothing.returncode, nothing.stdout) == (3, "")  # scripts get the id or nothing
