import json

import numpy as np
import pytest

from benchmarks.kt.base import ConceptEstimate, sigmoid
from benchmarks.kt.baselines import BKT, PFA, Elo, SkillMean, fit_hmm_em
from benchmarks.kt.ramp import FEATURES, RampKT
from learner.graph_evidence import propagate_evidence
from learner.metrics import auc
from learner.response_log import Response, group_by_learner

from .kt_synthetic import synthetic_log


def _bkt_with(params):
    b = BKT(forgetting=params[2] > 0)
    b.params = {"s": params}
    return b


def test_bkt_posterior_after_one_correct_by_hand():
    b = _bkt_with((0.3, 0.1, 0.0, 0.2, 0.1))  # L0, T, F, G, S
    st = b.new_state()
    assert b.predict(st, "s") == pytest.approx(0.3 * 0.9 + 0.7 * 0.2)  # 0.41
    b.update(st, "s", 1)
    post = 0.3 * 0.9 / (0.3 * 0.9 + 0.7 * 0.2)  # 0.658537
    assert st["s"] == pytest.approx(post + (1 - post) * 0.1)  # 0.692683
    assert st["s"] == pytest.approx(0.692683, abs=1e-6)
    assert b.mastery(st, "s").p_mastered == pytest.approx(0.692683, abs=1e-6)


def test_bkt_forgetting_and_wrong_answer_by_hand():
    b = _bkt_with((0.3, 0.1, 0.05, 0.2, 0.1))
    st = b.new_state()
    b.update(st, "s", 1)
    post = 0.27 / 0.41
    assert st["s"] == pytest.approx(post * 0.95 + (1 - post) * 0.1)
    st2 = b.new_state()
    b.update(st2, "s", 0)
    post = 0.3 * 0.1 / (0.3 * 0.1 + 0.7 * 0.8)
    assert st2["s"] == pytest.approx(post * 0.95 + (1 - post) * 0.1)


def test_bkt_soft_evidence_moves_p_known():
    b = _bkt_with((0.3, 0.1, 0.0, 0.2, 0.1))
    st = b.new_state()
    b.apply_evidence(st, "s", 1.0)
    # one full pseudo-success = likelihood ratio (1-S)/G = 4.5, no learning transition
    assert st["s"] == pytest.approx(0.3 * 4.5 / (0.3 * 4.5 + 0.7))
    b.apply_evidence(st, "s", -0.5)
    assert st["s"] < 0.3 * 4.5 / (0.3 * 4.5 + 0.7)


def test_bkt_em_recovers_planted_parameters():
    rng = np.random.default_rng(0)
    L0, T, G, S = 0.2, 0.15, 0.25, 0.1
    seqs = []
    for _ in range(3000):
        known = rng.random() < L0
        obs = []
        for _ in range(12):
            obs.append(float(rng.random() < (1 - S if known else G)))
            known = known or rng.random() < T
        seqs.append(np.array(obs))
    l0, t, f, g, s, ll = fit_hmm_em(np.zeros(len(seqs), dtype=int), seqs, 1, False)
    assert l0[0] == pytest.approx(L0, abs=0.05)
    assert t[0] == pytest.approx(T, abs=0.04)
    assert g[0] == pytest.approx(G, abs=0.04)
    assert s[0] == pytest.approx(S, abs=0.04)
    assert f[0] == 0.0


def _long_runs_on_one_skill(seed=1):
    """Two learners with 2400 answers each on one skill (400 mostly right, then 400 mostly
    wrong, and again), among 40 ordinary short sequences: the shape of the ASSISTments logs
    on which the fit's backward pass overflowed and 14% of predictions were NaN."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(2):
        for i in range(2400):
            p = 0.97 if (i // 400) % 2 == 0 else 0.15
            rows.append(Response(f"long{u}", "s", int(rng.random() < p)))
    for u in range(40):
        rows.extend(Response(f"short{u}", "s", int(rng.random() < 0.3 + 0.02 * i)) for i in range(30))
    return group_by_learner(rows)


@pytest.mark.parametrize("forgetting", [False, True])
def test_bkt_fit_on_very_long_runs_gives_finite_parameters_and_predictions(forgetting):
    seqs = _long_runs_on_one_skill()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, no 0 * inf
        bkt = BKT(forgetting=forgetting).fit(seqs)
    assert all(np.isfinite(v) for v in bkt.params["s"]), bkt.params
    y, p = [], []
    for seq in seqs.values():
        state = bkt.new_state()
        for r in seq:
            p.append(bkt.predict(state, r.skill_id))
            y.append(r.correct)
            bkt.update(state, r.skill_id, r.correct)
    assert np.isfinite(p).all()
    assert 0.6 < auc(y, p) < 1.0  # right and wrong blocks are told apart


def test_bkt_log_space_fit_matches_the_textbook_likelihood():
    """The log-likelihood the fit reports is the forward algorithm's, computed plainly."""
    seqs = [np.array([1.0, 0.0, 1.0, 1.0]), np.array([0.0, 0.0, 1.0]), np.array([1.0])]
    l0, t, f, g, s, ll = fit_hmm_em(np.zeros(3, dtype=int), seqs, 1, True, max_iter=1)
    # max_iter=1 reports the likelihood under the initial values, before the M step
    L0, T, F, G, S = 0.4, 0.1, 0.05, 0.2, 0.1
    expected = 0.0
    for obs in seqs:
        known = L0
        for o in obs:
            p_right = known * (1 - S) + (1 - known) * G
            expected += np.log(p_right if o else 1 - p_right)
            post = known * (1 - S) / p_right if o else known * S / (1 - p_right)
            known = post * (1 - F) + (1 - post) * T
    assert ll == pytest.approx(expected, rel=1e-12)


def test_elo_update_by_hand():
    e = Elo(k_global=0.5, k_local=1.0, decay=0.05)
    e.d_skill = {"a": 0.0}
    st = e.new_state()
    assert e.predict(st, "a") == 0.5
    e.update(st, "a", 1)
    assert st["th"] == pytest.approx(0.25)  # 0.5 * (1 - 0.5)
    assert st["s"]["a"][0] == pytest.approx(0.5)  # 1.0 * (1 - 0.5)
    assert e.predict(st, "a") == pytest.approx(sigmoid(0.75))
    e.update(st, "a", 0)
    p = sigmoid(0.75)
    assert st["th"] == pytest.approx(0.25 + 0.5 / 1.05 * (0 - p))


def test_pfa_prediction_by_hand():
    m = PFA()
    m.params = {"a": (-0.5, 0.3, -0.2)}
    st = m.new_state()
    assert m.predict(st, "a") == pytest.approx(sigmoid(-0.5))
    m.update(st, "a", 1)
    m.update(st, "a", 1)
    m.update(st, "a", 0)
    assert m.predict(st, "a") == pytest.approx(sigmoid(-0.5 + 0.6 - 0.2))


def test_skill_mean_is_smoothed_rate():
    rows = [Response("u", "a", 1), Response("u", "a", 1), Response("u", "a", 0)]
    m = SkillMean(prior_strength=0.0).fit(group_by_learner(rows))
    assert m.predict({}, "a") == pytest.approx(2 / 3)
    assert 0 < m.predict({}, "unseen") < 1


def _online(est, seqs):
    ys, ps = [], []
    for seq in seqs.values():
        st = est.new_state()
        for r in seq:
            ps.append(est.observe(st, r))
            ys.append(r.correct)
    return np.array(ys), np.array(ps)


@pytest.fixture(scope="module")
def fitted():
    train = group_by_learner(synthetic_log(300, 40, seed=1, with_time=True))
    test = group_by_learner(synthetic_log(150, 40, seed=2, with_time=True, prefix="t"))
    return RampKT().fit(train), SkillMean().fit(train), BKT().fit(train), test


def test_ramp_learns_planted_ability_signal(fitted):
    ramp, mean, bkt, test = fitted
    y, p_ramp = _online(ramp, test)
    _, p_mean = _online(mean, test)
    _, p_bkt = _online(bkt, test)
    assert auc(y, p_ramp) > auc(y, p_mean) + 0.1
    assert auc(y, p_ramp) > auc(y, p_bkt)


def test_ramp_state_is_json_and_incremental(fitted):
    ramp, *_ = fitted
    st = ramp.new_state()
    for i, c in enumerate([1, 1, 0, 1]):
        ramp.update(st, "s1", c, item=None, t=1000.0 + 60 * i, hints=1 if i == 2 else 0)
    st2 = json.loads(json.dumps(st))
    assert ramp.predict(st2, "s1", t=2000.0) == pytest.approx(ramp.predict(st, "s1", t=2000.0))
    assert len(json.dumps(st)) < 400


def test_ramp_mastery_difficulty_and_unseen(fitted):
    ramp, *_ = fitted
    st = ramp.new_state()
    m0 = ramp.mastery(st, "s2")
    assert isinstance(m0, ConceptEstimate)
    for _ in range(6):
        ramp.update(st, "s2", 1)
    m1 = ramp.mastery(st, "s2")
    assert m1.p_correct > m0.p_correct and m1.p_mastered > m0.p_mastered
    assert m1.sd < m0.sd and m1.n == 6
    # harder items are predicted harder; difficulty_for_target inverts predict_at_difficulty
    assert ramp.predict_at_difficulty(st, "s2", 1.0) < ramp.predict_at_difficulty(st, "s2", 0.0)
    d = ramp.difficulty_for_target(st, "s2", 0.85)
    assert ramp.predict_at_difficulty(st, "s2", d) == pytest.approx(0.85)
    # an unseen skill and item still get a sensible prediction, helped by ability
    p_new = ramp.predict(st, "never-seen", item="never-seen-item")
    assert 0.0 < p_new < 1.0
    assert p_new > ramp.predict(ramp.new_state(), "never-seen")


def test_ramp_soft_evidence_and_graph(fitted):
    ramp, *_ = fitted
    st = ramp.new_state()
    p0 = ramp.predict(st, "s3")
    ramp.apply_evidence(st, "s3", 2.0)
    assert ramp.predict(st, "s3") > p0
    st = ramp.new_state()
    ramp.update(st, "s4", 1)
    for skill, weight in propagate_evidence({"s4": ["s3"], "s3": ["s0"]}, "s4", True).items():
        ramp.apply_evidence(st, skill, weight)
    assert ramp.mastery(st, "s3").p_correct > ramp.mastery(ramp.new_state(), "s3").p_correct


def test_ramp_params_round_trip(fitted):
    ramp, *_ = fitted
    d = json.loads(json.dumps(ramp.to_dict()))
    again = RampKT.from_dict(d)
    st = ramp.new_state()
    ramp.update(st, "s1", 1)
    ramp.update(st, "s0", 0)
    for s in ("s0", "s1", "new"):
        assert again.predict(st, s) == pytest.approx(ramp.predict(st, s))
    with pytest.raises(ValueError):
        RampKT.from_dict({"kind": "other"})
    assert len(ramp.weights) == len(FEATURES)


def test_ramp_uses_item_difficulty():
    rows = []
    import random

    rng = random.Random(3)
    for u in range(200):
        for _ in range(20):
            item = rng.choice(["easy", "hard"])
            rows.append(
                Response(f"u{u}", "s", int(rng.random() < (0.9 if item == "easy" else 0.3)), None, item)
            )
    m = RampKT().fit(group_by_learner(rows))
    assert m.item_difficulty["hard"] > m.item_difficulty["easy"] + 1.0
    st = m.new_state()
    assert m.predict(st, "s", item="hard") < m.predict(st, "s", item="easy")
