"""The network picture of a cluster: ads and the contacts that join them, laid out in 2-D.

Investigators read a network by its hubs: one phone behind forty ads, two handles that
bridge two groups. The picture draws each ad as a circle (darker for a higher score) and
each shared contact or photo as a labelled square joined to the ads that carry it; text
templates join ads directly (dashed). The layout is networkx's spring layout with a fixed
seed, so the same cluster always looks the same. Large clusters are cut to the ads with
the most links, and the picture says how many were left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

__all__ = ["MAX_ADS", "Edge", "Node", "Picture", "network_picture"]

MAX_ADS = 120
WIDTH, HEIGHT, MARGIN = 720, 460, 28
_CONTACTS = ("phone", "email", "handle", "wallet", "url", "image")


@dataclass(frozen=True, slots=True)
class Node:
    key: str
    kind: str  # "ad" or the contact's type
    label: str
    x: float
    y: float
    score: float = 0.0
    ad_id: int | None = None

    @property
    def box(self) -> tuple[float, float]:
        """Top-left corner of a contact's 14-pixel square."""
        return round(self.x - 7, 1), round(self.y - 7, 1)

    @property
    def label_at(self) -> tuple[float, float]:
        return round(self.x + 9, 1), round(self.y + 4, 1)

    @property
    def band(self) -> str:
        """Score band for colour: high >= 70, medium >= 40, else low."""
        return "high" if self.score >= 70 else "medium" if self.score >= 40 else "low"


@dataclass(frozen=True, slots=True)
class Edge:
    a: Node
    b: Node
    kind: str  # "contact" or "template"


@dataclass(frozen=True, slots=True)
class Picture:
    width: int
    height: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    ads_total: int
    ads_shown: int

    @property
    def ads_left_out(self) -> int:
        return self.ads_total - self.ads_shown


def _short(value: str) -> str:
    return value if len(value) <= 22 else value[:10] + "…" + value[-10:]


def network_picture(
    ads: Mapping[int, float], links: Sequence[Mapping[str, Any]], *, max_ads: int = MAX_ADS
) -> Picture:
    """`ads` maps ad id → score; `links` are the stored cluster links (a, b, kind, value)."""
    degree: Counter[int] = Counter()
    for link in links:
        degree[int(link["a"])] += 1
        degree[int(link["b"])] += 1
    chosen = sorted(ads, key=lambda pk: (-degree[pk], -ads[pk], pk))[:max_ads]
    shown = set(chosen)
    graph: nx.Graph[str] = nx.Graph()
    for pk in sorted(shown):
        graph.add_node(f"ad:{pk}")
    template_pairs: set[tuple[str, str]] = set()
    contact_of: dict[str, tuple[str, str]] = {}
    for link in links:
        a, b = int(link["a"]), int(link["b"])
        if a not in shown or b not in shown:
            continue
        kind = str(link["kind"])
        if kind in _CONTACTS:
            key = f"{kind}:{link['value']}"
            contact_of[key] = (kind, str(link["value"]))
            graph.add_edge(key, f"ad:{a}")
            graph.add_edge(key, f"ad:{b}")
        else:
            pair = (f"ad:{min(a, b)}", f"ad:{max(a, b)}")
            template_pairs.add(pair)
            graph.add_edge(*pair)
    positions = nx.spring_layout(graph, seed=7, iterations=60) if len(graph) > 1 else {}
    xs = [float(p[0]) for p in positions.values()] or [0.0]
    ys = [float(p[1]) for p in positions.values()] or [0.0]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0

    def place(key: str) -> tuple[float, float]:
        if key not in positions:
            return WIDTH / 2, HEIGHT / 2
        px, py = positions[key]
        x = MARGIN + (float(px) - min(xs)) / span_x * (WIDTH - 2 * MARGIN)
        y = MARGIN + (float(py) - min(ys)) / span_y * (HEIGHT - 2 * MARGIN)
        return round(x, 1), round(y, 1)

    nodes: dict[str, Node] = {}
    for key in graph.nodes:
        x, y = place(key)
        if key.startswith("ad:"):
            pk = int(key[3:])
            nodes[key] = Node(key, "ad", f"ad {pk}", x, y, score=ads[pk], ad_id=pk)
        else:
            kind, value = contact_of[key]
            nodes[key] = Node(key, kind, _short(value), x, y)
    edges = [
        Edge(
            nodes[u],
            nodes[v],
            "template" if (u, v) in template_pairs or (v, u) in template_pairs else "contact",
        )
        for u, v in graph.edges
    ]
    ordered = sorted(nodes.values(), key=lambda n: (n.kind == "ad", n.key))
    return Picture(WIDTH, HEIGHT, tuple(ordered), tuple(edges), len(ads), len(shown))
