"""manage.py train_default_tutor: the default tutor from the seed ramps + the vendored real
tutoring conversations, evaluated with the practice-question verifier.

    python manage.py train_default_tutor                        # ~8 minutes on 2 CPU cores
    python manage.py train_default_tutor --out /tmp/dt --quick  # well under a minute (tests)
    python manage.py train_default_tutor --ramps ramps/from-lookup-table-to-gpt --overwrite
    python manage.py train_default_tutor --out /tmp/dt --resume  # continue an interrupted run

Steps: ramps → dialogues (`models_train.factory`, <out>/data/ramps.jsonl) → `models_train.
default_tutor` (tokenizer, pretraining, SFT, its own evaluation on the held-out dialogues of
every source) → a second evaluation on a per-kind sample of the ramps' held-out dialogues
with `verify` from `models_train.verify` (practice questions: parse and verified rates, once
written freely with the calculator tool and once inside the format by constrained decoding,
`models_train.structured_gen`).
Writes <out>/tutor/ (the checkpoint) and <out>/tutor/report.json (default_tutor's report
plus a "ramps" section), and prints one JSON line last: checkpoint, report path, key
metrics, wall and CPU seconds. A ramp that can't be read is reported and left out.
"""

import json
import shutil
import time
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models_train.dialogue import save_dialogues
from models_train.factory import BuildReport, build_dialogues
from models_train.management.commands.build_dialogues import print_counts, readable_courses
from models_train.ramp_eval import evaluate_on_ramps, rates, sample_per_kind

OUTPUTS = ("data", "base", "sft", "tutor", "tokenizer.json")  # what a run writes under --out
FULL = {
    "per_item": 2,
    "practice_per_item": 32,
    "tutor": [],
    "eval_per_kind": 12,
    "eval_practice": 40,
    "new_tokens": 48,
    "practice_tokens": 160,
}
QUICK = {
    "per_item": 1,
    "eval_per_kind": 2,
    "eval_practice": 2,
    "new_tokens": 8,
    "practice_tokens": 16,
    "tutor": [
        "--vocab-size",
        "512",
        "--depth",
        "1",
        "--seq-len",
        "128",
        "--batch-size",
        "4",
        "--pretrain-steps",
        "3",
        "--sft-steps",
        "3",
        "--eval-dialogues",
        "4",
        "--max-new-tokens",
        "8",
    ],
}


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

    def handle(
        self,
        *args,
        out,
        ramps,
        quick,
        seed,
        per_item,
        no_vendored,
        overwrite,
        threads,
        resume=False,
        optimizer=None,
        practice_per_item=None,
        **options,
    ):
        t0, c0 = time.perf_counter(), time.process_time()
        preset = QUICK if quick else FULL
        out = Path(out) if out else Path(settings.RAMP_MODEL_STORE) / "default"
        old = [name for name in OUTPUTS if (out / name).exists()]
        if overwrite and resume:
            raise CommandError("--overwrite and --resume exclude each other")
        if old and not (overwrite or resume):
            raise CommandError(
                f"{out} already holds a run ({', '.join(old)}); pass --overwrite to replace it "
                "or --resume to continue it"
            )
        for name in [] if resume else old:
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()

        courses, errors = readable_courses(ramps, self.stderr.write)
        report = BuildReport()
        dialogues = build_dialogues(
            courses,
            seed=seed,
            per_item=per_item or preset["per_item"],
            report=report,
            practice_per_item=practice_per_item or preset.get("practice_per_item"),
        )
        ramp_file = out / "data" / "ramps.jsonl"
        save_dialogues(dialogues, ramp_file)
        self.stdout.write(f"ramps: {', '.join(c.slug for c in courses)} -> {ramp_file}")
        print_counts(self.stdout.write, report, dialogues)

        import torch  # only now: the factory above needs none of it

        from models_train import default_tutor
        from models_train.checkpoint import load_tutor

        files = [str(ramp_file)]
        if (
            quick and not no_vendored
        ):  # quick: one small vendored source (enough text for pretraining's val split)
            files += [str(p) for p in default_tutor.VENDORED if p.parent.name == "bridge"]
        argv = ["--out", str(out), "--dialogues", *files, "--seed", str(seed), *preset["tutor"]]
        if no_vendored or quick:
            argv.append("--no-vendored")
        if threads:
            argv += ["--threads", str(threads)]
        if resume:
            argv.append("--resume")
        if optimizer:
            argv += ["--optimizer", optimizer]
        summary = default_tutor.main(argv)

        tutor = Path(summary["default_tutor"])
        model, tok, _ = load_tutor(tutor)
        torch.manual_seed(seed)
        chosen = sample_per_kind(dialogues, preset["eval_per_kind"], seed, preset["eval_practice"])
        ramp_report = {
            "n_sampled": len(chosen),
            "per_kind": preset["eval_per_kind"],
            "practice": preset["eval_practice"],
            **evaluate_on_ramps(
                model,
                tok,
                courses,
                chosen,
                new_tokens=preset["new_tokens"],
                practice_tokens=preset["practice_tokens"],
                seed=seed,
            ),
        }
        by_kind = defaultdict(list)
        for d in chosen:
            by_kind[d["meta"]["kind"]].append(d["id"])
        ramp_report["kinds"] = {k: len(v) for k, v in by_kind.items()}
        report_path = tutor / "report.json"
        full = json.loads(report_path.read_text())
        full["ramps"] = {
            "courses": [c.slug for c in courses],
            "skipped_ramps": [e.ref for e in errors],
            "dialogues": report.table(),
            "heldout_concepts": report.heldout_concepts,
            "evaluation": ramp_report,
        }
        report_path.write_text(json.dumps(full, indent=1))

        line = {
            "checkpoint": str(tutor),
            "report": str(report_path),
            "params": summary["params"],
            "train_dialogues": full.get("train_dialogues"),
            "ramp_dialogues": len(dialogues),
            "courses": [c.slug for c in courses],
            "skipped_ramps": [e.ref for e in errors],
            "dialogue_loss": (summary.get("dialogue_loss") or {}).get("val_loss"),
            "val_bpb": (summary.get("dialogue_loss") or {}).get("val_bpb"),
            "all_sources": summary.get("generation"),
            "ramp_replies": rates(ramp_report, "replies"),
            "ramp_practice": rates(ramp_report, "practice"),
            "ramp_practice_constrained": rates(ramp_report, "practice_constrained"),
            "wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(time.process_time() - c0, 1),
        }
        self.stdout.write(json.dumps(line))
