"""Prerequisite-graph propagation of evidence (plain Python, no Django).

The graph is given as ``prereqs``: a mapping ``concept -> iterable of its direct
prerequisites`` (the edges of the ramp's DAG, pointing from a concept to what it builds
on). Concepts that appear only as prerequisites are fine.

Evidence on one concept says something about its neighbours:

* a **success** on C *implies* its prerequisites (ancestors) are known - you cannot do C
  without them - and only *suggests* readiness for what builds on C (descendants);
* a **failure** on C *implies* what builds on C (descendants) is not yet mastered, and
  only *suggests* a gap in C's prerequisites.

:func:`propagate_evidence` turns one observed response into signed soft-evidence weights
for the other concepts: ``strength * implied ** d`` in the implied direction and
``strength * suggested ** d`` in the other, where ``d`` is the shortest number of
prerequisite edges between the two concepts (so the nearest path counts). Positive
weights are pseudo-successes, negative ones pseudo-failures; the mastery tracker absorbs
them with ``MasteryTracker.evidence(concept, weight)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping


def dependents(prereqs: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Reverse adjacency: concept -> concepts that list it as a direct prerequisite."""
    out: dict[str, list[str]] = {}
    for c, ps in prereqs.items():
        out.setdefault(c, [])
        for p in ps:
            out.setdefault(p, []).append(c)
    return out


def _bfs(adj: Mapping[str, Iterable[str]], start: str, max_depth: int | None) -> dict[str, int]:
    dist = {start: 0}
    q = deque([start])
    while q:
        c = q.popleft()
        d = dist[c]
        if max_depth is not None and d >= max_depth:
            continue
        for n in adj.get(c, ()):
            if n not in dist:
                dist[n] = d + 1
                q.append(n)
    del dist[start]
    return dist


def ancestors(
    prereqs: Mapping[str, Iterable[str]], concept: str, max_depth: int | None = None
) -> dict[str, int]:
    """All (transitive) prerequisites of ``concept`` -> shortest distance in edges."""
    return _bfs(prereqs, concept, max_depth)


def descendants(
    prereqs: Mapping[str, Iterable[str]],
    concept: str,
    max_depth: int | None = None,
    _rev: Mapping[str, list[str]] | None = None,
) -> dict[str, int]:
    """All concepts that (transitively) build on ``concept`` -> shortest distance."""
    return _bfs(_rev if _rev is not None else dependents(prereqs), concept, max_depth)


def propagate_evidence(
    prereqs: Mapping[str, Iterable[str]],
    concept: str,
    correct: bool,
    strength: float = 1.0,
    implied: float = 0.5,
    suggested: float = 0.1,
    max_depth: int | None = 4,
    _rev: Mapping[str, list[str]] | None = None,
) -> dict[str, float]:
    """Soft evidence for the other concepts from one response on ``concept``.

    Returns ``{other_concept: weight}`` (the observed concept itself is not included):
    positive = pseudo-successes, negative = pseudo-failures. Weights below 1e-6 in size
    are dropped. See the module docstring for the rule.
    """
    up = ancestors(prereqs, concept, max_depth)
    down = descendants(prereqs, concept, max_depth, _rev)
    sign = 1.0 if correct else -1.0
    up_decay, down_decay = (implied, suggested) if correct else (suggested, implied)
    out: dict[str, float] = {}
    for c, d in up.items():
        w = strength * up_decay**d
        if w > 1e-6:
            out[c] = sign * w
    for c, d in down.items():
        w = strength * down_decay**d
        if w > 1e-6 and abs(out.get(c, 0.0)) < w:
            out[c] = sign * w
    return out
