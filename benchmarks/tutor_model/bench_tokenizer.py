"""Which BPE library: Hugging Face `tokenizers` (what Ramp uses) against `rustbpe` for
training with `tiktoken` for encoding (nanochat's pair), on the same corpus and split
pattern. Prints a table, then one JSON summary line last.

    # the vendored conversations, vocab 4096 and 8192
    python -m benchmarks.tutor_model.bench_tokenizer
    python -m benchmarks.tutor_model.bench_tokenizer --data corpus.jsonl --vocab-sizes 32768 --repeat 3
    # seconds (the test suite's smoke run)
    python -m benchmarks.tutor_model.bench_tokenizer --max-chars 200000

rustbpe and tiktoken are optional (`pip install rustbpe tiktoken`); without them only
Hugging Face is measured and the summary says why. Measured per vocabulary size:
training time; encoding throughput of the whole corpus, one document at a time and as a
batch (MB/s of UTF-8); compression (bytes per token) on held-out documents (every 10th);
and an exact round trip of every held-out document.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from models_train.data import iter_texts
from models_train.tokenizer import SPLIT_PATTERN, Tokenizer

VENDORED = sorted(
    (Path(__file__).resolve().parents[2] / "models_train" / "data" / "tutoring").glob("*/dialogues.jsonl")
)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _measure(name: str, train, encode_one, encode_batch, decode, train_texts, held, repeat: int) -> dict:
    t0 = time.perf_counter()
    train()
    train_s = time.perf_counter() - t0
    mb = sum(len(t.encode()) for t in train_texts) / 1e6
    one_s = _best(lambda: [encode_one(t) for t in train_texts], repeat)
    batch_s = _best(lambda: encode_batch(train_texts), repeat)
    held_ids = [encode_one(t) for t in held]
    n_bytes = sum(len(t.encode()) for t in held)
    n_tok = sum(len(ids) for ids in held_ids)
    round_trip = all(decode(ids) == t for ids, t in zip(held_ids, held))
    return {
        "library": name,
        "train_s": round(train_s, 3),
        "encode_mb_s": round(mb / one_s, 2),
        "encode_batch_mb_s": round(mb / batch_s, 2),
        "bytes_per_token": round(n_bytes / max(1, n_tok), 3),
        "round_trip": round_trip,
    }


def hf_row(train_texts, held, vocab: int, repeat: int) -> dict:
    box = {}

    def train():
        box["tok"] = Tokenizer.train(train_texts, vocab)

    row = _measure(
        "hf-tokenizers",
        train,
        lambda t: box["tok"].encode(t),
        lambda ts: box["tok"].encode_batch(ts),
        lambda ids: box["tok"].decode(ids),
        train_texts,
        held,
        repeat,
    )
    row["vocab_size"] = box["tok"].vocab_size
    return row


def rust_tiktoken_row(train_texts, held, vocab: int, repeat: int) -> dict:
    import rustbpe
    import tiktoken

    box = {}

    def train():
        t = rustbpe.Tokenizer()
        t.train_from_iterator(iter(train_texts), vocab, pattern=SPLIT_PATTERN)
        ranks = {bytes(k): v for k, v in t.get_mergeable_ranks()}
        box["enc"] = tiktoken.Encoding(
            "ramp-bench", pat_str=t.get_pattern(), mergeable_ranks=ranks, special_tokens={}
        )

    row = _measure(
        "rustbpe+tiktoken",
        train,
        lambda t: box["enc"].encode_ordinary(t),
        lambda ts: box["enc"].encode_ordinary_batch(ts),
        lambda ids: box["enc"].decode(ids),
        train_texts,
        held,
        repeat,
    )
    row["vocab_size"] = box["enc"].n_vocab
    return row


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data", nargs="*", default=[str(p) for p in VENDORED], help="txt / jsonl / parquet files"
    )
    ap.add_argument("--vocab-sizes", type=int, nargs="+", default=[4096, 8192])
    ap.add_argument("--repeat", type=int, default=3, help="encoding passes per measurement (the best counts)")
    ap.add_argument("--max-chars", type=int, default=0, help="use only the first N characters of the corpus")
    args = ap.parse_args(argv)
    texts, total = [], 0
    for t in iter_texts(args.data):
        if args.max_chars and total >= args.max_chars:
            break
        texts.append(t)
        total += len(t)
    held = texts[::10]
    train_texts = [t for i, t in enumerate(texts) if i % 10]
    try:
        import rustbpe  # noqa: F401
        import tiktoken  # noqa: F401

        skipped = None
    except ImportError as e:
        skipped = f"rustbpe/tiktoken not installed ({e.name}): pip install rustbpe tiktoken"
    rows = []
    for vocab in args.vocab_sizes:
        rows.append(hf_row(train_texts, held, vocab, args.repeat))
        if skipped is None:
            rows.append(rust_tiktoken_row(train_texts, held, vocab, args.repeat))
    print(
        f"corpus: {len(train_texts)} documents to train and encode, {len(held)} held out, "
        f"{sum(len(t.encode()) for t in texts) / 1e6:.2f} MB"
    )
    print(
        f"{'library':<18}{'vocab':>7}{'train s':>9}{'MB/s':>8}{'batch MB/s':>12}{'bytes/tok':>11}  round trip"
    )
    for r in rows:
        print(
            f"{r['library']:<18}{r['vocab_size']:>7}{r['train_s']:>9.2f}{r['encode_mb_s']:>8.2f}"
            f"{r['encode_batch_mb_s']:>12.2f}{r['bytes_per_token']:>11.3f}  {r['round_trip']}"
        )
    if skipped:
        print(skipped)
    summary = {
        "benchmark": "tokenizer",
        "date": datetime.now(UTC).date().isoformat(),
        "documents": len(texts),
        "mb": round(sum(len(t.encode()) for t in texts) / 1e6, 3),
        "rows": rows,
        "skipped": skipped,
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
