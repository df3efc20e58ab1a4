"""The mastery tracker (learner/mastery.py) on hand-checked cases."""

import json
import math

import pytest

from learner.mastery import (
    FORGET_MU,
    FORGET_VAR,
    KNOWN_MU,
    KNOWN_VAR,
    LEARN,
    MU0,
    RATE_FLOOR,
    RATE_KEEP,
    RATE_KEY,
    RATE_M0,
    RATE_VAR0,
    SLIP,
    VAR0,
    MasteryTracker,
    Q,
)

DAY = 86400.0


def known(mean: float, var: float, t: float | None = None) -> dict:
    """A stored belief with no attempts yet weighted on the learning rate."""
    return {"mean": mean, "var": var, "t": t, "spaced": 0, "rate_weight": 0.0}


def phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def test_a_concept_never_seen_has_the_prior():
    tr = MasteryTracker()
    # P(theta >= logit(0.8)) under N(-1, 2^2)
    assert tr.mastery("c") == pytest.approx(phi((MU0 - math.log(4.0)) / math.sqrt(VAR0)))
    assert tr.mastery("c") == pytest.approx(0.1164, abs=1e-4)


def test_one_right_answer_is_one_laplace_step_by_hand():
    # with the learning rate known exactly (no spread) the step is the one-dimensional one
    tr = MasteryTracker(state={"c": known(0.0, 1.0)}, rate_var=0.0)
    tr.update("c", True, difficulty=0.0)
    mu, var = 0.0 + LEARN, 1.0 + Q  # practice helps, and adds noise
    s = 1.0 / (1.0 + math.exp(-mu))
    p, dp = (1.0 - SLIP) * s, (1.0 - SLIP) * s * (1.0 - s)  # a knower still slips now and then
    var2 = 1.0 / (1.0 / var + dp * dp / (p * (1.0 - p)))  # Fisher information of one answer
    mu2 = mu + var2 * dp * (1.0 - p) / (p * (1.0 - p))
    assert tr.belief("c")[0] == pytest.approx(mu2) and tr.belief("c")[1] ** 2 == pytest.approx(var2)
    assert (round(mu2, 3), round(var2, 3)) == (0.634, 0.878)


def test_one_answer_updates_the_joint_belief_over_proficiency_and_rate_by_hand():
    tr = MasteryTracker(state={"c": known(0.0, 1.0)})
    tr.update("c", True, difficulty=0.0)
    # before the answer: theta = 0 + LEARN * rate + N(0, 1 + Q), rate ~ N(1, RATE_VAR0)
    m = [LEARN * RATE_M0, RATE_M0]
    cov = [[1.0 + Q + LEARN**2 * RATE_VAR0, LEARN * RATE_VAR0], [LEARN * RATE_VAR0, RATE_VAR0]]
    sg = 1.0 / (1.0 + math.exp(-m[0]))
    p, dp = (1.0 - SLIP) * sg, (1.0 - SLIP) * sg * (1.0 - sg)
    info, score = dp * dp / (p * (1.0 - p)), dp * (1.0 - p) / (p * (1.0 - p))
    # posterior covariance = (cov^-1 + info * e1 e1')^-1, mean = m + posterior_cov e1 * score
    det = cov[0][0] * cov[1][1] - cov[0][1] ** 2
    a, b, d = cov[1][1] / det + info, -cov[0][1] / det, cov[0][0] / det
    det2 = a * d - b * b
    post = [[d / det2, -b / det2], [-b / det2, a / det2]]
    theta_mean, rate_mean = m[0] + post[0][0] * score, m[1] + post[0][1] * score
    assert tr.belief("c")[0] == pytest.approx(theta_mean)
    assert tr.belief("c")[1] ** 2 == pytest.approx(post[0][0])
    assert tr.rate()[0] == pytest.approx(rate_mean) and tr.rate()[1] ** 2 == pytest.approx(post[1][1])
    assert tr.rate()[0] > RATE_M0  # a right answer beyond the prediction says: learns fast
    # the concept is stored given the rate: theta = alpha + beta * rate + N(0, v)
    belief = tr.s["c"]
    alpha, v, beta = belief["mean"], belief["var"], belief["rate_weight"]
    assert beta == pytest.approx(post[0][1] / post[1][1])
    assert v == pytest.approx(post[0][0] - post[0][1] ** 2 / post[1][1])
    assert alpha + beta * rate_mean == pytest.approx(theta_mean)


def test_the_learning_rate_carries_over_to_other_concepts():
    fast, slow = MasteryTracker(), MasteryTracker()
    for k in range(12):  # the same items, rising in difficulty; one learner keeps up, one doesn't
        fast.update("a", True, difficulty=-1.0 + 0.3 * k)
        slow.update("a", k < 3, difficulty=-1.0 + 0.3 * k)
    assert fast.rate()[0] > RATE_M0 > slow.rate()[0]
    assert fast.rate()[1] < math.sqrt(RATE_VAR0)
    # a new concept: no attempts yet, so the rate doesn't matter ...
    assert fast.predict("b", 0.0) == pytest.approx(slow.predict("b", 0.0), abs=0.03)
    # ... and after the same answers on it, the fast learner is expected further along
    for tr in (fast, slow):
        for ok in (False, True, False, True):
            tr.update("b", ok, difficulty=0.0)
    assert fast.belief("b")[0] > slow.belief("b")[0]
    # what the rate learns moves a concept practised earlier (it is kept given the rate)
    before = fast.belief("a")
    stored = dict(fast.s["a"])
    fast.update("b", True, difficulty=3.0)
    assert fast.s["a"] == stored  # O(1): "a" is not touched
    assert fast.belief("a") != before


def test_the_rates_weight_on_a_concept_stays_bounded():
    # right answers on items far too easy to say much: the old linear model let the concept's
    # dependence on the rate grow with every attempt, and its uncertainty with the square
    tr = MasteryTracker()
    for _ in range(300):
        tr.update("c", True, difficulty=-4.0)
    assert tr.s["c"]["rate_weight"] <= LEARN / (1.0 - RATE_KEEP) + 1e-9
    assert tr.belief("c")[1] < 2.5
    # settling older gains keeps the belief as it is
    before = tr.belief("c")
    alpha, v, beta = tr.s["c"]["mean"], tr.s["c"]["var"], tr.s["c"]["rate_weight"]
    rm, rv = tr.s[RATE_KEY]["mean"], tr.s[RATE_KEY]["var"]
    settled = [alpha + (1 - RATE_KEEP) * beta * rm, v + (1 - RATE_KEEP**2) * beta**2 * rv, RATE_KEEP * beta]
    assert settled[0] + settled[2] * rm == pytest.approx(before[0])
    assert settled[1] + settled[2] ** 2 * rv == pytest.approx(before[1] ** 2)


def test_a_slip_after_a_run_of_right_answers_is_not_a_collapse():
    slipped, kept_on = MasteryTracker(), MasteryTracker()
    for tr in (slipped, kept_on):
        for _ in range(30):
            tr.update("c", True, difficulty=0.0)
    high = slipped.belief("c")[0]
    slipped.update("c", False, difficulty=0.0)
    kept_on.update("c", True, difficulty=0.0)
    assert high - 1.0 < slipped.belief("c")[0] < kept_on.belief("c")[0]
    tr = slipped
    assert tr.predict("c", -10.0) == pytest.approx(1.0 - SLIP, abs=1e-3)  # even the easiest item


def test_failures_slow_the_expected_gain_but_never_reverse_it():
    tr = MasteryTracker()
    for k in range(200):
        tr.update(f"c{k // 20}", False, difficulty=-2.0)
    assert tr.rate()[0] == pytest.approx(RATE_FLOOR)
    # the concept's own belief is consistent with the floored rate
    belief = tr.s["c9"]
    assert tr.belief("c9")[0] == pytest.approx(belief["mean"] + belief["rate_weight"] * RATE_FLOOR)


def test_graph_evidence_leaves_the_rate_alone():
    tr = MasteryTracker()
    tr.update("a", True)
    rate = dict(tr.s[RATE_KEY])
    mean = tr.belief("a")[0]
    tr.evidence("a", 0.8)
    assert tr.s[RATE_KEY] == rate and tr.belief("a")[0] > mean


def test_right_answers_raise_and_wrong_ones_lower_mastery():
    up, down = MasteryTracker(), MasteryTracker()
    for _ in range(3):
        up.update("c", True, difficulty=0.5)
        down.update("c", False, difficulty=0.5)
    assert up.mastery("c") > 0.3 > MasteryTracker().mastery("c") > down.mastery("c")
    # a right answer on a hard item says more than one on an easy item
    hard, easy = MasteryTracker(), MasteryTracker()
    hard.update("c", True, difficulty=2.0)
    easy.update("c", True, difficulty=-2.0)
    assert hard.belief("c")[0] > easy.belief("c")[0]


def test_a_lucky_guess_counts_less():
    plain, mc = MasteryTracker(), MasteryTracker()
    plain.update("c", True)
    mc.update("c", True, guess=0.25)
    assert plain.belief("c")[0] > mc.belief("c")[0] > MU0


def test_forgetting_is_log_shaped_and_slowed_by_spaced_responses():
    tr = MasteryTracker(state={"c": known(3.0, 0.5, t=0.0)})
    week = 7 * DAY
    m_week = tr.mastery("c", t=week)
    # mu drops by FORGET_MU * log(1 + 7) and the variance grows by FORGET_VAR * log(8)
    expected = phi(
        (3.0 - FORGET_MU * math.log(8.0) - math.log(4.0)) / math.sqrt(0.5 + FORGET_VAR * math.log(8.0))
    )
    assert m_week == pytest.approx(expected)
    assert tr.mastery("c", t=0.0) > m_week > tr.mastery("c", t=8 * week)
    # a response a day or more after the previous one is spaced: the next gap forgets half as much
    spaced = MasteryTracker(state={"c": known(3.0, 0.5, t=0.0)})
    spaced.update("c", True, t=2 * DAY)
    assert spaced.s["c"]["spaced"] == 1
    massed = MasteryTracker(state={"c": known(3.0, 0.5, t=0.0)})
    massed.update("c", True, t=600.0)
    assert massed.s["c"]["spaced"] == 0
    for tr_ in (spaced, massed):
        tr_.s["c"].update(mean=3.0, var=0.5, rate_weight=0.0)
    last_s, last_m = spaced.s["c"]["t"], massed.s["c"]["t"]
    assert spaced.mastery("c", t=last_s + week) > massed.mastery("c", t=last_m + week)
    f = math.log(8.0)
    assert spaced._forgetting(spaced.s["c"], last_s + week) == pytest.approx(
        (FORGET_MU * f / 2, FORGET_VAR * f / 2)
    )
    assert massed._forgetting(massed.s["c"], last_m + week) == pytest.approx((FORGET_MU * f, FORGET_VAR * f))


def test_an_answer_forgets_as_much_as_the_prediction_before_it_did():
    tr = MasteryTracker(state={"c": known(3.0, 0.3, t=0.0)}, rate_var=0.0)
    week = 7 * DAY
    predicted_mean = tr.belief("c", t=week)[0]
    assert predicted_mean == pytest.approx(3.0 - FORGET_MU * math.log(8.0))
    aged = MasteryTracker(state={"c": known(3.0, 0.3, t=0.0)}, rate_var=0.0)
    aged._age(aged.s["c"], week)
    assert aged.s["c"]["mean"] == pytest.approx(predicted_mean)
    # update() ages first, then counts the spaced retrieval (the simulated learners do the same)
    tr.update("c", True, t=week)
    assert tr.s["c"]["spaced"] == 1
    aged.update("c", True, t=week)  # already aged to this moment: the same answer, same belief
    fields = ("mean", "var", "rate_weight")
    assert [tr.s["c"][k] for k in fields] == pytest.approx([aged.s["c"][k] for k in fields])
    # a never-seen concept: predict() starts where update() does
    fresh = MasteryTracker(rate_var=0.0)
    p = fresh.predict("n", 0.0)
    fresh.update("n", True)
    s = 1.0 / (1.0 + math.exp(-(MU0 + LEARN) / math.sqrt(1.0 + math.pi * (VAR0 + Q) / 8.0)))
    assert p == pytest.approx((1.0 - SLIP) * s)


def test_evidence_moves_the_belief_but_not_the_forgetting_clock():
    tr = MasteryTracker(state={"c": known(1.0, 1.0, t=0.0)})
    tr.evidence("c", 0.5, t=3 * DAY)
    assert tr.s["c"]["mean"] > 1.0 and tr.s["c"]["var"] < 1.0
    assert tr.s["c"]["t"] == 0.0  # still forgets from the last response
    tr.evidence("c", -0.5, t=3 * DAY)
    tr.evidence("c", 0.0, t=3 * DAY)  # no evidence, no change
    assert tr.s["c"]["t"] == 0.0


def test_placement_prior_is_the_moment_matched_mixture():
    tr = MasteryTracker()
    tr.set_prior("c", 0.7, t=5.0)
    belief = tr.s["c"]
    mu, var, t, spaced, beta = (belief[k] for k in ("mean", "var", "t", "spaced", "rate_weight"))
    assert mu == pytest.approx(0.7 * KNOWN_MU + 0.3 * MU0)
    assert var == pytest.approx(0.7 * KNOWN_VAR + 0.3 * VAR0 + 0.7 * 0.3 * (KNOWN_MU - MU0) ** 2)
    assert (t, spaced, beta) == (5.0, 0, 0.0)  # what placement found doesn't depend on the rate
    tr.set_prior("k", 1.0)
    assert tr.mastery("k") > 0.95


def test_predict_includes_the_next_attempts_gain_and_the_belief_spread():
    tr = MasteryTracker(state={"c": known(1.0, 0.0001)})
    assert tr.predict("c", 1.0 + LEARN) == pytest.approx(0.5 * (1.0 - SLIP), abs=0.01)
    wide = MasteryTracker(state={"c": known(3.0, 4.0)})
    narrow = MasteryTracker(state={"c": known(3.0, 0.01)})
    assert 0.5 < wide.predict("c", 0.0) < narrow.predict("c", 0.0)  # uncertainty pulls towards 0.5
    assert MasteryTracker().predict("c", 0.0, guess=0.25) > MasteryTracker().predict("c", 0.0)


def test_state_is_json_updated_in_the_callers_dict():
    stored = {"c": known(2.0, 0.5, t=100.0)}
    tr = MasteryTracker(state=stored)
    before = tr.mastery("c", t=100.0 + DAY)
    tr.update("c", True, t=100.0 + 2 * DAY)
    assert stored["c"]["spaced"] == 1 and stored["c"]["t"] == 100.0 + 2 * DAY
    assert RATE_KEY in stored
    assert 0.0 < before < 1.0
    assert json.loads(json.dumps(stored)) == stored


def test_hints_make_the_item_count_as_easier():
    from learner.mastery import HINT_LOGIT, hint_relief

    assert [round(hint_relief(h), 3) for h in range(4)] == [0.0, 0.8, 1.2, 1.4]
    assert hint_relief(1) == pytest.approx(HINT_LOGIT)
    # a right answer after two hints is a right answer on an item 1.2 logits easier
    hinted, easier = MasteryTracker(), MasteryTracker()
    hinted.update("c", True, difficulty=1.0, hints=2)
    easier.update("c", True, difficulty=1.0 - 1.2)
    assert hinted.belief("c") == pytest.approx(easier.belief("c"))
    # so it says less than an unaided one, and a wrong answer despite the hints says more
    unaided = MasteryTracker()
    unaided.update("c", True, difficulty=1.0)
    assert unaided.belief("c")[0] > hinted.belief("c")[0]
    wrong_hinted, wrong_unaided = MasteryTracker(), MasteryTracker()
    wrong_hinted.update("c", False, difficulty=1.0, hints=1)
    wrong_unaided.update("c", False, difficulty=1.0)
    assert wrong_hinted.belief("c")[0] < wrong_unaided.belief("c")[0]
    # predicted success with hints shown is the prediction on the relieved item
    assert unaided.predict("c", 1.0, hints=1) == pytest.approx(unaided.predict("c", 0.2))
    assert unaided.predict("c", 1.0, hints=1) > unaided.predict("c", 1.0)


def test_in_band_is_the_probability_of_the_true_success_under_the_belief_by_hand():
    # no rate spread: the next answer's logit is N(mu + LEARN, v + Q)
    tr = MasteryTracker(state={"c": known(1.0, 0.5)}, rate_var=0.0)
    mu, sd = 1.0 + LEARN, math.sqrt(0.5 + Q)

    def logit(p):
        x = p / (1.0 - SLIP)  # no guessing: the true success is (1 - SLIP) * sigmoid(logit)
        return math.log(x / (1.0 - x))

    want = phi((logit(0.9) - mu) / sd) - phi((logit(0.6) - mu) / sd)
    assert tr.in_band("c", 0.0, (0.6, 0.9)) == pytest.approx(want)
    assert round(want, 3) == 0.793  # logits 0.484 .. 2.557 around 1.25, sd 0.775
    # a band the learner cannot reach (a knower still slips) has probability 0
    assert tr.in_band("c", -10.0, (0.99, 1.0)) == 0.0
    # with guessing, true success never falls below the guess rate
    assert tr.in_band("c", 10.0, (0.0, 0.25), guess=0.25) == 0.0
    assert tr.in_band("c", 10.0, (0.0, 0.3), guess=0.25) > 0.9


def test_in_band_prefers_a_harder_item_than_the_expected_success_suggests():
    # an uncertain belief pulls the expected success towards 1/2: the item whose *expected*
    # success is closest to the band's middle in logits (0.79) is one the learner most likely
    # answers right more often than 0.9; the true success is likeliest in the band on a harder one
    tr = MasteryTracker(state={"c": known(2.0, 2.0)}, rate_var=0.0)
    ds = [x / 10.0 for x in range(-20, 41)]
    by_expected = min(ds, key=lambda d: abs(tr.predict("c", d) - 0.79))
    by_band = max(ds, key=lambda d: tr.in_band("c", d, (0.6, 0.9)))
    assert by_band > by_expected + 0.3
    assert tr.in_band("c", by_band, (0.6, 0.9)) > tr.in_band("c", by_expected, (0.6, 0.9))
