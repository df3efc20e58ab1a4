"""The concept graph's layout: long titles are wrapped in full, and nodes never overlap."""

from courses.graph_layout import GAP_Y, LINE_CHARS, NODE_H, layout_dag, wrap_label

LONG = "Comparing fractions with the same denominator or numerator, and why the rule works"


def test_a_long_title_is_wrapped_in_full_never_cut():
    lines = wrap_label(LONG)
    assert " ".join(lines) == LONG
    assert len(lines) > 2
    assert all(len(line) <= LINE_CHARS for line in lines)


def test_a_word_longer_than_a_line_is_split_not_run_out_of_the_box():
    lines = wrap_label("Softmax-normalised-attention-weights-explained")
    assert all(len(line) <= LINE_CHARS for line in lines)
    assert "".join(line.rstrip("-") for line in lines) == "Softmax-normalised-attention-weights-explained"


def test_a_node_is_as_tall_as_its_title_and_rows_make_room_for_it():
    graph = layout_dag([("a", LONG), ("b", "Short"), ("c", "Next")], {"c": ["a", "b"]})
    nodes = {n.key: n for n in graph.nodes}
    assert nodes["b"].height == NODE_H
    assert nodes["a"].height > NODE_H
    assert nodes["a"].lines == wrap_label(LONG)
    # the next row starts below the tallest node of the row above it
    assert nodes["c"].y == nodes["a"].y + nodes["a"].height + GAP_Y
    assert graph.height >= nodes["c"].y + nodes["c"].height
    # every line's baseline lies inside its box
    a = nodes["a"]
    last_baseline = a.text_y + 15 * (len(a.lines) - 1)
    assert a.y < a.text_y and last_baseline < a.y + a.height


def test_edges_leave_from_the_bottom_of_a_tall_node():
    graph = layout_dag([("a", LONG), ("b", "Next")], {"b": ["a"]})
    a = next(n for n in graph.nodes if n.key == "a")
    (edge,) = graph.edges
    assert edge.path.startswith(f"M{a.cx:.0f},{a.y + a.height:.0f} ")


def test_an_empty_graph_has_a_size():
    graph = layout_dag([], {})
    assert graph.nodes == [] and graph.height > 0 and graph.width > 0
