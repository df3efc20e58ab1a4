"""A layered drawing of a prerequisite DAG, readable for 50+ concepts.

Layers by longest path from the roots (every edge points downward), then a few sweeps of
the barycentre heuristic to untangle crossings, then wide layers are wrapped into several
rows so the picture stays narrow enough for a screen. A node is as tall as its title needs:
titles are wrapped, never cut, so an author can read every concept in the picture. Plain
Python; the SVG is built by the template from the returned coordinates, so colours and
links stay in the page.
"""

from dataclasses import dataclass

NODE_W, NODE_H = 170, 44  # NODE_H: the least height, for titles of one or two lines
GAP_X, GAP_Y = 24, 46
MAX_PER_ROW = 6
# 12px text (ramp.css): about 22 characters fit the box's width, one line every 15px.
LINE_CHARS, LINE_H, PAD_Y = 22, 15, 7


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
    note: str = ""  # what the page says about the node in words (its state, its findings)

    @property
    def cx(self) -> float:
        return self.x + NODE_W / 2

    @property
    def width(self) -> float:
        return NODE_W

    @property
    def lines(self) -> list[str]:
        return wrap_label(self.label)

    @property
    def height(self) -> float:
        return node_height(self.label)

    @property
    def text_y(self) -> float:
        """Baseline of the first line: the lines centred in the box."""
        return self.y + (self.height - LINE_H * len(self.lines)) / 2 + 12


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


def wrap_label(label: str, width: int = LINE_CHARS) -> list[str]:
    """The whole label in lines of about ``width`` characters; a word longer than a line is
    split across lines rather than running out of the box."""
    lines, current = [], ""
    for word in label.split():
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[: width - 1] + "-")
            word = word[width - 1 :]
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current or not lines:
        lines.append(current)
    return lines


def node_height(label: str) -> float:
    return max(NODE_H, LINE_H * len(wrap_label(label)) + 2 * PAD_Y)


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

    # Wide layers wrap into rows; each row is as tall as its tallest title and centred in
    # the widest one.
    rows = [
        (index, layer[start : start + MAX_PER_ROW])
        for index, layer in enumerate(ordered)
        for start in range(0, len(layer), MAX_PER_ROW)
    ]
    widest = max((len(chunk) for _, chunk in rows), default=1)
    width = widest * (NODE_W + GAP_X) + GAP_X
    placed: dict[str, PlacedNode] = {}
    y = 10.0
    for index, chunk in rows:
        offset = (width - len(chunk) * (NODE_W + GAP_X) + GAP_X) / 2
        for j, key in enumerate(chunk):
            placed[key] = PlacedNode(key, labels[key], offset + j * (NODE_W + GAP_X), y, index)
        y += max(placed[key].height for key in chunk) + GAP_Y
    edges = []
    for key in keys:
        for parent in parents[key]:
            a, b = placed[parent], placed[key]
            x1, y1, x2, y2 = a.cx, a.y + a.height, b.cx, b.y
            if y2 <= y1:  # same row (only on a cycle): loop around the side
                y2 = b.y + b.height / 2
            mid = (y1 + y2) / 2
            edges.append(
                PlacedEdge(
                    parent,
                    key,
                    f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}",
                )
            )
    height = y - GAP_Y + 10 if rows else 10
    return GraphLayout([placed[k] for k in keys], edges, width, height)


def _mean(values: list[int], fallback: int) -> float:
    # A node with no neighbours in the other layer keeps its place.
    return sum(values) / len(values) if values else fallback
