"""Evidence for a concept's neighbours from one answer, over the prerequisite graph."""

import pytest

from learner.graph_evidence import ancestors, descendants, propagate_evidence

# a <- b <- c <- d   plus   a <- x <- d   (d needs c and x; b and x need a)
G = {"b": ["a"], "c": ["b"], "x": ["a"], "d": ["c", "x"]}


def test_ancestors_descendants_shortest_distance():
    assert ancestors(G, "d") == {"c": 1, "x": 1, "b": 2, "a": 2}
    assert descendants(G, "a") == {"b": 1, "x": 1, "c": 2, "d": 2}
    assert ancestors(G, "a") == {}
    assert ancestors(G, "d", max_depth=1) == {"c": 1, "x": 1}


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
