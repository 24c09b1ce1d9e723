"""Debian's Chromium driven by the PyPI `playwright` package (never `playwright install`).

The browser binary is the system one (`apt-get install chromium`, /usr/bin/chromium); Playwright
only drives it over CDP. The flags are the ones that work on this kind of machine: running as
root needs `--no-sandbox`, there is no GPU, and the machine's closed network refuses Chromium's
background connections (component updates, sync, safe browsing) many times a second unless
they are switched off.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_ENV = "NBA_BACKFILL_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)

VIEWPORT = {"width": 1920, "height": 1080}
"""Wide enough that the filtered lineage views fit at a zoom that renders full asset nodes."""


class BrowserSetupError(RuntimeError):
    """Chromium or Playwright is missing; the message says how to install it."""


def chromium_executable() -> Path:
    """The Chromium binary: $NBA_BACKFILL_CHROMIUM, else /usr/bin/chromium, else `chromium`
    on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    candidates = [configured] if configured else [DEFAULT_CHROMIUM, shutil.which("chromium")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    where = configured or f"{DEFAULT_CHROMIUM} or `chromium` on PATH"
    raise BrowserSetupError(
        f"Chromium not found at {where}: install Debian's package "
        "(`apt-get install -y chromium`) or set NBA_BACKFILL_CHROMIUM to a Chromium binary"
    )


def launch(playwright):
    """Launch headless Chromium from the system binary with the flags above."""
    return playwright.chromium.launch(
        executable_path=str(chromium_executable()),
        headless=True,
        args=list(CHROMIUM_FLAGS),
    )
