"""manage.py evaluate_tutor: a tutor checkpoint through the exact production path, on concepts it
never trained on.

    python manage.py evaluate_tutor var/models/default/tutor                 # both seed ramps
    python manage.py evaluate_tutor var/models/default/tutor --model-version tutor-12   # and record it
    python manage.py evaluate_tutor /tmp/dt/tutor --per-item 1 --practice 1 --max-cases 6   # seconds
    python manage.py evaluate_tutor var/models/default/tutor --decoding free # token by token
    python manage.py evaluate_tutor var/models/default/tutor --raw           # the checkpoint alone

The default runs ``models_train.serving_eval``: every moment of the ramps' held-out concepts
(replies to wrong answers, hints, explanations, learners' questions, practice questions) goes
through ``models_train.speaking`` as a learner's would (prompt, model, guards, fallback), and the
command reports per moment the share served from the model, answers revealed before and after
the guard, grounding, the probing rate, refusals by reason and seconds per reply; it writes a
Markdown report of 40 sampled cases (``--report``, default <checkpoint>/serving-report.md).
``--model-version NAME`` stores the summary in that model version's metrics (``serving``), where the
promotion gate reads it. Latency with many learners at once is the load benchmark's
(``python -m benchmarks.load``).

Replies are decoded as they are served: composed out of whole pieces of the prompt and the
tutor's phrases (``models_train.composing``) unless RAMP_TUTOR_COMPOSED_DECODING is off;
``--decoding free`` measures token-by-token decoding instead, for comparison.

``--raw`` instead generates freely from the checkpoint on the ramps' held-out dialogues, without
guards (``models_train.ramp_eval``): what the model writes on its own. One JSON line last.
"""

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from models_train.management.commands.build_dialogues import readable_courses


class Command(BaseCommand):
    help = "Evaluate a tutor checkpoint through the production path (guards, fallbacks) on held-out concepts."

    def add_arguments(self, parser):
        parser.add_argument("checkpoint", help="a checkpoint folder (e.g. <run>/tutor)")
        parser.add_argument(
            "--ramps", nargs="*", default=None, help="ramp folders or course slugs (default: ramps/*)"
        )
        parser.add_argument("--per-item", type=int, default=1, help="variants of each question")
        parser.add_argument(
            "--practice", type=int, default=2, help="practice requests per concept and difficulty"
        )
        parser.add_argument("--max-cases", type=int, default=None, help="stop after about this many cases")
        parser.add_argument("--report", default=None, help="where the Markdown report of sampled cases goes")
        parser.add_argument(
            "--model-version", default=None, help="record the summary in this model version's metrics"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (serving uses 1)")
        parser.add_argument("--raw", action="store_true", help="the checkpoint alone, no guards (ramp_eval)")
        parser.add_argument(
            "--decoding",
            choices=("composed", "free"),
            default=None,
            help="composed: replies out of whole pieces of the prompt and the tutor's phrases; free: "
            "token by token (default: the RAMP_TUTOR_COMPOSED_DECODING setting, as served)",
        )
        parser.add_argument("--per-kind", type=int, default=50, help="--raw: held-out replies of each kind")

    def handle(
        self,
        *args,
        checkpoint,
        ramps,
        per_item,
        practice,
        max_cases,
        report,
        model_version,
        seed,
        threads,
        raw,
        per_kind,
        decoding,
        **options,
    ):
        t0 = time.perf_counter()
        path = Path(checkpoint)
        if not path.is_dir():
            raise CommandError(f"{checkpoint}: not a checkpoint folder")
        record = None
        if model_version is not None:
            from models_train.models import ModelVersion

            record = ModelVersion.objects.filter(name=model_version).first()
            if record is None:
                raise CommandError(f"no model version named {model_version!r}")
        courses, _ = readable_courses(ramps, self.stderr.write)
        if not courses:
            raise CommandError("no readable ramp to evaluate on")

        import torch  # only now: reading the ramps needs none of it

        from models_train.checkpoint import CheckpointError

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        if raw:
            line = self._raw(path, courses, per_kind=per_kind, seed=seed)
        else:
            from models_train.serving import TutorModel
            from models_train.serving_eval import evaluate_serving

            try:
                model = TutorModel(path, composed=None if decoding is None else decoding == "composed")
            except CheckpointError as error:
                raise CommandError(str(error)) from None
            report_path = Path(report) if report else path / "serving-report.md"
            summary = evaluate_serving(
                model,
                courses,
                per_item=per_item,
                practice_per_difficulty=practice,
                seed=seed,
                max_cases=max_cases,
                report_path=report_path,
                log=lambda line: self.stderr.write(line),
            )
            summary["decoding"] = "composed" if model.composed else "free"
            line = {"checkpoint": str(path), "report": str(report_path), "serving": summary}
            self._table(summary)
            if record is not None:
                record.metrics = {**(record.metrics or {}), "serving": summary}
                record.save(update_fields=["metrics"])
        line["wall_s"] = round(time.perf_counter() - t0, 1)
        self.stdout.write(json.dumps(line))

    def _table(self, summary: dict) -> None:
        self.stdout.write(
            f"{'moment':<10}{'n':>5}{'served':>9}{'reveal before/after':>22}{'probing':>9}  refusals"
        )
        for kind in ("mistake", "hint", "explain", "chat"):
            s = summary.get(kind)
            if not s:
                continue
            self.stdout.write(
                f"{kind:<10}{s['n']:>5}{s['served_share']:>9.2f}"
                f"{str(s['reveal_before_guard']) + ' / ' + str(s['reveal_after_guard']):>22}"
                f"{str(s.get('probing', '')):>9}  {s['refusals']}"
            )
        p = summary.get("practice")
        if p:
            self.stdout.write(
                f"{'practice':<10}{p['requests']:>5}{p['yield']:>9.2f}  verified {p['verified']}"
            )

    def _raw(self, path: Path, courses, *, per_kind: int, seed: int) -> dict:
        from models_train.checkpoint import CheckpointError, load_tutor
        from models_train.factory import build_dialogues
        from models_train.ramp_eval import evaluate_on_ramps, rates, sample_per_kind

        dialogues = build_dialogues(courses, seed=seed, per_item=2)
        chosen = sample_per_kind(dialogues, per_kind, seed, None)
        try:
            model, tok, _ = load_tutor(path)
        except CheckpointError as error:
            raise CommandError(str(error)) from None
        report = evaluate_on_ramps(model, tok, courses, chosen, seed=seed)
        return {
            "checkpoint": str(path),
            "params": model.num_params(),
            "courses": [c.slug for c in courses],
            "replies": rates(report, "replies"),
            "practice": rates(report, "practice"),
            "practice_constrained": rates(report, "practice_constrained"),
        }
