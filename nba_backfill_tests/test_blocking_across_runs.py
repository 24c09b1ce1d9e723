"""Blocking across runs and backfills: one bad date never reaches anything that reads it.

A `drop_game` fault removes one game of BAD from stats.nba.com leaguegamelog, so the raw player
box score's blocking `games_complete` check fails for BAD. Two real asset backfills run through
the backfill daemon's own iteration (`execute_backfill_iteration`, in-process, real assets,
offline source, DuckDB in tmp): first phases 1-2 over four dates, then — a later backfill —
phases 3-4 over the same dates. Between them the declarative automation conditions
(`nba_backfill.automation`) are evaluated on the real asset graph.

Expected, computed from the asset graph and its partition mappings (same date and lookback
windows, transitively): every analytics/precompute partition that reads BAD writes no rows and is
failed — blocked by the guard (`partition_ok` names the upstream asset, date, check and root
cause) or, when the backfill already knows its parent failed, never launched and counted failed
by the backfill; every other partition completes and is materialized; the automation requests
exactly the unaffected partitions.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from dagster import (
    AssetCheckKey,
    AssetDep,
    AssetKey,
    AssetSelection,
    Definitions,
    MaterializeResult,
    asset,
    evaluate_automation_conditions,
    instance_for_test,
    map_asset_specs,
    materialize,
)
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from nba_backfill.assets.common import partition_keys
from nba_backfill.automation import automation_condition
from nba_backfill.checks.results import Outcome, blocking_check_names, check_spec, emit_check
from nba_backfill.guards import upstream_window
from nba_backfill.instance import RANGED_RUN_ENV
from nba_backfill.layers import ANALYTICS, PRECOMPUTE, RAW
from nba_backfill.ops.plan import build_backfill_request
from nba_backfill.ops.state import fetch_check_messages
from nba_backfill.ops.status import backfill_status
from nba_backfill.partitions import DAILY_PARTITIONS, PREVIOUS_30_DAYS, TABLE_BACKFILL_POLICY
from nba_backfill.resources.environment import local_resources
from nba_backfill.seasons import season_by_label
from nba_backfill_tests.dagster_harness import (
    InProcessGraphQL,
    backfill_runs,
    daemon_workspace,
    home_definitions,
    launch_asset_backfill,
    run_backfill,
)

FIRST, BAD, LAST = "2024-10-22", "2024-10-24", "2024-10-25"
KEYS = ["2024-10-22", "2024-10-23", "2024-10-24", "2024-10-25"]
FAULTED = AssetKey([RAW, "nbac_player_boxscore"])
FAULT = {"kind": "drop_game", "endpoint": "leaguegamelog", "date": BAD}
UPSTREAM = "partition_ok"
ALL_KEYS = DAILY_PARTITIONS.get_partition_keys()


def _launch(ws, phases: str) -> str:
    graph = ws.create_request_context().asset_graph
    request = build_backfill_request(
        known_assets=[k.to_user_string() for k in graph.get_all_asset_keys()],
        all_keys=ALL_KEYS,
        current_season=season_by_label("2024-25"),
        start=FIRST,
        end=LAST,
        phases=phases,
    )
    return launch_asset_backfill(ws, {i.asset: i.ranges for i in request.partitions_by_assets})


def _with_automation(defs: Definitions) -> Definitions:
    return Definitions(
        assets=map_asset_specs(
            lambda spec: spec.replace_attributes(
                automation_condition=automation_condition(spec.key.path[0])
            ),
            list(defs.assets),
        ),
        asset_checks=list(defs.asset_checks or []),
        resources=defs.resources,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("blocking") / "home"
    home.mkdir()
    (home / "offline_faults.json").write_text(json.dumps([FAULT]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBA_BACKFILL_HOME", str(home))
        mp.setenv("NBA_BACKFILL_CURRENT_SEASON", "2024-25")
        for key, value in RANGED_RUN_ENV.items():
            mp.setenv(key, value)
        defs = home_definitions()
        with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
            first = run_backfill(ws, _launch(ws, "1-2"))
            automation = evaluate_automation_conditions(
                _with_automation(defs),
                ws.instance,
                asset_selection=AssetSelection.groups(ANALYTICS, PRECOMPUTE),
                evaluation_time=dt.datetime(2024, 10, 26, 1, 0),
            )
            second = run_backfill(ws, _launch(ws, "3-4"))
            yield SimpleNamespace(
                ws=ws,
                instance=ws.instance,
                graph=defs.resolve_asset_graph(),
                first=first,
                second=second,
                automation=automation,
                warehouse=local_resources(home)["warehouse"],
                defs=defs,
            )


def _check_status(instance, asset_key: AssetKey, name: str) -> dict[str, AssetCheckExecutionRecordStatus]:
    infos = instance.event_log_storage.get_asset_check_partition_info(
        [AssetCheckKey(asset_key, name)], partition_keys=KEYS
    )
    return {i.partition_key: i.latest_execution_status for i in infos if i.partition_key}


def _layer_keys(graph, *layers: str) -> list[AssetKey]:
    return sorted(
        (k for k in graph.get_all_asset_keys() if k.path[0] in layers), key=lambda k: k.to_string()
    )


def _raw_failures(world) -> set[tuple[AssetKey, str]]:
    """(raw asset, date) pairs whose own (non-upstream) blocking checks failed."""
    roots = set()
    for key in _layer_keys(world.graph, RAW):
        for name in sorted(blocking_check_names(key) - {UPSTREAM}):
            for day, status in _check_status(world.instance, key, name).items():
                if status == AssetCheckExecutionRecordStatus.FAILED:
                    roots.add((key, day))
    return roots


def _affected(graph, roots: set[tuple[AssetKey, str]]) -> set[tuple[AssetKey, str]]:
    """Every (asset, date) of the range that reads a root, directly or transitively, through the
    declared partition mappings (same date or lookback window)."""
    index = {k: i for i, k in enumerate(ALL_KEYS)}
    bad = set(roots)
    changed = True
    while changed:
        changed = False
        for child in _layer_keys(graph, RAW, ANALYTICS, PRECOMPUTE):
            for parent in graph.get(child).parent_keys:
                mapping = graph.get_partition_mapping(child, parent)
                for day in KEYS:
                    if (child, day) in bad:
                        continue
                    if any((parent, up) in bad for up in upstream_window(ALL_KEYS, index, day, mapping)):
                        bad.add((child, day))
                        changed = True
    return bad - set(roots)


def _rows(world, key: AssetKey, day: str) -> int:
    spec = next(s for a in world.defs.assets for s in a.specs if s.key == key)
    expr = spec.metadata["partition_expr"]
    expr = getattr(expr, "value", expr)
    schema, table = key.path
    if not world.warehouse.table_exists(schema, table):
        return 0
    frame = world.warehouse.query(
        f"SELECT COUNT(*) AS n FROM {schema}.{table} WHERE CAST({expr} AS DATE) = CAST(? AS DATE)",
        [day],
    )
    return int(frame["n"][0])


def _backfill_failed(backfill) -> set[tuple[AssetKey, str]]:
    data = backfill.asset_backfill_data
    subset = data.failed_and_downstream_subset
    return {(k, d) for k in subset.asset_keys for d in subset.get_partitions_subset(k).get_partition_keys()}


def test_the_fault_fails_the_raw_completeness_check_of_one_date(world):
    assert world.first.status == BulkActionStatus.COMPLETED_FAILED  # the bad date is failed, not hidden
    statuses = _check_status(world.instance, FAULTED, "games_complete")
    assert statuses == {
        FIRST: AssetCheckExecutionRecordStatus.SUCCEEDED,
        "2024-10-23": AssetCheckExecutionRecordStatus.SUCCEEDED,
        BAD: AssetCheckExecutionRecordStatus.FAILED,
        LAST: AssetCheckExecutionRecordStatus.SUCCEEDED,
    }
    roots = _raw_failures(world)
    assert (FAULTED, BAD) in roots and {day for _, day in roots} == {BAD}, roots
    message = fetch_check_messages(InProcessGraphQL(world.ws), FAULTED.to_user_string(), "games_complete", [BAD])
    assert "missing" in message[BAD].lower(), message


def test_every_reader_of_the_bad_date_is_blocked_with_the_upstream_check_named(world):
    roots = _raw_failures(world)
    affected = _affected(world.graph, roots)
    layers = {key.path[0] for key, _ in affected}
    assert {ANALYTICS, PRECOMPUTE} <= layers, affected
    # lookback dependants: partitions after BAD that read it through a window
    assert any(day > BAD for _, day in affected), affected
    client = InProcessGraphQL(world.ws)
    not_launched = _backfill_failed(world.second)
    blocked = 0
    for key in sorted({k for k, _ in affected}, key=lambda k: k.to_string()):
        days = sorted(d for k, d in affected if k == key)
        statuses = _check_status(world.instance, key, UPSTREAM)
        messages = fetch_check_messages(client, key.to_user_string(), UPSTREAM, days)
        for day in days:
            assert day not in world.instance.get_materialized_partitions(key), (key, day)
            assert _rows(world, key, day) == 0, (key, day)
            if statuses.get(day) is None:  # its parent failed in this backfill: never launched
                assert key.path[0] == RAW or (key, day) in not_launched, (key, day)
                continue
            blocked += 1
            assert statuses[day] == AssetCheckExecutionRecordStatus.FAILED, (key, day, statuses)
            assert messages[day].startswith("blocked: "), (key, day, messages[day])
            # it names what it reads: a failed blocking check, or an input date that never
            # materialized because its own parent failed in the first backfill
            named = {n for root, _ in roots for n in blocking_check_names(root)}
            assert any(f"failed blocking check {n}" in messages[day] for n in named) or (
                f"[{BAD}] was never materialized" in messages[day]), messages[day]
    assert blocked
    direct = [k for k in world.graph.get(FAULTED).child_keys if (k, BAD) in affected and k.path[0] == ANALYTICS
              and _check_status(world.instance, k, UPSTREAM).get(BAD)]  # launched and blocked
    assert direct
    for key in direct:  # the reason carries the root cause: the raw check that failed, and why
        text = fetch_check_messages(client, key.to_user_string(), UPSTREAM, [BAD])[BAD]
        assert f"{FAULTED.to_user_string()} [{BAD}] failed blocking check partition_ok" in text, text
        assert "landed_object_missing: check games_complete" in text, text


def test_unaffected_partitions_complete(world):
    assert world.second.status == BulkActionStatus.COMPLETED_FAILED
    roots = _raw_failures(world)
    affected = _affected(world.graph, roots) | roots
    unaffected = [
        (key, day)
        for key in _layer_keys(world.graph, RAW, ANALYTICS, PRECOMPUTE)
        for day in KEYS
        if (key, day) not in affected
    ]
    assert len(unaffected) > len(affected)
    for key, day in unaffected:
        status = _check_status(world.instance, key, UPSTREAM).get(day)
        assert status == AssetCheckExecutionRecordStatus.SUCCEEDED, (key, day, status)
        if key.path[0] in (RAW, ANALYTICS):  # every date of the range has games
            assert _rows(world, key, day) > 0, (key, day)
    materialized = {
        key: set(world.instance.get_materialized_partitions(key))
        for key in _layer_keys(world.graph, RAW, ANALYTICS, PRECOMPUTE)
    }
    for key, keys in materialized.items():  # done = materialized; a bad date never is
        assert {d for d in KEYS if (key, d) not in affected} <= keys, (key, keys)
        assert not {d for d in KEYS if (key, d) in affected} & keys, (key, keys)


def test_backfills_ran_as_few_ranged_runs(world):
    """One run per run stage and contiguous range: a table never shares a run with a table it
    reads (so a failed date stops only its readers), the bad date splits a stage's range in two."""
    for backfill in (world.first, world.second):
        runs = backfill_runs(world.instance, backfill.backfill_id)
        stages = {}
        for run in runs:
            keys = sorted((k for k in run.asset_selection or [] if k.path[0] != "nba_lake"), key=lambda k: k.to_string())
            if not keys:
                continue
            policies = {world.graph.get(k).backfill_policy for k in keys}
            assert len(policies) == 1, keys  # one stage per run
            for key in keys:
                assert not set(world.graph.get(key).parent_keys) & (set(keys) - {key}), key
            stages.setdefault(policies.pop(), []).append(run)
        per_asset: dict = {}
        for run in runs:
            for key in run.asset_selection or []:
                per_asset[key] = per_asset.get(key, 0) + 1
        # each table runs over its good dates: at most the two ranges around the bad date
        assert max(per_asset.values()) <= 2, {k.to_user_string(): n for k, n in per_asset.items() if n > 2}


def test_cli_status_lists_the_blocked_partitions_with_reasons(world):
    client = InProcessGraphQL(world.ws)
    report = backfill_status(client, world.second.backfill_id)
    targeted = {k.path[0] for k in _layer_keys(world.graph, ANALYTICS, PRECOMPUTE)}
    affected = {(k.to_user_string(), d) for k, d in _affected(world.graph, _raw_failures(world))
                if k.path[0] in targeted}
    listed = {(f.asset, f.partition): f for f in report.failures}
    assert set(listed) == affected, (affected - set(listed), set(listed) - affected)
    for pair in affected:  # blocked by the guard, or never run because its parent failed
        assert listed[pair].outcome in ("blocked", "not run"), listed[pair]
    blocked = [f for f in listed.values() if f.outcome == "blocked"]
    assert blocked and all(f.cause_kind in ("upstream_check_failed", "upstream_missing") for f in blocked)
    assert all(f"[{BAD}]" in f.cause for f in blocked), [f.cause for f in blocked]
    assert report.run_failures  # the runs that met the bad date failed, naming it
    season = {row.season: row for row in report.seasons}["2024-25"]
    assert season.materialized == season.targeted - len(affected)


def test_automation_requests_exactly_the_unblocked_partitions(world):
    """Evaluated between the two backfills (raw complete, analytics/precompute missing)."""
    affected = _affected(world.graph, _raw_failures(world))
    keys = _layer_keys(world.graph, ANALYTICS, PRECOMPUTE)
    requested = {(k, d) for k in keys for d in world.automation.get_requested_partitions(k)}
    assert requested, "the automation requested nothing"
    assert not requested & affected, sorted(requested & affected)
    self_dependent = {k for k in keys if k in world.graph.get(k).parent_keys}
    sequential = set(self_dependent)  # and everything downstream of a self-dependent asset
    grown = True
    while grown:
        downstream = {k for k in keys if any(p in sequential for p in world.graph.get(k).parent_keys)}
        grown = not downstream <= sequential
        sequential |= downstream
    for key in keys:
        unaffected = {(key, d) for d in KEYS if (key, d) not in affected}
        mine = {(k, d) for k, d in requested if k == key}
        if key in self_dependent:
            # one new date per tick: the previous date must exist first. (Dagster also adds the
            # previous partition of a self-dependent asset with checks to the request — its
            # execution set is mapped through the self-dependency — here 2024-06-17.)
            assert {(k, d) for k, d in mine if d in KEYS} == {(key, FIRST)}, (key, mine)
        elif key in sequential:
            assert mine <= unaffected, key
        else:
            assert mine == unaffected, (key, sorted(unaffected - mine))


# --- the automation conditions on a minimal graph (fast, exact) ----------------------------------


def test_automation_blocks_same_date_and_lookback_readers_of_a_failed_check():
    raw_key = AssetKey([RAW, "automation_probe"])
    spec = check_spec(raw_key, "probe_complete", "Probe completeness.", blocking=True)
    failed_day = "2024-11-15"

    @asset(key=raw_key, partitions_def=DAILY_PARTITIONS, check_specs=[spec], group_name=RAW,
           backfill_policy=TABLE_BACKFILL_POLICY, automation_condition=automation_condition(RAW))
    def probe(context):
        yield MaterializeResult()
        outcomes = {k: Outcome(k != failed_day, message=f"probe {k}") for k in partition_keys(context)}
        yield emit_check(context, raw_key, "probe_complete", outcomes, blocking=True)

    @asset(key=[ANALYTICS, "probe_window"], partitions_def=DAILY_PARTITIONS, group_name=ANALYTICS,
           deps=[AssetDep(raw_key, partition_mapping=PREVIOUS_30_DAYS)],
           backfill_policy=TABLE_BACKFILL_POLICY, automation_condition=automation_condition(ANALYTICS))
    def probe_window():
        return MaterializeResult()

    @asset(key=[ANALYTICS, "probe_same_day"], partitions_def=DAILY_PARTITIONS, group_name=ANALYTICS,
           deps=[raw_key], backfill_policy=TABLE_BACKFILL_POLICY,
           automation_condition=automation_condition(ANALYTICS))
    def probe_same_day():
        return MaterializeResult()

    with instance_for_test() as instance:
        result = materialize(
            [probe], instance=instance,
            tags={"dagster/asset_partition_range_start": "2024-11-01",
                  "dagster/asset_partition_range_end": "2024-11-19"},
        )
        assert result.success
        evaluation = evaluate_automation_conditions(
            [probe, probe_window, probe_same_day], instance,
            evaluation_time=dt.datetime(2024, 11, 20, 12),  # window: 2024-11-13 .. 2024-11-19
        )
    window = ["2024-11-13", "2024-11-14", "2024-11-15", "2024-11-16", "2024-11-17", "2024-11-18", "2024-11-19"]
    assert evaluation.get_requested_partitions(raw_key) == set()
    same_day = evaluation.get_requested_partitions(probe_same_day.key)
    assert same_day == set(window) - {failed_day}
    # a (-30, -1) window reads 2024-11-15 from 2024-11-16 on; 2024-11-15 itself reads the days before
    assert evaluation.get_requested_partitions(probe_window.key) == {"2024-11-13", "2024-11-14", "2024-11-15"}
