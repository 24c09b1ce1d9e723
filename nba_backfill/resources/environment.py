"""The resources of the one environment switch, NBA_BACKFILL_ENV = local (default) | prod
(read by `nba_backfill.environment.current_environment`).

`build_resources()` returns the same keys in every environment:
- `io_manager`: table assets (DuckDB file locally, BigQuery in prod), schema/dataset = key prefix;
- `warehouse`: read queries for checks, guards and the CLI;
- `lake`: landed API responses (folder locally, GCS bucket in prod), same object layout;
- `nba_api`: the HTTP client (bundled offline replay locally, live hosts in prod);
- `notifier`: alerts and backfill digests (Slack-compatible webhook when
  NBA_BACKFILL_ALERT_WEBHOOK_URL is set, else files under $NBA_BACKFILL_HOME/alerts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nba_backfill.alerts.notifiers import notifier_resource
from nba_backfill.environment import current_environment
from nba_backfill.resources.lake import LocalLake
from nba_backfill.resources.nba_api import NbaApiClient
from nba_backfill.resources.warehouse import DuckDBWarehouse, NbaDuckDBIOManager

RESOURCE_KEYS = ("io_manager", "warehouse", "lake", "nba_api", "notifier")


def backfill_home() -> Path:
    """Local data root: NBA_BACKFILL_HOME, default `.nba_backfill/` in the working directory."""
    return Path(os.environ.get("NBA_BACKFILL_HOME") or ".nba_backfill").absolute()


# The bundled offline replay answers in-process: there is no remote service to protect, so its
# budget only keeps the pacing code on the path (a live API keeps the client's default, 8 req/s).
OFFLINE_REQUESTS_PER_SECOND = 1000.0
PACING_FILE = "nba_api.pacing"


def local_resources(home: Path) -> dict[str, Any]:
    database = str(home / "warehouse.duckdb")
    return {
        "io_manager": NbaDuckDBIOManager(database=database),
        "warehouse": DuckDBWarehouse(database=database),
        "lake": LocalLake(root=str(home / "lake")),
        "nba_api": NbaApiClient(
            mode="offline",
            offline_faults_file=str(home / "offline_faults.json"),
            requests_per_second=OFFLINE_REQUESTS_PER_SECOND,
            rate_limit_file=str(home / PACING_FILE),
        ),
    }


def build_resources(env: str | None = None) -> dict[str, Any]:
    """Resources for `env` (default: NBA_BACKFILL_ENV), identical keys in every environment."""
    env = env or current_environment()
    if env == "local":
        resources = local_resources(backfill_home())
    else:
        from nba_backfill.resources.prod import prod_resources

        resources = prod_resources()
    resources["notifier"] = notifier_resource(backfill_home())
    assert tuple(resources) == RESOURCE_KEYS, resources.keys()
    return resources
