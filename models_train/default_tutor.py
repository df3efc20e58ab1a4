"""Build the default tutor on a laptop CPU in a few minutes: tokenizer, pretrain, SFT, eval.

    python -m models_train.default_tutor --out var/models/default
    python -m models_train.default_tutor --out var/models/default --dialogues ramps_dialogues.jsonl

Uses the vendored real tutoring conversations (models_train/data/tutoring/) plus
any dialogue JSONL files given (e.g. the Django dialogue factory's output). Only
dialogues with split == "train" are trained on, text and tutoring alike; the
held-out ones are the evaluation. Writes:
    <out>/tokenizer.json, <out>/base/ (pretraining run), <out>/sft/ (SFT run)
    <out>/tutor/            the final checkpoint (self-contained: weights, tokenizer, meta)
    <out>/tutor/report.json the evaluation report
and prints one JSON summary line last. Deterministic from --seed.

Checkpoints every --ckpt-every steps; with --resume a run interrupted midway (a worker that
died) keeps its tokenizer and continues pretraining/SFT from the last checkpoints, exactly
as the uninterrupted run would have (the trainers resume exactly; the data files are
rebuilt identically from the same inputs and seed).

SFT stops early: every --sft-eval-every steps it scores a sample of the held-out dialogues,
keeps the best model (the result) and stops after --sft-patience passes without improvement.
The summary's "sft" says where it stopped and why, with the train and validation losses.

From Python (what the Django side does), `main(argv, on_event=listener)` also reports every
step, validation pass, checkpoint and stage to the listener, which may raise
`trainer.StopTraining` to stop the run (see models_train/trainer.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch

from . import evaluate, pretrain, sft, train_tokenizer
from .checkpoint import load_tutor
from .dialogue import by_split, load_dialogues, save_dialogues
from .trainer import best_checkpoint, emit, latest_checkpoint, listening

VENDORED = sorted((Path(__file__).parent / "data" / "tutoring").glob("*/dialogues.jsonl"))


def main(argv=None, on_event=None) -> dict:
    if on_event is None:  # keep a listener set further up (the Django side's)
        return _main(argv)
    with listening(on_event):
        return _main(argv)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("data")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--dialogues", nargs="*", default=[], help="extra dialogue JSONL files")
    g.add_argument("--no-vendored", action="store_true", help="leave out the vendored real conversations")
    g = ap.add_argument_group("size (defaults fit ~6 minutes on 2 idle CPU cores)")
    g.add_argument("--vocab-size", type=int, default=4096)
    g.add_argument("--depth", type=int, default=3)
    g.add_argument("--aspect", type=int, default=64)
    g.add_argument("--seq-len", type=int, default=256, help="pretraining window (the model's sequence_len)")
    g.add_argument(
        "--sft-seq-len",
        type=int,
        default=None,
        help="fine-tuning window (default: --seq-len; at most twice it). At 256 the end of a "
        "quarter of the ramps' practice dialogues is cut; 512 took 764 s instead of 470 s "
        "for the same practice score (docs/models.md)",
    )
    g.add_argument("--batch-size", type=int, default=16)
    g.add_argument("--pretrain-steps", type=int, default=100)
    g.add_argument("--sft-steps", type=int, default=1000, help="at most (early stopping may end it sooner)")
    g.add_argument(
        "--pretrain-eval-every", type=int, default=25, help="steps between validation passes (loss curve)"
    )
    g.add_argument("--sft-eval-every", type=int, default=50, help="steps between validation passes")
    g.add_argument("--sft-eval-batches", type=int, default=8, help="held-out batches per validation pass")
    g.add_argument(
        "--sft-patience",
        type=int,
        default=3,
        help="stop SFT after this many validation passes without improvement (0: never)",
    )
    g.add_argument("--eval-dialogues", type=int, default=40)
    g.add_argument("--max-new-tokens", type=int, default=40)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    g.add_argument(
        "--ckpt-every", type=int, default=100, help="steps between checkpoints (pretraining and SFT)"
    )
    g.add_argument(
        "--optimizer",
        choices=("adamw", "muon"),
        default="muon",
        help="for pretraining and SFT (Muon: held-out loss 3.035 vs 3.107 with AdamW, docs/models.md)",
    )
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in --out (keep its tokenizer and checkpoints)",
    )
    return ap.parse_args(argv)


def _main(argv) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    out = Path(args.out)
    files = ([] if args.no_vendored else VENDORED) + [Path(p) for p in args.dialogues]
    dialogues = load_dialogues(files)
    train_d, held = by_split(dialogues, "train"), by_split(dialogues, "heldout")
    save_dialogues(train_d, out / "data" / "train.jsonl")
    save_dialogues(held, out / "data" / "heldout.jsonl")
    all_files = [str(out / "data" / "train.jsonl"), str(out / "data" / "heldout.jsonl")]
    train_file = all_files[:1]

    tok_path = str(out / "tokenizer.json")
    emit({"event": "stage", "stage": "tokenizer"})
    if args.resume and Path(tok_path).exists():
        print(f"resuming: keeping {tok_path}")
    else:
        for stale in ("base", "sft"):  # checkpoints of another tokenizer would be refused
            if (out / stale).exists():
                shutil.rmtree(out / stale)
        train_tokenizer.main(["--data", *train_file, "--vocab-size", str(args.vocab_size), "--out", tok_path])
    common = [
        "--depth",
        str(args.depth),
        "--aspect",
        str(args.aspect),
        "--batch-size",
        str(args.batch_size),
        "--seed",
        str(args.seed),
        "--device",
        "cpu",
        "--log-every",
        "25",
        "--ckpt-every",
        str(args.ckpt_every),
        "--optimizer",
        args.optimizer,
    ]
    pretrained = pretrain.main(
        [
            "--tokenizer",
            tok_path,
            "--data",
            *train_file,
            "--out",
            str(out / "base"),
            "--steps",
            str(args.pretrain_steps),
            "--eval-every",
            str(args.pretrain_eval_every),
            "--warmup-steps",
            "20",
            "--seq-len",
            str(args.seq_len),
            *common,
        ]
    )
    base = latest_checkpoint(out / "base")
    tuned = sft.main(
        [
            "--init",
            str(base),
            "--dialogues",
            *all_files,
            "--out",
            str(out / "sft"),
            "--steps",
            str(args.sft_steps),
            "--eval-every",
            str(args.sft_eval_every),
            "--eval-batches",
            str(args.sft_eval_batches),
            "--patience",
            str(args.sft_patience),
            "--seq-len",
            str(args.sft_seq_len or args.seq_len),
            *common,
        ]
    )
    final = best_checkpoint(out / "sft") or latest_checkpoint(out / "sft")
    emit({"event": "stage", "stage": "evaluation"})
    tutor = out / "tutor"
    if tutor.exists():
        shutil.rmtree(tutor)
    shutil.copytree(final, tutor)
    model, tok, meta = load_tutor(tutor)
    report = evaluate.evaluate_model(
        model,
        tok,
        held,
        max_dialogues=args.eval_dialogues,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
    )
    report = {
        "checkpoint": str(tutor),
        "params": model.num_params(),
        "config": meta["config"],
        "tokenizer_id": tok.id,
        "train_dialogues": len(train_d),
        "pretrain": _stage_summary(pretrained, args.pretrain_steps),
        "sft": _stage_summary(tuned, args.sft_steps),
        **report,
    }
    (tutor / "report.json").write_text(json.dumps(report, indent=1))
    summary = {
        "default_tutor": str(tutor),
        "params": model.num_params(),
        "seconds": round(time.perf_counter() - t0, 1),
        "dialogue_loss": report.get("dialogue_loss"),
        "generation": report["generation"].get("all"),
        "pretrain": report["pretrain"],
        "sft": report["sft"],
    }
    print(json.dumps(summary))
    return summary


def _stage_summary(metrics: dict, planned: int) -> dict:
    """Where a training stage ended and why, with its final train and validation losses."""
    keys = ("step", "train_loss", "train_loss_mean", "val_loss", "val_bpb", "best_step", "last_eval")
    return {
        "planned_steps": planned,
        **{k: metrics[k] for k in keys if k in metrics},
        "stopped_early": metrics.get("stopped_early", False),
        "stop_reason": metrics.get("stop_reason") or f"ran all {planned} steps",
    }


if __name__ == "__main__":
    main()
