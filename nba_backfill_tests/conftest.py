"""Shared fixtures: local resources in a temp home, an ephemeral Dagster instance, faults.

- `local_resources`: `nba_backfill.resources.environment.local_resources(tmp_path)` — DuckDB file,
  lake folder and the offline NBA source under `tmp_path` — with the HTTP client's request rate
  raised and its retry backoff shortened so tests are not throttled (same code paths).
- `dagster_instance`: an ephemeral DagsterInstance (per test), so check results and the
  cross-run guard work like in a real deployment.
- `offline_faults`: write fault rules (dicts of `nba_backfill.source.FaultRule` fields) to the
  offline source's faults file of that home; call with [] to clear.
"""

import json

import pytest
from dagster import DagsterInstance

from nba_backfill.resources.environment import local_resources as build_local_resources
from nba_backfill.resources.nba_api import NbaApiClient

TEST_REQUESTS_PER_SECOND = 1000.0
TEST_BACKOFF_SECONDS = 0.01


@pytest.fixture
def local_resources(tmp_path):
    resources = build_local_resources(tmp_path)
    client = resources["nba_api"]
    resources["nba_api"] = NbaApiClient(
        mode=client.mode,
        offline_faults_file=client.offline_faults_file,
        requests_per_second=TEST_REQUESTS_PER_SECOND,
        backoff_initial_seconds=TEST_BACKOFF_SECONDS,
        backoff_max_seconds=TEST_BACKOFF_SECONDS * 10,
    )
    return resources


@pytest.fixture
def dagster_instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture
def offline_faults(tmp_path):
    path = tmp_path / "offline_faults.json"

    def write(rules: list[dict]) -> None:
        path.write_text(json.dumps(rules))

    return write
