"""Training-throughput benchmark: our GPT vs a vanilla nanoGPT-style loop of the same shape.

    python -m benchmarks.tutor_model.bench_train             # CPU: 6L/384d, vocab 8192, seq 256 (~1 min)
    python -m benchmarks.tutor_model.bench_train --smoke     # tiny, seconds (used by the tests)
    python -m benchmarks.tutor_model.bench_train --depth 12 --seq-len 1024 --batch-size 16   # on a GPU

Both loops do forward, backward, AdamW step on random tokens, one step of each in
turn (A B B A ...: on a shared machine load then hits both alike); tokens/s come
from the median step time and the speedup is the median per-step-pair ratio. Ours
uses the trainer's optimizer (make_optimizer: AdamW with the fused kernel, on CPU
too); the baseline is the textbook GPT-2 recipe as nanoGPT runs it (learned
positions, LayerNorm with biases, GELU, tied embeddings, causal SDPA, AdamW fused
on CUDA only). On CUDA both run in bf16 autocast under
torch.compile and MFU is reported: training FLOPs per token (6 per weight plus
attention, GPT.flops_per_token) x tokens/s over the card's dense bf16 peak.
The last line is one JSON summary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from models_train.gpt import GPT, GPTConfig
from models_train.trainer import TrainConfig, make_optimizer

BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12, "4090": 165e12}


class VanillaBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class VanillaGPT(nn.Module):
    """nanoGPT's model, written plainly: the baseline the benchmark compares against."""

    def __init__(self, n_layer, n_embd, n_head, vocab, seq):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, n_embd), nn.Embedding(seq, n_embd)
        self.blocks = nn.ModuleList(VanillaBlock(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab, bias=False)
        self.head.weight = self.wte.weight
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1), device=idx.device))
        for b in self.blocks:
            x = b(x)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1))


def make_stepper(model, batch, seq, vocab, device, compile_, opt):
    """One training step (forward, backward, optimizer) on a fixed random batch, as a closure."""
    fwd = torch.compile(model) if compile_ else model
    ctx = (
        (lambda: torch.autocast("cuda", dtype=torch.bfloat16))
        if device.type == "cuda"
        else contextlib.nullcontext
    )
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, vocab, (batch, seq + 1), generator=g).to(device)

    def step():
        with ctx():
            loss = fwd(x[:, :-1], x[:, 1:])
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    return step


def time_interleaved(steppers: dict, steps: int, warmup: int, device) -> dict:
    """Per-step seconds of each stepper, run alternately (A, B, B, A, ...) so load hits all alike."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    names = list(steppers)
    times = {k: [] for k in names}
    for i in range(warmup + steps):
        for k in names if i % 2 == 0 else names[::-1]:
            sync()
            t0 = time.perf_counter()
            steppers[k]()
            sync()
            if i >= warmup:
                times[k].append(time.perf_counter() - t0)
    return times


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("shape")
    g.add_argument("--depth", type=int, default=6)
    g.add_argument("--vocab", type=int, default=8192)
    g.add_argument("--seq-len", type=int, default=256)
    g.add_argument("--batch-size", type=int, default=4)
    g = ap.add_argument_group("run")
    g.add_argument("--steps", type=int, default=10, help="timed steps of each loop, interleaved")
    g.add_argument("--warmup", type=int, default=2)
    g.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    g.add_argument("--device", default="auto")
    g.add_argument("--no-compile", action="store_true")
    g.add_argument("--no-baseline", action="store_true")
    g.add_argument(
        "--optimizer",
        choices=("adamw", "muon"),
        default="adamw",
        help="ours: the trainer's AdamW, or Muon for the matrices "
        "(its Newton-Schulz work is not in MFU's count)",
    )
    g.add_argument("--smoke", action="store_true", help="tiny shape, 2 steps (for tests)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.depth, args.vocab, args.seq_len, args.batch_size, args.steps, args.warmup = 1, 256, 32, 2, 2, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    compile_ = device.type == "cuda" and not args.no_compile
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    cfg = GPTConfig.from_depth(args.depth, args.vocab, args.seq_len)
    torch.manual_seed(0)
    ours = GPT(cfg).init_weights(0).to(device)
    # Ours trains with the trainer's optimizer (AdamW, fused kernel on CPU and CUDA); the
    # baseline with nanoGPT's choice (fused on CUDA only, PyTorch's default loop on CPU).
    steppers = {
        "ours": make_stepper(
            ours,
            args.batch_size,
            args.seq_len,
            args.vocab,
            device,
            compile_,
            make_optimizer(
                ours, TrainConfig(lr=1e-4, embed_lr=1e-4, muon_lr=1e-3, optimizer=args.optimizer), device
            ),
        )
    }
    if not args.no_baseline:
        base = VanillaGPT(cfg.n_layer, cfg.n_embd, cfg.n_head, args.vocab, args.seq_len).to(device)
        opt = torch.optim.AdamW(base.parameters(), lr=1e-4, fused=device.type == "cuda")
        steppers["nanogpt"] = make_stepper(
            base, args.batch_size, args.seq_len, args.vocab, device, compile_, opt
        )
    times = time_interleaved(steppers, args.steps, args.warmup, device)
    tokens = args.batch_size * args.seq_len
    tok_s = tokens / statistics.median(times["ours"])
    flops = ours.flops_per_token(args.seq_len)
    res = {
        "bench": "train",
        "optimizer": args.optimizer,
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "depth": args.depth,
        "n_embd": cfg.n_embd,
        "vocab": args.vocab,
        "seq_len": args.seq_len,
        "batch_size": args.batch_size,
        "params": ours.num_params(),
        "compile": compile_,
        "steps": args.steps,
        "ours_tok_s": round(tok_s, 1),
        "flops_per_token": flops,
    }
    if not args.no_baseline:
        res["nanogpt_tok_s"] = round(tokens / statistics.median(times["nanogpt"]), 1)
        # median over steps of the per-step ratio (the two ran back to back)
        pairs = zip(times["ours"], times["nanogpt"])
        res["speedup_vs_nanogpt"] = round(statistics.median(b / a for a, b in pairs), 2)
    res["load_avg"] = [round(x, 1) for x in os.getloadavg()]
    if device.type == "cuda":
        name = torch.cuda.get_device_name()
        peak = next((v for k, v in BF16_PEAK.items() if k in name), None)
        res["mfu"] = round(flops * tok_s / peak, 4) if peak else None
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
