"""Inference benchmark: batch-1 decoding speed on CPU, ours vs Hugging Face transformers.

    python -m models_train.bench_infer              # both shapes, one CPU thread (~1-2 min)
    python -m models_train.bench_infer --smoke      # tiny shape, seconds (used by the tests)
    python -m models_train.bench_infer --threads 2 --new-tokens 256

For each shape (6 layers x 384 wide, vocab 8192; 12 x 768, vocab 32768) it times,
from random weights: our Engine (KV cache, greedy), our model without the cache
(full recompute per token), and transformers' GPT-2 of the same shape with
`generate` (skipped with a message when transformers is not installed). The
last line printed is one JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from .engine import Engine, generate_uncached
from .gpt import GPT, GPTConfig

SHAPES = {"6L-384d": (6, 384, 8192), "12L-768d": (12, 768, 32768)}
SMOKE_SHAPES = {"2L-64d": (2, 64, 512)}


def random_model(depth: int, width: int, vocab: int, seq: int, seed: int = 0) -> GPT:
    cfg = GPTConfig(sequence_len=seq, vocab_size=vocab, n_layer=depth, n_embd=width, n_head=width // 64 or 1,
                    n_kv_head=width // 64 or 1)
    model = GPT(cfg).init_weights(seed)
    # Zero-initialised projections would make every logit equal; give them random weights
    # so greedy decoding walks a realistic path through the vocabulary.
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed + 1)
        for name, p in model.named_parameters():
            if "c_proj" in name or "lm_head" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
    return model.eval()


def time_ours(model: GPT, prompt: list[int], n: int, reps: int) -> dict:
    engine = Engine(model)
    best = None
    for _ in range(reps):
        t0 = time.perf_counter()
        it = engine.stream(prompt, max_tokens=n, temperature=0.0)
        next(it)
        t1 = time.perf_counter()
        k = 1 + sum(1 for _ in it)
        t2 = time.perf_counter()
        r = {"ttft_ms": (t1 - t0) * 1e3, "tok_s": (k - 1) / (t2 - t1), "tokens": k}
        best = r if best is None or r["tok_s"] > best["tok_s"] else best
    return best


def time_uncached(model: GPT, prompt: list[int], n: int) -> dict:
    t0 = time.perf_counter()
    generate_uncached(model, prompt, n)
    return {"tok_s": n / (time.perf_counter() - t0), "tokens": n}


def time_hf(depth: int, width: int, vocab: int, seq: int, prompt: list[int], n: int, reps: int) -> dict | None:
    try:
        import transformers
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        print("transformers not installed: skipping the Hugging Face baseline (pip install transformers)")
        return None
    transformers.logging.set_verbosity_error()
    cfg = GPT2Config(vocab_size=vocab, n_positions=seq, n_embd=width, n_layer=depth, n_head=width // 64 or 1)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(cfg).eval()
    ids = torch.tensor([prompt])
    kw = dict(do_sample=False, pad_token_id=0, eos_token_id=None, attention_mask=torch.ones_like(ids))
    best = None
    with torch.inference_mode():
        model.generate(ids, max_new_tokens=2, min_new_tokens=2, **kw)  # warm up
        for _ in range(reps):
            t0 = time.perf_counter()
            model.generate(ids, max_new_tokens=1, min_new_tokens=1, **kw)
            t1 = time.perf_counter()
            model.generate(ids, max_new_tokens=n, min_new_tokens=n, **kw)
            t2 = time.perf_counter()
            ttft = t1 - t0
            r = {"ttft_ms": ttft * 1e3, "tok_s": (n - 1) / ((t2 - t1) - ttft), "tokens": n,
                 "version": transformers.__version__}
            best = r if best is None or r["tok_s"] > best["tok_s"] else best
    return best


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("run")
    g.add_argument("--smoke", action="store_true", help="tiny shape, few tokens (for tests)")
    g.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    g.add_argument("--prompt-len", type=int, default=64)
    g.add_argument("--new-tokens", type=int, default=128)
    g.add_argument("--uncached-tokens", type=int, default=32, help="tokens for the full-recompute reference")
    g.add_argument("--reps", type=int, default=3, help="repetitions; the best is reported")
    g.add_argument("--no-hf", action="store_true", help="skip the transformers baseline")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    shapes = SMOKE_SHAPES if args.smoke else SHAPES
    if args.smoke:
        args.prompt_len, args.new_tokens, args.uncached_tokens, args.reps = 8, 8, 4, 1
    results = {}
    for name, (depth, width, vocab) in shapes.items():
        seq = args.prompt_len + args.new_tokens
        model = random_model(depth, width, vocab, seq)
        g = torch.Generator().manual_seed(0)
        prompt = torch.randint(0, vocab, (args.prompt_len,), generator=g).tolist()
        time_ours(model, prompt, 4, 1)  # warm up allocator and kernels
        ours = time_ours(model, prompt, args.new_tokens, args.reps)
        unc = time_uncached(model, prompt, args.uncached_tokens)
        hf = None if args.no_hf else time_hf(depth, width, vocab, seq, prompt, args.new_tokens, args.reps)
        r = {"params": model.num_params(), "ours_tok_s": round(ours["tok_s"], 1),
             "ours_ttft_ms": round(ours["ttft_ms"], 2), "uncached_tok_s": round(unc["tok_s"], 1),
             "cache_speedup": round(ours["tok_s"] / unc["tok_s"], 2)}
        if hf:
            r.update(hf_tok_s=round(hf["tok_s"], 1), hf_ttft_ms=round(hf["ttft_ms"], 2),
                     speedup_vs_hf=round(ours["tok_s"] / hf["tok_s"], 2))
        results[name] = r
        print(name, json.dumps(r), flush=True)
        del model
    summary = {"bench": "infer", "device": "cpu", "threads": args.threads, "prompt_len": args.prompt_len,
               "new_tokens": args.new_tokens, "torch": torch.__version__, "shapes": results}
    try:
        import transformers
        summary["transformers"] = transformers.__version__
    except ImportError:
        summary["transformers"] = None
    print(json.dumps(summary))
    sys.stdout.flush()
    return summary


if __name__ == "__main__":
    main()
