"""Inference benchmark: batch-1 decoding speed on CPU, ours vs Hugging Face transformers.

    python -m benchmarks.tutor_model.bench_infer              # both shapes, one CPU thread (~5-10 min loaded)
    python -m benchmarks.tutor_model.bench_infer --smoke      # tiny shape, seconds (used by the tests)
    python -m benchmarks.tutor_model.bench_infer --threads 2 --new-tokens 128 --reps 3 --shapes 6L-384d

For each shape (6 layers x 384 wide, vocab 8192; 12 x 768, vocab 32768), from random
weights, greedy, a 64-token prompt and 256 new tokens (contexts 64 .. 320):

- ours: Engine.stream with the KV cache (eager, the default);
- compiled: the same with Engine(compile=True) (decode step under torch.compile; its
  one-off compile time is reported as compile_s, not counted in tokens/s);
- int8: the same with Engine(int8=True) (decode steps with int8 weights, gpt.Int8Weights;
  packing the weights once per model is reported as int8_pack_s);
- hf: transformers' GPT2LMHeadModel.generate of the same shape (skipped with a message
  when transformers is not installed), timed per token through a streamer;
- uncached: the full recompute (generate_uncached's step: the whole context through
  every layer, last position's logits, argmax) at `--uncached-samples` context lengths
  evenly spread over the same contexts the cached run decodes (midpoint rule: their mean
  is the mean per-token cost of the whole uncached generation, which at 12 layers would
  take minutes to run in full); each sampled step's argmax is checked against the token
  the cached engine produced there;
- floor: the output matmuls alone (every weight matrix times one vector, once): the
  memory-bound floor of any fp32 decoder that reads each weight once per token.

int8 changes the numerics, so `--quality CKPT --dialogues FILE` also measures, on a trained
checkpoint and held-out dialogues, the tutor turns' loss when decoded step by step with
fp32 and with int8 weights and how often the two pick the same next token (teacher-forced):

    python -m benchmarks.tutor_model.bench_infer --quality var/models/default/tutor \
        --dialogues var/models/default/data/heldout.jsonl

The machine may be shared, so the contenders are interleaved: each repetition runs one
of each (the order rotating), and per-token times are the medians over repetitions;
the ratios are medians of the per-repetition ratios, so a load change hits both sides
of a ratio. Decode tokens/s exclude the first token (the prefill, reported as ttft).
The last line printed is one JSON summary.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time

import torch

from models_train.engine import Engine
from models_train.gpt import GPT, GPTConfig

SHAPES = {"6L-384d": (6, 384, 8192), "12L-768d": (12, 768, 32768)}
SMOKE_SHAPES = {"2L-64d": (2, 64, 512)}


def random_model(depth: int, width: int, vocab: int, seq: int, seed: int = 0) -> GPT:
    cfg = GPTConfig(
        sequence_len=seq,
        vocab_size=vocab,
        n_layer=depth,
        n_embd=width,
        n_head=width // 64 or 1,
        n_kv_head=width // 64 or 1,
    )
    model = GPT(cfg).init_weights(seed)
    # Zero-initialised projections would make every logit equal; give them random weights
    # so greedy decoding walks a realistic path through the vocabulary.
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed + 1)
        for name, p in model.named_parameters():
            if "c_proj" in name or "lm_head" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
    return model.eval()


def time_ours(engine: Engine, prompt: list[int], n: int) -> dict:
    """One greedy generation of n tokens: ttft and the per-token time of tokens 2..n."""
    gc.collect()
    t0 = time.perf_counter()
    it = engine.stream(prompt, max_tokens=n, temperature=0.0)
    first = next(it)
    t1 = time.perf_counter()
    tokens = [first, *it]
    t2 = time.perf_counter()
    return {"ttft": t1 - t0, "tok": (t2 - t1) / (len(tokens) - 1), "tokens": tokens}


def time_uncached(model: GPT, seq: list[int], prompt_len: int, n: int, samples: int) -> dict:
    """Mean per-token time of full-recompute decoding over contexts prompt_len+1 .. prompt_len+n-1.

    Token i (0-based) of an uncached generation costs one forward over prompt_len + i
    tokens; `samples` midpoints of that range are timed. seq = prompt + the tokens the
    cached engine generated, so each sampled step can be checked against it.
    """
    gc.collect()
    agree, dt = 0, 0.0
    with torch.inference_mode():
        for j in range(samples):
            i = 1 + int((j + 0.5) * (n - 1) / samples)  # token index in 1 .. n-1
            ids = torch.tensor([seq[: prompt_len + i]])
            t0 = time.perf_counter()
            nxt = int(model(ids, last_only=True)[:, -1].argmax(-1))
            dt += time.perf_counter() - t0
            agree += nxt == seq[prompt_len + i]
    return {"tok": dt / samples, "agree": agree}


def weight_floor(model: GPT):
    """The output matmuls of one decode step and nothing else (x @ W.T for every matrix)."""
    mats = [p.detach() for name, p in model.named_parameters() if p.dim() == 2 and not name.startswith("wte")]
    xs = {w.shape[1]: torch.randn(1, w.shape[1]) for w in mats}

    def run(n: int) -> dict:
        with torch.inference_mode():
            t0 = time.perf_counter()
            for _ in range(n):
                for w in mats:
                    torch.mm(xs[w.shape[1]], w.t())
            return {"tok": (time.perf_counter() - t0) / n}

    return run


class _Clock:
    """A transformers streamer that only records when each put() arrives (the prompt first)."""

    def __init__(self):
        self.times = []

    def put(self, value):
        self.times.append(time.perf_counter())

    def end(self):
        pass


def hf_runner(depth: int, width: int, vocab: int, seq: int, prompt: list[int]):
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

    def run(n: int) -> dict:
        gc.collect()
        clock = _Clock()
        with torch.inference_mode():
            t0 = time.perf_counter()
            model.generate(ids, max_new_tokens=n, min_new_tokens=n, streamer=clock, **kw)
        t = clock.times  # t[0]: the prompt, t[1]: first new token, t[-1]: last
        return {"ttft": t[1] - t0, "tok": (t[-1] - t[1]) / (len(t) - 2)}

    run.params = sum(p.numel() for p in model.parameters())
    return run


def warmed(engine: Engine, prompt: list[int]) -> tuple[Engine, float]:
    """The engine after a first short generation, and the seconds that took."""
    t0 = time.perf_counter()
    time_ours(engine, prompt, 4)
    return engine, time.perf_counter() - t0


def bench_shape(args, depth: int, width: int, vocab: int) -> dict:
    """One model shape: every contender timed over interleaved repetitions (medians)."""
    n, P = args.new_tokens, args.prompt_len
    seq = P + n
    model = random_model(depth, width, vocab, seq)
    engine = Engine(model)
    prompt = torch.randint(0, vocab, (P,), generator=torch.Generator().manual_seed(0)).tolist()
    hf = None if args.no_hf else hf_runner(depth, width, vocab, seq, prompt)
    floor = weight_floor(model)
    # Warm up every contender (allocator, MKL's first calls); the first greedy run
    # also gives the sequence the uncached steps are timed (and checked) on.
    gen = prompt + time_ours(engine, prompt, n)["tokens"]
    time_uncached(model, gen, P, n, 1)
    floor(4)
    if hf:
        hf(4)
    # one-off costs, timed apart from tokens/s: compiling the decode step, packing int8 weights
    compiled, compile_s = (None, None) if args.no_compile else warmed(Engine(model, compile=True), prompt)
    int8, pack_s = (None, None) if args.no_int8 else warmed(Engine(model, int8=True), prompt)
    runs = {
        "ours": lambda: time_ours(engine, prompt, n),
        "uncached": lambda: time_uncached(model, gen, P, n, args.uncached_samples),
        "floor": lambda: floor(32),
    }
    if hf:
        runs["hf"] = lambda: hf(n)
    if compiled:
        runs["compiled"] = lambda: time_ours(compiled, prompt, n)
    if int8:
        runs["int8"] = lambda: time_ours(int8, prompt, n)
    order = list(runs)
    reps = {k: [] for k in order}
    for r in range(args.reps):
        for k in order[r % len(order) :] + order[: r % len(order)]:  # rotate who goes first
            reps[k].append(runs[k]())
    med = {k: statistics.median(x["tok"] for x in v) for k, v in reps.items()}

    def ratio(a, b):  # median over repetitions of time(a) / time(b)
        return round(statistics.median(x["tok"] / y["tok"] for x, y in zip(reps[a], reps[b])), 2)

    res = {
        "params": model.num_params(),
        "ours_tok_s": round(1 / med["ours"], 1),
        "ours_ttft_ms": round(1e3 * statistics.median(x["ttft"] for x in reps["ours"]), 2),
        "uncached_tok_s": round(1 / med["uncached"], 2),
        "cache_speedup": ratio("uncached", "ours"),
        "uncached_agree": f"{sum(x['agree'] for x in reps['uncached'])}/{args.reps * args.uncached_samples}",
        "floor_tok_s": round(1 / med["floor"], 1),
        "ours_vs_floor": ratio("ours", "floor"),
    }
    if hf:
        res.update(
            hf_tok_s=round(1 / med["hf"], 1),
            hf_ttft_ms=round(1e3 * statistics.median(x["ttft"] for x in reps["hf"]), 2),
            speedup_vs_hf=ratio("hf", "ours"),
        )
    if compiled:
        res.update(
            compiled_tok_s=round(1 / med["compiled"], 1),
            compile_s=round(compile_s, 1),
            compiled_cache_speedup=ratio("uncached", "compiled"),
            compiled_vs_floor=ratio("compiled", "floor"),
        )
        if hf:
            res["compiled_speedup_vs_hf"] = ratio("hf", "compiled")
    if int8:
        res.update(
            int8_tok_s=round(1 / med["int8"], 1),
            int8_pack_s=round(pack_s, 2),
            int8_cache_speedup=ratio("uncached", "int8"),
            int8_speedup_vs_fp32=ratio("ours", "int8"),
            int8_vs_fp32_floor=ratio("floor", "int8"),
        )
        if hf:
            res["int8_speedup_vs_hf"] = ratio("hf", "int8")
    return res


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("run")
    g.add_argument("--smoke", action="store_true", help="tiny shape, few tokens (for tests)")
    g.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    g.add_argument("--shapes", nargs="*", default=list(SHAPES), help=f"any of {list(SHAPES)}")
    g.add_argument("--prompt-len", type=int, default=64)
    g.add_argument("--new-tokens", type=int, default=256)
    g.add_argument(
        "--uncached-samples", type=int, default=8, help="context lengths the full recompute is timed at"
    )
    g.add_argument("--reps", type=int, default=5, help="interleaved repetitions; medians are reported")
    g.add_argument("--no-hf", action="store_true", help="skip the transformers baseline")
    g.add_argument("--no-compile", action="store_true", help="skip Engine(compile=True)")
    g.add_argument("--no-int8", action="store_true", help="skip Engine(int8=True)")
    g.add_argument(
        "--quality", metavar="CKPT", help="a trained checkpoint: int8 vs fp32 loss and next-token agreement"
    )
    g.add_argument("--dialogues", nargs="*", default=[], help="held-out dialogue JSONL for --quality")
    g.add_argument("--quality-dialogues", type=int, default=60)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    shapes = SMOKE_SHAPES if args.smoke else {k: SHAPES[k] for k in args.shapes}
    if args.smoke:
        args.prompt_len, args.new_tokens, args.uncached_samples, args.reps = 8, 8, 2, 1
        args.no_compile = True  # compiling takes seconds; tests cover Engine(compile=True) directly
    n, P = args.new_tokens, args.prompt_len
    load_before = os.getloadavg()
    results = {}
    for name, (depth, width, vocab) in shapes.items():
        results[name] = bench_shape(args, depth, width, vocab)
        print(name, json.dumps(results[name]), flush=True)
    summary = {
        "bench": "infer",
        "device": "cpu",
        "threads": args.threads,
        "prompt_len": P,
        "new_tokens": n,
        "reps": args.reps,
        "uncached_samples": args.uncached_samples,
        "torch": torch.__version__,
        "load_avg": [round(x, 1) for x in (*load_before, *os.getloadavg())],
        "shapes": results,
    }
    try:
        import transformers

        summary["transformers"] = transformers.__version__
    except ImportError:
        summary["transformers"] = None
    if args.quality:
        summary["int8_quality"] = int8_quality(args.quality, args.dialogues, args.quality_dialogues)
        print("int8 quality", json.dumps(summary["int8_quality"]), flush=True)
    print(json.dumps(summary))
    sys.stdout.flush()
    return summary


@torch.inference_mode()
def int8_quality(ckpt: str, dialogue_files: list[str], limit: int) -> dict:
    """Teacher-forced over held-out tutor turns (up to 64 tokens each): mean loss per token
    when every token after the prompt is decoded with fp32 and with int8 weights, and the
    share of steps where both pick the same most likely next token."""
    from models_train.checkpoint import load_tutor
    from models_train.dialogue import eval_turn, load_dialogues, render
    from models_train.gpt import KVCache

    model, tok, _ = load_tutor(ckpt)
    total = {False: 0.0, True: 0.0}
    n_tok = agree = 0
    used = 0
    for d in load_dialogues(dialogue_files):
        if used >= limit:
            break
        k = eval_turn(d)
        prompt, _ = render(tok, d, upto=k)
        full, _ = render(tok, d, upto=k + 1)
        target = full[len(prompt) : len(prompt) + 64]  # the tutor turn (the same prefix continues)
        if len(target) < 2 or len(prompt) + len(target) + 1 > 2 * model.config.sequence_len:
            continue
        used += 1
        picks = {}
        for int8 in (False, True):
            cache = KVCache(model.config, 1, len(prompt) + len(target) + 1, "cpu", torch.float32, int8=int8)
            logits = model(torch.tensor([prompt]), cache=cache, last_only=True)[:, -1]
            picks[int8] = []
            for t in target:
                lp = torch.log_softmax(logits.float(), -1)[0]
                total[int8] -= float(lp[t])
                picks[int8].append(int(lp.argmax()))
                logits = model(torch.tensor([[t]]), cache=cache)[:, -1]
        n_tok += len(target)
        agree += sum(a == b for a, b in zip(picks[False], picks[True]))
    return {
        "checkpoint": ckpt,
        "dialogues": used,
        "tokens": n_tok,
        "loss_fp32": round(total[False] / max(1, n_tok), 4),
        "loss_int8": round(total[True] / max(1, n_tok), 4),
        "next_token_agreement": round(agree / max(1, n_tok), 4),
    }


if __name__ == "__main__":
    main()
