"""Train the default tutor: ramps → dialogues → `models_train.default_tutor` (tokenizer,
pretraining, SFT, its evaluation) → a second evaluation on the ramps' held-out dialogues → the
production path on the held-out concepts (`models_train.serving_eval`: prompts, composed
decoding, guards, fallbacks; its numbers are the summary's "serving", which the promotion
gate reads).

One function, called by the gpu task (`models_train.training`) and by the management
command, which is a thin wrapper over it:

    from pathlib import Path
    from models_train.default_training import default_tutor_train
    summary = default_tutor_train(out=Path("/tmp/dt"), preset="quick", overwrite=True)  # < 1 min, CPU
    summary["checkpoint"], summary["sft"]["stop_reason"]

    python manage.py train_default_tutor --out /tmp/dt --quick --overwrite         # the same

`on_event` follows the run (stages, steps, validation passes, checkpoints; see
models_train/trainer.py) and may raise `StopTraining` to stop it at the next step.
"""

import glob
import json
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from models_train.dialogue import save_dialogues
from models_train.factory import BuildReport, build_dialogues, load_courses
from models_train.ramp_eval import evaluate_on_ramps, rates, sample_per_kind
from models_train.serving import TutorModel
from models_train.serving_eval import evaluate_serving

OUTPUTS = ("data", "base", "sft", "tutor", "tokenizer.json")  # what a run writes under out
PRESETS = {
    # `tutor`: options of models_train.default_tutor (its defaults where absent)
    "default": {
        "per_item": 2,
        "practice_per_item": 32,
        "tutor": {},
        "eval_per_kind": 12,
        "eval_practice": 40,
        "new_tokens": 48,
        "practice_tokens": 160,
        "serving_max_cases": None,  # every held-out case (about 400, a minute or two on a CPU)
        "serving_practice": 2,
    },
    # well under a minute; of the vendored conversations only bridge (enough text for
    # pretraining's validation split); for tests, never for learners
    "quick": {
        "per_item": 1,
        "eval_per_kind": 2,
        "eval_practice": 2,
        "new_tokens": 8,
        "practice_tokens": 16,
        "serving_max_cases": 8,
        "serving_practice": 1,
        "vendored": "bridge",
        "tutor": {
            "vocab_size": 512,
            "depth": 1,
            "seq_len": 128,
            "batch_size": 4,
            "pretrain_steps": 3,
            "sft_steps": 3,
            "eval_dialogues": 4,
            "max_new_tokens": 8,
        },
    },
}
# What a caller may change of a preset's training (TrainingRun.options, tests): sizes only.
SIZE_OPTIONS = frozenset(
    {
        "vocab_size",
        "depth",
        "seq_len",
        "batch_size",
        "pretrain_steps",
        "sft_steps",
        "sft_eval_every",
        "sft_patience",
        "ckpt_every",
        "eval_dialogues",
        "max_new_tokens",
    }
)


class DefaultTrainingError(ValueError):
    pass


def default_tutor_args(*, preset: str = "default", size: dict | None = None) -> list[str]:
    """default_tutor's size flags for a preset, with `size` (SIZE_OPTIONS) over them."""
    unknown = set(size or {}) - SIZE_OPTIONS
    if preset not in PRESETS:
        raise DefaultTrainingError(f"unknown preset {preset!r}")
    if unknown:
        raise DefaultTrainingError(f"unknown size options: {', '.join(sorted(unknown))}")
    options = {**PRESETS[preset]["tutor"], **(size or {})}
    return [a for k, v in options.items() for a in ("--" + k.replace("_", "-"), str(v))]


def default_tutor_plan(*, preset: str = "default", size: dict | None = None) -> list[dict]:
    """The stages a run goes through, with the steps of the two training stages (for ETAs)."""
    from models_train import default_tutor

    args = default_tutor.parse_args(["--out", "-", *default_tutor_args(preset=preset, size=size)])
    return [
        {"stage": "data"},
        {"stage": "tokenizer"},
        {"stage": "pretrain", "total": args.pretrain_steps},
        {"stage": "sft", "total": args.sft_steps},
        {"stage": "evaluation"},
        {"stage": "ramp evaluation"},
        {"stage": "serving evaluation"},
    ]


def shared_conversation_files() -> list[Path]:
    """The exports of the conversations learners shared, oldest name first."""
    return sorted((Path(settings.RAMP_MODEL_STORE) / "conversations").glob("*.jsonl"))


def default_tutor_train(
    *,
    out: Path,
    preset: str = "default",
    ramps: list[str] | None = None,
    seed: int = 0,
    per_item: int | None = None,
    practice_per_item: int | None = None,
    no_vendored: bool = False,
    conversations: bool = True,
    overwrite: bool = False,
    resume: bool = False,
    threads: int = 0,
    optimizer: str | None = None,
    size: dict | None = None,
    on_event: Callable[[dict], None] | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train and evaluate the default tutor into `out`; returns the summary (checkpoint,
    report path, key metrics, the SFT stage's stop, wall and CPU seconds). ``conversations``:
    also train on the conversations learners shared (``*.jsonl`` in
    RAMP_MODEL_STORE/conversations/, written by ``manage.py export_conversations``)."""
    import torch  # the factory needs none of it; imported here so the module loads fast

    from models_train import default_tutor
    from models_train.checkpoint import load_tutor
    from models_train.trainer import emit, listening

    t0, c0 = time.perf_counter(), time.process_time()
    tutor_args = default_tutor_args(preset=preset, size=size)
    spec = PRESETS[preset]
    out = Path(out)
    old = [name for name in OUTPUTS if (out / name).exists()]
    if overwrite and resume:
        raise DefaultTrainingError("--overwrite and --resume exclude each other")
    if old and not (overwrite or resume):
        raise DefaultTrainingError(
            f"{out} already holds a run ({', '.join(old)}); pass --overwrite to replace it "
            "or --resume to continue it"
        )
    for name in [] if resume else old:
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    with listening(on_event):
        emit({"event": "plan", "stages": default_tutor_plan(preset=preset, size=size)})
        emit({"event": "stage", "stage": "data"})
        refs = ramps if ramps is not None else sorted(glob.glob(str(Path(settings.BASE_DIR) / "ramps" / "*")))
        courses, errors = load_courses(refs)
        for e in errors:
            log(f"error: {e.ref}: {e.message}\n(left out)")
        if not courses:
            raise DefaultTrainingError("no ramp could be read" if refs else "no ramps given")
        report = BuildReport()
        dialogues = build_dialogues(
            courses,
            seed=seed,
            per_item=per_item or spec["per_item"],
            report=report,
            practice_per_item=practice_per_item or spec.get("practice_per_item"),
        )
        ramp_file = out / "data" / "ramps.jsonl"
        save_dialogues(dialogues, ramp_file)
        n_train = sum(1 for d in dialogues if d["split"] == "train")
        log(f"ramps: {', '.join(c.slug for c in courses)} -> {ramp_file}")
        log(f"dialogues: {n_train} train, {len(dialogues) - n_train} held out")

        files = [str(ramp_file)]
        shared = shared_conversation_files() if conversations else []
        n_shared = sum(sum(1 for line in p.open(encoding="utf-8") if line.strip()) for p in shared)
        if shared:
            files += [str(p) for p in shared]
            log(f"learners' shared conversations: {n_shared} dialogues from {len(shared)} file(s)")
        if spec.get("vendored") and not no_vendored:
            files += [str(p) for p in default_tutor.VENDORED if p.parent.name == spec["vendored"]]
        argv = ["--out", str(out), "--dialogues", *files, "--seed", str(seed), *tutor_args]
        if no_vendored or spec.get("vendored"):
            argv.append("--no-vendored")  # the chosen vendored files are in --dialogues
        if threads:
            argv += ["--threads", str(threads)]
        if resume:
            argv.append("--resume")
        if optimizer:
            argv += ["--optimizer", optimizer]
        summary = default_tutor.main(argv)

        emit({"event": "stage", "stage": "ramp evaluation"})
        tutor = Path(summary["default_tutor"])
        model, tok, _ = load_tutor(tutor)
        torch.manual_seed(seed)
        chosen = sample_per_kind(dialogues, spec["eval_per_kind"], seed, spec["eval_practice"])
        ramp_report = {
            "n_sampled": len(chosen),
            "per_kind": spec["eval_per_kind"],
            "practice": spec["eval_practice"],
            **evaluate_on_ramps(
                model,
                tok,
                courses,
                chosen,
                new_tokens=spec["new_tokens"],
                practice_tokens=spec["practice_tokens"],
                seed=seed,
            ),
        }
        # the production path (prompts, guards, fallbacks) on the same held-out concepts: what
        # the promotion gate's serving.* checks read (models_train/gate.py)
        emit({"event": "stage", "stage": "serving evaluation"})
        serving = evaluate_serving(
            TutorModel(tutor, name="candidate"),
            courses,
            practice_per_difficulty=spec["serving_practice"],
            seed=seed,
            max_cases=spec["serving_max_cases"],
            report_path=tutor / "serving-report.md",
            log=log,
        )
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
    return {
        "checkpoint": str(tutor),
        "report": str(report_path),
        "params": summary["params"],
        "train_dialogues": full.get("train_dialogues"),
        "ramp_dialogues": len(dialogues),
        "shared_conversations": n_shared,
        "courses": [c.slug for c in courses],
        "skipped_ramps": [e.ref for e in errors],
        "dialogue_loss": (summary.get("dialogue_loss") or {}).get("val_loss"),
        "val_bpb": (summary.get("dialogue_loss") or {}).get("val_bpb"),
        "all_sources": summary.get("generation"),
        "ramp_replies": rates(ramp_report, "replies"),
        "ramp_practice": rates(ramp_report, "practice"),
        "ramp_practice_constrained": rates(ramp_report, "practice_constrained"),
        "serving": serving,
        "pretrain": summary.get("pretrain"),
        "sft": summary.get("sft"),
        "wall_s": round(time.perf_counter() - t0, 1),
        "cpu_s": round(time.process_time() - c0, 1),
    }
