"""Content-true staleness through the backfill daemon's own iteration (issue: stale means the data
changed; one action refreshes exactly what a change touched).

The first 16 days of 2023-24 (through the first day after Phase 4's bootstrap), Phases 1-4. Then:
1. an identical re-scrape and re-parse of one date marks nothing stale — neither the project's
   `up_to_date` check nor Dagster's own per-partition staleness;
2. a points correction of one player in one game of that date (the offline source's `correction`
   fault), re-scraped: exactly the partitions
   that read that date (through every window, transitively) become stale, each naming the
   changed asset, date and rows;
3. one refresh backfill over the stale set makes everything fresh again; every partition outside
   the stale set is byte-identical to before, and the corrected value reaches the rolling stats
   of player_daily_cache (and from there ml_feature_store_v2).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey, build_sensor_context

from nba_backfill.layers import ANALYTICS, LAKE, PRECOMPUTE, RAW
from nba_backfill.ops.plan import build_backfill_request
from nba_backfill.partitions import DAILY_PARTITIONS, season_keys
from nba_backfill.seasons import season_by_label
from nba_backfill.staleness import MARK_JOB, ReadGraph, current_stale, refresh_request, stale_partitions
from nba_backfill_tests.dagster_harness import (
    backfill_env,
    daemon_workspace,
    home_definitions,
    launch_asset_backfill,
    run_backfill,
)

SEASON = "2023-24"
DAYS = season_keys(season_by_label(SEASON))[:16]  # through the first Phase 4 day after bootstrap
DAY = DAYS[2]  # 2023-10-26
GAME, PLAYER, LOOKUP = "0022300076", 201142, "kevindurant"  # 39 points at LAL; plays again in DAYS
SCHEMAS = (RAW, ANALYTICS, PRECOMPUTE)


def _launch(ws, phases: str, days, assets=None) -> str:
    graph = ws.create_request_context().asset_graph
    request = build_backfill_request(
        known_assets=[k.to_user_string() for k in graph.get_all_asset_keys()],
        all_keys=DAILY_PARTITIONS.get_partition_keys(),
        current_season=season_by_label(SEASON),
        start=days[0], end=days[-1], phases=phases, assets=assets,
    )
    return launch_asset_backfill(ws, {i.asset: i.ranges for i in request.partitions_by_assets})


def _tick(instance, repo, cursor):
    """One evaluation of the `stale_partitions` sensor and the `mark_stale` run it requests, as
    the sensor daemon launches it; returns the new cursor."""
    context = build_sensor_context(instance=instance, repository_def=repo, cursor=cursor)
    result = stale_partitions(context)
    for request in getattr(result, "run_requests", None) or []:
        run = repo.get_job(MARK_JOB).execute_in_process(run_config=request.run_config, instance=instance)
        assert run.success
    return getattr(result, "cursor", None) or context.cursor


def partition_checksums(home: Path) -> dict[tuple[str, str], str]:
    """(table, date) -> hash of that date's rows, processing times left out."""
    out = {}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables where "
                              f"table_schema in {SCHEMAS} order by 1, 2").fetchall()
        for schema, name in tables:
            columns = conn.execute("select column_name, data_type from information_schema.columns where "
                                   "table_schema = ? and table_name = ?", [schema, name]).fetchall()
            keep = [c for c, t in columns if not t.startswith("TIMESTAMP")]
            date = next(c for c, t in columns if t == "DATE")  # the partition column comes first
            frame = conn.execute(f"select {', '.join(keep)} from {schema}.{name}").df()
            for day, part in frame.groupby(frame[date].astype(str)):
                text = part.astype(str).sort_values(keep).to_csv(index=False)
                out[(f"{schema}/{name}", day)] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return out


def dagster_stale(ws, keys) -> list[tuple[str, str]]:
    """Partitions Dagster's own resolver calls STALE ("Unsynced" in the UI) among tables x keys."""
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._core.loader import LoadingContextForTest

    graph = ws.create_request_context().asset_graph
    resolver = CachingStaleStatusResolver(ws.instance, lambda: graph, LoadingContextForTest(ws.instance))
    tables = [k for k in graph.get_all_asset_keys() if k.path[0] in SCHEMAS]
    return [(k.to_user_string(), p) for k in tables for p in keys if resolver.get_status(k, p).value == "STALE"]


def _correct_points(home: Path) -> None:
    """A stat correction at the source, as `python -m nba_backfill.source correct` adds it: the
    player gets 2 more points in that game, for every endpoint, from now on."""
    from nba_backfill.source.__main__ import main as source_main

    assert source_main(["correct", "--home", str(home), "--game", GAME, "--player", str(PLAYER),
                        "--stat", "pts", "--delta", "2"]) == 0


def _pdc_points(home: Path) -> pd.DataFrame:
    """The player's rolling points in player_daily_cache after the corrected game, by date."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(
            "select cast(cache_date as varchar) as day, points_avg_last_5, points_avg_season "
            "from nba_precompute.player_daily_cache where player_lookup = ? and cache_date > ? order by 1",
            [LOOKUP, DAY]).df()


@pytest.fixture
def home(tmp_path):
    with backfill_env(tmp_path / "home", SEASON):
        (tmp_path / "home").mkdir()
        yield tmp_path / "home"


def test_identical_rerun_marks_nothing_and_a_correction_marks_exactly_its_readers(home):
    repo = home_definitions().get_repository_def()
    graph = ReadGraph.from_asset_graph(repo.asset_graph)
    with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
        instance = ws.instance
        assert run_backfill(ws, _launch(ws, "1-4", DAYS)).status.value == "COMPLETED_SUCCESS"
        cursor = _tick(instance, repo, None)
        assert current_stale(instance) == {}
        before = partition_checksums(home)

        # 1. identical re-scrape + re-parse of one date: nothing is stale, in either view
        assert run_backfill(ws, _launch(ws, "1-2", [DAY])).status.value == "COMPLETED_SUCCESS"
        cursor = _tick(instance, repo, cursor)
        assert current_stale(instance) == {}
        assert dagster_stale(ws, DAYS) == []
        assert partition_checksums(home) == before

        # 2. a correction of one player's points at the source, re-scraped: exactly what reads
        #    the changed lake partitions of that date is stale, nothing else
        _correct_points(home)
        rescrape = run_backfill(ws, _launch(ws, "1", [DAY]))
        assert rescrape.status.value == "COMPLETED_SUCCESS"
        cursor = _tick(instance, repo, cursor)
        changed = _changed_lake(instance, DAY)
        assert f"{LAKE}/nbac_player_boxscore" in changed and f"{LAKE}/nbac_schedule" in changed
        stale = {k.to_user_string(): set(v) for k, v in current_stale(instance).items()}
        expected: dict[str, set[str]] = {}
        for lake in changed:
            for asset, keys in _readers_closure(graph, AssetKey.from_user_string(lake), DAY).items():
                expected.setdefault(asset, set()).update(keys)
        assert stale == expected
        assert stale[f"{ANALYTICS}/player_game_summary"] == {DAY}
        # before the change only the readers of a forward window (the schedule ahead of D) are stale
        # (upcoming_*_game_context reads the schedule up to 7 days ahead, and what reads it)
        earlier = {a for a, keys in stale.items() if min(keys) < DAY}
        assert f"{ANALYTICS}/upcoming_team_game_context" in earlier
        assert not {a for a in earlier if a.startswith(RAW) or a.endswith("_game_summary")}, earlier
        for asset in earlier:
            for day in sorted(k for k in stale[asset] if k < DAY):
                assert "_game_context [" in _cause(instance, asset, day) or asset.endswith("_game_context"), (asset, day)
        assert {a for a in stale if a.startswith(RAW)} >= {f"{RAW}/nbac_player_boxscore", f"{RAW}/nbac_schedule"}
        for table in ("player_shot_zone_analysis", "player_daily_cache", "ml_feature_store_v2"):
            assert {d for d in DAYS if d > DAY} <= stale[f"{PRECOMPUTE}/{table}"], table  # windows holding DAY
        # Dagster's own "Unsynced" agrees on the first hop: the readers of the re-scraped lake
        assert (f"{RAW}/nbac_player_boxscore", DAY) in dagster_stale(ws, [DAY])
        cause = _cause(instance, f"{ANALYTICS}/player_game_summary", DAY)
        assert f"[{DAY}] changed: objects" in cause or f"[{DAY}] changed: rows" in cause, cause
        points_before = _pdc_points(home)

        # 3. one action: one backfill over the stale set, then everything is fresh
        request = refresh_request(instance)
        assert {i.asset: i.num_keys for i in request.partitions_by_assets} == {a: len(k) for a, k in stale.items()}
        from nba_backfill.ops.submit import submit_backfill

        refreshed = run_backfill(ws, submit_backfill(instance, repo.asset_graph, request))
        assert refreshed.status.value == "COMPLETED_SUCCESS"
        cursor = _tick(instance, repo, cursor)
        assert current_stale(instance) == {}
        assert dagster_stale(ws, DAYS) == []
        points_after = _pdc_points(home)

        # 4. a second correction of the same game marks the same partitions stale again (each
        #    mark is logged by its own mark_stale run: a partition can be marked any number of times)
        _correct_points(home)
        assert run_backfill(ws, _launch(ws, "1", [DAY])).status.value == "COMPLETED_SUCCESS"
        cursor = _tick(instance, repo, cursor)
        assert {k.to_user_string(): set(v) for k, v in current_stale(instance).items()} == stale
    after = partition_checksums(home)
    touched = {(a, d) for a, keys in stale.items() for d in keys}
    assert {k: v for k, v in after.items() if k not in touched} == {k: v for k, v in before.items() if k not in touched}
    assert after[(f"{ANALYTICS}/player_game_summary", DAY)] != before[(f"{ANALYTICS}/player_game_summary", DAY)]
    # the corrected value reaches the rolling stats: the season average moves by 2 / games played,
    # the last-5 average by 2 / 5 where the corrected game is among the last five
    merged = points_before.merge(points_after, on="day", suffixes=("_before", "_after"))
    assert len(merged) >= 1
    for _, row in merged.iterrows():
        games = _games_before(row["day"])
        assert row["points_avg_season_after"] - row["points_avg_season_before"] == pytest.approx(2 / len(games))
        in_last_5 = DAY in games[-5:]
        assert row["points_avg_last_5_after"] - row["points_avg_last_5_before"] == pytest.approx(
            2 / 5 if in_last_5 else 0.0, abs=1e-9), row.to_dict()


def _changed_lake(instance, day: str) -> set[str]:
    """Lake assets whose latest materialization of `day` recorded changed content."""
    from nba_backfill.assets.core.changes import latest_materialization_records

    out = set()
    for key in instance.get_asset_keys():
        if key.path[0] != LAKE:
            continue
        record = latest_materialization_records(instance, key, [day]).get(day)
        meta = record.asset_materialization.metadata if record else {}
        if meta.get("content_change") is not None and meta["content_change"].value == "changed":
            out.add(key.to_user_string())
    return out


def _games_before(day: str) -> list[str]:
    """The player's game dates of the season before `day` (the bundled logs)."""
    from nba_backfill.source.data_store import PARQUET_PATH

    logs = pd.read_parquet(PARQUET_PATH, columns=["PLAYER_ID", "GAME_DATE"])
    dates = pd.to_datetime(logs.loc[logs["PLAYER_ID"] == PLAYER, "GAME_DATE"]).dt.strftime("%Y-%m-%d")
    return sorted(d for d in dates if DAYS[0] <= d < day)


def _readers_closure(graph: ReadGraph, asset: AssetKey, day: str) -> dict[str, set[str]]:
    """What reads (asset, day), transitively through the declared windows, among the backfilled
    days (everything was materialized before the change): the expected stale set."""
    out: dict[str, set[str]] = {}
    todo = [(asset, day)]
    seen = set()
    while todo:
        node = todo.pop()
        for child, key in graph.readers(*node):
            if (child, key) in seen or key not in DAYS or child.path[0] not in SCHEMAS:  # phases 2-4 built
                continue
            seen.add((child, key))
            out.setdefault(child.to_user_string(), set()).add(key)
            todo.append((child, key))
    return out


def _cause(instance, asset: str, partition: str) -> str:
    from dagster import AssetCheckKey

    from nba_backfill.compat import PartitionKeyFilter

    history = instance.event_log_storage.get_asset_check_execution_history(
        AssetCheckKey(AssetKey.from_user_string(asset), "up_to_date"), limit=1,
        partition_filter=PartitionKeyFilter(key=partition))
    data = history[0].event.dagster_event.event_specific_data
    return data.metadata["cause"].value


def test_change_diff_counts_rows_by_grain_key():
    from nba_backfill.assets.core.content import EMPTY_VERSION, change, version_of

    keys = pd.Series(["player=1", "player=2", "player=3"])
    old, new = pd.Series(["a", "b", "c"]), pd.Series(["a", "x", "c"])
    assert version_of(new) == version_of(new[::-1])  # order-free
    assert version_of([]) == EMPTY_VERSION
    same = change(new, version_of(new))
    assert same.kind == "unchanged" and same.summary() == "unchanged"
    diff = change(new, version_of(old), new_keys=keys, old_hashes=old, old_keys=keys)
    assert (diff.kind, diff.added, diff.removed, diff.changed) == ("changed", 0, 0, 1)
    assert diff.summary() == "rows +0 -0 ~1 (~ player=2)"
    grown = change(pd.Series(["a", "b"]), version_of(["a"]), new_keys=pd.Series(["p=1", "p=2"]),
                   old_hashes=pd.Series(["a"]), old_keys=pd.Series(["p=1"]))
    assert (grown.added, grown.removed, grown.changed) == (1, 0, 0)
    assert change(pd.Series(["a"]), None).kind == "new"
