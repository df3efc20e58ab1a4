"""Running simulated learners: through the real placement + policy + estimator, through the
two baselines, and through the logging policy that produces the estimator's training data.
"""

from __future__ import annotations

import functools
import random
import time

import numpy as np

from learner.course_graph import CourseGraph
from learner.placement import Placement
from learner.response_log import Response
from tutor.policy import decide_next

from .learners import DAY, SimLearner
from .view import NoisyBeliefView, PerfectInformationView, SimView

BAND = (0.6, 0.9)


def true_difficulties(graph: CourseGraph, seed: int) -> dict[str, float]:
    """The population's true item difficulties: the authored ones plus a per-concept offset
    (sd 0.4) and per-item noise (sd 0.3): authors are close, not exact."""
    rng = random.Random(seed)
    out = {}
    for c in graph.order:
        off = rng.gauss(0.0, 0.4)
        for it in graph.items.get(c, ()):
            out[it.id] = it.difficulty + off + rng.gauss(0.0, 0.3)
    return out


def spread_difficulties(graph: CourseGraph, factor: float) -> CourseGraph:
    """The ramp with every item's distance to its concept's typical question (the median of its
    difficulties) multiplied by ``factor``: what authoring easier and harder questions would do
    (the simulated learners' true difficulties follow the authored ones)."""
    ref = graph.reference_difficulty
    return graph.with_difficulties(
        {it.id: ref[c] + factor * (it.difficulty - ref[c]) for c, its in graph.items.items() for it in its}
    )


def make_learner(graph: CourseGraph, seed: int, true_d: dict[str, float], cls=SimLearner) -> SimLearner:
    s = cls(graph, seed)
    s.true_item_difficulty = true_d
    return s


# ---- the estimator's training data ------------------------------------------------------------


def training_log(
    graph: CourseGraph, *, learners: int, seed: int, true_d: dict[str, float], max_responses: int = 400
) -> list[list[Response]]:
    """Logs of a separate population (seeds disjoint from the benchmark's) studied by a
    simple logging policy: the ramp's order from a random starting concept (so every part of
    the ramp is covered, with and without its prerequisites), items drawn at random within
    the concept, next concept after 2-8 right in a row (drawn per concept, so the log holds
    long runs past mastery as well as early exits) or 15 attempts, and now and then a short
    review of an earlier concept."""
    out = []
    n = len(graph.order)
    for k in range(learners):
        rng = random.Random(f"train:{seed}:{k}")
        sim = make_learner(graph, 10_000_000 + seed * 10_000 + k, true_d)
        i = rng.randrange(n) if rng.random() < 0.7 else 0
        seq: list[Response] = []
        ask = functools.partial(_logged_answer, rng, sim, seq, f"u{k}")
        while len(seq) < max_responses and i < n:
            c = graph.order[i]
            items = graph.items.get(c, ())
            i += 1
            if not items:
                continue
            sim.read_material(c)
            need = rng.randint(2, 8)
            run = tries = 0
            while run < need and tries < 15 and len(seq) < max_responses:
                run = run + 1 if ask(c, items) else 0
                tries += 1
            if i > 1 and rng.random() < 0.3:  # a short review of an earlier concept
                c2 = graph.order[rng.randrange(i - 1)]
                if graph.items.get(c2):
                    for _ in range(rng.randint(1, 3)):
                        ask(c2, graph.items[c2])
        out.append(seq)
    return out


def _logged_answer(rng, sim, seq: list[Response], user: str, concept: str, items) -> bool:
    """The simulated learner answers a random item of ``concept``; the answer joins ``seq``."""
    item = rng.choice(items)
    t = sim.t
    ok, _m, _p = sim.answer(item)
    seq.append(Response(user, concept, int(ok), t, item.id, 0))
    return ok


def fit_estimator(
    graph: CourseGraph,
    *,
    learners: int,
    seed: int,
    true_d: dict[str, float],
    max_responses: int = 400,
    transfer: bool = False,
    max_iter: int = 100,
    prior_sd: float = 0.8,
):
    from benchmarks.kt.ramp import RampKT

    t0 = time.perf_counter()
    log = training_log(graph, learners=learners, seed=seed, true_d=true_d, max_responses=max_responses)
    t1 = time.perf_counter()
    est = RampKT(transfer=transfer, max_iter=max_iter, prior_sd=prior_sd).fit(log)
    t2 = time.perf_counter()
    return (
        est,
        {
            "train_learners": learners,
            "train_responses": sum(len(s) for s in log),
            "simulate_s": round(t1 - t0, 2),
            "fit_s": round(t2 - t1, 2),
            "transfer": transfer,
            "prior_sd": prior_sd,
            "max_iter": max_iter,
        },
        log,
    )


ITEM_DIFFICULTIES = ("authored", "calibrated", "estimator")


def policy_graph(graph: CourseGraph, *, item_difficulties: str, estimator, training_log) -> CourseGraph:
    """The ramp as the study loop would see it: with the authored item difficulties, with
    difficulties calibrated from the training population's log as the calibration task does
    (``learner.item_calibration``), or with the estimator's own item offsets (what the
    calibration task wrote until 2026-12-05)."""
    if item_difficulties == "authored":
        return graph
    if item_difficulties == "calibrated":
        from learner.item_calibration import calibrate_item_difficulties

        items = {it.id: it for its in graph.items.values() for it in its}
        return graph.with_difficulties(calibrate_item_difficulties(sequences=training_log, items=items))
    if item_difficulties == "estimator":
        return graph.with_difficulties(dict(estimator.item_difficulty))
    raise ValueError(
        f"item difficulties are one of {', '.join(ITEM_DIFFICULTIES)}, not {item_difficulties!r}"
    )


# ---- placement -----------------------------------------------------------------------------------


def run_placement(
    graph: CourseGraph,
    sim: SimLearner,
    *,
    seed: int,
    checkpoints=(4, 8, 12, 16, 20),
    confidence: float = 0.9,
    cap: int = 12,
):
    """Placement with the default settings (``cap`` questions), continued to the last
    checkpoint for the accuracy curve. Returns (placement stopped at the default cap or
    earlier, accuracy per checkpoint, questions asked by the default placement, the
    default placement's observations with true p)."""
    truth = sim.mastered()
    p = Placement(graph, confidence=confidence, max_questions=max(checkpoints), seed=seed)
    curve = {}
    at_cap = None
    asked = 0
    obs = []

    def acc():
        m = p.marginals()
        return float(np.mean([(m[c] >= 0.5) == bool(truth[i]) for i, c in enumerate(graph.order)]))

    while True:
        stop_default = asked >= cap or _confident(p, confidence)
        if stop_default and at_cap is None:
            at_cap = (p.marginals(), asked, acc(), list(obs))
        if asked in checkpoints:
            curve[asked] = acc()
        q = p.next_question()
        if q is None or asked >= max(checkpoints):
            break
        c, iid = q
        item = graph.item_by_id[iid]
        out, pt = sim.placement_answer(item)
        p.observe(c, iid, out)
        obs.append((item, out))
        asked += 1
    final = acc()
    for k in checkpoints:
        curve.setdefault(k, final)
    if at_cap is None:
        at_cap = (p.marginals(), asked, final, list(obs))
    return at_cap, curve


def _confident(p: Placement, conf: float) -> bool:
    m = np.asarray(list(p.marginals().values()))
    return bool(np.all((m >= conf) | (m <= 1 - conf)))


# ---- study loops -----------------------------------------------------------------------------


def run_policy(
    graph: CourseGraph,
    sim: SimLearner,
    est,
    *,
    placement_result,
    cap_items: int,
    latencies: list | None = None,
    mastery: str = "tracker",
    predict: str = "tracker",
    perfect_information: bool = False,
    belief_sd: float | None = None,
    ideal_observer: str | None = None,
) -> dict:
    """Placement result -> estimator state -> decide_next / answer / record until the
    learner truly masters every concept (or ``cap_items``). ``perfect_information``: the
    policy sees the learner's true success probabilities and mastery (the ceiling; pass a
    placement result with no questions). ``belief_sd``: items are chosen from a calibrated
    belief with that error instead of the tracker's (diagnostic; :class:`NoisyBeliefView`).
    ``ideal_observer``: items (and with "items-and-gate" mastery) come from the ideal observer
    (diagnostic; ``sim`` must be a :class:`~.ideal.ObservedLearner`)."""
    marginals, n_placement, _acc, obs = placement_result
    if perfect_information:
        view = PerfectInformationView(graph, est, sim=sim, now=sim.t)
    elif ideal_observer is not None:
        from .ideal import IdealObserverView

        view = IdealObserverView(graph, est, sim=sim, now=sim.t, mode=ideal_observer)
    elif belief_sd is not None:
        view = NoisyBeliefView(graph, est, sim=sim, now=sim.t, sd=belief_sd, seed=repr(sim.rate))
    else:
        view = SimView(graph, est, now=sim.t, mastery=mastery, predict=predict)
    for item, out in obs:  # placement answers are real responses too
        view.now = sim.t
        view.record(item, out == "correct", study=False)
    view.apply_placement(marginals)
    kinds: dict[str, int] = {}
    band = {"practice": [0, 0], "all": [0, 0]}
    supported = 0  # practice served with hints shown up front
    items = 0
    idle_days = 0
    t_start = sim.t
    while items < cap_items and not sim.all_mastered():
        view.now = sim.t
        t0 = time.perf_counter()
        d = decide_next(graph=graph, learner=view)
        if latencies is not None:
            latencies.append(time.perf_counter() - t0)
        if d.kind == "done":
            # the estimator believes everything is mastered but it isn't yet: come back
            # tomorrow (reviews fall due); give up after 60 idle days
            idle_days += 1
            if idle_days > 60:
                break
            sim.t = sim.session_start = sim.session_start + DAY
            continue
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
        item = graph.item_by_id[d.item_id]
        # the material is shown with a concept's first question ("new"; also if the
        # policy went straight to practice, e.g. after placement)
        sim.read_material(d.concept)
        ok, matched, p = sim.answer(item, probing=d.kind == "probe", hints=d.hints)
        inb = BAND[0] <= p <= BAND[1]
        band["all"][0] += inb
        band["all"][1] += 1
        if d.kind == "practice":
            band["practice"][0] += inb
            band["practice"][1] += 1
            supported += d.hints > 0
        view.now = sim.t
        view.record(item, ok, hints=d.hints, misconception=matched, served_probe=d.kind == "probe")
        items += 1
    return {
        "items": items + n_placement,
        "placement_questions": n_placement,
        "mastered": sim.all_mastered(),
        "cover_items": None if sim.cover_at is None else sim.cover_at + n_placement,
        "per_concept": sim.per_concept_items(),
        "days": (sim.t - t_start) / DAY,
        "kinds": kinds,
        "band": band,
        "supported": supported,
    }


def run_fixed_order(graph: CourseGraph, sim: SimLearner, *, cap_items: int, run_length: int = 3) -> dict:
    """Baseline: the ramp's order, each concept's items in authoring order (cycling), next
    concept after ``run_length`` right in a row; passes over the ramp repeat until the
    learner truly masters everything (or ``cap_items``)."""
    items = 0
    t_start = sim.t
    band = [0, 0]
    while items < cap_items and not sim.all_mastered():
        for c in graph.order:
            its = graph.items.get(c, ())
            if not its:
                continue
            sim.read_material(c)
            run = k = 0
            while run < run_length and items < cap_items:
                ok, _m, p = sim.answer(its[k % len(its)])
                band[0] += BAND[0] <= p <= BAND[1]
                band[1] += 1
                k += 1
                items += 1
                run = run + 1 if ok else 0
                if sim.all_mastered():
                    break
            if items >= cap_items or sim.all_mastered():
                break
    return {
        "items": items,
        "mastered": sim.all_mastered(),
        "cover_items": sim.cover_at,
        "per_concept": sim.per_concept_items(),
        "days": (sim.t - t_start) / DAY,
        "band": {"all": band},
    }


def run_random_order(graph: CourseGraph, sim: SimLearner, *, cap_items: int, seed: int) -> dict:
    """Baseline: a random concept and a random item of it at every step."""
    rng = random.Random(f"random-order:{seed}")
    conc = [c for c in graph.order if graph.items.get(c)]
    items = 0
    t_start = sim.t
    band = [0, 0]
    while items < cap_items and not sim.all_mastered():
        c = rng.choice(conc)
        sim.read_material(c)
        ok, _m, p = sim.answer(rng.choice(graph.items[c]))
        band[0] += BAND[0] <= p <= BAND[1]
        band[1] += 1
        items += 1
    return {
        "items": items,
        "mastered": sim.all_mastered(),
        "cover_items": sim.cover_at,
        "per_concept": sim.per_concept_items(),
        "days": (sim.t - t_start) / DAY,
        "band": {"all": band},
    }
