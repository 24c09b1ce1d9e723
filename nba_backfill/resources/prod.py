"""Resources of the `prod` environment: BigQuery, a GCS bucket and the live NBA client.

Settings come only from the environment, checked when `prod` is selected (never at import):

| variable | required | meaning |
|---|---|---|
| NBA_BACKFILL_GCP_PROJECT | yes | GCP project of the datasets nba_raw .. nba_predictions |
| NBA_BACKFILL_GCS_BUCKET | yes | bucket of the lake (same object keys as the local lake) |
| NBA_BACKFILL_GCS_PREFIX | no | object prefix inside the bucket (default: none) |
| NBA_BACKFILL_BQ_LOCATION | no | BigQuery location of datasets and jobs (default US) |
| NBA_BACKFILL_NBA_API | no | `live` (default) or `offline` (bundled replay, for emulator tests) |
| BALLDONTLIE_API_KEY | when live | balldontlie API key |
| BIGQUERY_EMULATOR_HOST, STORAGE_EMULATOR_HOST | no | `http://host:port` of local emulators, read by the Google clients themselves |

Credentials are Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, workload identity,
`gcloud auth application-default login`); nothing secret is stored in the definitions: values that
identify the deployment are `EnvVar`s resolved when a run starts.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import EnvVar
from dagster_gcp import GCSResource

from nba_backfill.resources.bigquery import BigQueryWarehouse, NbaBigQueryIOManager
from nba_backfill.resources.gcs_lake import GcsLake
from nba_backfill.resources.nba_api import NbaApiClient

PROJECT_VAR = "NBA_BACKFILL_GCP_PROJECT"
BUCKET_VAR = "NBA_BACKFILL_GCS_BUCKET"
PREFIX_VAR = "NBA_BACKFILL_GCS_PREFIX"
LOCATION_VAR = "NBA_BACKFILL_BQ_LOCATION"
NBA_API_VAR = "NBA_BACKFILL_NBA_API"
BDL_KEY_VAR = "BALLDONTLIE_API_KEY"
DEFAULT_LOCATION = "US"
NBA_API_MODES = ("live", "offline")


class ProdSettingsError(RuntimeError):
    """`prod` was selected without the settings it needs; lists every problem at once."""


def _setting(name: str) -> str:
    return (os.environ.get(name) or "").strip()


def check_prod_settings() -> None:
    """Raise ProdSettingsError naming every missing or invalid prod setting."""
    problems = [f"{name} is not set" for name in (PROJECT_VAR, BUCKET_VAR) if not _setting(name)]
    mode = _setting(NBA_API_VAR) or "live"
    if mode not in NBA_API_MODES:
        problems.append(f"{NBA_API_VAR} must be one of {NBA_API_MODES}, got {mode!r}")
    elif mode == "live" and not _setting(BDL_KEY_VAR):
        problems.append(f"{BDL_KEY_VAR} is not set (required with {NBA_API_VAR}=live)")
    for host_var in ("BIGQUERY_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"):
        host = _setting(host_var)
        if host and not host.startswith(("http://", "https://")):
            problems.append(f"{host_var} must include the scheme (http://host:port), got {host!r}")
    if problems:
        raise ProdSettingsError(
            "NBA_BACKFILL_ENV=prod needs these settings: " + "; ".join(problems)
        )


def _optional(name: str, default: str):
    """EnvVar when the variable is set (resolved at run start), else the default."""
    return EnvVar(name) if _setting(name) else default


def prod_resources() -> dict[str, Any]:
    """io_manager (BigQuery), warehouse (BigQuery queries), lake (GCS), nba_api (live/offline)."""
    check_prod_settings()
    project = EnvVar(PROJECT_VAR)
    location = _optional(LOCATION_VAR, DEFAULT_LOCATION)
    from nba_backfill.resources.environment import (
        OFFLINE_REQUESTS_PER_SECOND,
        PACING_FILE,
        backfill_home,
    )

    # One request budget for every run worker on this host (scraper runs share it)
    pacing = str(backfill_home() / PACING_FILE)
    if (_setting(NBA_API_VAR) or "live") == "live":
        nba_api = NbaApiClient(mode="live", bdl_api_key=EnvVar(BDL_KEY_VAR), rate_limit_file=pacing)
    else:
        faults = backfill_home() / "offline_faults.json"
        nba_api = NbaApiClient(mode="offline", offline_faults_file=str(faults),
                               requests_per_second=OFFLINE_REQUESTS_PER_SECOND,
                               rate_limit_file=pacing)
    return {
        "io_manager": NbaBigQueryIOManager(project=project, location=location),
        "warehouse": BigQueryWarehouse(project=project, location=location),
        "lake": GcsLake(
            bucket=EnvVar(BUCKET_VAR),
            prefix=_optional(PREFIX_VAR, ""),
            gcs=GCSResource(project=project),
        ),
        "nba_api": nba_api,
    }
