"""Knowledge-tracing benchmark: Ramp's estimator against classic baselines.

    python -m benchmarks.kt.benchmark TRAIN.csv TEST.csv
    python -m benchmarks.kt.benchmark LOG.csv --split 0.2 --seed 0     # learner-level split
    (Django: manage.py kt_benchmark ... with the same arguments)

Every estimator is fitted on the training learners; then, for each test learner, each
response is predicted before it is seen and then absorbed (online, in time order). Prints
a table (AUC, RMSE, log loss, accuracy, fit time, µs per response) and, last, ONE JSON line.
Plain Python: no Django.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from learner.metrics import all_metrics
from learner.response_log import Response, read_sequences

from .baselines import BKT, PFA, Elo, SkillMean
from .ramp import RampKT
from .recurrent import RampGRU

ESTIMATORS: dict[str, Callable[[], object]] = {
    "skill_mean": SkillMean,
    "bkt": BKT,
    "bkt_forget": lambda: BKT(forgetting=True),
    "elo": Elo,
    "pfa": PFA,
    "ramp": RampKT,
    "ramp_gru": RampGRU,
}
BASELINES = ("skill_mean", "bkt", "bkt_forget", "elo", "pfa")


def split_learners(seqs: dict[str, list[Response]], fraction: float, seed: int):
    """Learner-level split: ``fraction`` of the learners (at least one) go to test."""
    if not 0.0 < fraction < 1.0:
        raise ValueError("split must be between 0 and 1")
    users = sorted(seqs)
    random.Random(seed).shuffle(users)
    n_test = max(1, int(round(len(users) * fraction)))
    if n_test >= len(users):
        raise ValueError("need at least two learners to split")
    test_users = set(users[:n_test])
    train = {u: s for u, s in seqs.items() if u not in test_users}
    test = {u: s for u, s in seqs.items() if u in test_users}
    return train, test


def evaluate(est, test: dict[str, Sequence[Response]]):
    """Online evaluation; returns (y, p, per-response predict+update seconds)."""
    n = sum(len(s) for s in test.values())
    y = np.empty(n)
    p = np.empty(n)
    dt = np.empty(n)
    clock = time.perf_counter
    i = 0
    predict, update = est.predict, est.update
    for seq in test.values():
        state = est.new_state()
        for r in seq:
            t0 = clock()
            p[i] = predict(state, r.skill_id, r.item_id, r.timestamp)
            update(state, r.skill_id, r.correct, r.item_id, r.timestamp, r.hints)
            dt[i] = clock() - t0
            y[i] = r.correct
            i += 1
    return y, p, dt


def run_kt_benchmark(
    train_path,
    test_path=None,
    split: float = 0.2,
    seed: int = 0,
    estimators: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Fit and evaluate the estimators; returns the summary dict (what the JSON line holds)."""
    names = list(estimators) if estimators else list(ESTIMATORS)
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown:
        raise ValueError(f"unknown estimator(s) {unknown}; known: {list(ESTIMATORS)}")
    log = log or (lambda s: None)
    t0 = time.perf_counter()
    train = read_sequences(train_path)
    if test_path is None:
        train, test = split_learners(train, split, seed)
    else:
        test = read_sequences(test_path)
    read_s = time.perf_counter() - t0
    n_train = sum(len(s) for s in train.values())
    n_test = sum(len(s) for s in test.values())
    if not n_train or not n_test:
        raise ValueError("train and test need at least one response each")
    train_skills = {r.skill_id for s in train.values() for r in s}
    train_items = {r.item_id for s in train.values() for r in s if r.item_id is not None}
    unseen_skill = sum(r.skill_id not in train_skills for s in test.values() for r in s)
    test_items = [r.item_id for s in test.values() for r in s if r.item_id is not None]
    log(
        f"read {n_train} train / {n_test} test responses ({len(train)} / {len(test)} learners, "
        f"{len(train_skills)} train skills) in {read_s:.1f}s"
    )
    results: dict[str, dict] = {}
    for name in names:
        est = ESTIMATORS[name]()
        t1 = time.perf_counter()
        est.fit(train)
        fit_s = time.perf_counter() - t1
        y, p, dt = evaluate(est, test)
        m = all_metrics(y, p)
        us = dt * 1e6
        m.update(
            {
                "fit_s": round(fit_s, 2),
                "us_per_response": round(float(us.mean()), 2),
                "us_p50": round(float(np.percentile(us, 50)), 2),
                "us_p99": round(float(np.percentile(us, 99)), 2),
            }
        )
        for k in ("auc", "rmse", "log_loss", "accuracy"):
            m[k] = round(m[k], 5) if not math.isnan(m[k]) else None
        results[name] = m
        log(f"{name}: auc={m['auc']} fit={fit_s:.1f}s {m['us_per_response']}us/response")
    summary = {
        "benchmark": "kt",
        "train": os.fspath(train_path),
        "test": os.fspath(test_path) if test_path is not None else None,
        "split": None if test_path is not None else split,
        "seed": None if test_path is not None else seed,
        "n_train_responses": n_train,
        "n_test_responses": n_test,
        "n_train_learners": len(train),
        "n_test_learners": len(test),
        "n_train_skills": len(train_skills),
        "test_unseen_skill_share": round(unseen_skill / n_test, 5),
        "test_unseen_item_share": (
            round(sum(i not in train_items for i in test_items) / len(test_items), 5) if test_items else None
        ),
        "estimators": results,
    }
    valid = {k: v for k, v in results.items() if v["auc"] is not None}
    summary["best_auc"] = max(valid, key=lambda k: valid[k]["auc"]) if valid else None
    base = [v["auc"] for k, v in valid.items() if k in BASELINES]
    for ours in ("ramp", "ramp_gru"):
        if ours in valid:
            summary[f"{ours}_beats_baselines"] = bool(base) and all(valid[ours]["auc"] > b for b in base)
    summary["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    return summary


def format_table(summary: dict) -> str:
    cols = ("auc", "rmse", "log_loss", "accuracy", "fit_s", "us_per_response", "us_p99")
    head = f"{'estimator':<12}" + "".join(f"{c:>16}" for c in cols)
    lines = [head, "-" * len(head)]
    for name, m in summary["estimators"].items():
        cells = []
        for c in cols:
            v = m.get(c)
            text = (
                "n/a"
                if v is None
                else f"{v:.4f}"
                if c in ("auc", "rmse", "log_loss", "accuracy")
                else f"{v:.2f}"
            )
            cells.append(f"{text:>16}")
        lines.append(f"{name:<12}" + "".join(cells))
    lines.append(
        f"train: {summary['n_train_responses']} responses / {summary['n_train_learners']} "
        f"learners; test: {summary['n_test_responses']} / {summary['n_test_learners']}; "
        f"unseen-skill share in test {summary['test_unseen_skill_share']}"
    )
    return "\n".join(lines)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="kt_benchmark", description=__doc__.split("\n")[0])
    p.add_argument("train", help="training response log (CSV user_id,skill_id,correct[,...])")
    p.add_argument("test", nargs="?", default=None, help="test response log; omit to split TRAIN by learner")
    p.add_argument("--split", type=float, default=0.2, help="test share of learners (one file)")
    p.add_argument("--seed", type=int, default=0, help="seed of the learner split")
    p.add_argument(
        "--estimators", default=",".join(ESTIMATORS), help="comma-separated subset of " + ",".join(ESTIMATORS)
    )
    return p


def run_from_args(args, out=None, err=None) -> dict:
    from learner.response_log import ResponseLogError

    out = out or sys.stdout
    err = err or sys.stderr
    names = [n.strip() for n in args.estimators.split(",") if n.strip()]
    try:
        summary = run_kt_benchmark(
            args.train, args.test, args.split, args.seed, names, log=lambda s: print(s, file=err, flush=True)
        )
    except (ResponseLogError, ValueError, OSError) as exc:
        raise SystemExit(f"kt_benchmark: {exc}") from None
    print(format_table(summary), file=out)
    print(json.dumps(summary, sort_keys=True), file=out, flush=True)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
