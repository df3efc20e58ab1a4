"""Item difficulties calibrated from a log (learner/item_calibration.py), on simulated logs
where the truth is known."""

import math
import random

import pytest

from learner.course_graph import ItemInfo
from learner.item_calibration import calibrate_item_difficulties
from learner.mastery import SLIP
from learner.response_log import Response


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def rasch_log(true_d, concept_of, *, learners=300, per_concept=12, gain=0.25, seed=0, choose=None):
    """Learners with their own proficiency per concept who learn ``gain`` per answer; items
    drawn by ``choose(rng, items, k)`` (default: at random)."""
    rng = random.Random(seed)
    by_concept = {}
    for i, c in concept_of.items():
        by_concept.setdefault(c, []).append(i)
    log = []
    for u in range(learners):
        seq = []
        for c, ids in by_concept.items():
            theta = rng.gauss(0.0, 1.2)
            for k in range(per_concept):
                i = choose(rng, ids, k) if choose else rng.choice(ids)
                p = (1 - SLIP) * sig(theta - true_d[i])
                seq.append(Response(f"u{u}", c, int(rng.random() < p), float(len(seq)), i, 0))
                theta += gain
        log.append(seq)
    return log


def rmse(d, true_d, ids):
    return math.sqrt(sum((d[i] - true_d[i]) ** 2 for i in ids) / len(ids))


def test_calibration_moves_items_towards_the_truth_and_keeps_the_authors_scale():
    concept_of = {f"{c}{j}": c for c in "ab" for j in range(5)}
    written = {i: -1.0 + 0.5 * int(i[1]) for i in concept_of}  # authored: -1 .. 1
    rng = random.Random(3)
    true_d = {i: d + rng.choice((-0.6, 0.6)) for i, d in written.items()}
    for c in "ab":  # the truth keeps each concept's authored mean (only places within it are identifiable)
        ids = [i for i in concept_of if concept_of[i] == c]
        shift = sum(true_d[i] - written[i] for i in ids) / len(ids)
        for i in ids:
            true_d[i] -= shift
    items = {i: ItemInfo(i, c, written[i]) for i, c in concept_of.items()}
    log = rasch_log(true_d, concept_of)
    d = calibrate_item_difficulties(sequences=log, items=items)
    assert rmse(d, true_d, items) < 0.5 * rmse(written, true_d, items)
    # the spread is the truth's, not shrunk towards 0 (RampKT's offsets were)
    spread = lambda x: max(x.values()) - min(x.values())  # noqa: E731
    assert spread(d) == pytest.approx(spread(true_d), abs=0.4)


def test_learning_during_an_episode_is_not_mistaken_for_easier_late_items():
    # the policy serves harder questions as the learner improves: late items look easy
    # unless the learner's progress within the episode is modelled
    concept_of = {f"c{j}": "c" for j in range(4)}
    true_d = {"c0": -1.5, "c1": -0.5, "c2": 0.5, "c3": 1.5}
    items = {i: ItemInfo(i, "c", true_d[i]) for i in concept_of}  # the author got it right
    log = rasch_log(
        true_d, concept_of, per_concept=16, gain=0.3, choose=lambda rng, ids, k: ids[min(3, k // 4)]
    )
    d = calibrate_item_difficulties(sequences=log, items=items)
    assert rmse(d, true_d, items) < 0.25


def test_unanswered_items_stay_at_their_prior_and_unknown_items_are_ignored():
    items = {"a": ItemInfo("a", "c", -1.0), "b": ItemInfo("b", "c", 1.0), "z": ItemInfo("z", "d", 0.7)}
    log = [
        [
            Response("u", "c", 1, None, "a", 0),
            Response("u", "c", 0, None, "b", 0),
            Response("u", "c", 1, None, "gone", 0),
        ]
    ]
    d = calibrate_item_difficulties(sequences=log, items=items)
    assert d["z"] == 0.7
    assert set(d) == {"a", "b", "z"}
    assert calibrate_item_difficulties(sequences=[], items=items) == {"a": -1.0, "b": 1.0, "z": 0.7}


def test_episodes_all_right_or_all_wrong_do_not_compress_the_difficulties():
    items = {"e": ItemInfo("e", "c", -1.0), "h": ItemInfo("h", "c", 1.0)}
    # learners who know the concept (all right) and learners who don't (all wrong): they say
    # nothing about which question is harder, so the authored values stand
    log = [[Response(f"k{u}", "c", 1, None, "eh"[k % 2], 0) for k in range(10)] for u in range(50)]
    log += [[Response(f"n{u}", "c", 0, None, "eh"[k % 2], 0) for k in range(10)] for u in range(50)]
    d = calibrate_item_difficulties(sequences=log, items=items)
    assert d == pytest.approx({"e": -1.0, "h": 1.0})


def test_a_hint_shown_is_not_read_as_an_easier_item():
    concept_of = {"a": "c", "b": "c"}
    true_d = {"a": 0.0, "b": 0.0}
    items = {i: ItemInfo(i, "c", 0.0) for i in concept_of}
    rng = random.Random(1)
    from learner.mastery import hint_relief

    log = []
    for u in range(300):
        theta = rng.gauss(0.0, 1.0)
        seq = []
        for k in range(10):
            i = "ab"[k % 2]
            h = 2 if i == "b" else 0  # b is always served with two hints shown
            p = (1 - SLIP) * sig(theta - true_d[i] + hint_relief(h))
            seq.append(Response(f"u{u}", "c", int(rng.random() < p), None, i, h))
        log.append(seq)
    d = calibrate_item_difficulties(sequences=log, items=items)
    assert abs(d["a"] - d["b"]) < 0.3
