"""What a user does in the Dagster UI, one function per step, driven through Playwright.

Selectors are the visible texts, roles and placeholders of Dagster 1.13's UI (the production
build carries no test ids): the "Search and filter assets" box and the Launchpad's config editor
are CodeMirror editors, icons are `[role=img][aria-label=<icon name>]`, a dialog is
`role=dialog`, a launched run opens its page (`/runs/<id>`), and the backfills are the Runs
page's "Backfills" tab.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

LONG_UI_MS = 60_000  # a page or dialog that queries a busy instance (56 assets, 1,102 partitions)
RUN_ID = re.compile(r"/runs/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
SUBMITTED = re.compile(r"Submitted backfill (\w+)")


@dataclass
class Screenshots:
    """Numbered screenshots of every step, in the order they were taken; the tour's pictures
    (README's) also under a stable name in `tour_folder`."""

    folder: Path
    tour_folder: Path
    count: int = 0

    def take(self, page: Page, name: str, tour: str | None = None) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}_{name}.png"
        page.screenshot(path=str(path))
        if tour is not None:
            self.tour_folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.tour_folder / f"{tour}.png"))
        return path


def asset_path(asset: str) -> str:
    return f"/assets/{asset}"


def dismiss_first_visit_modal(page: Page) -> None:
    """A first-visit community dialog can cover the page on some instances; skip it if shown."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count() and skip.first.is_visible():
        skip.first.click()


def open_global_lineage(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/asset-groups")
    dismiss_first_visit_modal(page)
    expect(page.get_by_text("Global asset lineage")).to_be_visible(timeout=LONG_UI_MS)
    page.locator("foreignObject.group").first.wait_for(timeout=LONG_UI_MS)


def filter_assets(page: Page, query: str) -> None:
    """Type an asset selection into "Search and filter assets" and apply it."""
    page.locator(".CodeMirror").first.click()
    page.keyboard.type(query)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def expand_all_groups(page: Page) -> None:
    """Graph settings (gear) -> "Expand all groups": every group shows its asset nodes."""
    gear = page.locator("button").filter(has=page.locator("[role=img][aria-label=settings]"))
    gear.last.click()
    page.get_by_role("menuitem", name=re.compile("Expand all groups")).click()


def open_asset_tab(page: Page, base_url: str, asset: str, tab: str) -> None:
    """Open an asset page and click one of its tabs (Overview, Partitions, Checks, Lineage)."""
    page.goto(f"{base_url}{asset_path(asset)}")
    dismiss_first_visit_modal(page)
    page.get_by_role("tab", name=tab, exact=True).click(timeout=LONG_UI_MS)


def by_label(page: Page, role: str, label: str):
    """An element of `role` whose accessible name ends with `label` (icons prefix their name)."""
    return page.get_by_role(role, name=re.compile(rf"(^|\s){re.escape(label)}$"))


def open_launchpad(page: Page, base_url: str, job: str) -> None:
    """Left navigation "Jobs" -> the job -> its "Launchpad" tab (the config editor loaded)."""
    page.goto(base_url)
    dismiss_first_visit_modal(page)
    by_label(page, "link", "Jobs").first.click(timeout=LONG_UI_MS)
    page.locator(f"a[href$='/jobs/{job}']").first.click(timeout=LONG_UI_MS)
    page.get_by_role("tab", name="Launchpad", exact=True).click(timeout=LONG_UI_MS)
    page.locator(".CodeMirror").first.wait_for(timeout=LONG_UI_MS)
    # the editor opens with the scaffolded default config once the job's config schema loaded
    expect(page.get_by_text("No missing config")).to_be_visible(timeout=LONG_UI_MS)


def edit_config(page: Page, config_yaml: str) -> None:
    """Replace the Launchpad's config with `config_yaml` (select all, paste) and wait until the
    Launchpad validated it ("No errors")."""
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(config_yaml)
    for line in config_yaml.strip().splitlines():
        expect(page.locator(".CodeMirror-code")).to_contain_text(line.strip())
    expect(page.get_by_text("No errors", exact=True)).to_be_visible(timeout=LONG_UI_MS)


def launch_run(page: Page) -> str:
    """Click "Launch Run"; the UI opens the run's page. Returns the run id."""
    page.get_by_role("button", name="Launch Run").click()
    page.wait_for_url(RUN_ID, timeout=LONG_UI_MS)
    return RUN_ID.search(page.url).group(1)


def submitted_backfill(page: Page, timeout_ms: int = 120_000) -> str:
    """The backfill id a job's run logged ("Submitted backfill <id> ...") on its run page."""
    line = page.get_by_text(SUBMITTED).first
    line.wait_for(timeout=timeout_ms)
    return SUBMITTED.search(line.inner_text()).group(1)


def full_failure_message(page: Page) -> str:
    """The run page's RUN_FAILURE event -> "View full message": the dialog's text."""
    page.get_by_text("RUN_FAILURE", exact=True).first.wait_for(timeout=LONG_UI_MS)
    page.locator("button").filter(has_text="View full message").last.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=LONG_UI_MS)
    return dialog.inner_text()


def open_backfill(page: Page, base_url: str, backfill_id: str) -> None:
    """Left navigation "Runs" -> "Backfills" tab -> the backfill's row -> its page."""
    page.goto(base_url)
    dismiss_first_visit_modal(page)
    by_label(page, "link", "Runs").first.click(timeout=LONG_UI_MS)
    page.get_by_role("tab", name="Backfills", exact=True).click(timeout=LONG_UI_MS)
    page.locator(f"a[href='/runs/b/{backfill_id}']").first.click(timeout=LONG_UI_MS)
    expect(page.get_by_text("Partition selection", exact=True)).to_be_visible(timeout=LONG_UI_MS)


def select_partition(page: Page, placeholder: str, partition: str) -> None:
    """Filter a partitions list by name and click the partition."""
    page.get_by_placeholder(placeholder).fill(partition)
    page.get_by_text(partition, exact=True).first.click(timeout=LONG_UI_MS)


def open_check(page: Page, base_url: str, asset: str, check: str) -> None:
    """An asset's Checks tab -> the check (its Overview: blocking or not, latest execution)."""
    open_asset_tab(page, base_url, asset, "Checks")
    page.get_by_text(check, exact=True).first.click(timeout=LONG_UI_MS)
    expect(page.get_by_text(re.compile(r"^This is a (non-)?blocking asset check"))).to_be_visible(
        timeout=LONG_UI_MS
    )


def open_check_partitions(page: Page, base_url: str, asset: str, check: str) -> None:
    """The check's Partitions tab: status checkboxes over every partition, and the list."""
    open_check(page, base_url, asset, check)
    to_check_partitions_tab(page)


def to_check_partitions_tab(page: Page) -> None:
    """From an open check's page to its Partitions tab."""
    page.locator("button[role=tab]").filter(has_text="Partitions").click()
    page.get_by_placeholder("Filter by partition…").wait_for(timeout=LONG_UI_MS)


def open_check_partition(page: Page, base_url: str, asset: str, check: str, day: str) -> str:
    """Checks tab -> the check -> its Partitions tab -> the day; returns the page's text."""
    open_check_partitions(page, base_url, asset, check)
    select_partition(page, "Filter by partition…", day)
    expect(page.get_by_text(re.compile(r"^View all historical executions \(\d+\)$"))).to_be_visible(
        timeout=LONG_UI_MS
    )
    expect(page.get_by_text("Metadata", exact=True)).to_be_visible()
    return page.inner_text("body")


STATUSES = "Execution Failed|Failed|Materialized|Materializing|Missing|In Progress|Skipped|Passed"


def status_counts(page: Page, total: int | None = None, timeout_s: float = 30.0) -> dict[str, int]:
    """The status checkboxes of a Partitions view ({"Materialized": n, "Failed": n, ...}) once
    they describe exactly `total` partitions (they update after the page's queries)."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = {
            name: int(count.replace(",", ""))
            for name, count in re.findall(rf"({STATUSES}) \(([\d,]+)\)", page.inner_text("body"))
        }
        if counts and (total is None or sum(counts.values()) == total):
            return counts
        if time.monotonic() > deadline:
            return counts
        page.wait_for_timeout(250)
