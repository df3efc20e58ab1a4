"""Supervised fine-tuning on tutoring dialogues (loss only on tutor turns).

    # tiny CPU run (~1 minute), after the pretrain example in pretrain.py:
    python -m models_train.sft --init /tmp/ramp/base/ckpt/step_000100 \
        --dialogues models_train/data/tutoring/*/dialogues.jsonl --out /tmp/ramp/sft \
        --steps 50 --batch-size 8 --seq-len 256 --eval-every 25
    # GPUs: torchrun --standalone --nproc_per_node=8 -m models_train.sft --init ... (same flags)

Dialogues whose `split` is "heldout" are the validation set, the rest train; each pass
scores a fixed, seeded sample of --eval-batches batches of them, drawn from every source.
Early stopping is on by default (--patience 3): the run keeps the model with the lowest
validation loss (<out>/best/, the result) and stops after 3 passes without improvement.
Without --init a fresh model (--depth ...) is trained from scratch, which needs --tokenizer.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch

from .checkpoint import load_tutor
from .common import print0, setup, teardown
from .data import DialogueBatches
from .dialogue import by_split, load_dialogues
from .gpt import GPT
from .pretrain import add_model_args, model_config
from .tokenizer import Tokenizer
from .trainer import TrainConfig, add_train_args, train, train_config_from_args

SFT_DEFAULTS = TrainConfig(
    steps=300, lr=1e-3, embed_lr=1e-2, warmup_steps=10, decay_frac=0.5, eval_every=100, patience=3
)


def main(argv=None, on_event=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("data")
    g.add_argument("--init", help="checkpoint folder to start from (pretrained base)")
    g.add_argument("--tokenizer", help="tokenizer file (only without --init)")
    g.add_argument("--dialogues", nargs="+", required=True, help="dialogue JSONL files")
    g.add_argument("--out", required=True, help="run folder")
    g.add_argument("--device", default="auto")
    add_model_args(ap)
    add_train_args(ap, SFT_DEFAULTS)
    args = ap.parse_args(argv)
    cfg = train_config_from_args(args)
    d = setup(args.device)
    if args.init:
        model, tok, _ = load_tutor(args.init)
    else:
        if not args.tokenizer:
            ap.error("--tokenizer is needed without --init")
        tok = Tokenizer.load(args.tokenizer)
        model = GPT(model_config(args, tok.vocab_size)).init_weights(cfg.seed)
    dialogues = load_dialogues(args.dialogues)
    train_d, held = by_split(dialogues, "train"), by_split(dialogues, "heldout")
    print0(
        d, f"{len(train_d)} train and {len(held)} held-out dialogues; model {model.num_params():,} parameters"
    )
    seq = min(args.seq_len, 2 * model.config.sequence_len)
    train_b = DialogueBatches(tok, train_d, cfg.batch_size, seq, seed=cfg.seed)
    # Validation scores the first --eval-batches batches: shuffled, they are a sample of every
    # source rather than the first file's dialogues (the vendored conversations came first,
    # so the validation loss used to measure those alone, not the ramps' dialogues).
    held = random.Random(cfg.seed).sample(held, len(held))
    val_b = DialogueBatches(tok, held, cfg.batch_size, seq, seed=cfg.seed) if held else None
    metrics = train(
        model,
        train_b,
        val_b,
        cfg,
        Path(args.out),
        d=d,
        tokenizer=tok,
        token_bytes=torch.tensor(tok.token_bytes()),
        data_info={
            "kind": "sft",
            "dialogue_files": [str(p) for p in args.dialogues],
            "train": len(train_d),
            "heldout": len(held),
            "init": args.init,
        },
        extra_meta={"stage": "sft"},
        on_event=on_event,
    )
    print0(d, json.dumps({"stage": "sft", **metrics}))
    teardown(d)
    return metrics


if __name__ == "__main__":
    main()
