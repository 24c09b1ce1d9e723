"""A season's first backfill on a fresh instance and warehouse: Phases 1–4 from the opener.

The opener's Phase 4 partitions read only previous-season dates (lookback windows end the day
before), none of them in the backfill, so the backfill daemon launches them in its first tick —
before any analytics table exists. They must still succeed (their windows are cut at the opener,
the missing tables read as zero rows) instead of failing, because a failed opener of a
self-dependent season-to-date accumulator would leave the whole season's chain unrequested.
Runs through the daemon's own iteration (synchronous coordinator: runs execute in submission
order, so the opener's Phase 4 run executes before the analytics run, deterministically).
"""

from __future__ import annotations

from nba_backfill.layers import ANALYTICS, PRECOMPUTE
from nba_backfill.ops.plan import build_backfill_request
from nba_backfill.partitions import DAILY_PARTITIONS, season_keys
from nba_backfill.resources.environment import local_resources
from nba_backfill.seasons import season_by_label
from nba_backfill_tests.dagster_harness import (
    backfill_env,
    backfill_runs,
    daemon_workspace,
    launch_asset_backfill,
    run_backfill,
)

OPENER, NEXT = season_keys(season_by_label("2024-25"))[:2]  # the opener and the day after


def test_fresh_backfill_from_the_opener_completes_every_phase(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with backfill_env(home, "2024-25"):
        with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
            graph = ws.create_request_context().asset_graph
            request = build_backfill_request(
                known_assets=[k.to_user_string() for k in graph.get_all_asset_keys()],
                all_keys=DAILY_PARTITIONS.get_partition_keys(),
                current_season=season_by_label("2024-25"),
                start=OPENER, end=NEXT, phases="1-4",
            )
            backfill_id = launch_asset_backfill(
                ws, {i.asset: i.ranges for i in request.partitions_by_assets})
            backfill = run_backfill(ws, backfill_id)
            runs = backfill_runs(ws.instance, backfill_id)
            failed = [sorted(k.to_user_string() for k in r.asset_selection or [])
                      for r in runs if r.status.value != "SUCCESS"]
            assert failed == [], failed
            assert backfill.status.value == "COMPLETED_SUCCESS"
            # the case this guards: Phase 4 of the opener ran before any analytics run
            layers = [{k.path[0] for k in r.asset_selection or []} for r in runs]
            first_precompute = next(i for i, ls in enumerate(layers) if PRECOMPUTE in ls)
            first_analytics = next(i for i, ls in enumerate(layers) if ANALYTICS in ls)
            assert first_precompute < first_analytics, layers
            warehouse = local_resources(home)["warehouse"]
            totals = warehouse.query(
                "select cast(as_of_date as varchar) as d, count(*) as n "
                "from nba_precompute.player_season_totals group by 1 order by 1")
            opener_players = warehouse.query(
                "select count(distinct player_lookup) as n from nba_analytics.player_game_summary "
                f"where game_date = DATE '{OPENER}'")["n"][0]
            # state before the opener is empty; the next day carries every opener player
            assert totals["d"].tolist() == [NEXT], totals
            assert opener_players > 0 and totals["n"].tolist() == [opener_players]
