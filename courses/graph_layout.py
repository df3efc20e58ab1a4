"""A layered drawing of a prerequisite DAG, readable for 50+ concepts.

Layers by longest path from the roots (every edge points downward), then a few sweeps of
the barycentre heuristic to untangle crossings, then wide layers are wrapped into several
rows so the picture stays narrow enough for a screen. Plain Python; the SVG is built by
the template from the returned coordinates, so colours and links stay in the page.
"""

from dataclasses import dataclass

NODE_W, NODE_H = 170, 44
GAP_X, GAP_Y = 24, 46
MAX_PER_ROW = 6


@dataclass
class PlacedNode:
    key: str
    label: str
    x: float
    y: float
    layer: int
    # Filled in by the page that draws the graph: where the node links and how it looks.
    url: str = ""
    css: str = ""
    note: str = ""

    @property
    def cx(self) -> float:
        return self.x + NODE_W / 2

    @property
    def lines(self) -> list[str]:
        """The label broken into at most two lines that fit the box."""
        words, lines, current = self.label.split(), [], ""
        for word in words:
            if len(current) + len(word) + 1 > 22 and current:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}".strip()
        lines.append(current)
        if len(lines) > 2:
            lines = [lines[0], (" ".join(lines[1:]))[:20] + "…"]
        return lines


@dataclass
class PlacedEdge:
    source: str
    target: str
    path: str  # SVG path data


@dataclass
class GraphLayout:
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    width: float
    height: float


def layers_by_longest_path(keys: list[str], parents: dict[str, list[str]]) -> dict[str, int]:
    """Layer of each node = 1 + the deepest layer among its parents (0 for roots).

    Nodes on a cycle (an invalid ramp that is still being edited) are put after the rest
    instead of looping forever.
    """
    layer: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(key: str) -> int:
        if key in layer:
            return layer[key]
        if key in visiting:
            return 0
        visiting.add(key)
        known = [p for p in parents.get(key, []) if p in parents or p in keys]
        value = 1 + max((visit(p) for p in known), default=-1)
        visiting.discard(key)
        layer[key] = value
        return value

    for key in keys:
        visit(key)
    return layer


def layout_dag(nodes: list[tuple[str, str]], parents: dict[str, list[str]]) -> GraphLayout:
    """Place `nodes` ((key, label) in authoring order) given each key's parent keys."""
    keys = [key for key, _ in nodes]
    labels = dict(nodes)
    parents = {k: [p for p in parents.get(k, []) if p in labels] for k in keys}
    layer_of = layers_by_longest_path(keys, parents)
    layers: dict[int, list[str]] = {}
    for key in keys:
        layers.setdefault(layer_of[key], []).append(key)
    ordered = [layers[i] for i in sorted(layers)]

    # Barycentre sweeps: order each layer by the mean position of its parents.
    children: dict[str, list[str]] = {k: [] for k in keys}
    for k, ps in parents.items():
        for p in ps:
            children[p].append(k)
    for _ in range(4):
        for i in range(1, len(ordered)):
            position = {k: j for j, k in enumerate(ordered[i - 1])}
            current = {k: j for j, k in enumerate(ordered[i])}
            ordered[i].sort(
                key=lambda k: _mean([position[p] for p in parents[k] if p in position], current[k])
            )
        for i in range(len(ordered) - 2, -1, -1):
            position = {k: j for j, k in enumerate(ordered[i + 1])}
            current = {k: j for j, k in enumerate(ordered[i])}
            ordered[i].sort(
                key=lambda k: _mean([position[c] for c in children[k] if c in position], current[k])
            )

    placed: dict[str, PlacedNode] = {}
    row = 0
    widest = 1
    for index, layer in enumerate(ordered):
        for start in range(0, len(layer), MAX_PER_ROW):
            chunk = layer[start : start + MAX_PER_ROW]
            widest = max(widest, len(chunk))
            for key in chunk:
                placed[key] = PlacedNode(key, labels[key], 0, row * (NODE_H + GAP_Y) + 10, index)
            row += 1
    # Centre each row in the widest one.
    width = widest * (NODE_W + GAP_X) + GAP_X
    rows: dict[float, list[PlacedNode]] = {}
    for node in placed.values():
        rows.setdefault(node.y, []).append(node)
    for members in rows.values():
        members.sort(key=lambda n: _row_order(n.key, ordered))
        offset = (width - len(members) * (NODE_W + GAP_X) + GAP_X) / 2
        for j, node in enumerate(members):
            node.x = offset + j * (NODE_W + GAP_X)
    edges = []
    for key in keys:
        for parent in parents[key]:
            a, b = placed[parent], placed[key]
            x1, y1, x2, y2 = a.cx, a.y + NODE_H, b.cx, b.y
            if y2 <= y1:  # same row (only on a cycle): loop around the side
                y2 = b.y + NODE_H / 2
            mid = (y1 + y2) / 2
            edges.append(
                PlacedEdge(
                    parent,
                    key,
                    f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}",
                )
            )
    height = row * (NODE_H + GAP_Y) + 10
    return GraphLayout([placed[k] for k in keys], edges, width, height)


def _mean(values: list[int], fallback: int) -> float:
    # A node with no neighbours in the other layer keeps its place.
    return sum(values) / len(values) if values else fallback


def _row_order(key: str, ordered: list[list[str]]) -> int:
    for layer in ordered:
        if key in layer:
            return layer.index(key)
    return 0
