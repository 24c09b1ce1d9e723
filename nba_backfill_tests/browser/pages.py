"""What a user does in the Dagster UI, one function per step, driven through Playwright.

Selectors are the visible texts, roles and placeholders of Dagster 1.13's UI (the production
build carries no test ids): the "Search and filter assets" box is a CodeMirror editor, icons are
`[role=img][aria-label=<icon name>]`, the launch dialog is the only `role=dialog`, and a launch
ends in a toast ("Created backfill <id>" / "Launched run <id>" with a View link).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

LONG_UI_MS = 60_000  # a page or dialog that queries a busy instance (56 assets, 1,446 partitions)


@dataclass
class Screenshots:
    """Numbered screenshots of every step, in the order they were taken."""

    folder: Path
    count: int = 0

    def take(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}_{name}.png"
        page.screenshot(path=str(path))
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


def open_job(page: Page, job: str) -> None:
    """Left navigation "Jobs" -> the job's page."""
    by_label(page, "link", "Jobs").first.click()
    by_label(page, "link", job).first.click(timeout=LONG_UI_MS)


def launch_dialog(page: Page, button_name: str):
    by_label(page, "button", button_name).first.click(timeout=LONG_UI_MS)
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=LONG_UI_MS)
    return dialog


def choose_partitions(page: Page, dialog, selection: str, expected_count: int) -> None:
    """Type a partition selection ("2024-10-23" or "[a...b]") into the launch dialog."""
    field = dialog.get_by_placeholder(re.compile(r"^ex: "))
    show_all = dialog.get_by_text("Show all partitions")
    # The dialog first loads the job and its partition sets, then shows either the range field
    # or (with more than 90 days of partitions) a "last 90 days" filter to lift first.
    field.or_(show_all).first.wait_for(timeout=LONG_UI_MS)
    if show_all.count():
        show_all.first.click()
    field.fill(selection)
    field.press("Enter")
    label = f"{expected_count} partition" + ("s" if expected_count != 1 else "")
    expect(dialog.get_by_text(label, exact=True)).to_be_visible(timeout=LONG_UI_MS)


def launch_backfill(page: Page, dialog) -> str:
    """Click "Launch backfill"; returns the backfill id from the success toast."""
    dialog.get_by_role("button", name="Launch backfill").click()
    toast = page.get_by_text(re.compile(r"Created backfill\s+\w+"))
    toast.wait_for(timeout=LONG_UI_MS)
    match = re.search(r"Created backfill\s+(\w+)", toast.inner_text())
    assert match, f"unexpected toast: {toast.inner_text()!r}"
    return match.group(1)


def launch_one_run(page: Page, dialog) -> str:
    """Click "Launch 1 run"; returns the full run id from the toast's View link."""
    dialog.get_by_role("button", name="Launch 1 run").click()
    toast = page.get_by_text(re.compile(r"Launched run"))
    toast.wait_for(timeout=LONG_UI_MS)
    link = page.locator("a[href^='/runs/']").filter(has_text=re.compile(r"^View$")).last
    href = link.get_attribute("href") or ""
    match = re.search(r"/runs/([0-9a-f-]{36})", href)
    assert match, f"no run link in the launch toast (href {href!r})"
    return match.group(1)


def select_partition(page: Page, placeholder: str, partition: str) -> None:
    """Filter a partitions list by name and click the partition."""
    page.get_by_placeholder(placeholder).fill(partition)
    page.get_by_text(partition, exact=True).first.click(timeout=LONG_UI_MS)


def status_counts(page: Page, total: int, timeout_s: float = 30.0) -> dict[str, int]:
    """The Partitions view's status checkboxes ({"Materialized": n, "Missing": n, ...}) once
    they describe exactly `total` selected partitions (they update after the selection)."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = {
            name: int(count)
            for name, count in re.findall(
                r"(Failed|Materialized|Materializing|Missing) \((\d+)\)", page.inner_text("body")
            )
        }
        if sum(counts.values()) == total or time.monotonic() > deadline:
            return counts
        page.wait_for_timeout(250)
