"""manage.py train_default_tutor: the default tutor from the seed ramps + the vendored real
tutoring conversations, evaluated with the practice-question verifier.

    python manage.py train_default_tutor                        # 15-19 minutes on 2 idle CPU cores
    python manage.py train_default_tutor --out /tmp/dt --quick  # well under a minute (tests)
    python manage.py train_default_tutor --ramps ramps/from-lookup-table-to-gpt --overwrite
    python manage.py train_default_tutor --out /tmp/dt --resume  # continue an interrupted run

A thin wrapper over `models_train.default_training.default_tutor_train` (which the gpu task
calls too): ramps → dialogues (`models_train.factory`, <out>/data/ramps.jsonl) →
`models_train.default_tutor` (tokenizer, pretraining, SFT with early stopping, its own
evaluation on the held-out dialogues of every source) → a second evaluation on a per-kind
sample of the ramps' held-out dialogues with `verify` from `models_train.verify` (practice
questions: parse and verified rates, once written freely with the calculator tool and once
inside the format by constrained decoding, `models_train.structured_gen`).
Writes <out>/tutor/ (the checkpoint) and <out>/tutor/report.json (default_tutor's report
plus a "ramps" section), and prints one JSON line last: checkpoint, report path, key
metrics, where SFT stopped and why, wall and CPU seconds. A ramp that can't be read is
reported and left out.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models_train.default_training import DefaultTrainingError, default_tutor_train


class Command(BaseCommand):
    help = "Train and evaluate the default tutor from the seed ramps and the vendored conversations."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=None, help="output folder (default: RAMP_MODEL_STORE/default)")
        parser.add_argument(
            "--ramps", nargs="*", default=None, help="ramp folders or course slugs (default: ramps/*)"
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help="a tiny run (well under a minute; of the vendored conversations only bridge), for tests",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--per-item", type=int, default=None, help="variants per item (default 2; quick 1)"
        )
        parser.add_argument(
            "--practice-per-item",
            type=int,
            default=None,
            help="variants per template for practice questions (default 32; quick: --per-item)",
        )
        parser.add_argument(
            "--no-vendored", action="store_true", help="leave out the vendored real conversations"
        )
        parser.add_argument(
            "--no-conversations",
            action="store_true",
            help="leave out the conversations learners shared (RAMP_MODEL_STORE/conversations/*.jsonl)",
        )
        parser.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
        parser.add_argument(
            "--resume",
            action="store_true",
            help="continue an interrupted run in --out from its last checkpoints",
        )
        parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: its default)")
        parser.add_argument(
            "--optimizer",
            choices=("adamw", "muon"),
            default=None,
            help="for pretraining and SFT (default: models_train.default_tutor's)",
        )

    def handle(self, *args, out, ramps, quick, seed, per_item, no_vendored, overwrite, threads, **options):
        try:
            summary = default_tutor_train(
                out=Path(out) if out else Path(settings.RAMP_MODEL_STORE) / "default",
                preset="quick" if quick else "default",
                ramps=ramps,
                seed=seed,
                per_item=per_item,
                practice_per_item=options.get("practice_per_item"),
                no_vendored=no_vendored,
                conversations=not options.get("no_conversations", False),
                overwrite=overwrite,
                resume=options.get("resume", False),
                threads=threads,
                optimizer=options.get("optimizer"),
                log=self.stdout.write,
            )
        except DefaultTrainingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(summary))
