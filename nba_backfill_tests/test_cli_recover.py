"""Recovery after a source fault: `backfill --only-missing-or-failed` (and the retry command of
the alerts digest) re-scrapes the lake partitions whose landed data failed a table.

Real asset backfills of the `status_world` graph through the backfill daemon's iteration; the
CLI's GraphQL (queries and the launch mutation) answered in-process by dagster-graphql; the
`partition_ok` evaluations are the ones the runs stored, or stored run-less on the instance.
"""

from __future__ import annotations

import json
import shlex
from types import SimpleNamespace

import pytest
from dagster import AssetCheckEvaluation, AssetKey, asset, materialize

from nba_backfill import cli
from nba_backfill.alerts.digest import build_digest, snapshot
from nba_backfill.alerts.notifiers import AlertSettings
from nba_backfill.checks.results import PARTITION_OK
from nba_backfill.ops.plan import build_backfill_request
from nba_backfill.ops.recover import describe, find_refetch, with_refetch
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.seasons import season_by_label
from nba_backfill_tests.dagster_harness import (
    InProcessGraphQL,
    daemon_workspace,
    launch_asset_backfill,
    run_backfill,
)
from nba_backfill_tests.status_world import RAW, WORLD_ENV, every_asset, in_process_cli

FIRST, BAD, LAST = "2023-11-01", "2023-11-02", "2023-11-03"
ALL_KEYS = DAILY_PARTITIONS.get_partition_keys()


@pytest.fixture
def failed_world(tmp_path, monkeypatch):
    """A backfill of the whole graph over three dates while the source drops BAD's game."""
    monkeypatch.setenv(WORLD_ENV, str(tmp_path))
    (tmp_path / "faults").mkdir()
    (tmp_path / "faults" / BAD).touch()
    with daemon_workspace("nba_backfill_tests.status_world", "toy_definitions") as ws:
        backfill_id = launch_asset_backfill(ws, every_asset(FIRST, LAST))
        backfill = run_backfill(ws, backfill_id)
        in_process_cli(monkeypatch, ws)
        yield SimpleNamespace(ws=ws, backfill=backfill, root=tmp_path)


def landed_rows(world, day: str) -> int:
    return json.loads((world.root / "lake" / f"{day}.json").read_text())["rows"]


def test_resume_rescrapes_the_bad_lake_partition_and_ends_like_a_clean_run(failed_world, capsys):
    assert failed_world.backfill.status.value == "COMPLETED_FAILED"
    assert landed_rows(failed_world, BAD) == 0
    (failed_world.root / "faults" / BAD).unlink()  # the source is fixed
    before = {b.backfill_id for b in failed_world.ws.instance.get_backfills()}

    argv = ["backfill", "--from", FIRST, "--to", LAST, "--only-missing-or-failed"]
    capsys.readouterr()
    assert cli.main([*argv, "--dry-run"]) == cli.EXIT_OK
    planned = capsys.readouterr()
    assert "  nba_lake/toy_summary: 2023-11-02..2023-11-02 (1)" in planned.out
    assert "Re-scraping 1 lake partition whose landed data failed a table" in planned.err
    tables = "; ".join(f"{k} (landed_object_malformed)" for k in sorted(k.to_user_string() for k in RAW))
    assert f"  nba_lake/toy_summary {BAD}  <- failed partitions of {tables}" in planned.err

    assert cli.main(argv) == cli.EXIT_OK
    resumed_id = capsys.readouterr().out.strip()
    assert resumed_id not in before
    resumed = run_backfill(failed_world.ws, resumed_id)
    assert resumed.status.value == "COMPLETED_SUCCESS"
    assert landed_rows(failed_world, BAD) == 1  # re-scraped, then re-parsed
    assert cli.main(["status", resumed_id]) == cli.EXIT_OK
    assert "DONE: all 6 targeted asset-partitions" in capsys.readouterr().out


def test_digest_retry_command_rescrapes_the_lake_partition(failed_world, capsys):
    instance = failed_world.ws.instance
    digest = build_digest(snapshot(instance, instance.get_backfill(failed_world.backfill.backfill_id)),
                          AlertSettings())
    groups = {g.category: g for g in digest.groups}
    assert list(groups) == ["source data problems"]  # a dropped game is not a code error
    assert groups["source data problems"].count == 4
    assert groups["source data problems"].causes == (("landed_object_malformed", 8),)  # step + check
    assert digest.retry_command == (
        f"nba-backfill backfill --from {BAD} --to {BAD} --assets nba_analytics/toy_form "
        "nba_lake/toy_summary nba_raw/toy_inactive nba_raw/toy_lines nba_raw/toy_officials "
        "nba_raw/toy_summary --only-missing-or-failed"
    )
    assert any("re-scrapes 1 lake partition(s)" in n and f"nba_lake/toy_summary:{BAD}" in n
               for n in digest.notes)

    (failed_world.root / "faults" / BAD).unlink()
    capsys.readouterr()
    assert cli.main(shlex.split(digest.retry_command)[1:]) == cli.EXIT_OK
    retry = run_backfill(failed_world.ws, capsys.readouterr().out.strip())
    assert retry.status.value == "COMPLETED_SUCCESS"
    assert landed_rows(failed_world, BAD) == 1


def test_refetch_comes_from_the_latest_failed_evaluation_of_each_targeted_partition(tmp_path, monkeypatch):
    """Evaluations stored run-less on the instance, twelve partitions (read page-wise)."""
    monkeypatch.setenv(WORLD_ENV, str(tmp_path))
    table = AssetKey(["nba_raw", "toy_lines"])
    days = ALL_KEYS[ALL_KEYS.index("2023-11-01"):ALL_KEYS.index("2023-11-01") + 12]

    def evaluation(day: str, passed: bool, refetch: str = ""):
        meta = {"outcome": "ok" if passed else "failed"}
        if not passed:
            meta.update(cause_kind="landed_object_missing", cause=f"nba_raw/toy_lines {day}: missing")
        if refetch:
            meta["refetch"] = refetch
        return AssetCheckEvaluation(asset_key=table, check_name=PARTITION_OK, passed=passed,
                                    partition=day, metadata=meta)

    @asset(key=["toy_recorder"])
    def recorder(context) -> None:
        context.log_event(evaluation(days[8], True))  # that partition recovered since

    with daemon_workspace("nba_backfill_tests.status_world", "toy_definitions") as ws:
        for day in days:
            ws.instance.report_runless_asset_event(
                evaluation(day, True) if day not in (days[2], days[8]) else evaluation(
                    day, False, f"nba_lake/toy_summary:{days[1]}, nba_lake/toy_summary:{day}, "
                    f"nba_lake/no_such_scraper:{day}")
            )
        assert materialize([recorder], instance=ws.instance).success
        graph = ws.create_request_context().asset_graph
        request = build_backfill_request(
            known_assets=[k.to_user_string() for k in graph.get_all_asset_keys()],
            all_keys=ALL_KEYS, current_season=season_by_label("2023-24"),
            start=days[0], end=days[-1], phases="2", assets=["nba_raw/toy_lines"],
            done={"nba_raw/toy_lines": set(days) - {days[2], days[8]}},
        )
        refetch = find_refetch(InProcessGraphQL(ws), request, ALL_KEYS)
    assert refetch.partitions == {"nba_lake/toy_summary": {days[1], days[2]}}
    assert refetch.unknown == {f"nba_lake/no_such_scraper:{days[2]}"}
    resumed = with_refetch(request, refetch, ALL_KEYS)
    assert [(i.asset, i.ranges) for i in resumed.partitions_by_assets] == [
        ("nba_lake/toy_summary", ((days[1], days[2]),)),
        ("nba_raw/toy_lines", ((days[2], days[2]), (days[8], days[8]))),
    ]
    assert resumed.phases == (1, 2) and "Plus 2 partitions: lake partitions named by" in resumed.description
    assert describe(refetch, ALL_KEYS) == [
        "Re-scraping 2 lake partitions whose landed data failed a table (named by `partition_ok` refetch):",
        f"  nba_lake/toy_summary {days[1]}..{days[2]}  <- failed partitions of nba_raw/toy_lines "
        "(landed_object_missing)",
        f"  not added (not a partition of the code location): nba_lake/no_such_scraper:{days[2]}",
    ]
