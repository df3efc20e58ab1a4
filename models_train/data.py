"""Training data: text corpora -> token shards, and batches for pretraining and SFT.

Every batch is a pure function of (seed, step, micro-step, rank): the loaders
keep no position, so resuming at step k replays exactly the batches an
uninterrupted run would have seen, and ranks under torchrun never overlap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from .dialogue import as_text, render


def iter_texts(paths: Iterable[str | Path]) -> Iterator[str]:
    """Documents from .txt (one per file), .jsonl (a `text` field, or a dialogue's
    messages) and .parquet (a `text` column; needs pyarrow)."""
    for path in map(Path, paths):
        if path.suffix == ".txt":
            yield path.read_text(encoding="utf-8")
        elif path.suffix == ".jsonl":
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    row = json.loads(line)
                    if "text" in row:
                        yield row["text"]
                    elif "messages" in row:
                        yield as_text(row)
                    else:
                        raise ValueError(
                            f"{path}:{n}: jsonl rows need a 'text' field (or dialogue 'messages')"
                        )
        elif path.suffix == ".parquet":
            try:
                import pyarrow.parquet as pq
            except ImportError:
                raise RuntimeError(f"{path}: reading parquet needs pyarrow (pip install pyarrow)") from None
            pf = pq.ParquetFile(path)
            if "text" not in pf.schema_arrow.names:
                raise ValueError(
                    f"{path}: parquet file has no 'text' column (columns: {pf.schema_arrow.names})"
                )
            for batch in pf.iter_batches(columns=["text"], batch_size=1024):
                yield from (t for t in batch.column(0).to_pylist() if t)
        else:
            raise ValueError(f"{path}: unsupported corpus file (use .txt, .jsonl or .parquet)")


def _is_val(text: str, seed: int, fraction: float) -> bool:
    h = hashlib.sha256(f"{seed}:{text[:2000]}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < fraction


def build_shards(
    tok,
    paths: Iterable[str | Path],
    out_dir: str | Path,
    *,
    val_fraction: float = 0.05,
    shard_tokens: int = 50_000_000,
    seed: int = 0,
) -> dict:
    """Tokenise documents (each starts with <|bos|>) into train_*.npy / val_*.npy.

    Documents go to val by a hash of their text, so the split does not depend on
    file order. Returns (and writes) a manifest naming the tokenizer and token counts.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dtype = np.uint16 if tok.vocab_size <= 65535 else np.uint32
    bos = tok.special("<|bos|>")
    bufs = {"train": [], "val": []}
    counts = {"train": 0, "val": 0}
    files = {"train": [], "val": []}
    n_shard = {"train": 0, "val": 0}

    def flush(split):
        if not bufs[split]:
            return
        name = f"{split}_{n_shard[split]:04d}.npy"
        np.save(out / name, np.concatenate(bufs[split]).astype(dtype))
        files[split].append(name)
        n_shard[split] += 1
        bufs[split] = []

    pending: list[str] = []

    def drain():
        for text, ids in zip(pending, tok.encode_batch(pending)):
            split = "val" if _is_val(text, seed, val_fraction) else "train"
            bufs[split].append(np.array([bos] + ids, dtype=np.int64))
            counts[split] += len(ids) + 1
            if sum(len(b) for b in bufs[split]) >= shard_tokens:
                flush(split)
        pending.clear()

    for text in iter_texts(paths):
        pending.append(text)
        if len(pending) >= 256:
            drain()
    drain()
    flush("train")
    flush("val")
    manifest = {"tokenizer_id": tok.id, "tokens": counts, "files": files, "sources": [str(p) for p in paths]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _generator(seed: int, step: int, micro: int, rank: int) -> torch.Generator:
    # Mix the coordinates through sha256 so nearby steps get unrelated streams.
    h = hashlib.sha256(f"{seed}/{step}/{micro}/{rank}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(h[:8], "big") >> 1)


class TokenBatches:
    """Random windows of seq_len + 1 tokens from the shards of one split."""

    def __init__(self, shard_dir: str | Path, split: str, batch_size: int, seq_len: int, seed: int = 0):
        man = json.loads((Path(shard_dir) / "manifest.json").read_text())
        arrays = [np.load(Path(shard_dir) / f, mmap_mode="r") for f in man["files"][split]]
        if not arrays:
            raise ValueError(f"{shard_dir}: no {split} tokens; give more text or a larger val fraction")
        self.tokens = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
        if len(self.tokens) < seq_len + 2:
            raise ValueError(f"{shard_dir}: only {len(self.tokens)} {split} tokens, need > {seq_len + 1}")
        self.tokenizer_id = man["tokenizer_id"]
        self.batch_size, self.seq_len, self.seed = batch_size, seq_len, seed

    def get(self, step: int, micro: int = 0, rank: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        g = _generator(self.seed, step, micro, rank)
        starts = torch.randint(
            0, len(self.tokens) - self.seq_len - 1, (self.batch_size,), generator=g
        ).tolist()
        rows = np.stack([self.tokens[s : s + self.seq_len + 1] for s in starts]).astype(np.int64)
        t = torch.from_numpy(rows)
        return t[:, :-1], t[:, 1:]

    def fixed(self, n_batches: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The same n batches every time (seeded apart from training): the validation set."""
        return [self.get(-1 - i) for i in range(n_batches)]


class DialogueBatches:
    """Whole rendered dialogues, right-padded; targets are -1 wherever the mask is 0."""

    def __init__(self, tok, dialogues: list[dict], batch_size: int, seq_len: int, seed: int = 0):
        if not dialogues:
            raise ValueError("no dialogues to train on")
        self.rows = [render(tok, d) for d in dialogues]
        self.pad = tok.special("<|pad|>")
        self.batch_size, self.seq_len, self.seed = batch_size, seq_len, seed

    def collate(self, rows: list[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
        T = min(self.seq_len, max(len(ids) for ids, _ in rows) - 1)
        x = torch.full((len(rows), T), self.pad, dtype=torch.long)
        y = torch.full((len(rows), T), -1, dtype=torch.long)
        for i, (ids, mask) in enumerate(rows):
            ids, mask = ids[: T + 1], mask[: T + 1]
            n = len(ids) - 1
            x[i, :n] = torch.tensor(ids[:-1])
            tgt = torch.tensor(ids[1:])
            tgt[torch.tensor(mask[1:]) == 0] = -1
            y[i, :n] = tgt
        return x, y

    def get(self, step: int, micro: int = 0, rank: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        g = _generator(self.seed, step, micro, rank)
        idx = torch.randint(0, len(self.rows), (self.batch_size,), generator=g).tolist()
        return self.collate([self.rows[i] for i in idx])

    def fixed(self, n_batches: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Every dialogue once, in order (for validation)."""
        out = [
            self.collate(self.rows[i : i + self.batch_size])
            for i in range(0, len(self.rows), self.batch_size)
        ]
        return out if n_batches is None else out[:n_batches]
