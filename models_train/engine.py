"""Sampling: one prefill, then one token per step against a preallocated KV cache.

`Engine.stream` is a plain Python iterator that yields each token as soon as it
is sampled (the web side forwards it); `Engine.generate` collects a batch of
samples that share one prefill. Same seed, same prompt, same settings -> same
tokens.

Tools (one row at a time): with a `Calculator`, when the model closes a call
`<|calc|> expression <|calc_end|>` the engine evaluates the expression with the
calculator's function and forces `<|result|> value <|result_end|>` into the
sequence (as nanochat does with its python tool), then the model goes on. The
forced tokens are yielded like sampled ones, so a stream shows the whole turn.
The function also sees the text of the tutor's turn so far (prompt included), so a
tool can bind names the turn has defined (a practice question's ITEM params).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from .gpt import GPT, KVCache


def sample_next(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """logits (B, V) -> next ids (B,). temperature 0 is greedy."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k is not None and 0 < top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p is not None and 0 < top_p < 1:
        sorted_p, order = torch.sort(probs, dim=-1, descending=True)
        # Drop a token when the mass before it already reaches top_p (the top one always stays).
        drop = (sorted_p.cumsum(-1) - sorted_p) >= top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


@dataclass
class Calculator:
    """The calculator tool: ``fn(expression, turn) -> value text``, where ``turn`` is the
    text of the tutor's turn up to the call (from the last ``<|tutor|>``; the caller's safe
    evaluator may bind names it defines; it should return an error text rather than raise)
    and the tokenizer its markers and results are spelled with."""

    tok: object
    fn: Callable[[str, str], str]
    max_chars: int = 200
    # also force " value" after <|result_end|>: the stated answer starts with the tool's result
    # (constrained practice writing; the model may still add a unit before <|end|>)
    echo: bool = False

    def __post_init__(self):
        ids = self.tok.special_ids
        self.start, self.end = ids["<|calc|>"], ids["<|calc_end|>"]
        self.result, self.result_end = ids["<|result|>"], ids["<|result_end|>"]
        self.turn_start = ids.get("<|tutor|>")

    def turn_text(self, seq: Sequence[int]) -> str:
        """The text of the current tutor turn in ``seq`` (all of it without a turn marker)."""
        start = 0
        if self.turn_start is not None:
            for k in range(len(seq) - 1, -1, -1):
                if seq[k] == self.turn_start:
                    start = k + 1
                    break
        return self.tok.decode(seq[start:])

    def output(self, expression_ids: list[int], seq: Sequence[int] = ()) -> list[int]:
        """The tokens the engine forces after a call: <|result|> value <|result_end|>.
        ``seq``: everything before the call (prompt and generated), for the turn's text."""
        text = self.tok.decode(expression_ids).strip()
        try:
            value = (
                self.fn(text, self.turn_text(seq))
                if len(text) <= self.max_chars
                else "error: expression too long"
            )
        except Exception as error:  # noqa: BLE001 - a tool failure is the model's problem, not the server's
            value = f"error: {error}"
        out = [self.result] + self.tok.encode(str(value)) + [self.result_end]
        if self.echo and not str(value).startswith("error"):
            out += self.tok.encode(" " + str(value))
        return out


class Constraint(Protocol):
    """What a constrained decoding needs: the tokens allowed next, and each token written."""

    def mask(self) -> torch.Tensor: ...  # (vocab,) bool

    def feed(self, token: int) -> None: ...


class Engine:
    def __init__(self, model: GPT, compile: bool = False, int8: bool = False):
        """compile=True (CPU only) runs each decode step through torch.compile'd
        gpt.decode_step: ~25% less time per token at batch 1 on a loaded machine, after a
        one-off compile of ~10-45 s per process and batch size (see
        gpt.compiled_decode_step). Same tokens. int8=True (CPU only) decodes with int8
        weights (gpt.Int8Weights): several times the tokens per second, slightly different
        numerics (the prefill stays fp32); it takes precedence over compile."""
        self.model = model.eval()
        p = next(model.parameters())
        self.device = p.device
        # On CUDA run in bf16 (weights may be fp32); on CPU the weights' own dtype.
        self.autocast = self.device.type == "cuda"
        self.cache_dtype = torch.bfloat16 if self.autocast else p.dtype
        self.int8 = int8 and self.device.type == "cpu"
        self.compile = compile and self.device.type == "cpu" and not self.int8

    def _ctx(self):
        if self.autocast:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _steps(
        self,
        prompt: list[int],
        max_tokens: int,
        num_samples: int,
        temperature: float,
        top_k: int | None,
        top_p: float | None,
        seed: int | None,
        stop: Iterable[int],
        calc: Calculator | None = None,
        constraint: Constraint | None = None,
    ) -> Iterator[torch.Tensor]:
        """Yields (num_samples,) next ids per step until every row stopped or max_tokens.
        ``constraint`` (one row): only the tokens its mask() allows are sampled, and each
        token is fed to it (e.g. models_train.composing.Composer)."""
        if not prompt:
            raise ValueError("prompt must hold at least one token (e.g. <|bos|>)")
        if (calc is not None or constraint is not None) and num_samples != 1:
            raise ValueError("tools and constraints run on one sample at a time")
        cfg = self.model.config
        capacity = len(prompt) + max_tokens
        if capacity > 2 * cfg.sequence_len:
            raise ValueError(
                f"prompt + max_tokens = {capacity} exceeds the model's context {2 * cfg.sequence_len}"
            )
        g = None
        if seed is not None and temperature > 0:
            g = torch.Generator(device=self.device)
            g.manual_seed(seed)
        stop = set(stop)
        stop_t = torch.tensor(sorted(stop), dtype=torch.long, device=self.device)
        with torch.inference_mode(), self._ctx():
            cache = KVCache(
                cfg, 1, capacity, self.device, self.cache_dtype, compile=self.compile, int8=self.int8
            )
            ids = torch.tensor([prompt], dtype=torch.long, device=self.device)
            logits = self.model(ids, cache=cache, last_only=True)[:, -1]
            if num_samples > 1:
                cache = cache.expand(num_samples)
                logits = logits.expand(num_samples, -1)
            done = torch.zeros(num_samples, dtype=torch.bool, device=self.device)
            forced: deque[int] = deque()  # tool output still to insert
            call: list[int] | None = None  # the expression of an open calculator call
            seq = list(prompt) if calc is not None else []  # the sequence so far, for the tool
            # The per-token loop: one decode step, one sampling call, and for a single row
            # a plain-int stop check (.item() is a memory read on CPU; on CUDA it is the one
            # sync per token that streaming needs anyway).
            for i in range(max_tokens):
                if forced:
                    nxt = torch.tensor([forced.popleft()], dtype=torch.long, device=self.device)
                else:
                    if constraint is not None:
                        allowed = constraint.mask().to(self.device).unsqueeze(0)
                        logits = logits.masked_fill(~allowed, float("-inf"))
                    nxt = sample_next(logits, temperature, top_k, top_p, g)
                if constraint is not None:
                    constraint.feed(int(nxt[0]))
                yield nxt
                if calc is not None:
                    t = int(nxt[0])
                    if t == calc.start:
                        call = []
                    elif t == calc.end and call is not None:
                        forced.extend(calc.output(call, seq[: len(seq) - len(call) - 1]))
                        call = None
                    elif call is not None:
                        call.append(t)
                    seq.append(t)
                if stop:
                    if num_samples == 1:
                        if nxt.item() in stop:
                            return
                    else:
                        done |= torch.isin(nxt, stop_t)
                        if bool(done.all()):
                            return
                if i == max_tokens - 1:
                    return
                logits = self.model(nxt.unsqueeze(1), cache=cache)[:, -1]

    def stream(
        self,
        prompt: list[int],
        max_tokens: int = 256,
        temperature: float = 0.8,
        top_k: int | None = 50,
        top_p: float | None = None,
        seed: int | None = 0,
        stop: Iterable[int] = (),
        calc: Calculator | None = None,
        constraint: Constraint | None = None,
    ) -> Iterator[int]:
        """Yields token ids one at a time as they are produced; the stop token is yielded last.
        ``constraint``: see ``_steps``."""
        for nxt in self._steps(
            prompt, max_tokens, 1, temperature, top_k, top_p, seed, stop, calc, constraint
        ):
            yield int(nxt[0])

    def generate(
        self,
        prompt: list[int],
        max_tokens: int = 256,
        num_samples: int = 1,
        temperature: float = 0.8,
        top_k: int | None = 50,
        top_p: float | None = None,
        seed: int | None = 0,
        stop: Iterable[int] = (),
        calc: Calculator | None = None,
    ) -> list[list[int]]:
        """num_samples continuations from one prefill; each ends at (and excludes) its stop token."""
        stop = set(stop)
        rows: list[list[int]] = [[] for _ in range(num_samples)]
        finished = [False] * num_samples
        for nxt in self._steps(prompt, max_tokens, num_samples, temperature, top_k, top_p, seed, stop, calc):
            for i, t in enumerate(nxt.tolist()):
                if finished[i]:
                    continue
                if t in stop:
                    finished[i] = True
                else:
                    rows[i].append(t)
        return rows


@torch.inference_mode()
def generate_uncached(model: GPT, prompt: list[int], max_tokens: int) -> list[int]:
    """Greedy decoding that recomputes the whole sequence each step: the reference for tests
    and benchmarks."""
    ids = torch.tensor([prompt], dtype=torch.long, device=next(model.parameters()).device)
    out = []
    for _ in range(max_tokens):
        # The honest full recompute: every position of the context goes through every
        # layer again; only the last position's logits are computed, as sampling needs.
        nxt = model(ids, last_only=True)[:, -1].argmax(-1, keepdim=True)
        out.append(int(nxt))
        ids = torch.cat([ids, nxt], dim=1)
    return out
