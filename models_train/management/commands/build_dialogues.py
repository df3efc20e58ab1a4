"""manage.py build_dialogues: ramps → tutoring dialogues (JSONL) for the tutor model.

    python manage.py build_dialogues --ramp ramps/from-lookup-table-to-gpt \\
        ramps/fractions-to-linear-equations --out var/dialogues/ramps.jsonl --seed 0 --per-item 2
    # a course slug from the database
    python manage.py build_dialogues --ramp fractions-to-linear-equations --out f.jsonl

Prints the dialogues per kind and split, then one JSON line. A ramp that can't be read is
reported (every file:line) and left out; with --strict it stops the command.
"""

import glob
import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models_train.dialogue import save_dialogues
from models_train.factory import KINDS, BuildReport, build_dialogues, load_courses


def readable_courses(refs, write_error) -> tuple[list, list]:
    """(courses, errors) of the ramp folders or course slugs ``refs`` (None: every ramp in
    ramps/); an unreadable one is reported through ``write_error`` and left out; CommandError
    when none can be read."""
    refs = refs if refs is not None else sorted(glob.glob(str(Path(settings.BASE_DIR) / "ramps" / "*")))
    courses, errors = load_courses(refs)
    for e in errors:
        write_error(f"error: {e.ref}: {e.message}\n(left out)")
    if not courses:
        raise CommandError("no ramp could be read" if refs else "no ramps given")
    return courses, errors


def print_counts(write, report: BuildReport, dialogues) -> None:
    table = report.table()
    write(f"{'kind':<22}{'task':<20}{'train':>7}{'heldout':>9}")
    for kind in KINDS:
        row = table.get(kind, {})
        write(f"{kind:<22}{KINDS[kind]:<20}{row.get('train', 0):>7}{row.get('heldout', 0):>9}")
    n_train = sum(1 for d in dialogues if d["split"] == "train")
    write(f"{'total':<42}{n_train:>7}{len(dialogues) - n_train:>9}")
    if report.heldout_concepts:
        write("held-out concepts: " + ", ".join(report.heldout_concepts))
    for reason, n in sorted(report.skipped.items()):
        write(f"skipped {n}: {reason}")
    for problem in report.problems[:20]:
        write(f"problem: {problem}")


class Command(BaseCommand):
    help = "Build tutoring dialogues (JSONL) from ramp folders or course slugs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--ramp", nargs="+", required=True, help="ramp folders/.zip files, or course slugs in the DB"
        )
        parser.add_argument("--out", required=True, help="output .jsonl")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--per-item", type=int, default=2, help="variants per item (and phrasings per concept level/term)"
        )
        parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
        parser.add_argument(
            "--heldout-concepts",
            nargs="*",
            default=None,
            help="concept slugs to hold out (default: a seeded --heldout-concept-fraction of each course)",
        )
        parser.add_argument("--heldout-concept-fraction", type=float, default=0.15)
        parser.add_argument(
            "--heldout-courses", nargs="*", default=[], help="course slugs to hold out entirely"
        )
        parser.add_argument(
            "--heldout-fraction",
            type=float,
            default=0.05,
            help="hash-of-id share of the remaining dialogues held out too",
        )
        parser.add_argument("--strict", action="store_true", help="fail when any ramp can't be read")

    def handle(
        self,
        *args,
        ramp,
        out,
        seed,
        per_item,
        kinds,
        heldout_concepts,
        heldout_concept_fraction,
        heldout_courses,
        heldout_fraction,
        strict,
        **options,
    ):
        t0 = time.perf_counter()
        courses, errors = load_courses(ramp)
        for e in errors:
            self.stderr.write(f"error: {e.ref}: {e.message}")
        if errors and (strict or not courses):
            raise CommandError(f"{len(errors)} ramp(s) could not be read (see above); nothing written")
        report = BuildReport()
        dialogues = build_dialogues(
            courses,
            seed=seed,
            per_item=per_item,
            kinds=kinds,
            heldout_concepts=heldout_concepts,
            heldout_concept_fraction=heldout_concept_fraction,
            heldout_courses=heldout_courses,
            heldout_fraction=heldout_fraction,
            report=report,
        )
        save_dialogues(dialogues, out)
        self.stdout.write(f"courses: {', '.join(c.slug for c in courses)}")
        print_counts(self.stdout.write, report, dialogues)
        summary = {
            "out": str(out),
            "dialogues": len(dialogues),
            "courses": [c.slug for c in courses],
            "skipped_ramps": [e.ref for e in errors],
            "counts": report.table(),
            "heldout_concepts": report.heldout_concepts,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        self.stdout.write(json.dumps(summary))
