"""README's UI tour on a fresh instance, step by step, in real Chromium: every action is a click
(or a config pasted into the Launchpad); GraphQL only confirms what the UI showed and waits.

The dates come from the offline default's current season (2024-25): its opener D0 = 2024-10-22.
1. Lineage: the global graph shows the five layers in data-flow order; ml_feature_store_v2's page
   lists the windows it reads for a partition D.
2. A mid-season range D2..D3 (2024-10-24..25), phases 1-4, through Jobs -> backfill ->
   Launchpad: without history the run fails naming the range to add (D0..D1) and submits
   nothing; with `with_history: true` it records the preview and submits one backfill of
   D0..D3, which Runs -> Backfills shows completing.
3. Checks: nba_raw/nbac_team_boxscore's blocking games_complete / partition_ok passed for D1.
4. A fault: one game of D4 (2024-10-26) dropped at the source, phases 1-2 of D4 through the
   backfill job: only D4 fails (Partitions: Failed (1)); partition_ok names the missing game.
5. A stale partition refreshed: +2 points for one player of a D1 game at the source
   (`python -m nba_backfill.source correct`), phase 1 of D1 re-scraped through the backfill job;
   the `stale_partitions` sensor marks what read it (up_to_date, WARN, failed with its cause:
   player_game_summary D1, player_daily_cache D2..D3); Jobs -> refresh_stale -> Launch Run
   submits one backfill of the stale set; afterwards no up_to_date fails.

Each step's screenshots are numbered in test-artifacts/browser/; README's pictures are saved in
docs/img/ui-tour/ (see TOUR_SHOTS).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from nba_backfill.assets.common import game_code
from nba_backfill.layers import ANALYTICS, LAKE, PRECOMPUTE, RAW
from nba_backfill.partitions import all_partition_keys, season_keys
from nba_backfill.seasons import current_season, season_by_label
from nba_backfill.source import OfflineNbaSource
from nba_backfill.source.data_store import get_store
from nba_backfill_tests.browser import gql
from nba_backfill_tests.browser.conftest import CURRENT_SEASON, new_page
from nba_backfill_tests.browser.lineage import LAYERS, wait_for_graph
from nba_backfill_tests.browser.pages import (
    LONG_UI_MS,
    edit_config,
    full_failure_message,
    launch_run,
    open_asset_tab,
    open_backfill,
    open_check,
    open_check_partition,
    open_check_partitions,
    open_global_lineage,
    open_launchpad,
    select_partition,
    status_counts,
    submitted_backfill,
    to_check_partitions_tab,
)

DAYS = season_keys(season_by_label(CURRENT_SEASON))[:5]
OPENER = DAYS[0]
RANGE = DAYS[2:4]  # mid-season for the windows: they read D0..D1
BACKFILLED = DAYS[:4]  # the range with its history
CHECKED_DAY = CORRECTED_DAY = DAYS[1]
FAULT_DAY = DAYS[4]
ALL_PARTITIONS = len(all_partition_keys())

BACKFILL_JOB, REFRESH_JOB = "backfill", "refresh_stale"
MLFS = f"{PRECOMPUTE}/ml_feature_store_v2"
PGS = f"{ANALYTICS}/player_game_summary"
PDC = f"{PRECOMPUTE}/player_daily_cache"
RAW_TEAM_BOX = f"{RAW}/nbac_team_boxscore"
LAYER_EDGES = [(LAKE, RAW), (RAW, ANALYTICS), (ANALYTICS, PRECOMPUTE), (PRECOMPUTE, LAYERS[-1])]

TOUR_SHOTS = {
    "lineage": "01-lineage",
    "windows": "02-asset-windows",
    "refused": "03-backfill-refused",
    "launchpad": "04-backfill-launchpad",
    "preview": "05-backfill-preview",
    "done": "06-backfill-done",
    "checks": "07-checks",
    "fault": "08-fault",
    "stale": "09-stale",
    "refresh": "10-refresh-stale",
    "refreshed": "11-refreshed",
}

BACKFILL_TIMEOUT_S = float(os.environ.get("NBA_BACKFILL_UI_BACKFILL_TIMEOUT", "1200"))
RUN_TIMEOUT_S = float(os.environ.get("NBA_BACKFILL_UI_RUN_TIMEOUT", "300"))
SENSOR_TIMEOUT_S = 180.0  # the stale_partitions sensor ticks every 15 s


def backfill_config(start: str, end: str, phases: str, with_history: bool = False) -> str:
    """The Launchpad config README shows for the backfill job."""
    return (
        "ops:\n"
        "  plan_and_submit_backfill:\n"
        "    config:\n"
        f'      start: "{start}"\n'
        f'      end: "{end}"\n'
        f'      phases: "{phases}"\n'
        f"      with_history: {str(with_history).lower()}\n"
        "      dry_run: false\n"
    )


def launch_backfill_job(page, dev, shots, config: str, shot: str, tour: str | None = None) -> str:
    """Jobs -> backfill -> Launchpad -> the config -> Launch Run; returns the run id."""
    open_launchpad(page, dev.url, BACKFILL_JOB)
    edit_config(page, config)
    shots.take(page, shot, tour)
    return launch_run(page)


def record(shots, name: str, **values) -> None:
    timings = shots.folder / "tour.json"
    data = json.loads(timings.read_text()) if timings.exists() else {}
    data[name] = values
    timings.write_text(json.dumps(data, indent=1))


@functools.cache
def _games(day: str) -> list[dict]:
    """The games the offline source serves for `day` (the bundled real schedule)."""
    return OfflineNbaSource().games_on(day)


# --- 1. lineage -----------------------------------------------------------------------------------


def test_1_lineage_shows_five_layers_and_an_assets_windows(page, dagster_ui, shots):
    counts = Counter(gql.asset_groups(dagster_ui).values())
    assert set(counts) == set(LAYERS), counts

    open_global_lineage(page, dagster_ui.url)
    view = wait_for_graph(
        page,
        lambda v: set(LAYERS) <= set(v.groups)
        and all(v.group_edge(a, b) for a, b in LAYER_EDGES)
        and not any("fetching" in box.label for box in v.groups.values()),
    )
    shots.take(page, "asset_graph_five_layers", TOUR_SHOTS["lineage"])
    assert sorted(view.groups) == sorted(LAYERS)
    for layer, box in view.groups.items():
        # a fresh instance: the box's status badge counts every asset of the layer as missing
        shown = re.fullmatch(rf"{layer}\s*(\d+)( assets?)?", box.label)
        assert shown and int(shown.group(1)) == counts[layer], (layer, box.label, counts[layer])
    for source, target in LAYER_EDGES:
        assert view.group_edge(source, target), f"no edge {source} -> {target} rendered"
    xs = [view.groups[layer].x for layer in LAYERS]
    assert xs == sorted(xs), dict(zip(LAYERS, xs))  # left to right in data-flow order

    open_asset_tab(page, dagster_ui.url, MLFS, "Overview")
    expect(page.get_by_text("Reads, for partition D:")).to_be_visible(timeout=LONG_UI_MS)
    windows = page.get_by_text(re.compile(r"^pgs ← nba_analytics/player_game_summary: "))
    windows.scroll_into_view_if_needed()
    shots.take(page, "mlfs_description_windows", TOUR_SHOTS["windows"])
    text = page.inner_text("body")
    assert re.search(
        r"pgs ← nba_analytics/player_game_summary: 60 in-season days before D "
        r"\(D-60\.\.D-1: up to 60 partitions, cut at the season opener\)", text
    ), text[:4000]
    assert "pdc ← nba_precompute/player_daily_cache: same date (D: 1 partition)" in text


# --- 2. a mid-season range through the backfill job ------------------------------------------------


@pytest.fixture(scope="module")
def backfilled(browser, dagster_ui, shots):
    """Step 2: the mid-season range refused without history, then backfilled with it."""
    assert current_season().label == CURRENT_SEASON
    context, page = new_page(browser)
    try:
        before = gql.backfill_ids(dagster_ui)
        run_id = launch_backfill_job(
            page, dagster_ui, shots, backfill_config(RANGE[0], RANGE[-1], "1-4"),
            "backfill_launchpad_without_history",
        )
        refused_run = gql.wait_for_run(dagster_ui, run_id, RUN_TIMEOUT_S)
        expect(page.get_by_text("Failure", exact=True).first).to_be_visible(timeout=LONG_UI_MS)
        refusal = full_failure_message(page)
        shots.take(page, "backfill_refused_names_history", TOUR_SHOTS["refused"])
        page.keyboard.press("Escape")
        refused_backfills = gql.backfill_ids(dagster_ui) - before

        run_id = launch_backfill_job(
            page, dagster_ui, shots, backfill_config(RANGE[0], RANGE[-1], "1-4", with_history=True),
            "backfill_launchpad_with_history", TOUR_SHOTS["launchpad"],
        )
        started = time.monotonic()
        backfill_id = submitted_backfill(page)
        plan_run = gql.wait_for_run(dagster_ui, run_id, RUN_TIMEOUT_S)
        page.get_by_text("Show Markdown").first.click()  # the output's `preview` metadata
        preview = page.get_by_role("dialog")
        history_row = f"{PGS} {BACKFILLED[0]}..{BACKFILLED[-1]} {len(BACKFILLED)} {len(DAYS[:2])}"
        expect(preview.get_by_role("row", name=history_row, exact=True)).to_be_visible()
        shots.take(page, "backfill_preview", TOUR_SHOTS["preview"])
        preview_text = preview.inner_text()
        page.keyboard.press("Escape")

        open_backfill(page, dagster_ui.url, backfill_id)
        expect(page.get_by_text(f"{BACKFILLED[0]}...{BACKFILLED[-1]}", exact=True)).to_be_visible()
        shots.take(page, "backfill_page_running")
        final = gql.wait_for_backfill(dagster_ui, backfill_id, BACKFILL_TIMEOUT_S)
        seconds = time.monotonic() - started
        record(shots, "backfill", id=backfill_id, status=final.status, seconds=round(seconds, 1))
        page.reload()
        expect(page.get_by_text("Succeeded", exact=True).first).to_be_visible(timeout=LONG_UI_MS)
        shots.take(page, "backfill_succeeded", TOUR_SHOTS["done"])
        return SimpleNamespace(
            refused_run=refused_run, refusal=refusal, refused_backfills=refused_backfills,
            plan_run=plan_run, preview=preview_text, id=backfill_id, final=final,
            seconds=seconds, page_text=page.inner_text("body"),
        )
    except Exception:
        page.screenshot(path=str(shots.folder / "FAILED_backfill.png"))
        raise
    finally:
        context.close()


def test_2_mid_season_range_is_refused_without_history_and_backfilled_with_it(
    page, dagster_ui, backfilled, shots
):
    print(f"backfill {backfilled.id}: {backfilled.seconds:.0f}s from launch to completion")
    # refused: the run failed, named the exact range to add, and submitted nothing
    assert backfilled.refused_run["status"] == "FAILURE"
    assert not backfilled.refused_backfills, backfilled.refused_backfills
    missing = f"{PGS}: {OPENER}..{DAYS[1]} (2 partitions) is missing"
    assert missing in backfilled.refusal, backfilled.refusal[:3000]
    assert f"start the range at {OPENER} or add with_history: true" in backfilled.refusal

    # with history: the preview listed the widened range, the backfill ran exactly it
    assert backfilled.plan_run["status"] == "SUCCESS"
    # only what the range reads widens: the feature store keeps exactly the range
    assert re.search(rf"{MLFS}\s+{RANGE[0]}\.\.{RANGE[-1]}\s+{len(RANGE)}\s+0\b", backfilled.preview)
    assert backfilled.final.status == "COMPLETED_SUCCESS", backfilled.final
    assert set(backfilled.final.run_statuses.values()) == {"SUCCESS"}
    assert re.search(r"Status\s+Succeeded", backfilled.page_text), backfilled.page_text[:2000]
    assert "100% completed" in backfilled.page_text
    done = gql.materialized(dagster_ui, [f"{LAKE}/nbac_team_boxscore", RAW_TEAM_BOX, PGS, MLFS],
                            BACKFILLED)
    assert done[PGS] == done[RAW_TEAM_BOX] == set(BACKFILLED), done
    assert done[MLFS] == set(RANGE), done

    open_asset_tab(page, dagster_ui.url, PGS, "Partitions")
    counts = status_counts(page, ALL_PARTITIONS)
    shots.take(page, "pgs_partitions_after_backfill")
    assert counts.get("Materialized") == len(BACKFILLED) and counts.get("Failed") == 0, counts


# --- 3. checks -----------------------------------------------------------------------------------


def test_3_checks_tab_shows_blocking_checks_passing(page, dagster_ui, backfilled, shots):
    games = _games(CHECKED_DAY)
    for check in ("games_complete", "partition_ok"):
        confirmed = gql.latest_check_result(dagster_ui, RAW_TEAM_BOX, check, CHECKED_DAY)
        assert confirmed and confirmed.passed, (check, confirmed)

    open_check(page, dagster_ui.url, RAW_TEAM_BOX, "games_complete")
    expect(page.get_by_text("This is a blocking asset check.")).to_be_visible()
    listing = page.inner_text("body")
    for check in ("games_complete", "partition_ok", "up_to_date"):
        assert re.search(rf"\b{check}\s+Succeeded", listing), (check, listing[:2000])

    text = open_check_partition(page, dagster_ui.url, RAW_TEAM_BOX, "games_complete", CHECKED_DAY)
    shots.take(page, "check_games_complete_passed", TOUR_SHOTS["checks"])
    assert re.search(r"\bPassed\b", text), text[:2000]
    assert re.search(rf"games_expected\s+{len(games)}\b", text), text[:2000]
    assert re.search(r"games_missing\s+0\b", text), text[:2000]


# --- 4. a fault ----------------------------------------------------------------------------------


def test_4_source_fault_fails_only_its_date_naming_the_missing_game(
    page, dagster_ui, backfilled, shots
):
    dropped = _games(FAULT_DAY)[0]
    missing_code = game_code(FAULT_DAY, dropped["away"], dropped["home"])
    faults = dagster_ui.backfill_home / "offline_faults.json"
    faults.write_text(json.dumps([{"kind": "drop_game", "game_id": dropped["game_id"]}]))
    try:
        run_id = launch_backfill_job(
            page, dagster_ui, shots, backfill_config(FAULT_DAY, FAULT_DAY, "1-2"),
            "fault_day_launchpad",
        )
        backfill_id = submitted_backfill(page)
        gql.wait_for_run(dagster_ui, run_id, RUN_TIMEOUT_S)
        final = gql.wait_for_backfill(dagster_ui, backfill_id, BACKFILL_TIMEOUT_S)
    finally:
        faults.unlink()
    assert final.status in gql.FINAL_BACKFILL, final

    # the faulted day is not written and not materialized: it is Failed, with its reason
    assert gql.materialized(dagster_ui, [RAW_TEAM_BOX], [FAULT_DAY])[RAW_TEAM_BOX] == set()
    verdict = gql.latest_check_result(dagster_ui, RAW_TEAM_BOX, "partition_ok", FAULT_DAY)
    assert verdict and not verdict.passed and missing_code in verdict.description, verdict

    open_asset_tab(page, dagster_ui.url, RAW_TEAM_BOX, "Partitions")
    counts = status_counts(page, ALL_PARTITIONS)
    assert counts.get("Failed") == 1 and counts.get("Materialized") == len(BACKFILLED), counts
    select_partition(page, "Filter by name…", FAULT_DAY)
    shots.take(page, "partitions_fault_day_failed", TOUR_SHOTS["fault"])

    text = open_check_partition(page, dagster_ui.url, RAW_TEAM_BOX, "partition_ok", FAULT_DAY)
    shots.take(page, "check_partition_ok_names_missing_game")
    assert re.search(r"\bFailed\b", text), text[:2000]
    assert f"missing games: {missing_code}" in text, text[:2000]

    text = open_check_partition(page, dagster_ui.url, RAW_TEAM_BOX, "games_complete", FAULT_DAY)
    shots.take(page, "check_games_complete_failed_missing_game")
    assert f"missing games: {missing_code}" in text, text[:2000]
    assert re.search(r"games_missing\s+1\b", text), text[:2000]


# --- 5. a stale partition refreshed ---------------------------------------------------------------


def _corrected_player(day: str) -> tuple[str, int, str]:
    """(game id, player id, name): the top scorer of the day's first game (bundled box score)."""
    game_id = _games(day)[0]["game_id"]
    home, away = get_store().lines(game_id)
    top = max(home + away, key=lambda line: line["PTS"])
    return game_id, int(top["PLAYER_ID"]), top["PLAYER_NAME"]


def test_5_a_stat_correction_marks_its_readers_stale_and_one_action_refreshes_them(
    page, dagster_ui, backfilled, shots
):
    readers_after = [d for d in BACKFILLED if d > CORRECTED_DAY]
    assert gql.failing_partitions(dagster_ui, PGS, "up_to_date") == []

    # a stat correction at the source, then that day's lake re-scraped from the UI
    game_id, player_id, _name = _corrected_player(CORRECTED_DAY)
    subprocess.run(
        [sys.executable, "-m", "nba_backfill.source", "correct", "--home",
         str(dagster_ui.backfill_home), "--game", game_id, "--player", str(player_id),
         "--stat", "pts", "--delta", "2"],
        check=True, capture_output=True, text=True,
    )
    run_id = launch_backfill_job(
        page, dagster_ui, shots, backfill_config(CORRECTED_DAY, CORRECTED_DAY, "1"),
        "rescrape_corrected_day_launchpad",
    )
    rescrape = gql.wait_for_backfill(dagster_ui, submitted_backfill(page), BACKFILL_TIMEOUT_S)
    assert rescrape.status == "COMPLETED_SUCCESS", rescrape
    assert gql.run(dagster_ui, run_id)["status"] == "SUCCESS"

    # the sensor marks every reader stale: same date and every window holding the day
    stale_pdc = gql.wait_until(
        "player_daily_cache marked stale by the stale_partitions sensor",
        lambda: gql.failing_partitions(dagster_ui, PDC, "up_to_date") == readers_after
        and gql.failing_partitions(dagster_ui, PGS, "up_to_date") == [CORRECTED_DAY],
        SENSOR_TIMEOUT_S,
    )
    assert stale_pdc
    cause = gql.latest_check_result(dagster_ui, PDC, "up_to_date", readers_after[-1])
    changed = re.compile(rf"nba_lake/\w+ \[{CORRECTED_DAY}\] changed: rows ")
    assert changed.search(cause.metadata["cause"]), cause

    open_check(page, dagster_ui.url, PGS, "up_to_date")
    expect(page.get_by_text("This is a non-blocking asset check.")).to_be_visible()
    to_check_partitions_tab(page)
    assert status_counts(page, ALL_PARTITIONS).get("Failed") == 1
    open_check_partitions(page, dagster_ui.url, PDC, "up_to_date")
    counts = status_counts(page, ALL_PARTITIONS)
    assert counts.get("Failed") == len(readers_after), counts
    text = open_check_partition(page, dagster_ui.url, PDC, "up_to_date", readers_after[-1])
    shots.take(page, "pdc_up_to_date_stale_with_cause", TOUR_SHOTS["stale"])
    assert re.search(r"\bFailed\b", text), text[:2000]
    assert changed.search(text), text[:3000]  # the metadata's cause: asset, date, rows

    # the one action: Jobs -> refresh_stale -> Launchpad -> Launch Run
    open_launchpad(page, dagster_ui.url, REFRESH_JOB)
    started = time.monotonic()
    run_id = launch_run(page)
    refresh_id = submitted_backfill(page)
    shots.take(page, "refresh_stale_run_submitted", TOUR_SHOTS["refresh"])
    assert gql.wait_for_run(dagster_ui, run_id, RUN_TIMEOUT_S)["status"] == "SUCCESS"
    refresh = gql.wait_for_backfill(dagster_ui, refresh_id, BACKFILL_TIMEOUT_S)
    record(shots, "refresh", id=refresh_id, status=refresh.status,
           seconds=round(time.monotonic() - started, 1))
    assert refresh.status == "COMPLETED_SUCCESS", refresh
    assert refresh_id in page.inner_text("body")

    # fresh again, and stays so past the sensor's next ticks (a refresh marks nothing stale)
    time.sleep(35)
    for asset in (PGS, PDC, RAW_TEAM_BOX):
        assert gql.failing_partitions(dagster_ui, asset, "up_to_date") == [], asset
    for asset, day in ((PGS, CORRECTED_DAY), (PDC, readers_after[-1])):
        status, causes = gql.stale(dagster_ui, asset, day)
        assert status == "FRESH", (asset, day, causes)  # Dagster's own "Unsynced" agrees
    open_check_partitions(page, dagster_ui.url, PDC, "up_to_date")
    counts = status_counts(page, ALL_PARTITIONS)
    select_partition(page, "Filter by partition…", readers_after[-1])
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible(timeout=LONG_UI_MS)
    shots.take(page, "pdc_up_to_date_fresh_again", TOUR_SHOTS["refreshed"])
    assert counts.get("Failed") == 0, counts
