"""The user's flow in the Dagster UI: backfill a partition range, read check results, inject a
source fault, re-materialize a stale partition — every action a click in real Chromium; GraphQL
only confirms what the UI showed.

Dates come from the season calendar: the first three in-season days of 2024-25 are backfilled.
Every lookback window is cut at the season opener (`partitions.window_start`), so those three
days hold complete windows for every phase and the backfill completes (later dates need their
30-60 day history first, else the blocking `lookback_complete` checks stop Phase 3/4).
The fourth day is the faulted one.

The flow starts on the raw team box score's Partitions view (the three days missing), and the
backfill is launched from the `nba_pipeline` job's "Materialize all…": a job backfill, one ranged
in-process run for every asset over the three days. The other way to the same dialog — an
asset's Lineage tab, Downstream, "Materialize all…" — launches an *asset* backfill, which
follows the lookback mappings downstream and widens three days to ~590 asset-partitions up to
two months ahead, most of them without their upstream days (README, "Using the UI").
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from nba_backfill.assets.common import game_code
from nba_backfill.layers import ANALYTICS, LAKE, PRECOMPUTE, PREDICTIONS, RAW
from nba_backfill.partitions import season_keys
from nba_backfill.seasons import season_by_label
from nba_backfill.source import OfflineNbaSource
from nba_backfill_tests.browser import gql
from nba_backfill_tests.browser.conftest import CURRENT_SEASON, new_page
from nba_backfill_tests.browser.pages import (
    LONG_UI_MS,
    choose_partitions,
    launch_backfill,
    launch_dialog,
    launch_one_run,
    open_asset_tab,
    open_job,
    select_partition,
    status_counts,
)

DAYS = season_keys(season_by_label(CURRENT_SEASON))[:4]
BACKFILL_DAYS = DAYS[:3]
CHECKED_DAY, STALE_DAY, FAULT_DAY = DAYS[1], DAYS[2], DAYS[3]
BACKFILL_RANGE = f"[{BACKFILL_DAYS[0]}...{BACKFILL_DAYS[-1]}]"

JOB = "nba_pipeline"
RAW_TEAM_BOX = f"{RAW}/nbac_team_boxscore"
TEAM_OFFENSE = f"{ANALYTICS}/team_offense_game_summary"
ONE_PER_PHASE = [
    f"{LAKE}/nbac_team_boxscore",
    RAW_TEAM_BOX,
    f"{ANALYTICS}/player_game_summary",
    f"{PRECOMPUTE}/ml_feature_store_v2",
    f"{PREDICTIONS}/player_prop_predictions",
]
GAMES_COMPLETE = "games_complete"

BACKFILL_TIMEOUT_S = float(os.environ.get("NBA_BACKFILL_UI_BACKFILL_TIMEOUT", "1200"))
RUN_TIMEOUT_S = float(os.environ.get("NBA_BACKFILL_UI_RUN_TIMEOUT", "600"))


def _open_partitions(page, base_url: str, asset: str, selection: str, total: int) -> dict[str, int]:
    """An asset's Partitions view narrowed to `selection`; returns its status counts."""
    open_asset_tab(page, base_url, asset, "Partitions")
    field = page.get_by_placeholder(re.compile(r"^ex: "))
    field.fill(selection)
    field.press("Enter")
    expect(page.get_by_text(f"{total} Partitions Selected", exact=True)).to_be_visible()
    return status_counts(page, total)


@functools.cache
def _games(day: str) -> list[dict]:
    """The games the offline source serves for `day` (the bundled real schedule)."""
    return OfflineNbaSource().games_on(day)


def _open_check_partition(page, base_url: str, asset: str, check: str, day: str) -> str:
    """Checks tab -> the check -> its Partitions tab -> the day; returns the page's text."""
    open_asset_tab(page, base_url, asset, "Checks")
    page.get_by_text(check, exact=True).first.click(timeout=LONG_UI_MS)
    page.locator("button[role=tab]").filter(has_text="Partitions").click()
    select_partition(page, "Filter by partition…", day)
    expect(page.get_by_text(re.compile(r"^View all historical executions \(\d+\)$"))).to_be_visible(
        timeout=LONG_UI_MS
    )
    expect(page.get_by_text("Metadata", exact=True)).to_be_visible()
    return page.inner_text("body")


def _materialize_one_partition(page, base_url: str, asset: str, day: str, dev) -> dict:
    """Partitions view -> "Materialize…" -> one partition -> "Launch 1 run"; waits for the run."""
    open_asset_tab(page, base_url, asset, "Partitions")
    dialog = launch_dialog(page, "Materialize…")
    choose_partitions(page, dialog, day, 1)
    run_id = launch_one_run(page, dialog)
    return gql.wait_for_run(dev, run_id, RUN_TIMEOUT_S)


@pytest.fixture(scope="module")
def backfilled(browser, dagster_ui, shots):
    """The three days backfilled through the UI, with every run finished."""
    context, page = new_page(browser)
    try:
        before = _open_partitions(page, dagster_ui.url, RAW_TEAM_BOX, BACKFILL_RANGE, 3)
        shots.take(page, "raw_partitions_before_backfill")
        assert before.get("Missing") == 3 and before.get("Materialized") == 0, before

        open_job(page, JOB)
        dialog = launch_dialog(page, "Materialize all…")
        expect(dialog.get_by_text(re.compile(r"materialize \d+ assets"))).to_be_visible()
        choose_partitions(page, dialog, BACKFILL_RANGE, 3)
        shots.take(page, "backfill_dialog_three_days")
        started = time.monotonic()
        backfill_id = launch_backfill(page, dialog)

        # The toast's "View" opens the backfill page; it is reloaded once the backfill is done.
        page.locator(f"a[href*='/runs/b/{backfill_id}']").filter(has_text="View").first.click()
        row = page.get_by_role("row").filter(has_text=f"{JOB}_partition_set")
        expect(row).to_be_visible(timeout=LONG_UI_MS)
        shots.take(page, "backfill_page_running")
        final = gql.wait_for_backfill(dagster_ui, backfill_id, BACKFILL_TIMEOUT_S)
        seconds = time.monotonic() - started
        (shots.folder / "backfill.json").write_text(
            json.dumps({"backfill": backfill_id, "days": BACKFILL_DAYS, "status": final.status,
                        "runs": final.run_statuses, "seconds_to_complete": round(seconds, 1)})
        )

        page.reload()
        expect(row).to_contain_text("100% completed", timeout=LONG_UI_MS)
        shots.take(page, "backfill_succeeded")
        summary = page.inner_text("body")
        # Partitions targeted / in progress / succeeded / failed, as the backfill page shows them.
        counts = [int(n) for n in re.findall(r"\b\d+\b", row.inner_text().split("completed")[-1])]
        return SimpleNamespace(
            id=backfill_id,
            final=final,
            seconds=seconds,
            ui_status=re.search(r"Status\s+(\w+)", summary).group(1),
            ui_counts=counts,
        )
    except Exception:
        page.screenshot(path=str(shots.folder / "FAILED_backfill.png"))
        raise
    finally:
        context.close()


def test_backfill_from_the_ui_materializes_three_days_in_every_phase(
    page, dagster_ui, backfilled, shots
):
    print(f"UI backfill {backfilled.id}: {backfilled.seconds:.0f}s from launch to completion")
    assert backfilled.final.status in {"COMPLETED", "COMPLETED_SUCCESS"}, backfilled.final
    assert sorted(backfilled.final.partition_names) == BACKFILL_DAYS
    assert backfilled.final.runs and set(backfilled.final.run_statuses.values()) == {"SUCCESS"}
    assert backfilled.ui_status == "Succeeded", backfilled.ui_status
    assert backfilled.ui_counts == [3, 0, 3, 0], backfilled.ui_counts

    assets = sorted(gql.asset_groups(dagster_ui))
    done = gql.materialized(dagster_ui, assets, BACKFILL_DAYS)
    missing = {
        asset: sorted(set(BACKFILL_DAYS) - days)
        for asset, days in done.items()
        if days != set(BACKFILL_DAYS)
    }
    assert not missing, f"partitions not materialized: {missing}"
    assert {a.split("/")[0] for a in assets} == {LAKE, RAW, ANALYTICS, PRECOMPUTE, PREDICTIONS}

    for asset in ONE_PER_PHASE:
        counts = _open_partitions(page, dagster_ui.url, asset, BACKFILL_RANGE, 3)
        shots.take(page, f"partitions_{asset.replace('/', '__')}")
        assert counts.get("Materialized") == 3 and counts.get("Missing") == 0, (asset, counts)


def test_checks_tab_shows_games_complete_passing(page, dagster_ui, backfilled, shots):
    games = _games(CHECKED_DAY)
    confirmed = gql.latest_check_result(dagster_ui, RAW_TEAM_BOX, GAMES_COMPLETE, CHECKED_DAY)
    assert confirmed and confirmed.passed, confirmed
    assert confirmed.metadata["games_expected"] == confirmed.metadata["games_present"] == len(games)

    text = _open_check_partition(page, dagster_ui.url, RAW_TEAM_BOX, GAMES_COMPLETE, CHECKED_DAY)
    shots.take(page, "check_games_complete_passed")
    assert re.search(r"\bPassed\b", text), text[:2000]
    assert re.search(rf"games_expected\s+{len(games)}\b", text), text[:2000]
    assert re.search(r"games_missing\s+0\b", text), text[:2000]


def test_source_fault_fails_only_its_date_naming_the_missing_game(
    page, dagster_ui, backfilled, shots
):
    dropped = _games(FAULT_DAY)[0]
    missing_code = game_code(FAULT_DAY, dropped["away"], dropped["home"])
    faults = dagster_ui.backfill_home / "offline_faults.json"
    faults.write_text(json.dumps([{"kind": "drop_game", "game_id": dropped["game_id"]}]))
    try:
        # The raw team box score and everything it reads (schedule + lake), for the faulted day.
        open_asset_tab(page, dagster_ui.url, RAW_TEAM_BOX, "Lineage")
        page.get_by_role("button", name="Upstream").click()
        page.get_by_role("button", name="All", exact=True).click()
        dialog = launch_dialog(page, "Materialize all…")
        expect(dialog.get_by_text("materialize 4 assets")).to_be_visible()
        choose_partitions(page, dialog, FAULT_DAY, 1)
        shots.take(page, "fault_day_materialize_dialog")
        run_id = launch_one_run(page, dialog)
        gql.wait_for_run(dagster_ui, run_id, RUN_TIMEOUT_S)
    finally:
        faults.unlink()

    # the faulted day is not written and not materialized: it is Failed, with its reason
    assert gql.materialized(dagster_ui, [RAW_TEAM_BOX], [FAULT_DAY])[RAW_TEAM_BOX] == set()
    verdict = gql.latest_check_result(dagster_ui, RAW_TEAM_BOX, "partition_ok", FAULT_DAY)
    assert verdict and not verdict.passed and missing_code in verdict.description, verdict
    open_asset_tab(page, dagster_ui.url, RAW_TEAM_BOX, "Partitions")
    expect(page.get_by_text("Failed (1)")).to_be_visible(timeout=30_000)
    shots.take(page, "partitions_fault_day_failed")
    confirmed = gql.latest_check_result(dagster_ui, RAW_TEAM_BOX, GAMES_COMPLETE, FAULT_DAY)
    assert confirmed and not confirmed.passed, confirmed
    assert missing_code in confirmed.description, confirmed

    text = _open_check_partition(page, dagster_ui.url, RAW_TEAM_BOX, GAMES_COMPLETE, FAULT_DAY)
    shots.take(page, "check_games_complete_failed_missing_game")
    assert re.search(r"\bFailed\b", text), text[:2000]
    assert f"missing games: {missing_code}" in text, text[:2000]
    assert re.search(r"games_missing\s+1\b", text), text[:2000]


def test_stale_partition_is_rematerialized_from_the_ui(page, dagster_ui, backfilled, shots):
    status, causes = gql.stale(dagster_ui, TEAM_OFFENSE, STALE_DAY)
    assert status == "FRESH", causes

    # An upstream change: the raw team box score of that day is materialized again.
    upstream = _materialize_one_partition(page, dagster_ui.url, RAW_TEAM_BOX, STALE_DAY, dagster_ui)
    assert upstream["status"] == "SUCCESS", upstream
    status, causes = gql.stale(dagster_ui, TEAM_OFFENSE, STALE_DAY)
    assert status == "STALE", causes
    assert any(
        c["category"] == "DATA"
        and "/".join(c["key"]["path"]) == RAW_TEAM_BOX
        and c["partitionKey"] == STALE_DAY
        for c in causes
    ), causes

    open_asset_tab(page, dagster_ui.url, TEAM_OFFENSE, "Partitions")
    select_partition(page, "Filter by name…", STALE_DAY)
    unsynced = page.get_by_text(re.compile(r"^Unsynced \(\d+\)$"))
    expect(unsynced).to_be_visible(timeout=LONG_UI_MS)
    unsynced.hover()  # the popover names the change and the upstream asset
    expect(page.get_by_text(re.compile(r"^1 upstream data version change$"))).to_be_visible()
    expect(page.get_by_text("nba_raw / nbac_team_boxscore", exact=True)).to_be_visible()
    expect(page.get_by_text("has a new data version", exact=True)).to_be_visible()
    shots.take(page, "stale_partition_upstream_data_changed")

    downstream = _materialize_one_partition(
        page, dagster_ui.url, TEAM_OFFENSE, STALE_DAY, dagster_ui
    )
    assert downstream["status"] == "SUCCESS", downstream
    status, causes = gql.stale(dagster_ui, TEAM_OFFENSE, STALE_DAY)
    assert status == "FRESH", causes

    open_asset_tab(page, dagster_ui.url, TEAM_OFFENSE, "Partitions")
    select_partition(page, "Filter by name…", STALE_DAY)
    # The detail shows the new materialization (its run) and no "Unsynced" tag any more.
    expect(page.get_by_text(downstream["id"][:8], exact=True)).to_be_visible(timeout=LONG_UI_MS)
    expect(page.get_by_text("Materialized", exact=True).first).to_be_visible()
    page.wait_for_timeout(2000)  # the staleness query answers after the partition detail
    expect(page.get_by_text(re.compile(r"^Unsynced \(\d+\)$"))).to_have_count(0)
    shots.take(page, "stale_partition_fresh_again")
