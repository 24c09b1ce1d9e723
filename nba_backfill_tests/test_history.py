"""The history check shared by `nba-backfill backfill` and the `backfill` job, on the project's
real asset graph and calendar: a range whose windows read undone history is refused naming the
exact ranges, `with_history` adds exactly those, a season start needs nothing, and nothing ever
reaches into another season. Then the CLI's dry run and refusal (exit 2, nothing launched)
against a real instance, and the instance's notion of done (a failed blocking check is not done).
"""

from __future__ import annotations

import pytest
from dagster import AssetCheckEvaluation, AssetKey, AssetMaterialization, DagsterInstance

from nba_backfill.definitions import defs
from nba_backfill.ops.history import HistoryRefused, check_history, instance_done, missing_history, reads_of
from nba_backfill.ops.plan import build_backfill_request
from nba_backfill.partitions import all_partition_keys, season_keys
from nba_backfill.seasons import season_by_label, season_for_date

GRAPH = defs.resolve_asset_graph()
READS = reads_of(GRAPH)
ALL_KEYS = all_partition_keys()
KNOWN = [k.to_user_string() for k in GRAPH.get_all_asset_keys()]
S2324 = season_by_label("2023-24")
DAYS_2324 = season_keys(S2324)
PGS = "nba_analytics/player_game_summary"
PST = "nba_precompute/player_season_totals"
MLFS = "nba_precompute/ml_feature_store_v2"


def nothing_done(assets):
    return {}


def request(start, end, phases="1-4"):
    return build_backfill_request(known_assets=KNOWN, all_keys=ALL_KEYS, current_season=season_by_label("2024-25"),
                                  start=start, end=end, phases=phases)


def refusal(req) -> HistoryRefused:
    with pytest.raises(HistoryRefused) as refused:
        check_history(req, READS, ALL_KEYS, nothing_done, with_history=False)
    return refused.value


def keys_of(req) -> dict[str, set[str]]:
    index = {k: i for i, k in enumerate(ALL_KEYS)}
    return {item.asset: {k for a, b in item.ranges for k in ALL_KEYS[index[a]: index[b] + 1]}
            for item in req.partitions_by_assets}


def test_reads_mirror_the_declared_mappings():
    assert {(r.parent, r.start_offset, r.end_offset) for r in READS[MLFS]} >= {(PGS, -60, -1)}
    assert (PST, -1, -1) in {(r.parent, r.start_offset, r.end_offset) for r in READS[PST]}
    assert READS["nba_lake/nbac_schedule"] == ()


def test_a_mid_season_range_is_refused_with_the_exact_range_to_add():
    refused = refusal(request("2023-11-01", "2023-11-07"))
    message = str(refused)
    # the opener week before the range: every history window is cut at 2023-10-24
    assert f"{PGS}: 2023-10-24..2023-10-31 (8 partitions) is missing" in message
    assert f"{PST}: 2023-10-24..2023-10-31 (8 partitions) is missing" in message
    assert "start the range at 2023-10-24 or add --with-history" in message
    # windowed Phase 4 tables read history but are not read as history: not named
    assert f"{MLFS}:" not in message
    assert refused.missing[PGS] == DAYS_2324[:8]


def test_with_history_adds_exactly_the_missing_history_and_then_passes():
    req = request("2023-11-01", "2023-11-07")
    missing = missing_history(keys_of(req), READS, ALL_KEYS, nothing_done)
    widened, added = check_history(req, READS, ALL_KEYS, nothing_done, with_history=True)
    assert added == missing
    before, after = keys_of(req), keys_of(widened)
    assert {a: after[a] - before.get(a, set()) for a in after if after[a] - before.get(a, set())} == \
        {a: set(k) for a, k in missing.items()}
    assert check_history(widened, READS, ALL_KEYS, nothing_done, with_history=False) == (widened, {})


def test_a_season_start_needs_no_history():
    req = request(DAYS_2324[0], DAYS_2324[6])
    assert check_history(req, READS, ALL_KEYS, nothing_done, with_history=False) == (req, {})


def test_done_history_is_not_added_and_a_done_gap_is_named_alone():
    req = request("2023-11-01", "2023-11-07")
    missing = missing_history(keys_of(req), READS, ALL_KEYS, nothing_done)
    all_but_one = {asset: set(keys) - ({"2023-10-30"} if asset == PGS else set())
                   for asset, keys in missing.items()}
    assert missing_history(keys_of(req), READS, ALL_KEYS, lambda assets: all_but_one) == {PGS: ["2023-10-30"]}


def test_a_range_ending_at_the_finals_never_reaches_the_next_season():
    finals_end = S2324.finals_end.isoformat()
    req = request("2024-06-10", finals_end)
    widened, added = check_history(req, READS, ALL_KEYS, nothing_done, with_history=True)
    assert widened.last_key == finals_end
    every = {k for keys in keys_of(widened).values() for k in keys}
    assert {season_for_date(k) for k in every} == {S2324}
    assert min(every) == DAYS_2324[0]  # accumulators reach back to the opener, not before


def test_a_range_across_two_seasons_takes_history_only_from_the_first():
    s2425 = season_keys(season_by_label("2024-25"))
    req = request("2024-06-10", s2425[6])
    added = missing_history(keys_of(req), READS, ALL_KEYS, nothing_done)
    assert all(season_for_date(k) == S2324 for keys in added.values() for k in keys)


def test_a_selection_without_the_history_assets_names_them():
    message = str(refusal(request("2023-11-01", "2023-11-07", phases="4")))
    # Phase 3 is not selected: the Phase 4 dates read its partitions of the range itself too
    assert f"{PGS}: 2023-10-24..2023-11-06 (14 partitions) is missing" in message
    assert f"{PST}: 2023-10-24..2023-10-31 (8 partitions) is missing" in message
    assert "add --with-history, or also select the 11 assets above that the selection leaves out" in message


def test_instance_done_leaves_out_partitions_with_a_failed_blocking_check():
    key = AssetKey(PGS.split("/"))
    with DagsterInstance.ephemeral() as instance:
        for day in DAYS_2324[:3]:
            instance.report_runless_asset_event(AssetMaterialization(key, partition=day))
        for day, passed in zip(DAYS_2324[:2], (True, False)):
            instance.report_runless_asset_event(AssetCheckEvaluation(
                asset_key=key, check_name="partition_ok", passed=passed, partition=day))
        done = instance_done(instance)([PGS, PST])
    assert done == {PGS: {DAYS_2324[0], DAYS_2324[2]}, PST: set()}


# --- the CLI: dry run and refusal against a real instance (GraphQL answered in-process) -----------


@pytest.fixture
def cli_ws(tmp_path, monkeypatch):
    from nba_backfill_tests.dagster_harness import backfill_env, daemon_workspace
    from nba_backfill_tests.status_world import in_process_cli

    with backfill_env(tmp_path / "home", "2024-25"):
        with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
            in_process_cli(monkeypatch, ws)
            yield ws


def test_cli_refuses_missing_history_with_exit_2_and_launches_nothing(cli_ws, capsys):
    from nba_backfill import cli

    code = cli.main(["backfill", "--from", "2023-11-01", "--to", "2023-11-07", "--dry-run"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT
    assert f"{PGS}: 2023-10-24..2023-10-31 (8 partitions) is missing" in err
    assert "start the range at 2023-10-24 or add --with-history" in err
    assert cli.main(["backfill", "--from", "2023-11-01", "--to", "2023-11-07"]) == cli.EXIT_BAD_INPUT
    assert cli_ws.instance.get_backfills() == []


def test_cli_dry_run_with_history_shows_the_added_history(cli_ws, capsys):
    from nba_backfill import cli

    assert cli.main(["backfill", "--from", "2023-11-01", "--to", "2023-11-07", "--with-history", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"  {PGS}: 2023-10-24..2023-11-07 (15)" in out
    assert f"  {MLFS}: 2023-11-01..2023-11-07 (7)" in out
    assert f"  history added by --with-history: {PGS}: 2023-10-24..2023-10-31 (8 partitions)" in out
    assert cli_ws.instance.get_backfills() == []


def test_cli_dry_run_from_a_season_opener_adds_nothing(cli_ws, capsys):
    from nba_backfill import cli

    assert cli.main(["backfill", "--from", DAYS_2324[0], "--to", DAYS_2324[2], "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"  {MLFS}: {DAYS_2324[0]}..{DAYS_2324[2]} (3)" in out
    assert "history added" not in out
