"""The placement + policy benchmark on simulated learners (plain Python, no Django).

:func:`run_benchmark` fits the estimator on a separate training population, then for each
benchmark learner runs placement (accuracy curve), the policy study loop (items and time
to true mastery of the whole ramp, share of practice in the 0.6-0.9 true-success band), and
the same learner (same seed, so the same initial knowledge) through the two baselines; it
also measures the latency of the hot path. :func:`format_report` prints a human table and
the one-line JSON summary (last).
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import UTC, datetime

import numpy as np

from learner.course_graph import CourseGraph
from tutor.policy import decide_next

from .runners import (
    BAND,
    fit_estimator,
    make_learner,
    policy_graph,
    run_fixed_order,
    run_placement,
    run_policy,
    run_random_order,
    true_difficulties,
)
from .view import SimView

CHECKPOINTS = (4, 8, 12, 16, 20)
TARGETS = {
    "placement_accuracy_at_12": 0.90,
    "practice_in_band": 0.80,
    "fewer_items_than_fixed": 0.30,
    "latency_p50_ms": 10.0,
    "latency_p99_ms": 30.0,
}


def _pct(xs, q):
    return float(np.percentile(np.asarray(xs, dtype=float), q)) if xs else float("nan")


def measure_latency(
    graph: CourseGraph,
    est,
    *,
    history: int = 10_000,
    steps: int = 400,
    seed: int = 0,
    mastery: str = "tracker",
    predict: str = "tracker",
) -> dict:
    """p50/p99 of one step of the hot path - grade (the simulated answer), estimator
    update + graph evidence + P(mastered) refresh + FSRS card (``SimView.record``), then
    ``decide_next`` - for a learner who already has ``history`` responses on ``graph``."""
    true_d = true_difficulties(graph, seed)
    sim = make_learner(graph, 777_000 + seed, true_d)
    view = SimView(graph, est, now=sim.t, mastery=mastery, predict=predict)
    rng = random.Random(seed)
    order = [c for c in graph.order if graph.items.get(c)]
    # the history: a walk through the ramp with reviews, absorbed by the estimator
    k = 0
    for _ in range(history):
        if k > 0 and rng.random() < 0.2:
            c = order[rng.randrange(k)]
        else:
            c = order[k]
            if k < len(order) - 1 and rng.random() < 0.12:
                k += 1
        item = rng.choice(graph.items[c])
        ok, matched, _p = sim.answer(item)
        view.now = sim.t
        view.record(item, ok)
    times = []
    decide_times = []
    for _ in range(steps):
        view.now = sim.t
        t0 = time.perf_counter()
        d = decide_next(graph=graph, learner=view)
        t1 = time.perf_counter()
        if d.kind == "done" or d.item_id is None:
            item = rng.choice(graph.items[rng.choice(order)])
        else:
            item = graph.item_by_id[d.item_id]
        ok, matched, _p = sim.answer(item, probing=d.kind == "probe")
        view.now = sim.t
        t2 = time.perf_counter()
        view.record(item, ok, misconception=matched, served_probe=d.kind == "probe")
        t3 = time.perf_counter()
        times.append((t1 - t0) + (t3 - t2))
        decide_times.append(t1 - t0)
    return {
        "concepts": len(graph.order),
        "history": history,
        "steps": steps,
        "p50_ms": round(1000 * _pct(times, 50), 3),
        "p99_ms": round(1000 * _pct(times, 99), 3),
        "decide_p50_ms": round(1000 * _pct(decide_times, 50), 3),
        "decide_p99_ms": round(1000 * _pct(decide_times, 99), 3),
    }


def run_benchmark(
    graph: CourseGraph,
    *,
    source: str,
    learners: int,
    seed: int = 0,
    train_learners: int = 150,
    cap_factor: int = 100,
    latency_graph: CourseGraph | None = None,
    latency_history: int = 10_000,
    latency_steps: int = 400,
    mastery: str = "tracker",
    predict: str = "tracker",
    fit_max_iter: int = 100,
    item_difficulties: str = "authored",
    belief_sd: float | None = None,
    ideal_observer: str | None = None,
    observer_learns: frozenset[str] = frozenset(),
    log=None,
) -> dict:
    """Everything the report needs, as one JSON-serialisable dict."""
    import torch

    torch.set_num_threads(1)
    log = log or (lambda msg: None)
    t_all = time.perf_counter()
    true_d = true_difficulties(graph, seed)
    n = len(graph.order)
    log(f"fitting the estimator on {train_learners} simulated training learners ...")
    est, train, train_log = fit_estimator(
        graph, learners=train_learners, seed=seed + 1, true_d=true_d, max_iter=fit_max_iter
    )
    log(
        f"  {train['train_responses']} responses, simulated in {train['simulate_s']} s, "
        f"fitted in {train['fit_s']} s"
    )
    # the learners live on the authored ramp (their truth); the tutor sees the ramp's items with
    # the difficulties it would have in the study loop
    seen = policy_graph(graph, item_difficulties=item_difficulties, estimator=est, training_log=train_log)
    cap = cap_factor * n
    if ideal_observer is not None:
        from functools import partial

        from .ideal import ObservedLearner, start_kind_frequencies

        start_prior = start_kind_frequencies(graph, seed=seed) if "start" in observer_learns else None
        observer = partial(
            ObservedLearner,
            learns=observer_learns,
            start_prior=start_prior,
            seen_difficulty={it.id: it.difficulty for its in seen.items.values() for it in its},
        )
    curves = {k: [] for k in CHECKPOINTS}
    p_default_acc, p_default_q = [], []
    pol, fix, rnd, ceil = [], [], [], []
    band_ceiling = [0, 0]
    kinds: dict[str, int] = {}
    band_practice = [0, 0]
    band_all = [0, 0]
    supported = [0, 0]  # practice served with hints up front: policy, perfect information
    decide_lat: list[float] = []
    for k in range(learners):
        lseed = seed * 100_000 + k
        if ideal_observer is not None:
            sim = make_learner(graph, lseed, true_d, cls=observer)
        else:
            sim = make_learner(graph, lseed, true_d)
        known0 = int(sim.mastered().sum())
        res_p, curve = run_placement(seen, sim, seed=lseed, checkpoints=CHECKPOINTS)
        for q, a in curve.items():
            curves[q].append(a)
        p_default_acc.append(res_p[2])
        p_default_q.append(res_p[1])
        r = run_policy(
            seen,
            sim,
            est,
            placement_result=res_p,
            cap_items=cap,
            latencies=decide_lat,
            mastery=mastery,
            predict=predict,
            belief_sd=belief_sd,
            ideal_observer=ideal_observer,
        )
        pol.append(r)
        for kk, v in r["kinds"].items():
            kinds[kk] = kinds.get(kk, 0) + v
        band_practice[0] += r["band"]["practice"][0]
        band_practice[1] += r["band"]["practice"][1]
        band_all[0] += r["band"]["all"][0]
        band_all[1] += r["band"]["all"][1]
        # the same learner again, studied by the same policy with perfect information
        sim_c = make_learner(graph, lseed, true_d)
        truth = {c: float(m) for c, m in zip(graph.order, sim_c.mastered())}
        rc = run_policy(
            graph, sim_c, est, placement_result=(truth, 0, 1.0, []), cap_items=cap, perfect_information=True
        )
        ceil.append(rc)
        band_ceiling[0] += rc["band"]["practice"][0]
        band_ceiling[1] += rc["band"]["practice"][1]
        supported[0] += r["supported"]
        supported[1] += rc["supported"]
        fix.append(run_fixed_order(graph, make_learner(graph, lseed, true_d), cap_items=cap))
        rnd.append(run_random_order(graph, make_learner(graph, lseed, true_d), cap_items=cap, seed=lseed))
        log(
            f"  learner {k + 1}/{learners}: knew {known0}/{n}; placement {res_p[1]} q, "
            f"acc {res_p[2]:.2f}; items to mastery: policy {r['items']}{'' if r['mastered'] else ' (cap)'}, "
            f"fixed {fix[-1]['items']}{'' if fix[-1]['mastered'] else ' (cap)'}, "
            f"random {rnd[-1]['items']}{'' if rnd[-1]['mastered'] else ' (cap)'}"
        )

    def summ(rs):
        items = [x["items"] for x in rs]
        cover = [x["cover_items"] if x["cover_items"] is not None else cap for x in rs]
        pc = [v for x in rs for v in x["per_concept"][0]]
        return {
            "items_mean": round(statistics.fmean(items), 1),
            "items_median": float(statistics.median(items)),
            "reached": round(sum(x["mastered"] for x in rs) / len(rs), 3),
            "days_mean": round(statistics.fmean(x["days"] for x in rs), 1),
            "each_once_items_mean": round(statistics.fmean(cover), 1),
            "each_once_reached": round(sum(x["cover_items"] is not None for x in rs) / len(rs), 3),
            "per_concept_items_mean": round(statistics.fmean(pc), 2) if pc else None,
            "per_concept_reached": round(1.0 - sum(x["per_concept"][1] for x in rs) / len(pc), 3)
            if pc
            else None,
        }

    mres = {
        "policy": summ(pol),
        "fixed_order_3_in_a_row": summ(fix),
        "random_order": summ(rnd),
        "perfect_information": summ(ceil),
        "cap_items": cap,
    }
    fewer = 1.0 - mres["policy"]["items_mean"] / mres["fixed_order_3_in_a_row"]["items_mean"]
    mres["fewer_items_than_fixed"] = round(fewer, 3)
    mres["perfect_information_fewer_items_than_fixed"] = round(
        1.0 - mres["perfect_information"]["items_mean"] / mres["fixed_order_3_in_a_row"]["items_mean"], 3
    )
    mres["fewer_items_than_random"] = round(
        1.0 - mres["policy"]["items_mean"] / mres["random_order"]["items_mean"], 3
    )
    mres["each_once_fewer_items_than_fixed"] = round(
        1.0 - mres["policy"]["each_once_items_mean"] / mres["fixed_order_3_in_a_row"]["each_once_items_mean"],
        3,
    )
    pp, pf = (
        mres["policy"]["per_concept_items_mean"],
        mres["fixed_order_3_in_a_row"]["per_concept_items_mean"],
    )
    mres["per_concept_fewer_items_than_fixed"] = round(1.0 - pp / pf, 3) if pp and pf else None
    log("measuring latency ...")
    if latency_graph is None:
        latency_graph, lat_est = graph, est
        lat_fit = None
    elif latency_graph is graph:
        lat_est, lat_fit = est, None
    else:
        ltd = true_difficulties(latency_graph, seed)
        lat_est, lat_fit, _ = fit_estimator(
            latency_graph, learners=60, seed=seed + 2, true_d=ltd, max_iter=fit_max_iter
        )
    latency = measure_latency(
        latency_graph,
        lat_est,
        history=latency_history,
        steps=latency_steps,
        seed=seed,
        mastery=mastery,
        predict=predict,
    )
    if lat_fit is not None:
        latency["estimator"] = lat_fit
    latency["decide_in_study_loop_p50_ms"] = round(1000 * _pct(decide_lat, 50), 3)
    latency["decide_in_study_loop_p99_ms"] = round(1000 * _pct(decide_lat, 99), 3)
    placement = {
        "accuracy_at": {str(q): round(statistics.fmean(v), 4) for q, v in curves.items()},
        "default_accuracy": round(statistics.fmean(p_default_acc), 4),
        "default_questions_mean": round(statistics.fmean(p_default_q), 2),
        "default_settings": {"confidence": 0.9, "max_questions": 12},
    }
    practice_band = round(band_practice[0] / band_practice[1], 4) if band_practice[1] else None
    summary = {
        "benchmark": "placement_policy",
        "date": datetime.now(UTC).date().isoformat(),
        "ramp": {
            "source": source,
            "concepts": n,
            "items": sum(len(v) for v in graph.items.values()),
            "edges": sum(len(graph.prereq_idx[i]) for i in range(n)),
        },
        "seed": seed,
        "learners": learners,
        "estimator": {"kind": "RampKT", **train},
        "view": {
            "mastery": mastery,
            "predict": predict,
            "item_difficulties": item_difficulties,
            **({"belief_sd": belief_sd} if belief_sd is not None else {}),
            **({"ideal_observer": ideal_observer} if ideal_observer is not None else {}),
            **({"observer_learns": sorted(observer_learns)} if ideal_observer and observer_learns else {}),
        },
        "placement": placement,
        "practice_in_band": practice_band,
        "all_served_in_band": round(band_all[0] / band_all[1], 4) if band_all[1] else None,
        "practice_in_band_perfect_information": (
            round(band_ceiling[0] / band_ceiling[1], 4) if band_ceiling[1] else None
        ),
        "band": list(BAND),
        # share of practice served with its first hints shown (scaffolding; since 2026-12-05)
        "practice_supported": round(supported[0] / band_practice[1], 4) if band_practice[1] else None,
        "practice_supported_perfect_information": (
            round(supported[1] / band_ceiling[1], 4) if band_ceiling[1] else None
        ),
        "decisions": kinds,
        "mastery": mres,
        "latency": latency,
    }
    summary["targets"] = {
        "placement_accuracy_at_12": {
            "target": 0.90,
            "measured": placement["accuracy_at"]["12"],
            "met": placement["accuracy_at"]["12"] >= 0.90,
            "applies": n <= 30,
        },
        "practice_in_band": {
            "target": 0.80,
            "measured": practice_band,
            "met": practice_band is not None and practice_band >= 0.80,
        },
        "fewer_items_than_fixed": {"target": 0.30, "measured": round(fewer, 3), "met": fewer >= 0.30},
        "latency_p50_ms": {"target": 10.0, "measured": latency["p50_ms"], "met": latency["p50_ms"] < 10.0},
        "latency_p99_ms": {"target": 30.0, "measured": latency["p99_ms"], "met": latency["p99_ms"] < 30.0},
    }
    summary["elapsed_s"] = round(time.perf_counter() - t_all, 1)
    return summary


def format_report(s: dict) -> str:
    """A human table, then the JSON summary as the last line."""
    r = s["ramp"]
    lines = [
        f"Ramp: {r['source']} - {r['concepts']} concepts, {r['items']} items, "
        f"{r['edges']} prerequisite edges; "
        f"{s['learners']} simulated learners, seed {s['seed']}",
        f"Estimator: RampKT fitted on {s['estimator']['train_learners']} separate simulated learners "
        f"({s['estimator']['train_responses']} responses): simulated in {s['estimator']['simulate_s']} s, "
        f"fitted in {s['estimator']['fit_s']} s",
        "",
        "Placement accuracy (share of concepts classified right) by questions asked:",
        "  questions " + " ".join(f"{q:>6}" for q in s["placement"]["accuracy_at"]),
        "  accuracy  " + " ".join(f"{v:>6.3f}" for v in s["placement"]["accuracy_at"].values()),
        "  default placement (confidence 0.9, cap 12): "
        f"{s['placement']['default_questions_mean']:.1f} questions "
        f"on average, accuracy {s['placement']['default_accuracy']:.3f}",
        "",
    ]
    pb = s["practice_in_band"]
    pc = s.get("practice_in_band_perfect_information")
    lines.append(
        f"Practice items with true success in {s['band'][0]}-{s['band'][1]}: "
        f"{'n/a' if pb is None else f'{pb:.3f}'} (all served items: {s['all_served_in_band']:.3f}; "
        f"the same policy with perfect information: {'n/a' if pc is None else f'{pc:.3f}'})"
    )
    if s.get("practice_supported") is not None:
        lines.append(
            f"Practice served with hints shown up front: {s['practice_supported']:.3f} "
            f"(perfect information: {s['practice_supported_perfect_information']:.3f})"
        )
    lines.append("Decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(s["decisions"].items())))
    lines.append("")
    m = s["mastery"]
    lines.append(f"Items to true mastery of the whole ramp (cap {m['cap_items']} items):")
    lines.append(f"  {'approach':<26}{'mean':>9}{'median':>9}{'reached':>9}{'days':>8}")
    for k in ("policy", "perfect_information", "fixed_order_3_in_a_row", "random_order"):
        v = m[k]
        lines.append(
            f"  {k:<26}{v['items_mean']:>9.1f}{v['items_median']:>9.1f}"
            f"{v['reached']:>9.2f}{v['days_mean']:>8.1f}"
        )
    lines.append(
        f"  policy vs fixed order: {100 * m['fewer_items_than_fixed']:.1f}% fewer items; "
        f"vs random order: {100 * m['fewer_items_than_random']:.1f}% fewer; perfect information vs "
        f"fixed order: {100 * m['perfect_information_fewer_items_than_fixed']:.1f}% fewer"
    )
    lines.append("Items until every concept had been truly mastered at least once (cap if never):")
    for k in ("policy", "fixed_order_3_in_a_row", "random_order"):
        v = m[k]
        lines.append(f"  {k:<26}{v['each_once_items_mean']:>9.1f}   reached {v['each_once_reached']:.2f}")
    lines.append(f"  policy vs fixed order: {100 * m['each_once_fewer_items_than_fixed']:.1f}% fewer items")
    lines.append(
        "Items per concept until it was first truly mastered (concepts unknown at the start; "
        "never-mastered ones count their attempts, a lower bound):"
    )
    for k in ("policy", "fixed_order_3_in_a_row", "random_order"):
        v = m[k]
        pcm = v["per_concept_items_mean"]
        lines.append(
            f"  {k:<26}{'n/a' if pcm is None else f'{pcm:9.2f}'}   mastered {v['per_concept_reached']}"
        )
    if m.get("per_concept_fewer_items_than_fixed") is not None:
        lines.append(
            "  policy vs fixed order: "
            f"{100 * m['per_concept_fewer_items_than_fixed']:.1f}% fewer items per concept"
        )
    lt = s["latency"]
    lines.append("")
    lines.append(
        f"Latency of update + decide ({lt['concepts']} concepts, {lt['history']} prior responses, "
        f"{lt['steps']} steps): p50 {lt['p50_ms']:.2f} ms, p99 {lt['p99_ms']:.2f} ms "
        f"(decide alone p50 {lt['decide_p50_ms']:.2f} ms, p99 {lt['decide_p99_ms']:.2f} ms)"
    )
    lines.append("")
    lines.append("Targets:")
    for k, v in s["targets"].items():
        extra = "" if v.get("applies", True) else " (target stated for 30-concept ramps)"
        lines.append(
            f"  {k:<28} target {v['target']:<6} measured {v['measured']}  "
            f"{'met' if v['met'] else 'MISSED'}{extra}"
        )
    lines.append(f"Elapsed: {s['elapsed_s']} s")
    lines.append(json.dumps(s, sort_keys=True))
    return "\n".join(lines)


def default_learners(n_concepts: int) -> int:
    return 40 if n_concepts <= 30 else (16 if n_concepts <= 100 else 5)
