"""The asset graph in the Dagster UI shows the five layers and the key lineage edges.

Read from the rendered SVG (see `lineage.py`): a layer is a group box, an edge is a path joining
the source box's right side to the target box's left side. The asset counts per layer and the
edges themselves are cross-checked against the loaded code location over GraphQL.
"""

from __future__ import annotations

import re
from collections import Counter

from nba_backfill.layers import ANALYTICS, LAKE, PRECOMPUTE, PREDICTIONS, RAW
from nba_backfill_tests.browser import gql
from nba_backfill_tests.browser.lineage import LAYERS, wait_for_graph
from nba_backfill_tests.browser.pages import expand_all_groups, filter_assets, open_global_lineage

LAYER_EDGES = [(LAKE, RAW), (RAW, ANALYTICS), (ANALYTICS, PRECOMPUTE), (PRECOMPUTE, PREDICTIONS)]

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


def test_global_graph_shows_the_five_layers_in_order(page, dagster_ui, shots):
    counts = Counter(gql.asset_groups(dagster_ui).values())
    assert set(counts) == set(LAYERS), counts

    open_global_lineage(page, dagster_ui.url)
    view = wait_for_graph(
        page,
        lambda v: set(LAYERS) <= set(v.groups) and all(v.group_edge(a, b) for a, b in LAYER_EDGES),
    )
    shots.take(page, "asset_graph_five_layers")

    assert sorted(view.groups) == sorted(LAYERS)
    for layer, box in view.groups.items():
        shown = re.match(rf"{layer}(\d+) assets?", box.label)
        assert shown and int(shown.group(1)) == counts[layer], (layer, box.label, counts[layer])
    for source, target in LAYER_EDGES:
        assert view.group_edge(source, target), f"no edge {source} -> {target} rendered"
    # Left to right in data-flow order.
    xs = [view.groups[layer].x for layer in LAYERS]
    assert xs == sorted(xs), dict(zip(LAYERS, xs))


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
