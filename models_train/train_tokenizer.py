"""Train the byte-level BPE tokenizer on our corpus.

    python -m models_train.train_tokenizer --data corpus.txt more.jsonl --vocab-size 8192 --out runs/tok.json
    # tiny CPU run (seconds), on the vendored tutoring conversations:
    python -m models_train.train_tokenizer --data models_train/data/tutoring/*/dialogues.jsonl \
        --vocab-size 2048 --out /tmp/ramp/tok.json

Inputs are .txt, .jsonl (a `text` field, or dialogues) and .parquet (a `text`
column). Prints the tokenizer id (sha256 of the file) and its compression on
the first --eval-docs documents (bytes per token: higher is better). The last
line is a JSON summary.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

from .data import iter_texts
from .tokenizer import Tokenizer, iter_chunks


def compression(tok: Tokenizer, texts: list[str]) -> float:
    n_bytes = sum(len(t.encode()) for t in texts)
    n_tok = sum(len(ids) for ids in tok.encode_batch(texts))
    return n_bytes / max(1, n_tok)


def train_tokenizer(paths, vocab_size: int, max_chars: int = 2_000_000_000) -> Tokenizer:
    def texts():
        n = 0
        for t in iter_chunks(iter_texts(paths)):
            if n >= max_chars:
                return
            n += len(t)
            yield t

    return Tokenizer.train(texts(), vocab_size)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("data")
    g.add_argument("--data", nargs="+", required=True, help="corpus files (.txt, .jsonl, .parquet)")
    g.add_argument(
        "--max-chars", type=int, default=2_000_000_000, help="train on at most this many characters"
    )
    g.add_argument("--eval-docs", type=int, default=200, help="documents to measure compression on")
    g = ap.add_argument_group("tokenizer")
    g.add_argument("--vocab-size", type=int, default=8192, help="including the special tokens")
    g.add_argument("--out", required=True, help="output file (JSON)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    tok = train_tokenizer(args.data, args.vocab_size, args.max_chars)
    seconds = time.perf_counter() - t0
    tok.save(args.out)
    sample = list(itertools.islice(iter_texts(args.data), args.eval_docs))
    summary = {
        "tokenizer_id": tok.id,
        "vocab_size": tok.vocab_size,
        "path": args.out,
        "bytes_per_token": round(compression(tok, sample), 3),
        "train_seconds": round(seconds, 2),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
