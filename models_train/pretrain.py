"""Pretrain the GPT on plain text.

    # tiny CPU run (~1 minute): tokenizer first, then 100 steps of a 2-layer model
    python -m models_train.train_tokenizer --data models_train/data/tutoring/*/dialogues.jsonl \
        --vocab-size 2048 --out /tmp/ramp/tok.json
    python -m models_train.pretrain --tokenizer /tmp/ramp/tok.json \
        --data models_train/data/tutoring/*/dialogues.jsonl --out /tmp/ramp/base \
        --depth 2 --seq-len 128 --batch-size 8 --steps 100 --eval-every 50
    # 8 GPUs:
    torchrun --standalone --nproc_per_node=8 -m models_train.pretrain --tokenizer tok.json \
        --data shards... --out runs/base --depth 12 --seq-len 1024 --batch-size 32 --steps 5000

The corpus is tokenised once into <out>/shards (reused while the tokenizer and
file list are unchanged). Checkpoints go to <out>/ckpt/step_*/, metrics to
<out>/metrics.jsonl; rerunning the same command resumes from the last checkpoint.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.distributed as dist

from .common import print0, setup, teardown
from .data import TokenBatches, build_shards
from .gpt import GPT, GPTConfig
from .tokenizer import Tokenizer
from .trainer import TrainConfig, add_train_args, train, train_config_from_args


def add_model_args(ap) -> None:
    g = ap.add_argument_group("model")
    g.add_argument("--depth", type=int, default=6, help="layers; width = depth * aspect")
    g.add_argument("--aspect", type=int, default=64, help="width per layer of depth")
    g.add_argument("--head-dim", type=int, default=64)
    g.add_argument(
        "--kv-ratio", type=int, default=1, help="query heads per kv head (>1: grouped-query attention)"
    )
    g.add_argument("--seq-len", type=int, default=512, help="training context length")


def model_config(args, vocab_size: int) -> GPTConfig:
    return GPTConfig.from_depth(
        args.depth, vocab_size, args.seq_len, args.aspect, args.head_dim, args.kv_ratio
    )


def prepare_shards(tok: Tokenizer, paths, out: Path, d, val_fraction: float, seed: int) -> dict:
    shard_dir = out / "shards"
    man_path = shard_dir / "manifest.json"
    want = {"tokenizer_id": tok.id, "sources": [str(p) for p in paths]}
    if d.master:
        man = json.loads(man_path.read_text()) if man_path.exists() else {}
        if {k: man.get(k) for k in want} != want:
            print0(d, f"tokenising {len(paths)} file(s) into {shard_dir}")
            build_shards(tok, paths, shard_dir, val_fraction=val_fraction, seed=seed)
    if d.world_size > 1:
        dist.barrier()
    return json.loads(man_path.read_text())


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("data")
    g.add_argument("--tokenizer", required=True, help="tokenizer file from train_tokenizer")
    g.add_argument("--data", nargs="+", required=True, help="corpus files (.txt, .jsonl, .parquet)")
    g.add_argument(
        "--val-fraction", type=float, default=0.05, help="share of documents held out for validation"
    )
    g.add_argument("--out", required=True, help="run folder")
    g.add_argument("--device", default="auto")
    add_model_args(ap)
    add_train_args(ap, TrainConfig())
    args = ap.parse_args(argv)
    cfg = train_config_from_args(args)
    d = setup(args.device)
    out = Path(args.out)
    tok = Tokenizer.load(args.tokenizer)
    man = prepare_shards(tok, args.data, out, d, args.val_fraction, cfg.seed)
    mcfg = model_config(args, tok.vocab_size)
    torch.manual_seed(cfg.seed)
    model = GPT(mcfg).init_weights(cfg.seed)
    print0(d, f"model: {model.num_params():,} parameters, {mcfg}")
    train_b = TokenBatches(out / "shards", "train", cfg.batch_size, mcfg.sequence_len, seed=cfg.seed)
    val_b = TokenBatches(out / "shards", "val", cfg.batch_size, mcfg.sequence_len, seed=cfg.seed)
    metrics = train(
        model,
        train_b,
        val_b,
        cfg,
        out,
        d=d,
        tokenizer=tok,
        token_bytes=torch.tensor(tok.token_bytes()),
        data_info={"kind": "pretrain", **man},
        extra_meta={"stage": "pretrain"},
    )
    print0(d, json.dumps({"stage": "pretrain", "params": model.num_params(), **metrics}))
    teardown(d)
    return metrics


if __name__ == "__main__":
    main()
