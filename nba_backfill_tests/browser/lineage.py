"""Read the asset graph as the Dagster UI renders it: groups, asset nodes and edge paths.

The lineage graph is one SVG. Every group (collapsed or expanded) is a `foreignObject.group`,
every asset node a `foreignObject` holding an element with `data-tooltip="<asset name>"`, and
every edge a `path` with an arrow marker whose `d` runs from the middle of the source's right
side to 5 px before the middle of the target's left side (horizontal layout). So an edge A -> B
is *rendered* exactly when such a path joins the two boxes; that is what `has_edge` checks.
An asset node is assigned to the expanded group whose box contains it, which tells
`nba_lake/nbac_team_boxscore` from `nba_raw/nbac_team_boxscore` (both are labelled with the
last key component only).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from nba_backfill import layers

LAYERS = (layers.LAKE, layers.RAW, layers.ANALYTICS, layers.PRECOMPUTE, layers.PREDICTIONS)

EDGE_TARGET_GAP = 5.0  # the UI stops an edge 5 px before the target box
TOLERANCE = 1.5

_GEOMETRY_JS = """() => {
  const svg = [...document.querySelectorAll('svg')].find(s => s.querySelector('foreignObject'));
  if (!svg) return {groups: [], nodes: [], paths: []};
  const num = (e, a) => parseFloat(e.getAttribute(a));
  const box = e => ({x: num(e, 'x'), y: num(e, 'y'), w: num(e, 'width'), h: num(e, 'height')});
  const groups = [...svg.querySelectorAll('foreignObject.group')]
    .map(e => ({text: e.textContent.trim(), ...box(e)}));
  const nodes = [...svg.querySelectorAll('foreignObject:not(.group)')]
    .map(e => ({name: (e.querySelector('[data-tooltip]') || {getAttribute: () => null})
                  .getAttribute('data-tooltip'), ...box(e)}))
    .filter(n => n.name);
  const paths = [...svg.querySelectorAll('path[marker-end]')].map(p => p.getAttribute('d'));
  return {groups, nodes, paths};
}"""

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Box:
    label: str
    x: float
    y: float
    w: float
    h: float

    @property
    def out_port(self) -> tuple[float, float]:
        return (self.x + self.w, self.y + self.h / 2)

    @property
    def in_port(self) -> tuple[float, float]:
        return (self.x - EDGE_TARGET_GAP, self.y + self.h / 2)

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.w <= self.x + self.w
            and other.y + other.h <= self.y + self.h
        )


@dataclass(frozen=True)
class Edge:
    start: tuple[float, float]
    end: tuple[float, float]


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) <= TOLERANCE and abs(a[1] - b[1]) <= TOLERANCE


def group_layer(text: str) -> str | None:
    """The layer a group box belongs to, from its rendered text ("nba_raw21 assets" -> nba_raw)."""
    for layer in sorted(LAYERS, key=len, reverse=True):
        if text.startswith(layer):
            return layer
    return None


@dataclass
class GraphView:
    """One snapshot of the rendered graph."""

    groups: dict[str, Box]
    assets: dict[str, Box]  # "layer/name" -> box (only nodes inside an expanded group)
    edges: list[Edge]

    def has_edge(self, source: Box, target: Box) -> bool:
        return any(
            _close(e.start, source.out_port) and _close(e.end, target.in_port) for e in self.edges
        )

    def group_edge(self, source_layer: str, target_layer: str) -> bool:
        return self.has_edge(self.groups[source_layer], self.groups[target_layer])

    def asset_edge(self, source: str, target: str) -> bool:
        return self.has_edge(self.assets[source], self.assets[target])


def read_graph(page) -> GraphView:
    """The graph currently rendered on `page`."""
    raw = page.evaluate(_GEOMETRY_JS)
    groups: dict[str, Box] = {}
    for g in raw["groups"]:
        layer = group_layer(g["text"])
        if layer is not None:
            groups[layer] = Box(g["text"], g["x"], g["y"], g["w"], g["h"])
    assets: dict[str, Box] = {}
    for n in raw["nodes"]:
        box = Box(n["name"], n["x"], n["y"], n["w"], n["h"])
        owners = [layer for layer, g in groups.items() if g.contains(box)]
        if len(owners) == 1:
            assets[f"{owners[0]}/{n['name']}"] = box
    edges = []
    for d in raw["paths"]:
        values = [float(v) for v in _NUMBER.findall(d or "")]
        if len(values) >= 4:
            edges.append(Edge((values[0], values[1]), (values[-2], values[-1])))
    return GraphView(groups, assets, edges)


def wait_for_graph(page, predicate, timeout_s: float = 30.0) -> GraphView:
    """Re-read the graph until `predicate(view)` holds (layout and edges render asynchronously)."""
    deadline = time.monotonic() + timeout_s
    view = read_graph(page)
    while not predicate(view):
        if time.monotonic() > deadline:
            return view
        page.wait_for_timeout(500)
        view = read_graph(page)
    return view
