"""The `backfill` job, the UI's route to a backfill, launched as the Launchpad launches it (GraphQL
`launchRun` with run config) against a real DagsterInstance and the project's code location.

The run's one op plans with the CLI's code: the plan it records as output metadata is exactly the
per-asset target of the asset backfill it submits, and equal to the CLI's dry run of the same
options; a range whose history is missing fails the run naming the range to add, and nothing is
submitted; the submitted backfill runs through the backfill daemon and completes.
"""

from __future__ import annotations

from argparse import Namespace

import pytest
from dagster import DagsterEventType

from nba_backfill.ops.plan import contiguous_ranges
from nba_backfill.partitions import all_partition_keys, season_keys
from nba_backfill.seasons import season_by_label
from nba_backfill_tests.dagster_harness import (
    InProcessGraphQL,
    backfill_env,
    backfill_runs,
    daemon_workspace,
    run_backfill,
)

SEASON = season_by_label("2024-25")
OPENER_WEEK = season_keys(SEASON)[:7]
MID = season_keys(SEASON)[7:10]  # the three days after the opening week

LAUNCH_RUN = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename
  ... on LaunchRunSuccess { run { runId status } }
  ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } }
} }
"""


@pytest.fixture
def ws(tmp_path):
    with backfill_env(tmp_path / "home", SEASON.label):
        with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as workspace:
            yield workspace


def launch_job(ws, **config) -> str:
    """Launch the `backfill` job from the Launchpad's mutation; returns the run id (the run
    executes synchronously on the test instance)."""
    from dagster_graphql.test.utils import infer_job_selector

    selector = infer_job_selector(ws.create_request_context(), "backfill")
    params = {"selector": selector, "runConfigData": {"ops": {"plan_and_submit_backfill": {"config": config}}}}
    result = InProcessGraphQL(ws).execute(LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def recorded_plan(instance, run_id: str) -> dict[str, list[tuple[str, str]]]:
    (output,) = [e for e in instance.all_logs(run_id, of_type=DagsterEventType.STEP_OUTPUT)]
    plan = output.dagster_event.event_specific_data.metadata["plan"].value
    return {asset: [tuple(r) for r in ranges] for asset, ranges in plan.items()}


def submitted_target(backfill) -> dict[str, list[tuple[str, str]]]:
    subset = backfill.asset_backfill_data.target_subset
    keys = all_partition_keys()
    return {
        key.to_user_string(): contiguous_ranges(subset.get_partitions_subset(key).get_partition_keys(), keys)
        for key in subset.asset_keys
    }


def cli_dry_run(ws, capsys, **options) -> dict[str, list[tuple[str, str]]]:
    """`nba-backfill backfill ... --dry-run` against the same workspace: per asset its ranges."""
    from nba_backfill.cli import EXIT_OK, cmd_backfill

    args = Namespace(season=None, phases="1-4", assets=None, only_missing_or_failed=False,
                     with_history=False, dry_run=True, **options)
    capsys.readouterr()
    assert cmd_backfill(args, InProcessGraphQL(ws)) == EXIT_OK
    plan = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("  ") and ": " in line and not line.startswith("  history"):
            asset, ranges = line.strip().split(": ", 1)
            plan[asset] = [tuple(r.split("..")) for r in ranges.rsplit(" (", 1)[0].split(", ")]
    return plan


def test_the_submitted_backfill_is_exactly_the_recorded_plan_and_the_cli_plan(ws, capsys):
    run_id = launch_job(ws, start=OPENER_WEEK[0], end=OPENER_WEEK[-1])
    run = ws.instance.get_run_by_id(run_id)
    assert run.is_success
    plan = recorded_plan(ws.instance, run_id)
    (backfill,) = ws.instance.get_backfills()
    assert backfill.is_asset_backfill
    assert submitted_target(backfill) == plan
    assert {tuple(ranges) for ranges in plan.values()} == {((OPENER_WEEK[0], OPENER_WEEK[-1]),)}  # no widening
    graph = ws.create_request_context().asset_graph
    assert set(plan) == {k.to_user_string() for k in graph.get_all_asset_keys()
                         if k.path[0] in {"nba_lake", "nba_raw", "nba_analytics", "nba_precompute"}}
    assert backfill.tags["nba_backfill/launched_by"] == "backfill job"
    assert backfill.tags["nba_backfill/job_run_id"] == run_id
    assert cli_dry_run(ws, capsys, start=OPENER_WEEK[0], end=OPENER_WEEK[-1]) == plan
    # the job materialized nothing itself
    assert not ws.instance.get_latest_materialization_event(next(iter(backfill.asset_selection)))


def test_missing_history_fails_the_run_naming_the_range_and_submits_nothing(ws, capsys):
    run_id = launch_job(ws, start=MID[0], end=MID[-1])
    run = ws.instance.get_run_by_id(run_id)
    assert run.is_failure
    failures = [e for e in ws.instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)]
    message = failures[0].dagster_event.event_specific_data.error.message
    span = f"{OPENER_WEEK[0]}..{OPENER_WEEK[-1]} (7 partitions) is missing"
    assert f"nba_analytics/player_game_summary: {span}" in message
    assert f"nba_precompute/player_season_totals: {span}" in message
    assert f"start the range at {OPENER_WEEK[0]} or add with_history: true" in message
    assert ws.instance.get_backfills() == []


def test_with_history_adds_exactly_the_missing_history_and_dry_run_submits_nothing(ws, capsys):
    run_id = launch_job(ws, start=MID[0], end=MID[-1], with_history=True, dry_run=True)
    assert ws.instance.get_run_by_id(run_id).is_success
    plan = recorded_plan(ws.instance, run_id)
    assert ws.instance.get_backfills() == []
    assert plan["nba_analytics/player_game_summary"] == [(OPENER_WEEK[0], MID[-1])]
    assert plan["nba_precompute/player_season_totals"] == [(OPENER_WEEK[0], MID[-1])]
    # a windowed Phase 4 table reads history but is not read as history: only the asked range
    assert plan["nba_precompute/ml_feature_store_v2"] == [(MID[0], MID[-1])]


def test_the_daemon_runs_the_submitted_backfill_to_completion(ws):
    days = OPENER_WEEK[:2]
    run_id = launch_job(ws, start=days[0], end=days[-1], phases="1-3")
    assert ws.instance.get_run_by_id(run_id).is_success
    (backfill,) = ws.instance.get_backfills()
    done = run_backfill(ws, backfill.backfill_id)
    assert done.status.value == "COMPLETED_SUCCESS", [r.status for r in backfill_runs(ws.instance, done.backfill_id)]
    materialized = done.asset_backfill_data.materialized_subset
    assert materialized == done.asset_backfill_data.target_subset
