"""``simulate_learners``: the benchmark's command line (plain Python; the Django management
command ``python manage.py simulate_learners`` is a thin wrapper that adds ``--ramp SLUG``).

    python -m benchmarks.simulation.cli --random 30            # a generated 30-concept ramp
    python -m benchmarks.simulation.cli --ramp-path ramps/fractions-to-linear-equations
    python -m benchmarks.simulation.cli --quick                # seconds: for the test suite
    python -m benchmarks.simulation.cli --random 30 --item-difficulties calibrated
    python -m benchmarks.simulation.cli --random 30 --belief-sd 0.5   # how good must prediction be?
    python -m benchmarks.simulation.cli --random 30 --ideal-observer items-and-gate   # the bound
    python -m benchmarks.simulation.cli --random 30 --ideal-observer items-and-gate \
        --observer-learns rate,start
    python -m benchmarks.simulation.cli --ramp-path ramps/fractions-to-linear-equations --difficulty-spread 3

Prints a human table, then one JSON summary line last.
"""

from __future__ import annotations

import argparse
import sys

from learner.course_graph import CourseGraph, graph_from_spec, random_ramp

from .benchmark import default_learners, format_report, run_benchmark
from .ideal import LEARNABLE, parse_learns
from .ideal import MODES as IDEAL_MODES
from .runners import ITEM_DIFFICULTIES, spread_difficulties


def add_arguments(p: argparse.ArgumentParser, *, with_slug: bool = False) -> None:
    src = p.add_mutually_exclusive_group()
    if with_slug:
        src.add_argument("--ramp", metavar="SLUG", help="a course in the database")
    src.add_argument("--ramp-path", metavar="PATH", help="a ramp folder (or .zip) read by courses.ramp_files")
    src.add_argument("--random", metavar="N", type=int, help="a generated ramp of N concepts (30, 100, 300)")
    p.add_argument(
        "--learners", type=int, default=None, help="benchmark learners (default: 40 / 16 / 5 by size)"
    )
    p.add_argument(
        "--train-learners", type=int, default=150, help="separate learners the estimator is fitted on"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a tiny run that takes seconds (tests)")
    p.add_argument(
        "--mastery",
        choices=("tracker", "kt"),
        default="tracker",
        help="P(mastered) for gating: the per-concept tracker (default) or RampKT.mastery",
    )
    p.add_argument(
        "--predict",
        choices=("tracker", "kt", "blend"),
        default="tracker",
        help="predicted success per item: the tracker (default), RampKT, or their logit average",
    )
    p.add_argument(
        "--item-difficulties",
        choices=ITEM_DIFFICULTIES,
        default="authored",
        help="the difficulties the tutor reads: as authored (default), calibrated from the training "
        "population's log as the calibration task does, or the estimator's item offsets",
    )
    p.add_argument(
        "--belief-sd",
        type=float,
        default=None,
        metavar="S",
        help="diagnostic: choose items from the learner's true success logit plus an error of sd S "
        "(a calibrated belief of that quality) instead of the tracker's belief",
    )
    p.add_argument(
        "--ideal-observer",
        choices=IDEAL_MODES,
        default=None,
        help="diagnostic bound: items (and mastery) from an observer that knows everything about the "
        "simulated learner but where each concept started (benchmarks/simulation/ideal.py)",
    )
    p.add_argument(
        "--observer-learns",
        default="",
        metavar=",".join(LEARNABLE),
        help="with --ideal-observer: what it is not told and must learn from the answers, exactly: "
        "the learner's rate, where each concept started, the items' difficulties (it then reads "
        "the ones the tutor sees) - comma-separated",
    )
    p.add_argument(
        "--difficulty-spread",
        type=float,
        default=None,
        metavar="K",
        help="what-if: multiply every item's distance to its concept's typical question by K (the "
        "simulated learners' true difficulties follow), as if the ramp had easier and harder questions",
    )
    p.add_argument("--latency-history", type=int, default=10_000)
    p.add_argument(
        "--cap-per-concept",
        type=int,
        default=100,
        help="items per concept after which a learner's run stops unmastered (default 100)",
    )


def run(options: dict, graph: CourseGraph | None = None, source: str | None = None, out=None) -> dict:
    out = out or sys.stdout

    def log(msg):
        print(msg, file=out, flush=True)

    seed = options.get("seed") or 0
    quick = options.get("quick")
    if graph is None:
        if options.get("ramp_path"):
            from courses.ramp_files import read_ramp

            graph = graph_from_spec(read_ramp(options["ramp_path"]))
            source = f"path:{options['ramp_path']}"
        else:
            n = options.get("random") or (12 if quick else 30)
            graph = random_ramp(n, seed=seed)
            source = f"random:{n}"
    spread = options.get("difficulty_spread")
    if spread is not None:
        if not spread > 0:
            raise ValueError(f"--difficulty-spread must be above 0, not {spread}")
        graph = spread_difficulties(graph, spread)
        source = f"{source} (difficulty spread x{spread:g})"
    learns = parse_learns(options.get("observer_learns"))
    if learns and not options.get("ideal_observer"):
        raise ValueError("--observer-learns goes with --ideal-observer")
    n = len(graph.order)
    learners = options.get("learners") or (3 if quick else default_learners(n))
    if quick:
        kw = dict(
            train_learners=min(options.get("train_learners") or 20, 20),
            latency_graph=graph,
            latency_history=500,
            latency_steps=50,
            fit_max_iter=30,
        )
    else:
        kw = dict(
            train_learners=options.get("train_learners") or 150,
            latency_graph=graph if n >= 300 else random_ramp(300, seed=seed),
            latency_history=options.get("latency_history") or 10_000,
            latency_steps=400,
        )
    summary = run_benchmark(
        graph,
        source=source or "graph",
        learners=learners,
        seed=seed,
        mastery=options.get("mastery") or "tracker",
        predict=options.get("predict") or "tracker",
        item_difficulties=options.get("item_difficulties") or "authored",
        belief_sd=options.get("belief_sd"),
        ideal_observer=options.get("ideal_observer"),
        observer_learns=learns,
        cap_factor=options.get("cap_per_concept") or 100,
        log=log,
        **kw,
    )
    summary["quick"] = bool(quick)
    print(format_report(summary), file=out, flush=True)
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="simulate_learners", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    try:
        run(vars(p.parse_args(argv)))
    except ValueError as exc:
        p.error(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
