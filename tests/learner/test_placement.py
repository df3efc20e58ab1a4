"""Adaptive placement over the prerequisite graph (plain Python, no database)."""

import json

import pytest

from learner.course_graph import CourseGraph, ItemInfo, random_ramp
from learner.placement import Placement, state_key


def chain(n: int = 6, items: int = 3) -> CourseGraph:
    names = [f"k{i}" for i in range(n)]
    return CourseGraph(
        concepts=tuple(names),
        prerequisites={c: ((names[i - 1],) if i else ()) for i, c in enumerate(names)},
        items={c: tuple(ItemInfo(f"{c}/{j}", c, -0.5 + 0.5 * j) for j in range(items)) for c in names},
    )


def place(p: Placement, knows: set[str], *, unknown_outcome: str = "incorrect") -> int:
    asked = 0
    while (q := p.next_question()) is not None:
        c, item = q
        p.observe(c, item, "correct" if c in knows else unknown_outcome)
        asked += 1
    return asked


@pytest.fixture(scope="module")
def ramp30():
    return random_ramp(30, seed=3)


def test_knows_everything_placed_in_few_questions(ramp30):
    p = Placement(ramp30, seed=1)
    asked = place(p, set(ramp30.concepts))
    m = p.marginals()
    assert asked <= 8
    assert all(v >= 0.9 for v in m.values())


def test_knows_nothing_placed_in_few_questions(ramp30):
    p = Placement(ramp30, seed=1)
    asked = place(p, set(), unknown_outcome="dont_know")
    assert asked <= 8
    assert all(v <= 0.1 for v in p.marginals().values())


def test_half_known_ramp_is_classified(ramp30):
    knows = set(ramp30.order[:15])
    knows = {c for c in knows if ramp30.ancestors(c) <= knows}
    p = Placement(ramp30, seed=2)
    place(p, knows)
    m = p.marginals()
    right = sum((m[c] >= 0.5) == (c in knows) for c in ramp30.concepts)
    assert right / len(ramp30.concepts) >= 0.9


def test_stops_at_the_cap():
    g = chain(8)
    p = Placement(g, seed=0, max_questions=3, confidence=0.999)
    # alternating answers keep it unsure; it must stop at 3 anyway
    for k in range(10):
        q = p.next_question()
        if q is None:
            break
        p.observe(q[0], q[1], "correct" if k % 2 else "incorrect")
    assert p.finished and p.n_asked == 3 and p.next_question() is None


def test_stops_when_confident():
    g = chain(4)
    p = Placement(g, seed=0, max_questions=50, confidence=0.9)
    asked = place(p, set(g.concepts))
    assert p.finished and asked < 50
    assert all(v >= 0.9 for v in p.marginals().values())


def test_dont_know_is_stronger_evidence_than_a_wrong_answer():
    g = chain(5)
    wrong, dk = Placement(g, seed=0), Placement(g, seed=0)
    wrong.observe("k2", "k2/1", "incorrect")
    dk.observe("k2", "k2/1", "dont_know")
    assert dk.marginals()["k2"] < wrong.marginals()["k2"] < Placement(g, seed=0).marginals()["k2"]


def test_correct_on_a_deep_concept_raises_its_ancestors():
    g = chain(6)
    p = Placement(g, seed=0)
    before = p.marginals()
    p.observe("k4", "k4/1", "correct")
    after = p.marginals()
    for c in ("k0", "k1", "k2", "k3"):
        assert after[c] > before[c]
        assert after[c] >= after["k4"] - 1e-9  # knowing k4 implies knowing what it builds on


def test_wrong_on_a_concept_lowers_what_builds_on_it():
    g = chain(6)
    p = Placement(g, seed=0)
    before = p.marginals()
    p.observe("k2", "k2/0", "dont_know")
    after = p.marginals()
    for c in ("k3", "k4", "k5"):
        assert after[c] < before[c]


def test_first_question_is_in_the_middle_of_a_chain():
    g = chain(9)
    c, _item = Placement(g, seed=0).next_question()
    assert c not in ("k0", "k8")


def test_round_trip_gives_the_same_next_question(ramp30):
    from learner import placement as module

    p = Placement(ramp30, seed=5)
    for _ in range(4):
        c, item = p.next_question()
        p.observe(c, item, "correct" if ramp30.index[c] < 10 else "incorrect")
    d = json.loads(json.dumps(p.to_dict()))
    assert len(json.dumps(d)) < 2000
    module._CACHE.clear()  # a fresh process: rebuilt by replaying the observations
    q = Placement.from_dict(ramp30, d)
    assert q.next_question() == p.next_question()
    assert q.marginals() == pytest.approx(p.marginals())
    assert q.to_dict() == d
    # and through the in-process cache
    r = Placement.from_dict(ramp30, d)
    assert r.next_question() == p.next_question()


def test_restricted_to_a_concept_and_its_ancestors(ramp30):
    target = ramp30.order[20]
    scope = {target} | set(ramp30.ancestors(target))
    p = Placement(ramp30, seed=0, concepts=scope)
    assert set(p.marginals()) == scope
    while (q := p.next_question()) is not None:
        assert q[0] in scope
        p.observe(q[0], q[1], "correct")
    assert p.marginals()[target] >= 0.9


def test_fixed_items_are_not_asked_twice():
    g = chain(3, items=2)
    p = Placement(g, seed=0, max_questions=6, confidence=0.9999)
    seen = []
    while (q := p.next_question()) is not None:
        assert q[1] not in seen
        seen.append(q[1])
        p.observe(q[0], q[1], "correct" if len(seen) % 2 else "incorrect")


def test_rejects_unknown_outcomes_and_concepts():
    g = chain(3)
    p = Placement(g)
    with pytest.raises(ValueError):
        p.observe("k0", "k0/0", "maybe")
    with pytest.raises(KeyError):
        p.observe("nope", "x", "correct")
    with pytest.raises(KeyError):
        Placement(g, concepts={"nope"})


class DictStore:
    """A store shared by "processes" (the in-process cache is cleared to play a new one)."""

    def __init__(self):
        self.data: dict[str, bytes] = {}
        self.gets = 0

    def get(self, key):
        self.gets += 1
        return self.data.get(key)

    def put(self, key, data, *, replaces=None):
        self.data[key] = data
        self.data.pop(replaces, None)


def _answered(graph, seed, answers, store=None):
    p = Placement(graph, seed=seed)
    for i in range(answers):
        c, item = p.next_question()
        p.observe(c, item, ("correct", "incorrect", "dont_know")[i % 3])
    return p, p.to_dict(store=store)


def test_a_stored_state_restores_the_placement_exactly_without_a_replay(ramp30, monkeypatch):
    from learner import placement as module

    store = DictStore()
    p, d = _answered(ramp30, 7, 6, store)
    assert len(store.data) == 1
    module._CACHE.clear()  # another process
    replays = []
    monkeypatch.setattr(Placement, "observe", lambda *a, **k: replays.append(a))
    q = Placement.from_dict(ramp30, d, store=store)
    assert replays == []  # restored, not replayed
    monkeypatch.undo()
    assert q.to_dict() == d
    assert q.marginals() == p.marginals()
    assert q.next_question() == p.next_question()
    # the generator's state came along: the next answers go exactly as they would have
    for placement in (p, q):
        c, item = placement.next_question()
        placement.observe(c, item, "incorrect")
        c, item = placement.next_question()
        placement.observe(c, item, "dont_know")
    assert q.marginals() == p.marginals()
    assert (q.S == p.S).all() and (q.F == p.F).all()


def test_a_store_that_forgot_means_a_replay_with_the_same_result(ramp30):
    from learner import placement as module

    store = DictStore()
    p, d = _answered(ramp30, 8, 5, store)
    store.data.clear()
    module._CACHE.clear()
    q = Placement.from_dict(ramp30, d, store=store)
    assert store.gets == 1
    assert q.marginals() == p.marginals() and q.next_question() == p.next_question()


def test_the_in_process_cache_keeps_each_learners_newest_state_only(ramp30):
    from learner import placement as module

    module._CACHE.clear()
    for seed in range(5):
        _answered(ramp30, 100 + seed, 4)
    # Placement(...).to_dict() is only called once per learner here, but the cache must not
    # hold both a state and the one it extends
    p = Placement(ramp30, seed=200)
    p.to_dict()
    c, item = p.next_question()
    p.observe(c, item, "correct")
    p.to_dict()
    keys = [k for k in module._CACHE if dict(k[1])["seed"] == 200]
    assert len(keys) == 1 and len(keys[0][3]) == 1


def test_each_saved_state_replaces_the_one_it_extends_in_the_store(ramp30):
    store = DictStore()
    p = Placement(ramp30, seed=9)
    first = p.to_dict(store=store)
    for outcome in ("correct", "dont_know", "incorrect"):
        c, item = p.next_question()
        p.observe(c, item, outcome)
        latest = p.to_dict(store=store)
    assert list(store.data) == [state_key(latest)]  # one state per learner, the newest
    assert state_key(first) != state_key(latest)
