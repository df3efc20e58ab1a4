"""Byte-level BPE tokenizer with chat special tokens kept outside the BPE.

The BPE (Hugging Face `tokenizers`, GPT-4-style split regex + byte-level
alphabet) only ever sees ordinary text, so any unicode string round-trips and
no learner text can smuggle in a control token: special tokens get the ids
after the BPE vocabulary and are inserted by code (see `dialogue.py`), never
parsed out of text.

The saved file is one JSON document; its id is the sha256 of its bytes, so a
checkpoint can name exactly the tokenizer it was trained with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from tokenizers import Regex, decoders, models, pre_tokenizers, trainers
from tokenizers import Tokenizer as HFTokenizer

FORMAT_VERSION = 1

# The chat format. bos starts every document; each turn is <|role|> text <|end|>.
# <|question|>/<|answer|> structure a generated practice question inside a tutor turn.
# <|calc|> expression <|calc_end|> is a call of the calculator tool; the engine inserts
# <|result|> value <|result_end|> (tool output: never a training target).
SPECIAL_TOKENS = (
    "<|bos|>",
    "<|system|>",
    "<|learner|>",
    "<|tutor|>",
    "<|end|>",
    "<|question|>",
    "<|answer|>",
    "<|pad|>",
    "<|calc|>",
    "<|calc_end|>",
    "<|result|>",
    "<|result_end|>",
)

# GPT-4's split pattern, but numbers split into groups of at most 2 digits
# (nanochat's choice: small vocabularies waste fewer merges on 3-digit numbers).
SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}"""
    r"""| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
)


class Tokenizer:
    def __init__(self, hf: HFTokenizer, specials: tuple[str, ...] = SPECIAL_TOKENS, raw: bytes | None = None):
        self.hf = hf
        self.n_bpe = hf.get_vocab_size()
        self.specials = tuple(specials)
        self.special_ids = {s: self.n_bpe + i for i, s in enumerate(self.specials)}
        self.vocab_size = self.n_bpe + len(self.specials)
        self._raw = raw if raw is not None else self._serialise()
        self.id = hashlib.sha256(self._raw).hexdigest()[:16]

    # -- training ---------------------------------------------------------

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int) -> Tokenizer:
        """Train on an iterator of documents; vocab_size counts the special tokens."""
        n_bpe = vocab_size - len(SPECIAL_TOKENS)
        if n_bpe < 256 + 1:
            raise ValueError(f"vocab_size {vocab_size} too small: need > {256 + len(SPECIAL_TOKENS)}")
        hf = HFTokenizer(models.BPE(byte_fallback=False, fuse_unk=False))
        hf.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        hf.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=n_bpe,
            show_progress=False,
            min_frequency=0,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=[],
        )
        hf.train_from_iterator(texts, trainer)
        return cls(hf)

    # -- persistence ------------------------------------------------------

    def _serialise(self) -> bytes:
        doc = {
            "format": "ramp-tokenizer",
            "version": FORMAT_VERSION,
            "specials": list(self.specials),
            "hf": json.loads(self.hf.to_str()),
        }
        return json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self._raw)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        raw = Path(path).read_bytes()
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a Ramp tokenizer file ({e})") from None
        if doc.get("format") != "ramp-tokenizer" or doc.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: not a Ramp tokenizer file of version {FORMAT_VERSION}")
        hf = HFTokenizer.from_str(json.dumps(doc["hf"]))
        return cls(hf, tuple(doc["specials"]), raw=raw)

    # -- use --------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.hf.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: Iterable[int]) -> str:
        """Ordinary ids become text; special ids become their names."""
        out, run = [], []
        for i in ids:
            if i >= self.n_bpe:
                if run:
                    out.append(self.hf.decode(run, skip_special_tokens=False))
                    run = []
                out.append(self.specials[i - self.n_bpe])
            else:
                run.append(i)
        if run:
            out.append(self.hf.decode(run, skip_special_tokens=False))
        return "".join(out)

    def special(self, name: str) -> int:
        return self.special_ids[name]

    def token_bytes(self) -> list[int]:
        """UTF-8 byte length of each token (0 for specials): the denominator of bits per byte."""
        inv = {v: k for k, v in self.hf.get_vocab().items()}
        byte_decoder = {c: b for b, c in _bytes_to_unicode().items()}
        lens = [len(bytearray(byte_decoder[c] for c in inv[i])) for i in range(self.n_bpe)]
        return lens + [0] * len(self.specials)


def _bytes_to_unicode() -> dict[int, str]:
    # The GPT-2 byte<->printable-char table used by the ByteLevel pre-tokenizer.
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def iter_chunks(texts: Iterable[str], max_chars: int = 100_000) -> Iterator[str]:
    # The BPE trainer holds each item in memory; cap it so one huge file is no problem.
    for t in texts:
        for i in range(0, len(t), max_chars):
            yield t[i : i + max_chars]
