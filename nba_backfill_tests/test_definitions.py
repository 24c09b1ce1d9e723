"""The code location loads with no credentials and no network, and declares the graph we promise."""

import subprocess
import sys

import pytest
from dagster import AssetCheckKey, AssetKey, TimeWindowPartitionMapping

from nba_backfill import partitions
from nba_backfill.assets.tables import CLUSTER_BY, Col, cluster_metadata
from nba_backfill.layers import LAYERS
from nba_backfill.partitions import DAILY_PARTITIONS

SCRAPERS = {
    "bdl_games", "bdl_player_boxscores", "bdl_team_boxscores", "nbac_game_summary",
    "nbac_team_boxscore", "nbac_player_boxscore", "nbac_play_by_play", "nbap_player_traditional",
    "nbap_team_traditional", "nbap_player_advanced", "nbap_team_advanced", "nbap_player_misc",
    "nbap_team_misc", "nbap_player_scoring", "nbap_team_scoring", "nbap_player_usage",
    "nbap_team_usage", "nbap_player_defense", "nbap_team_defense", "nbap_tracking_player",
    "nbap_tracking_team", "nbac_schedule",
}
ANALYTICS = {
    "player_game_summary", "team_offense_game_summary", "team_defense_game_summary",
    "upcoming_player_game_context", "upcoming_team_game_context",
}
PRECOMPUTE = {
    "team_defense_zone_analysis", "player_shot_zone_analysis", "player_composite_factors",
    "player_daily_cache", "ml_feature_store_v2",
    # cumulative season-to-date state (self-dependent, see nba_backfill/assets/precompute)
    "player_season_totals", "team_season_totals",
}


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("NBA_BACKFILL_HOME", str(tmp_path_factory.mktemp("home")))
    for var in ("NBA_BACKFILL_ENV", "GOOGLE_APPLICATION_CREDENTIALS", "BALLDONTLIE_API_KEY"):
        mp.delenv(var, raising=False)
    from nba_backfill.definitions import defs

    yield defs
    mp.undo()


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def _keys(graph, layer):
    return {k.path[1] for k in graph.get_all_asset_keys() if k.path[0] == layer}


def test_every_layer_has_its_tables(graph):
    assert _keys(graph, "nba_lake") == SCRAPERS
    assert _keys(graph, "nba_raw") == SCRAPERS - {"bdl_games"}
    assert _keys(graph, "nba_analytics") == ANALYTICS
    assert _keys(graph, "nba_precompute") == PRECOMPUTE
    assert _keys(graph, "nba_predictions") == {"player_prop_predictions"}
    for key in graph.get_all_asset_keys():
        assert key.path[0] in LAYERS and len(key.path) == 2, key
        assert graph.get(key).group_name == key.path[0], key


def test_every_asset_is_daily_partitioned_with_a_backfill_policy(graph):
    """Phases 1-4 on DAILY_PARTITIONS; Phase 5 (current season only) on PREDICTION_PARTITIONS."""
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        expected = partitions.PREDICTION_PARTITIONS if key.path[0] == "nba_predictions" else partitions.DAILY_PARTITIONS
        assert node.partitions_def == expected, key
        assert node.backfill_policy is not None, key
    partitioned_checks = [k for k in graph.asset_check_keys if graph.get(k).partitions_def is not None]
    assert any(k.asset_key.path[0] == "nba_predictions" for k in partitioned_checks)
    for check_key in partitioned_checks:  # a per-date check has its asset's partitions
        assert graph.get(check_key).partitions_def == graph.get(check_key.asset_key).partitions_def, check_key


def _mapping(graph, child, parent):
    return graph.get_partition_mapping(AssetKey(child.split("/")), AssetKey(parent.split("/")))


def test_every_warehouse_table_declares_its_clustering(graph):
    """SPEC §2–§5: tables are clustered; the BigQuery IO manager creates (or re-clusters) them
    from `nba/cluster_by`. SPEC's columns where it names them, the documented departures, and
    the choices for tables it is silent on."""
    tables = {k.to_user_string(): graph.get(k).metadata for k in graph.get_all_asset_keys()
              if k.path[0] != "nba_lake"}
    assert len(tables) == 21 + len(ANALYTICS) + len(PRECOMPUTE) + 1
    assert [k for k, metadata in tables.items() if CLUSTER_BY not in metadata] == []
    pgs = ["universal_player_id", "player_lookup", "team_abbr", "game_date"]
    expected = {
        "nba_raw/nbac_schedule": ["game_date", "home_team_tricode", "away_team_tricode", "season_year"],
        "nba_raw/nbac_team_boxscore": ["game_id", "team_abbr", "season_year", "is_home"],
        "nba_raw/nbac_player_boxscore": ["player_lookup", "team_abbr", "game_date"],
        "nba_raw/nbac_play_by_play": ["game_id", "period", "event_type"],
        "nba_analytics/player_game_summary": pgs,
        "nba_analytics/upcoming_player_game_context": pgs,
        "nba_analytics/team_offense_game_summary": ["team_abbr", "game_date", "home_game"],
        "nba_analytics/upcoming_team_game_context": ["team_abbr", "game_date", "home_game"],
        "nba_analytics/team_defense_game_summary": ["defending_team_abbr", "game_date", "home_game"],
        "nba_precompute/team_defense_zone_analysis": ["team_abbr", "analysis_date"],
        "nba_precompute/player_daily_cache": ["player_lookup", "cache_date"],
        "nba_precompute/ml_feature_store_v2": ["player_lookup", "feature_version", "game_date"],
        "nba_predictions/player_prop_predictions": ["system_id", "player_lookup", "game_date"],
    }
    assert {k: tables[k][CLUSTER_BY] for k in expected} == expected


def test_a_clustering_bigquery_refuses_fails_at_definition_time():
    cols = (Col("game_date", "DATE"), Col("player_lookup", "STRING"), Col("confidence_score", "FLOAT64"))
    assert cluster_metadata("t", ("player_lookup", "game_date"), cols) == {CLUSTER_BY: ["player_lookup", "game_date"]}
    assert cluster_metadata("t", ("game_date",), cols) == {CLUSTER_BY: ["game_date"]}
    with pytest.raises(ValueError, match=r"\(cannot cluster: \['confidence_score FLOAT64'\]\)"):
        cluster_metadata("t", ("confidence_score",), cols)
    with pytest.raises(ValueError, match=r"\(not declared: \['team_abbr'\]\)"):
        cluster_metadata("t", ("team_abbr", "game_date"), cols)
    many = tuple(Col(f"c{i}", "STRING") for i in range(5))
    for bad, columns in ((("game_date", "game_date"), cols), ((), cols), (tuple(c.name for c in many), many)):
        with pytest.raises(ValueError, match=r"got \[.*\]$"):
            cluster_metadata("t", bad, columns)
    assert cluster_metadata("t", tuple(c.name for c in many[:4]), many) == {CLUSTER_BY: ["c0", "c1", "c2", "c3"]}


@pytest.mark.parametrize(
    "child,parent,window",
    [
        ("nba_raw/nbac_team_boxscore", "nba_raw/nbac_schedule", None),
        ("nba_analytics/team_offense_game_summary", "nba_raw/nbac_team_boxscore", None),
        ("nba_analytics/player_game_summary", "nba_analytics/team_offense_game_summary", None),
        ("nba_analytics/upcoming_player_game_context", "nba_analytics/player_game_summary", (-30, -1)),
        ("nba_analytics/upcoming_team_game_context", "nba_raw/nbac_schedule", (-30, 7)),
        ("nba_precompute/team_defense_zone_analysis", "nba_analytics/team_defense_game_summary", (-45, -1)),
        ("nba_precompute/player_shot_zone_analysis", "nba_analytics/player_game_summary", (-60, -1)),
        ("nba_precompute/player_composite_factors", "nba_precompute/player_shot_zone_analysis", None),
        ("nba_precompute/player_composite_factors", "nba_precompute/team_defense_zone_analysis", None),
        ("nba_precompute/player_daily_cache", "nba_precompute/player_composite_factors", None),
        ("nba_precompute/ml_feature_store_v2", "nba_precompute/player_daily_cache", None),
    ],
)
def test_dependencies_and_partition_mappings(graph, child, parent, window):
    assert AssetKey(parent.split("/")) in graph.get(AssetKey(child.split("/"))).parent_keys
    mapping = _mapping(graph, child, parent)
    if window is None:
        assert not isinstance(mapping, TimeWindowPartitionMapping) or (
            mapping.start_offset == 0 and mapping.end_offset == 0
        )
    else:
        assert isinstance(mapping, TimeWindowPartitionMapping)
        assert (mapping.start_offset, mapping.end_offset) == window


def test_blocking_checks_exist_per_layer(defs, graph):
    checks = {(k.asset_key.path[0], k.name) for k in graph.asset_check_keys}
    assert ("nba_raw", "games_complete") in checks
    assert ("nba_precompute", "lookback_complete") in checks
    tables = [n for n in graph.asset_nodes if n.key.path[0] in ("nba_raw", "nba_analytics", "nba_precompute",
                                                                  "nba_predictions")]
    assert len(tables) == 21 + 5 + 7 + 1
    for node in tables:  # the table core's verdict on every partition, blocking
        assert AssetCheckKey(node.key, "partition_ok") in graph.asset_check_keys, node.key
        assert graph.get_check_spec(AssetCheckKey(node.key, "partition_ok")).blocking, node.key


def test_a_table_never_shares_a_run_with_a_table_it_reads(graph):
    """Run stages: a table's backfill policy differs from every table it reads (a partially failed
    step must not skip a same-run child for its whole range), and is one run per range."""
    layers = ("nba_raw", "nba_analytics", "nba_precompute", "nba_predictions")
    tables = {n.key: n for n in graph.asset_nodes if n.key.path[0] in layers}
    for key, node in tables.items():
        assert node.backfill_policy.max_partitions_per_run > len(DAILY_PARTITIONS.get_partition_keys())
        for parent in node.parent_keys:
            if parent in tables and parent != key:
                assert tables[parent].backfill_policy != node.backfill_policy, (key, parent)


def test_jobs_sensors_and_resources(defs):
    backfill = defs.resolve_job_def("backfill")  # the UI's backfill route: one op, no asset
    assert [n.name for n in backfill.nodes] == ["plan_and_submit_backfill"]
    assert not backfill.asset_layer.executable_asset_keys
    config = backfill.nodes[0].definition.config_schema.as_field().config_type.fields
    assert set(config) == {"start", "end", "season", "phases", "assets", "with_history",
                           "only_missing_or_failed", "dry_run"}
    assert {j.name for j in defs.jobs} & {"nba_pipeline"} == set()
    names = {s.name for s in defs.sensors}
    assert {"run_failure_alerts", "failed_check_alerts", "backfill_digests"} <= names
    assert set(defs.resources) >= {"io_manager", "warehouse", "lake", "nba_api", "notifier"}


def test_definitions_validate_cli(tmp_path):
    env = {"NBA_BACKFILL_HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "nba_backfill.definitions"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Validation successful" in result.stderr + result.stdout


def test_every_asset_carries_its_layer_automation_condition(graph):
    from nba_backfill.automation import automation_condition

    for key in graph.get_all_asset_keys():
        condition = graph.get(key).automation_condition
        assert condition is not None, key
        assert condition.get_label() == automation_condition(key.path[0]).get_label(), key
