import json
import math
import time

import numpy as np
import pytest

from benchmarks.kt.estimator_params import estimator_from_params
from benchmarks.kt.ramp import RampKT
from benchmarks.kt.recurrent import GRUKT, UNK, RampGRU, _fit_blend, skill_vocabulary
from learner.response_log import Response, group_by_learner

from .kt_synthetic import synthetic_log


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def _tiny_gru():
    """H = 1, skills {a: 1}; input table rows: (unk,0), (unk,1), (a,0), (a,1)."""
    in_table = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.1, -0.2, -0.5], [0.3, 0.4, 0.5]])
    return GRUKT(
        {"a": 1},
        in_table,
        w_hh=np.array([[0.5], [0.2], [1.0]]),
        b_hh=np.array([0.0, 0.1, 0.2]),
        out_emb=np.array([[0.5], [2.0]]),
        out_bias=np.array([0.0, -0.3]),
        h0=np.array([0.1]),
    )


def test_gru_step_and_logit_by_hand():
    g = _tiny_gru()
    h = g.h0
    assert g.logit(h, "a") == pytest.approx(-0.3 + 2.0 * 0.1)
    assert g.logit(h, "never-seen") == pytest.approx(0.0 + 0.5 * 0.1)  # unknown-skill row
    h1 = g.step(h, "a", 1)
    # PyTorch GRU: r, z gates; n = tanh(x_n + r * (W_hn h + b_hn)); h' = (1-z) n + z h
    r = _sig(0.3 + 0.5 * 0.1)
    z = _sig(0.4 + 0.2 * 0.1 + 0.1)
    n = math.tanh(0.5 + r * (1.0 * 0.1 + 0.2))
    assert h1[0] == pytest.approx((1 - z) * n + z * 0.1)
    assert g.step(h, "a", 0)[0] < h1[0]
    again = GRUKT.from_dict(json.loads(json.dumps(g.to_dict())))
    assert again.step(h, "a", 1)[0] == pytest.approx(h1[0])


def test_skill_vocabulary_maps_rare_skills_to_unknown():
    seqs = [[Response("u", "a", 1)] * 5 + [Response("u", "b", 0)]]
    v = skill_vocabulary(seqs, min_count=2)
    assert v == {"a": 1} and UNK == 0


def test_blend_fit_recovers_weights():
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=20000), rng.normal(size=20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(0.3 + 0.8 * z1 + 0.4 * z2)))).astype(float)
    a = _fit_blend(np.column_stack([np.ones_like(z1), z1, z2]), y, l2=0.0)
    assert a == pytest.approx([0.3, 0.8, 0.4], abs=0.06)


@pytest.fixture(scope="module")
def small_log():
    train = group_by_learner(synthetic_log(160, 30, seed=1))
    return train


def test_numpy_inference_matches_torch_training(small_log):
    pytest.importorskip("torch")
    from benchmarks.kt.recurrent import train_gru

    seqs = list(small_log.values())
    g = train_gru(seqs[:120], seqs[120:], hidden=8, emb=8, max_epochs=2, patience=1, min_count=1, seed=0)
    y = np.array([r.correct for s in seqs[120:] for r in s], dtype=float)
    z = np.concatenate([g.sequence_logits(s) for s in seqs[120:]])
    ll = float(np.mean(np.logaddexp(0.0, z) - y * z))
    assert ll == pytest.approx(g.info["valid_ll"], abs=1e-5)


@pytest.fixture(scope="module")
def hybrid(small_log):
    pytest.importorskip("torch")
    return RampGRU(
        n_gru=2, hidden=8, min_gru_responses=1000, gru_kwargs={"emb": 8, "max_epochs": 3, "min_count": 1}
    ).fit(small_log)


def test_hybrid_round_trip_state_and_params(hybrid):
    assert len(hybrid.grus) == 2 and len(hybrid.blend) == 4
    st = hybrid.new_state()
    assert len(st["h"]) == 2 and len(st["h"][0]) == 8
    for c in [1, 0, 1, 1]:
        hybrid.update(st, "s1", c, hints=0)
    hybrid.update(st, "brand-new", 1)
    st2 = json.loads(json.dumps(st))
    params = json.loads(json.dumps(hybrid.to_dict()))
    again = estimator_from_params(params)
    assert isinstance(again, RampGRU)
    for s in ("s0", "s1", "brand-new", "other-new"):
        p = hybrid.predict(st, s)
        assert 0.0 < p < 1.0
        assert again.predict(st2, s) == pytest.approx(p, abs=1e-12)
        m = again.mastery(st2, s)
        assert m.p_correct == pytest.approx(p)
    # the blend by hand: c + a0 * ramp logit + sum a_k * gru_k logit
    zr = RampKT._skill_logit(hybrid, st, "s1")
    zg = [g.logit(np.asarray(h), "s1") for g, h in zip(hybrid.grus, st["h"])]
    b = hybrid.blend
    assert hybrid.predict(st, "s1") == pytest.approx(
        1 / (1 + math.exp(-(b[0] + b[1] * zr + b[2] * zg[0] + b[3] * zg[1])))
    )
    d = hybrid.difficulty_for_target(st, "s1", 0.85)
    assert hybrid.predict_at_difficulty(st, "s1", d) == pytest.approx(0.85)
    with pytest.raises(ValueError):
        RampGRU.from_dict({**params, "blend": [0.0, 1.0]})


def test_hybrid_accepts_a_plain_ramp_state(hybrid):
    st = RampKT().new_state()  # e.g. a learner whose state predates the GRUs
    hybrid.update(st, "s0", 1)
    assert len(st["h"]) == 2 and 0 < hybrid.predict(st, "s0") < 1


def test_hybrid_update_is_constant_time_and_state_does_not_grow(hybrid):
    st = hybrid.new_state()
    skills = [f"c{i}" for i in range(300)]
    rng = np.random.default_rng(0)
    for i in range(2000):
        hybrid.update(st, skills[i % 300], int(rng.random() < 0.7))
    size_a = len(json.dumps(st))

    def timed(n):
        t0 = time.perf_counter()
        for _ in range(n):
            s = skills[int(rng.integers(300))]
            hybrid.predict(st, s)
            hybrid.update(st, s, 1)
        return (time.perf_counter() - t0) / n

    early = timed(500)
    for i in range(6000):
        hybrid.update(st, skills[i % 300], int(rng.random() < 0.7))
    late = timed(500)
    size_b = len(json.dumps(st))
    assert late < 3 * early + 2e-4
    assert late < 1e-3  # well under a millisecond per response
    assert size_b < size_a * 1.05


def test_small_log_gives_plain_ramp(small_log):
    m = RampGRU().fit(small_log)  # 4,800 responses < min_gru_responses
    ref = RampKT().fit(small_log)
    assert m.grus == [] and m.fit_info["gru"] == "skipped"
    st = m.new_state()
    m.update(st, "s1", 1)
    assert m.predict(st, "s1") == pytest.approx(ref.predict(st, "s1"))
