import pytest

from learner.kt.graph import (CycleError, ancestors, apply_graph_evidence, descendants,
                              propagate_evidence, topological_order)

# a <- b <- c <- d   plus   a <- x <- d   (d needs c and x; b and x need a)
G = {"b": ["a"], "c": ["b"], "x": ["a"], "d": ["c", "x"]}


def test_ancestors_descendants_shortest_distance():
    assert ancestors(G, "d") == {"c": 1, "x": 1, "b": 2, "a": 2}
    assert descendants(G, "a") == {"b": 1, "x": 1, "c": 2, "d": 2}
    assert ancestors(G, "a") == {}
    assert ancestors(G, "d", max_depth=1) == {"c": 1, "x": 1}


def test_topological_order_and_cycles():
    order = topological_order(G)
    for c, ps in G.items():
        for p in ps:
            assert order.index(p) < order.index(c)
    with pytest.raises(CycleError):
        topological_order({"a": ["b"], "b": ["a"]})


def test_success_implies_prerequisites():
    w = propagate_evidence(G, "c", True, strength=1.0, implied=0.5, suggested=0.1)
    # ancestors: b at 1, a at 2 (implied); descendant d at 1 (suggested)
    assert w == pytest.approx({"b": 0.5, "a": 0.25, "d": 0.1})


def test_failure_implies_dependents_not_mastered():
    w = propagate_evidence(G, "b", False, strength=2.0, implied=0.5, suggested=0.1)
    # descendants: c at 1, d at 2 (implied, negative); ancestor a at 1 (suggested)
    assert w == pytest.approx({"c": -1.0, "d": -0.5, "a": -0.2})


def test_no_suggested_direction_when_zero():
    w = propagate_evidence(G, "a", False, implied=0.5, suggested=0.0)
    assert w == pytest.approx({"b": -0.5, "x": -0.5, "c": -0.25, "d": -0.25})


class _Recorder:
    def __init__(self):
        self.calls = []

    def apply_evidence(self, state, skill, weight):
        self.calls.append((skill, weight))
        state[skill] = state.get(skill, 0.0) + weight


def test_apply_graph_evidence_calls_estimator():
    est, state = _Recorder(), {}
    applied = apply_graph_evidence(est, state, G, "d", True, implied=0.5, suggested=0.0)
    assert state == pytest.approx({"c": 0.5, "x": 0.5, "b": 0.25, "a": 0.25})
    assert applied == state
