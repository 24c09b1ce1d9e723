"""Per-partition truth through the backfill daemon's own iteration (issue: one bad date never
costs good dates, and status never lies).

Five opening days of 2023-24, Phases 1-3, launched as the CLI launches them (exact per-asset
ranges). One game of the third day is dropped by the offline source (the fault a real source
produces when it omits a game). Expected: every other date of every table is materialized; the
bad date — and only what reads it — is failed, in the backfill and in each asset's partition
status, with the cause and the lake partitions to re-scrape in `partition_ok`. Then the fault is
removed and the documented resume re-targets the failed partitions and the lake partitions they
name; it ends COMPLETED_SUCCESS and equal to a clean run, table by table. The same for a landed
lake object truncated on disk, recovered by a Phases 2-3 resume.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey

from nba_backfill.compat import AssetCheckExecutionRecordStatus
from nba_backfill.layers import ANALYTICS, LAKE, RAW
from nba_backfill.ops.plan import build_backfill_request
from nba_backfill.partitions import DAILY_PARTITIONS, season_keys
from nba_backfill.seasons import season_by_label
from nba_backfill_tests.dagster_harness import backfill_env, daemon_workspace, launch_asset_backfill, run_backfill

SEASON = "2023-24"
DAYS = season_keys(season_by_label(SEASON))[:5]  # the opener and the four days after it
BAD_DAY, BAD_GAME = DAYS[2], "0022300075"  # a game of the opener's third day (PHI at MIL)
SAME_DATE = [  # tables that read only their own date: exactly the bad date fails
    *(f"{RAW}/{t}" for t in ("nbac_team_boxscore", "nbac_player_boxscore", "nbac_game_summary")),
    f"{ANALYTICS}/team_offense_game_summary", f"{ANALYTICS}/player_game_summary",
]


def _launch(ws, phases: str, days=DAYS) -> str:
    graph = ws.create_request_context().asset_graph
    request = build_backfill_request(
        known_assets=[k.to_user_string() for k in graph.get_all_asset_keys()],
        all_keys=DAILY_PARTITIONS.get_partition_keys(),
        current_season=season_by_label(SEASON),
        start=days[0], end=days[-1], phases=phases,
    )
    return launch_asset_backfill(ws, {i.asset: i.ranges for i in request.partitions_by_assets})


def _subsets(backfill) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    data = backfill.asset_backfill_data
    done = {k.to_user_string(): set(data.materialized_subset.get_partitions_subset(k).get_partition_keys())
            for k in data.materialized_subset.asset_keys}
    failed = {k.to_user_string(): set(data.failed_and_downstream_subset.get_partitions_subset(k).get_partition_keys())
              for k in data.failed_and_downstream_subset.asset_keys}
    return done, failed


def checksums(home: Path) -> dict[str, str]:
    """Per warehouse table: row count and a hash of its rows in sorted order, processing times
    (TIMESTAMP columns: processed_at, source_*_last_updated) left out."""
    out = {}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables "
                              "where table_schema in ('nba_raw', 'nba_analytics') order by 1, 2").fetchall()
        for schema, name in tables:
            stamps = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "and data_type like 'TIMESTAMP%'", [schema, name]).fetchall()]
            exclude = f" exclude ({', '.join(stamps)})" if stamps else ""
            frame = conn.execute(f"select *{exclude} from {schema}.{name}").df()
            text = frame.astype(str).sort_values(list(frame.columns)).to_csv(index=False)
            out[f"{schema}.{name}"] = f"{len(frame)}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    return out


@pytest.fixture
def home(tmp_path):
    with backfill_env(tmp_path / "home", SEASON):
        (tmp_path / "home").mkdir()
        yield tmp_path / "home"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The same five days without any fault: the reference contents."""
    home = tmp_path_factory.mktemp("clean")
    with backfill_env(home, SEASON):
        with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
            backfill = run_backfill(ws, _launch(ws, "1-3"))
            assert backfill.status.value == "COMPLETED_SUCCESS"
    return checksums(home)


def test_a_dropped_game_fails_only_its_date_and_the_resume_equals_a_clean_run(home, clean, capsys):
    (home / "offline_faults.json").write_text(json.dumps([{"kind": "drop_game", "game_id": BAD_GAME}]))
    with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
        instance = ws.instance
        backfill = run_backfill(ws, _launch(ws, "1-3"))
        assert backfill.status.value == "COMPLETED_FAILED"
        done, failed = _subsets(backfill)
        for asset in SAME_DATE:
            assert done[asset] == set(DAYS) - {BAD_DAY}, asset
            assert failed[asset] == {BAD_DAY}, asset
        for asset, keys in failed.items():  # nothing before the bad date failed, anywhere
            assert min(keys) >= BAD_DAY or asset.endswith("upcoming_team_game_context"), (asset, keys)
        assert all(asset.split("/")[0] != LAKE for asset in failed)  # the lake itself landed fine
        # the Partitions tab's truth: exactly the bad date failed, the others materialized
        summary = AssetKey([RAW, "nbac_game_summary"])
        assert instance.get_materialized_partitions(summary) == set(DAYS) - {BAD_DAY}
        status = instance.get_status_by_partition(summary, DAYS, DAILY_PARTITIONS)
        assert {k for k, s in status.items() if s.value == "FAILED"} == {BAD_DAY}
        # partition_ok names the cause and the lake partition to re-scrape
        info = instance.event_log_storage.get_asset_check_partition_info(
            [AssetCheckKey(summary, "partition_ok")], partition_keys=[BAD_DAY])
        assert info[0].latest_execution_status is AssetCheckExecutionRecordStatus.FAILED
        evaluation = _latest_evaluation(instance, summary, BAD_DAY)
        assert evaluation.metadata["outcome"].value == "failed"
        assert evaluation.metadata["cause_kind"].value == "landed_object_malformed"
        assert evaluation.metadata["refetch"].value == f"{LAKE}/nbac_game_summary:{BAD_DAY}"
        assert BAD_GAME in evaluation.metadata["cause"].value
        boxscore = _latest_evaluation(instance, AssetKey([RAW, "nbac_team_boxscore"]), BAD_DAY)
        assert boxscore.metadata["cause_kind"].value == "landed_object_missing"

        (home / "offline_faults.json").unlink()
        resumed = run_backfill(ws, _resume(ws, "1-3", capsys))
        assert resumed.status.value == "COMPLETED_SUCCESS"
    assert checksums(home) == clean


def test_a_truncated_lake_object_fails_only_its_date_and_the_resume_rescrapes_it(home, clean, capsys):
    with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
        assert run_backfill(ws, _launch(ws, "1-3")).status.value == "COMPLETED_SUCCESS"
        bad = sorted((home / "lake" / "nba-com" / "team-boxscore" / BAD_DAY).glob("*.json"))[0]
        bad.write_text(bad.read_text()[:400])
        backfill = run_backfill(ws, _launch(ws, "2-3"))
        assert backfill.status.value == "COMPLETED_FAILED"
        done, failed = _subsets(backfill)
        team = f"{RAW}/nbac_team_boxscore"
        assert done[team] == set(DAYS) - {BAD_DAY} and failed[team] == {BAD_DAY}
        assert done[f"{RAW}/nbac_player_boxscore"] == set(DAYS)  # other tables of that date are fine
        evaluation = _latest_evaluation(ws.instance, AssetKey([RAW, "nbac_team_boxscore"]), BAD_DAY)
        assert evaluation.metadata["refetch"].value == f"{LAKE}/nbac_team_boxscore:{BAD_DAY}"
        assert bad.name in evaluation.metadata["cause"].value
        resumed = run_backfill(ws, _resume(ws, "2-3", capsys))
        assert resumed.status.value == "COMPLETED_SUCCESS"
    assert checksums(home) == clean


def _latest_evaluation(instance, asset: AssetKey, partition: str):
    from dagster import DagsterEventType, EventRecordsFilter

    records = instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION), ascending=False, limit=2000)
    for record in records:
        data = record.event_log_entry.dagster_event.event_specific_data
        if data.asset_key == asset and data.check_name == "partition_ok" and data.partition == partition:
            return data
    raise AssertionError(f"no partition_ok evaluation for {asset.to_user_string()} {partition}")


def _resume(ws, phases: str, capsys) -> str:
    """The documented resume, exactly as the CLI runs it (`nba-backfill backfill --from .. --to ..
    --phases P --only-missing-or-failed`), against the daemon workspace: the failed and missing
    partitions plus the lake partitions their failures name. Returns the launched backfill id."""
    from argparse import Namespace

    from nba_backfill.cli import cmd_backfill
    from nba_backfill_tests.dagster_harness import InProcessGraphQL

    capsys.readouterr()
    args = Namespace(season=None, start=DAYS[0], end=DAYS[-1], phases=phases, assets=None,
                     only_missing_or_failed=True, with_history=False, dry_run=False)
    assert cmd_backfill(args, InProcessGraphQL(ws)) == 0
    out = capsys.readouterr()
    assert "Re-scraping" in out.err and f"{LAKE}/" in out.err, out.err  # the lake is re-targeted
    return out.out.strip().splitlines()[-1]
