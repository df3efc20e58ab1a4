"""manage.py kt_benchmark TRAIN.csv [TEST.csv] [--split 0.2 --seed 0] [--estimators ...]

Thin wrapper around benchmarks.kt.benchmark (which runs without Django too:
``python -m benchmarks.kt.benchmark``). Prints a table and one JSON summary line last.
"""

from django.core.management.base import BaseCommand

from benchmarks.kt.benchmark import build_parser, run_from_args


class Command(BaseCommand):
    help = "Knowledge-tracing benchmark: Ramp's estimator vs BKT, BKT+forgetting, Elo, PFA"

    def add_arguments(self, parser):
        build_parser(parser)

    def handle(self, *args, **options):
        import argparse

        ns = argparse.Namespace(**{k: options[k] for k in ("train", "test", "split", "seed", "estimators")})
        run_from_args(ns, out=self.stdout._out, err=self.stderr._out)
