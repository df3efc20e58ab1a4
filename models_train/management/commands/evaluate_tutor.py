"""manage.py evaluate_tutor: a tutor checkpoint on the ramps' own tasks, on held-out dialogues.

    # 50 replies per kind, every practice request
    python manage.py evaluate_tutor var/models/default/tutor
    python manage.py evaluate_tutor /tmp/dt/tutor --per-kind 2 --practice 2    # seconds (tests)

The ramps' dialogues are built as `build_dialogues` builds them (`--per-item`, default 2, no
extra practice variants, seed 0: the same held-out requests for every checkpoint trained from
the same ramps), then `models_train.ramp_eval.evaluate_on_ramps` generates greedily: replies to
hints and mistakes (reveal and probing rates), practice questions written freely and inside the
format (parse and verified rates by the course's checker, and why the rejected ones failed).
Prints a short table and one JSON line last. The numbers in docs/models.md ("111 held-out
practice requests", "200 replies") are this command's defaults on the seed ramps.
"""

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from models_train.factory import build_dialogues
from models_train.management.commands.build_dialogues import readable_courses
from models_train.ramp_eval import evaluate_on_ramps, rates, sample_per_kind


class Command(BaseCommand):
    help = "Evaluate a tutor checkpoint on the ramps' held-out hints, mistake replies and practice questions."

    def add_arguments(self, parser):
        parser.add_argument("checkpoint", help="a checkpoint folder (e.g. <run>/tutor)")
        parser.add_argument(
            "--ramps", nargs="*", default=None, help="ramp folders or course slugs (default: ramps/*)"
        )
        parser.add_argument(
            "--per-item", type=int, default=2, help="variants per item when building the dialogues"
        )
        parser.add_argument("--per-kind", type=int, default=50, help="held-out replies of each kind")
        parser.add_argument("--practice", default="all", help="held-out practice requests: a number, or all")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: its default)")

    def handle(self, *args, checkpoint, ramps, per_item, per_kind, practice, seed, threads, **options):
        t0 = time.perf_counter()
        path = Path(checkpoint)
        if not path.is_dir():
            raise CommandError(f"{checkpoint}: not a checkpoint folder")
        if practice != "all" and not practice.isdigit():
            raise CommandError(f"--practice must be a number or 'all', not {practice!r}")
        courses, _ = readable_courses(ramps, self.stderr.write)
        dialogues = build_dialogues(courses, seed=seed, per_item=per_item)
        chosen = sample_per_kind(dialogues, per_kind, seed, None if practice == "all" else int(practice))

        import torch  # only now: building the dialogues needs none of it

        from models_train.checkpoint import CheckpointError, load_tutor

        if threads:
            torch.set_num_threads(threads)
        try:
            model, tok, _ = load_tutor(path)
        except CheckpointError as error:
            raise CommandError(str(error)) from None
        torch.manual_seed(seed)
        report = evaluate_on_ramps(model, tok, courses, chosen, seed=seed)
        line = {
            "checkpoint": str(path),
            "params": model.num_params(),
            "courses": [c.slug for c in courses],
            "replies": rates(report, "replies"),
            "replies_by_task": {
                k.split(":", 1)[1]: v["model"]
                for k, v in report.get("replies", {}).get("generation", {}).items()
                if k.startswith("task:")
            },
            "practice": rates(report, "practice"),
            "practice_constrained": rates(report, "practice_constrained"),
            "practice_constrained_failures": report.get("practice_constrained", {}).get("failures", {}),
            "wall_s": round(time.perf_counter() - t0, 1),
        }
        for name in ("replies", "practice", "practice_constrained"):
            model_rates = line[name].get("model", {})
            self.stdout.write(f"{name:<22} " + ", ".join(f"{k} {v}" for k, v in model_rates.items()))
        for why, n in line["practice_constrained_failures"].items():
            self.stdout.write(f"  rejected inside the format: {n:>3}  {why}")
        self.stdout.write(json.dumps(line))
