"""The simulated-learner benchmark: quick mode runs and prints the JSON line last."""

import io
import json

import numpy as np
import pytest

from benchmarks.simulation import cli
from benchmarks.simulation.learners import MASTERED, SimLearner
from benchmarks.simulation.runners import true_difficulties
from learner.course_graph import random_ramp


class NoEstimator:
    """What the views need of an estimator when the test is about the tracker or the truth."""

    def new_state(self):
        return {}

    def mastery(self, state, c, t):
        return type("M", (), {"p_mastered": 0.5})()


KEYS = {
    "benchmark",
    "ramp",
    "seed",
    "learners",
    "estimator",
    "view",
    "placement",
    "practice_in_band",
    "all_served_in_band",
    "decisions",
    "mastery",
    "latency",
    "targets",
    "elapsed_s",
    "quick",
}


def test_quick_benchmark_prints_the_json_summary_last():
    out = io.StringIO()
    summary = cli.run({"quick": True, "seed": 0}, out=out)
    lines = out.getvalue().strip().splitlines()
    last = json.loads(lines[-1])
    assert last == json.loads(json.dumps(summary))
    assert KEYS <= set(last)
    assert set(last["placement"]["accuracy_at"]) == {"4", "8", "12", "16", "20"}
    assert {"policy", "fixed_order_3_in_a_row", "random_order", "perfect_information"} <= set(last["mastery"])
    # perfect information is a ceiling: it reaches mastery at least as often, in no more
    # practice off the band than the estimators
    ceiling = last["mastery"]["perfect_information"]
    assert ceiling["reached"] >= last["mastery"]["policy"]["reached"]
    assert 0.0 <= last["practice_in_band_perfect_information"] <= 1.0
    assert {"p50_ms", "p99_ms"} <= set(last["latency"])
    assert last["estimator"]["kind"] == "RampKT" and last["estimator"]["fit_s"] >= 0
    assert any("Placement accuracy" in line for line in lines)


def test_simulated_learner_respects_prerequisites_and_learns():
    g = random_ramp(20, seed=1)
    td = true_difficulties(g, 0)
    for seed in range(5):
        s = SimLearner(g, seed)
        s.true_item_difficulty = td
        known = s.mastered()
        for i in range(len(g.order)):
            if known[i]:
                assert all(known[p] for p in g.prereq_idx[i])
    s = SimLearner(g, 99)
    s.true_item_difficulty = td
    root = g.order[0]
    item = g.items_by_difficulty[root][0]
    before = s.theta_now(0)
    s.read_material(root)
    for _ in range(30):
        s.answer(item)
    assert s.theta_now(0) > before and s.theta_now(0) - s.ref[0] >= MASTERED and s.is_mastered(0)


def test_perfect_information_view_sees_the_truth():
    from benchmarks.simulation.learners import MASTERED, SimLearner
    from benchmarks.simulation.view import PerfectInformationView

    g = random_ramp(8, seed=2)
    sim = SimLearner(g, seed=5)

    view = PerfectInformationView(g, NoEstimator(), sim=sim, now=sim.t)
    for c in g.order:
        truth = sim.theta_now(sim.idx[c]) - g.reference_difficulty[c] >= MASTERED
        assert view.mastery(c) == (1.0 if truth else 0.0)
        for it in g.items[c]:
            assert view.predict(it) == sim.p_correct(it)


def test_hints_raise_a_simulated_learners_success_and_lower_what_they_learn():
    g = random_ramp(6, seed=3)
    assert all(1 <= it.n_hints <= 3 for items in g.items.values() for it in items)
    item = g.items_by_difficulty[g.order[0]][2]
    gains = {}
    for hints in (0, 1, 2):
        s = SimLearner(g, 11)
        s.theta[0] = -1.0
        s.misconceptions.clear()
        ps = s.p_correct(item, hints=hints)
        gains[hints] = ps
        before = s.theta_now(0)
        ok, _, p = s.answer(item, hints=hints)
        assert p == ps
        gains[hints] = (ps, s.theta[0] - before, ok)
    assert gains[0][0] < gains[1][0] < gains[2][0]
    # for the same outcome, an attempt teaches fewer logits the more help it had
    s = SimLearner(g, 11)
    s.misconceptions.clear()
    for correct in (True, False):
        taught = [s.gain_before_fit(0, correct, hints) for hints in (0, 1, 2)]
        assert taught[0] > taught[1] > taught[2] > 0


def test_mastery_is_measured_against_each_concepts_typical_question():
    from benchmarks.simulation.learners import MASTERED, SimLearner
    from learner.course_graph import CourseGraph, ItemInfo

    # one concept whose questions are all easy, one whose questions are all hard
    items = {
        "easy": tuple(
            ItemInfo(id=f"easy/{k}", concept="easy", difficulty=d) for k, d in enumerate((-3.0, -2.6, -2.2))
        ),
        "hard": tuple(
            ItemInfo(id=f"hard/{k}", concept="hard", difficulty=d) for k, d in enumerate((1.0, 2.0, 2.4, 3.0))
        ),
    }
    g = CourseGraph(concepts=("easy", "hard"), prerequisites={"easy": (), "hard": ()}, items=items)
    assert g.reference_difficulty == {"easy": -2.6, "hard": 2.2}
    assert g.relative_difficulty(items["easy"][0]) == pytest.approx(-0.4)
    assert g.relative_difficulty(items["hard"][0], 2.2) == 0.0
    sim = SimLearner(g, seed=1)
    sim.theta[:] = [-2.6 + MASTERED + 0.01, 2.2 + MASTERED - 0.01]
    assert sim.mastered().tolist() == [True, False]
    # a learner who gets 90% of the easy concept's typical questions right has mastered it
    typical = ItemInfo(id="easy/typical", concept="easy", difficulty=-2.6)
    assert sim.p_correct(typical) == pytest.approx(0.02 + 0.98 * 0.97 * 0.9, abs=0.01)


def test_placement_answers_reach_the_tracker_only_through_the_placement_prior():
    from benchmarks.simulation.view import SimView

    g = random_ramp(8, seed=2)

    class Absorbing(NoEstimator):
        def update(self, *a, **k):
            pass

        def apply_evidence(self, *a, **k):
            pass

    view = SimView(g, Absorbing(), now=0.0)
    item = g.items[g.order[0]][0]
    view.record(item, False, study=False)
    assert view.tracker.s == {}  # no practice gain, no lesson for the learning rate
    assert view.attempts(item.concept) == 0
    view.record(item, False)
    assert item.concept in view.tracker.s and view.attempts(item.concept) == 1


def test_the_tutor_can_see_calibrated_difficulties_while_the_learners_keep_the_truth():
    from benchmarks.simulation.runners import fit_estimator, policy_graph

    g = random_ramp(8, seed=2)
    td = true_difficulties(g, 2)
    est, _info, log = fit_estimator(g, learners=15, seed=3, true_d=td, max_iter=20)
    assert policy_graph(g, item_difficulties="authored", estimator=est, training_log=log) is g
    cal = policy_graph(g, item_difficulties="calibrated", estimator=est, training_log=log)
    off = policy_graph(g, item_difficulties="estimator", estimator=est, training_log=log)
    for c in g.order:
        mine, theirs = g.items[c], cal.items[c]
        assert [it.id for it in theirs] == [it.id for it in mine]
        # calibration keeps each concept's authored mean; the estimator's offsets don't
        assert sum(it.difficulty for it in theirs) == pytest.approx(sum(it.difficulty for it in mine))
    assert any(a.difficulty != b.difficulty for c in g.order for a, b in zip(g.items[c], cal.items[c]))
    assert {it.id: it.difficulty for its in off.items.values() for it in its} == pytest.approx(
        {k: v for k, v in est.item_difficulty.items()}
    )
    with pytest.raises(ValueError, match="item difficulties are one of"):
        policy_graph(g, item_difficulties="guessed", estimator=est, training_log=log)
    out = io.StringIO()
    summary = cli.run({"quick": True, "seed": 0, "item_difficulties": "calibrated"}, out=out)
    assert summary["view"]["item_difficulties"] == "calibrated"


def test_a_belief_of_given_quality_is_the_truth_plus_one_error_per_concept_and_moment():
    import math
    import statistics

    from benchmarks.simulation.view import NoisyBeliefView
    from learner.mastery import band_probability

    g = random_ramp(8, seed=2)
    sim = SimLearner(g, seed=5)

    sharp = NoisyBeliefView(g, NoEstimator(), sim=sim, now=sim.t, sd=1e-9)
    band = (0.6, 0.9)
    for c in g.order:
        for it in g.items[c]:
            z, guess, top = sim.success_terms(it)
            assert guess + top / (1 + math.exp(-z)) == pytest.approx(sim.p_correct(it))
            # no error: the truth itself
            assert sharp.in_band(it, 0, band) == (1.0 if band[0] <= sim.p_correct(it) <= band[1] else 0.0)
    noisy = NoisyBeliefView(g, NoEstimator(), sim=sim, now=sim.t, sd=0.7, seed=1)
    c = g.order[0]
    a, b = g.items[c][0], g.items[c][-1]
    # one error for the whole concept at one moment: the items keep their true order
    ea = noisy._belief(a, 0)[0] - sim.success_terms(a)[0]
    eb = noisy._belief(b, 0)[0] - sim.success_terms(b)[0]
    assert ea == pytest.approx(eb)
    m, guess, top = noisy._belief(a, 0)
    assert noisy.in_band(a, 0, band) == pytest.approx(band_probability(m, 0.7, band, guess, top))
    errors = []
    for k in range(400):  # a new moment, a new error, of the stated spread
        noisy.now = sim.t + k
        errors.append(noisy._belief(a, 0)[0] - sim.success_terms(a)[0])
    assert statistics.pstdev(errors) == pytest.approx(0.7, rel=0.15)
    assert abs(statistics.fmean(errors)) < 0.15


def test_band_probability_by_hand():
    import math

    from learner.mastery import band_probability

    def phi(x):
        return 0.5 * math.erfc(-x / math.sqrt(2))

    lo, hi = math.log(0.6 / 0.4), math.log(0.9 / 0.1)
    assert band_probability(1.0, 0.5, (0.6, 0.9), 0.0, 1.0) == pytest.approx(
        phi((hi - 1) / 0.5) - phi((lo - 1) / 0.5)
    )
    assert band_probability(1.0, 0.0, (0.6, 0.9), 0.0, 1.0) == 1.0
    assert band_probability(3.0, 0.0, (0.6, 0.9), 0.0, 1.0) == 0.0
    # a misconception halving the ceiling puts the band out of reach
    assert band_probability(5.0, 1.0, (0.6, 0.9), 0.0, 0.5) == 0.0


def test_the_ideal_observer_carries_each_point_exactly_as_the_truth_moves():
    from benchmarks.simulation.ideal import ObservedLearner
    from benchmarks.simulation.learners import DAY

    g = random_ramp(8, seed=4)
    td = true_difficulties(g, 4)
    sim = ObservedLearner(g, seed=11)
    sim.true_item_difficulty = td
    c = next(c for c in g.order if sim.start_kind[sim.idx[c]] == "unknown" and g.items.get(c))
    i = sim.idx[c]
    # a point mass on the true start: the observer must then follow the truth exactly, through
    # material, learning (right and wrong, with hints), fit, misconceptions and forgetting
    sim.grid[i] = [np.array([[sim.theta[i]]]), np.array([[1.0]])]
    sim.log_like[i] = np.zeros(1)
    sim.read_material(c)
    for k in range(25):
        item = g.items[c][k % len(g.items[c])]
        sim.answer(item, hints=1 if k % 3 == 0 else 0)
        if k % 7 == 6:
            sim.t += 2 * DAY
        x, w = sim.points_now(i)
        assert x[0, 0] == pytest.approx(sim.theta_now(i)) and w[0, 0] == pytest.approx(1.0)


def test_the_ideal_observers_posterior_holds_the_truth():
    from benchmarks.simulation.ideal import IdealObserverView, ObservedLearner

    g = random_ramp(8, seed=4)
    td = true_difficulties(g, 4)
    ranks = []
    for seed in range(30):
        sim = ObservedLearner(g, seed=seed)
        sim.true_item_difficulty = td
        c = g.order[len(g.order) // 2]
        i = sim.idx[c]
        sim.read_material(c)
        for k in range(10):
            sim.answer(g.items[c][k % len(g.items[c])])
        x, w = sim.points_now(i)
        ranks.append(float(np.sum(w * (x <= sim.theta_now(i)))))
        assert abs(float(np.sum(w * x)) - sim.theta_now(i)) < 2.5
    # the truth's rank under the posterior is spread over 0..1, not piled at one end
    assert 0.25 < float(np.mean(ranks)) < 0.75
    with pytest.raises(ValueError, match="mode is one of"):
        IdealObserverView(g, None, sim=sim, now=sim.t, mode="everything")


def _study(sim, g, concepts, answers):
    for c in concepts:
        sim.read_material(c)
        for k in range(answers):
            sim.answer(g.items[c][k % len(g.items[c])])


def _sd(p, values) -> float:
    return float(np.sqrt(np.sum(p * values**2) - np.sum(p * values) ** 2))


def test_an_observer_that_learns_the_rate_finds_it_from_the_answers():
    from benchmarks.simulation.ideal import ObservedLearner

    g = random_ramp(12, seed=4)
    td = true_difficulties(g, 4)
    studied = [c for c in g.order if g.items.get(c)][:8]
    errors, ranks = [], []
    for seed in range(24):
        sim = ObservedLearner(g, seed=seed, learns={"rate"})
        sim.true_item_difficulty = td
        prior = sim.rate_posterior().copy()
        _study(sim, g, studied, 12)
        post = sim.rate_posterior()
        log_rates = np.log(sim.rates)
        errors.append(float(np.sum(post * log_rates)) - np.log(sim.rate))
        ranks.append(float(np.sum(post * (sim.rates <= sim.rate))))
        # the answers were informative: the posterior is narrower than the prior
        assert _sd(post, log_rates) < _sd(prior, log_rates)
    # centred on the truth, and the truth's rank under it spread over 0..1
    assert abs(float(np.mean(errors))) < 0.1
    assert 0.25 < float(np.mean(ranks)) < 0.75


def test_an_observer_that_learns_where_concepts_start_uses_the_populations_mixture():
    from benchmarks.simulation.ideal import ObservedLearner, start_kind_frequencies

    g = random_ramp(12, seed=4)
    td = true_difficulties(g, 4)
    freq = start_kind_frequencies(g, samples=200)
    assert all(sum(f.values()) == pytest.approx(1.0) for f in freq)
    # the ramp's first concepts are known more often than its last
    assert freq[0]["known"] > freq[-1]["known"]
    sim = ObservedLearner(g, seed=3, learns={"start"}, start_prior=freq)
    sim.true_item_difficulty = td
    c = g.order[-1]
    x, w = sim.points_now(sim.idx[c])
    known = float(np.sum(w * (x - sim.ref[sim.idx[c]] >= 1.5)))
    assert known == pytest.approx(freq[-1]["known"], abs=0.02)
    with pytest.raises(ValueError, match="start_prior"):
        ObservedLearner(g, seed=3, learns={"start"})


def test_an_observer_that_learns_difficulties_sees_the_tutors():
    from benchmarks.simulation.ideal import ObservedLearner

    g = random_ramp(8, seed=4)
    td = true_difficulties(g, 4)
    item = next(it for its in g.items.values() for it in its)
    seen = {item.id: td[item.id] + 1.0}  # the tutor thinks it a logit harder than it is
    told = ObservedLearner(g, seed=2)
    learns = ObservedLearner(g, seed=2, learns={"difficulties"}, seen_difficulty=seen)
    for sim in (told, learns):
        sim.true_item_difficulty = td
    assert learns.observed_terms(item)[0] == pytest.approx(told.observed_terms(item)[0] - 1.0)
    assert told.observed_terms(item) == told.success_terms(item)
    with pytest.raises(ValueError, match="seen_difficulty"):
        ObservedLearner(g, seed=2, learns={"difficulties"})


def test_what_the_observer_may_learn_is_checked():
    from benchmarks.simulation.ideal import parse_learns

    assert parse_learns("rate, start") == {"rate", "start"}
    assert parse_learns("") == frozenset()
    with pytest.raises(ValueError, match="can learn rate, start, difficulties, not speed"):
        parse_learns("rate,speed")
    with pytest.raises(ValueError, match="goes with --ideal-observer"):
        cli.run({"quick": True, "observer_learns": "rate"}, out=io.StringIO())


def test_quick_benchmark_with_an_observer_that_learns():
    out = io.StringIO()
    summary = cli.run(
        {"quick": True, "seed": 0, "ideal_observer": "items-and-gate", "observer_learns": "rate,start"},
        out=out,
    )
    assert json.loads(out.getvalue().strip().splitlines()[-1])["view"]["observer_learns"] == ["rate", "start"]
    assert 0.0 <= summary["practice_in_band"] <= 1.0


def test_the_difficulty_spread_what_if_keeps_each_concepts_typical_question():
    from benchmarks.simulation.runners import spread_difficulties

    g = random_ramp(8, seed=4)
    wide = spread_difficulties(g, 3.0)
    for c, its in g.items.items():
        ref = g.reference_difficulty[c]
        assert wide.reference_difficulty[c] == pytest.approx(ref)
        for it, w in zip(its, wide.items[c]):
            assert w.difficulty - ref == pytest.approx(3.0 * (it.difficulty - ref))
    out = io.StringIO()
    summary = cli.run({"quick": True, "difficulty_spread": 2.0}, out=out)
    assert summary["ramp"]["source"].endswith("(difficulty spread x2)")
    with pytest.raises(ValueError, match="must be above 0"):
        cli.run({"quick": True, "difficulty_spread": 0.0}, out=io.StringIO())
