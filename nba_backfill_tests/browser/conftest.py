"""Fixtures of the browser suite: the project's `dagster dev` and a real Chromium.

- `dagster_ui` (package): a fresh instance started as README's first command starts it —
  `dagster dev -h 127.0.0.1 -p <free port> -m nba_backfill.definitions` (webserver + daemon) with a
  temporary DAGSTER_HOME prepared by `nba_backfill.instance` and a temporary NBA_BACKFILL_HOME, and
  nothing else set: the offline default (current season = the bundled data's last, 2024-25) —
  through `nba_backfill_tests.dagster_harness`, which waits until the code location is LOADED and
  the backfill daemon healthy, and kills the process group.
- `browser` (package): Debian's /usr/bin/chromium driven by the PyPI `playwright` package. It
  must end with the browser suite: while Playwright's sync API is open its event loop stays
  registered as the main thread's running loop, and every later `asyncio.run()` (the backfill
  daemon's iteration, async transports) fails with "cannot be called from a running event loop".
- `page`: a fresh 1920x1080 page; on a failing test its screenshot is saved as
  `FAILED_<test>.png` next to the step screenshots.
- `shots` (package): numbered screenshots of every step in `test-artifacts/browser/`
  (git-ignored; `NBA_BACKFILL_BROWSER_ARTIFACTS` overrides the folder); the UI tour's pictures
  that README shows also in `docs/img/ui-tour/` under stable names, overwritten on every run.

Missing Chromium or Playwright is an error with the install command, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nba_backfill_tests.browser.chromium import VIEWPORT, BrowserSetupError, launch
from nba_backfill_tests.browser.pages import Screenshots
from nba_backfill_tests.dagster_harness import dagster_dev

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(
    os.environ.get("NBA_BACKFILL_BROWSER_ARTIFACTS", ROOT / "test-artifacts" / "browser")
)
TOUR_IMAGES = ROOT / "docs" / "img" / "ui-tour"
CURRENT_SEASON = "2024-25"
"""The offline default's current season: the bundled data's last (no env var sets it)."""
START_TIMEOUT = float(os.environ.get("NBA_BACKFILL_UI_START_TIMEOUT", "240"))
PAGE_TIMEOUT_MS = 30_000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="package")
def shots() -> Screenshots:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return Screenshots(ARTIFACTS, TOUR_IMAGES)


@pytest.fixture(scope="package")
def dagster_ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("dagster_ui")
    with dagster_dev(root, timeout=START_TIMEOUT) as dev:
        yield dev


@pytest.fixture(scope="package")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # the `test` extra installs it
        raise BrowserSetupError(
            "the PyPI package `playwright` is missing: pip install -e '.[test]'"
        ) from exc
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    return context, page


@pytest.fixture
def page(browser, request, shots):
    context, page = new_page(browser)
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            page.screenshot(path=str(shots.folder / f"FAILED_{request.node.name}.png"))
        context.close()
