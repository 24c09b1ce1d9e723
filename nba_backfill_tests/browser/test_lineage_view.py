"""The asset graph in the Dagster UI shows the key lineage edges inside the layers (the five
layers themselves are step 1 of the UI tour, test_ui_tour.py).

Read from the rendered SVG (see `lineage.py`): a layer is a group box, an edge is a path joining
the source box's right side to the target box's left side. The edges are cross-checked against
the loaded code location over GraphQL.
"""

from __future__ import annotations

from nba_backfill.layers import ANALYTICS, LAKE, PRECOMPUTE, PREDICTIONS, RAW
from nba_backfill_tests.browser import gql
from nba_backfill_tests.browser.lineage import wait_for_graph
from nba_backfill_tests.browser.pages import expand_all_groups, filter_assets, open_global_lineage

PHASE_1_TO_3_CHAIN = [
    (f"{LAKE}/nbac_team_boxscore", f"{RAW}/nbac_team_boxscore"),
    (f"{RAW}/nbac_team_boxscore", f"{ANALYTICS}/team_offense_game_summary"),
    (f"{ANALYTICS}/team_offense_game_summary", f"{ANALYTICS}/player_game_summary"),
    (f"{ANALYTICS}/player_game_summary", f"{ANALYTICS}/upcoming_player_game_context"),
]

PHASE_4_CHAIN = [
    (f"{PRECOMPUTE}/team_defense_zone_analysis", f"{PRECOMPUTE}/player_composite_factors"),
    (f"{PRECOMPUTE}/player_shot_zone_analysis", f"{PRECOMPUTE}/player_composite_factors"),
    (f"{PRECOMPUTE}/player_composite_factors", f"{PRECOMPUTE}/player_daily_cache"),
    (f"{PRECOMPUTE}/player_daily_cache", f"{PRECOMPUTE}/ml_feature_store_v2"),
    (f"{PRECOMPUTE}/ml_feature_store_v2", f"{PREDICTIONS}/player_prop_predictions"),
]

DEPS_QUERY = """
query ($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetKey { path } dependencyKeys { path } } }
"""


def _declared_edges(dev, edges) -> set[tuple[str, str]]:
    targets = sorted({t for _, t in edges})
    nodes = dev.graphql(DEPS_QUERY, {"keys": [gql.key_input(t) for t in targets]})["assetNodes"]
    return {
        ("/".join(dep["path"]), "/".join(n["assetKey"]["path"]))
        for n in nodes
        for dep in n["dependencyKeys"]
    }


def _show_only(page, base_url: str, edges) -> object:
    """Filter the global graph to the assets of `edges`, expand their groups, let it fit."""
    assets = sorted({a for edge in edges for a in edge})
    open_global_lineage(page, base_url)
    filter_assets(page, " or ".join(f'key:"{a}"' for a in assets))
    expand_all_groups(page)
    page.wait_for_url(lambda url: "expanded=" in url)
    page.reload()  # the first layout of a page zooms to fit: every node of the filter is on screen
    return wait_for_graph(
        page,
        lambda v: set(assets) <= set(v.assets) and all(v.asset_edge(a, b) for a, b in edges),
    )


def test_lineage_from_team_boxscore_to_upcoming_player_context(page, dagster_ui, shots):
    assert set(PHASE_1_TO_3_CHAIN) <= _declared_edges(dagster_ui, PHASE_1_TO_3_CHAIN)

    view = _show_only(page, dagster_ui.url, PHASE_1_TO_3_CHAIN)
    shots.take(page, "lineage_team_boxscore_to_upcoming_context")

    for source, target in PHASE_1_TO_3_CHAIN:
        assert source in view.assets and target in view.assets, sorted(view.assets)
        assert view.asset_edge(source, target), f"no edge {source} -> {target} rendered"
    # The lake and raw tables share a name; the graph keeps them apart by layer.
    assert view.assets[f"{LAKE}/nbac_team_boxscore"] != view.assets[f"{RAW}/nbac_team_boxscore"]
    assert not view.asset_edge(f"{RAW}/nbac_team_boxscore", f"{LAKE}/nbac_team_boxscore")


def test_lineage_of_the_phase_4_chain_into_predictions(page, dagster_ui, shots):
    assert set(PHASE_4_CHAIN) <= _declared_edges(dagster_ui, PHASE_4_CHAIN)

    view = _show_only(page, dagster_ui.url, PHASE_4_CHAIN)
    shots.take(page, "lineage_phase_4_chain")

    for source, target in PHASE_4_CHAIN:
        assert source in view.assets and target in view.assets, sorted(view.assets)
        assert view.asset_edge(source, target), f"no edge {source} -> {target} rendered"
