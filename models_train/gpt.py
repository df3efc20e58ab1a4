"""The GPT: a decoder-only transformer, sized by one dial (depth).

Choices (each taken from nanochat/modded-nanoGPT, where they were measured):
- rotary position embeddings, no learned positions: nothing to size for context length;
- parameter-free RMSNorm everywhere, also on queries and keys (QK-norm keeps
  attention logits bounded, which lets us train at higher learning rates);
- no biases; ReLU² MLP; untied input/output embeddings;
- grouped-query attention (n_kv_head < n_head) to shrink the KV cache;
- logits soft-capped with tanh so early training cannot blow them up.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    sequence_len: int = 1024  # longest context: sizes the rotary table (and the default KV cache)
    vocab_size: int = 8192  # tokenizer vocabulary; the embedding is padded up to a multiple of 64
    n_layer: int = 6  # depth: the one dial, width and heads follow from it in from_depth
    n_embd: int = 384  # model width
    n_head: int = 6  # query heads; head_dim = n_embd // n_head
    n_kv_head: int = 6  # key/value heads; < n_head is grouped-query attention (must divide n_head)
    mlp_ratio: int = 4  # MLP hidden width = mlp_ratio * n_embd
    softcap: float = 15.0  # logits = softcap * tanh(logits / softcap); 0 disables
    rope_base: float = 10000.0  # rotary base frequency

    @classmethod
    def from_depth(
        cls,
        depth: int,
        vocab_size: int,
        sequence_len: int = 1024,
        aspect: int = 64,
        head_dim: int = 64,
        kv_ratio: int = 1,
    ) -> GPTConfig:
        """Width = depth * aspect (6 -> 384, 12 -> 768, 20 -> 1280), heads of head_dim.

        kv_ratio > 1 turns on grouped-query attention with n_head / kv_ratio kv heads.
        """
        n_embd = depth * aspect
        n_head = max(1, n_embd // head_dim)
        while n_embd % n_head:
            n_head -= 1
        n_kv = max(1, n_head // kv_ratio)
        while n_head % n_kv:
            n_kv -= 1
        return cls(
            sequence_len=sequence_len,
            vocab_size=vocab_size,
            n_layer=depth,
            n_embd=n_embd,
            n_head=n_head,
            n_kv_head=n_kv,
        )

    @property
    def padded_vocab(self) -> int:
        return -(-self.vocab_size // 64) * 64

    def to_dict(self) -> dict:
        return asdict(self)


# CPU training uses the hand-written backward passes below (each one checked against
# autograd through the reference ops in tests/models_train); False forces the reference.
HAND_BACKWARD = True


def _hand_backward(x: torch.Tensor) -> bool:
    return HAND_BACKWARD and x.device.type == "cpu" and x.requires_grad


def _rms_scale(x: torch.Tensor) -> torch.Tensor:
    """rsqrt(mean(x^2) + eps) over the last dim, as F.rms_norm computes it (eps = finfo.eps).

    The mean square comes from vector_norm, one reduction with no (…, C) temporary
    (x.square().mean() writes one), about twice as fast on CPU; it equals the mean of
    squares up to float rounding.
    """
    n = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    return n.square_().div_(x.size(-1)).add_(torch.finfo(x.dtype).eps).rsqrt_()


def _rms_norm_backward(g: torch.Tensor, y: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """dL/dx of y = x r, r = rsqrt(mean(x^2) + eps), from g = dL/dy: (g - y mean(g y)) r."""
    m = (g * y).mean(-1, keepdim=True)
    return torch.addcmul(g, y, m, value=-1.0).mul_(r)


class _RMSNormCPU(torch.autograd.Function):
    """Parameter-free RMSNorm with a hand-written backward.

    On CPU, autograd through F.rms_norm runs about ten small kernels backward; this
    one saves the output and the scale and needs four, roughly halving the norm's
    share of a training step. CUDA keeps F.rms_norm, which torch.compile fuses anyway.
    """

    @staticmethod
    def forward(ctx, x):
        r = _rms_scale(x)
        y = x * r
        ctx.save_for_backward(y, r)
        return y

    @staticmethod
    def backward(ctx, g):
        y, r = ctx.saved_tensors
        return _rms_norm_backward(g, y, r)


def norm(x: torch.Tensor) -> torch.Tensor:
    if _hand_backward(x):
        return _RMSNormCPU.apply(x)
    return F.rms_norm(x, (x.size(-1),))


def _rotate(
    x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, sign: float = 1.0, out: torch.Tensor | None = None
) -> torch.Tensor:
    """apply_rotary(x, cos, sin) (sign=1) or its inverse (sign=-1), written on the two halves.

    y1 = x1 cos + sign x2 sin1, y2 = x2 cos + sign x1 sin2 (sin1 = sin, sin2 = -sin: the
    tables' halves) into one new tensor: four passes over half-size views, one allocation,
    no roll copy; 2x faster than apply_rotary on CPU. Used by the CPU training path.
    """
    h = x.size(-1) // 2
    x1, x2 = x[..., :h], x[..., h:]
    c, s1, s2 = cos[..., :h], sin[..., :h], sin[..., h:]
    y = torch.empty(x.shape, dtype=x.dtype, device=x.device) if out is None else out
    torch.mul(x1, c, out=y[..., :h]).addcmul_(x2, s1, value=sign)
    torch.mul(x2, c, out=y[..., h:]).addcmul_(x1, s2, value=sign)
    return y


class _QKVNormRotaryCPU(torch.autograd.Function):
    """qkv (B, T, heads, hd) -> (apply_rotary(norm(q, k heads)), v heads), one backward.

    A rotation R is orthogonal and the same for every head vector of a position, so with
    y = norm(x) R saved, mean(g . y) is the same before and after rotating, and the input
    gradient is the RMSNorm backward taken in rotated space, rotated back:
    dx = R^T ((g - y mean(g y)) r), R^T being the rotation by -angle (_rotate, sign=-1).
    The norm's scale r commutes with the rotation, so the forward rotates and scales the
    result in place. The gradient of the whole qkv is written into one buffer (slicing qkv
    under autograd would zero-fill two full-size gradients and add them). Saves y and r;
    autograd would also keep the unrotated output and run about ten more kernels backward.
    """

    @staticmethod
    def forward(ctx, qkv, cos, sin, n_qk: int):
        x = qkv[:, :, :n_qk]
        r = _rms_scale(x)
        y = _rotate(x, cos, sin).mul_(r)
        ctx.save_for_backward(y, r, cos, sin)
        ctx.n_qk, ctx.n_v = n_qk, qkv.size(2) - n_qk
        return y, qkv[:, :, n_qk:]

    @staticmethod
    def backward(ctx, g, gv):
        y, r, cos, sin = ctx.saved_tensors
        n = ctx.n_qk
        B, T, _, hd = y.shape
        d = torch.empty(B, T, n + ctx.n_v, hd, dtype=y.dtype, device=y.device)
        if g is None:
            d[:, :, :n].zero_()
        else:
            _rotate(_rms_norm_backward(g, y, r), cos, sin, -1.0, out=d[:, :, :n])
        if gv is None:
            d[:, :, n:].zero_()
        else:
            d[:, :, n:].copy_(gv)
        return d, None, None, None


def qkv_norm_rotary(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, n_qk: int):
    """(apply_rotary(norm(qkv[:, :, :n_qk]), cos, sin), qkv[:, :, n_qk:]): QK-norm + rotary."""
    if _hand_backward(qkv):
        return _QKVNormRotaryCPU.apply(qkv, cos, sin, n_qk)
    return apply_rotary(norm(qkv[:, :, :n_qk]), cos, sin), qkv[:, :, n_qk:]


class _ReluSquareCPU(torch.autograd.Function):
    """relu(u)^2 with a hand-written backward: d/du relu(u)^2 = 2 relu(u), one saved tensor
    and one kernel (autograd through relu then square runs three and saves two)."""

    @staticmethod
    def forward(ctx, u):
        r = F.relu(u)
        y = r.square()
        ctx.save_for_backward(r.mul_(2.0))  # keep 2 relu(u): the backward is one multiply
        return y

    @staticmethod
    def backward(ctx, g):
        (r2,) = ctx.saved_tensors
        return g * r2


def relu_square(u: torch.Tensor) -> torch.Tensor:
    if _hand_backward(u):
        return _ReluSquareCPU.apply(u)
    return F.relu(u).square()


class _HeadSoftcapCrossEntropyCPU(torch.autograd.Function):
    """cross_entropy(c * tanh((h @ W.T)[:, :V] / c), targets, ignore_index=-1): the output
    layer, the soft-cap and the loss as one autograd node with a hand-written backward.

    The (tokens, vocab) logits are the biggest activation of a small model (a (4, 256, 8192)
    batch is 33.5 MB), and on CPU every fresh tensor that size costs page faults (~12 ms
    here, more than the arithmetic: glibc serves blocks over 32 MB with a new mmap each
    time). Autograd through lm_head, tanh cap and F.cross_entropy allocates six of them
    and runs about twelve passes; this allocates one (the matmul's output) and reuses it:

    - t = tanh(logits / c) in place; the capped logits are z = c t (forward() computes
      them the same way up to float rounding);
    - |z| <= c <= 30, so exp(z) cannot overflow and logsumexp needs no running max:
      lse = log(sum(exp(z))), summed in row chunks so no second full-size buffer exists.
      The loss lse - z[target] equals F.cross_entropy up to float rounding;
    - backward: dL/dlogits = w (softmax(z) - onehot) (1 - t^2), with w each token's
      weight (1/n_valid for "mean", 0 where the target is -1); it is written over the
      saved t (so a second backward through the same graph raises autograd's in-place
      error instead of using stale values), then dh = dL @ W and dW = dL.T @ h.
    """

    CHUNK = 128  # rows per temporary in the exp-sum: 128 x vocab floats (4 MB at 8192) stays cached

    @staticmethod
    def forward(ctx, h, weight, targets, c: float, vocab: int, reduction: str):
        t = torch.mm(h, weight[:vocab].t()).div_(c).tanh_()  # (N, V): capped logits / c
        s = torch.cat(
            [
                torch.mul(t[i : i + _HeadSoftcapCrossEntropyCPU.CHUNK], c).exp_().sum(-1)
                for i in range(0, t.size(0), _HeadSoftcapCrossEntropyCPU.CHUNK)
            ]
        )  # (N,) sum exp(z)
        valid = targets >= 0
        tgt = targets.clamp(min=0)
        t_tgt = t.gather(1, tgt.unsqueeze(1)).squeeze(1)  # t at the target (for the loss and backward)
        nll = (s.log() - c * t_tgt) * valid
        n = valid.sum()
        ctx.save_for_backward(h, weight, t, s, tgt, t_tgt, valid, n)
        ctx.c, ctx.vocab, ctx.reduction = c, vocab, reduction
        if reduction == "none":
            return nll
        # A batch whose tutor turns all fall past seq_len has no target: its loss is 0, not 0/0.
        return nll.sum() / n.clamp(min=1) if reduction == "mean" else nll.sum()

    @staticmethod
    def backward(ctx, g):
        h, weight, t, s, tgt, t_tgt, valid, n = ctx.saved_tensors
        c, V = ctx.c, ctx.vocab
        w = g.expand(valid.shape) if ctx.reduction != "none" else g
        w = (w / n.clamp(min=1) if ctx.reduction == "mean" else w) * valid  # (N,) weight of each token's loss
        ws = (w / s).unsqueeze(1)
        for i in range(0, t.size(0), _HeadSoftcapCrossEntropyCPU.CHUNK):
            tc = t[i : i + _HeadSoftcapCrossEntropyCPU.CHUNK]
            e = torch.mul(tc, c).exp_().mul_(ws[i : i + _HeadSoftcapCrossEntropyCPU.CHUNK])  # w softmax(z)
            tc.square_().neg_().add_(1.0).mul_(e)  # * tanh'(logits / c) = 1 - t^2, in place over t
        d = t  # now dL/dlogits except at the targets:
        d.scatter_add_(1, tgt.unsqueeze(1), (-w * (1.0 - t_tgt.square())).unsqueeze(1))  # - w onehot tanh'
        dh = torch.mm(d, weight[:V])
        dw = torch.mm(d.t(), h)
        if V < weight.size(0):  # padded vocabulary rows get no gradient
            dw = torch.cat([dw, dw.new_zeros(weight.size(0) - V, dw.size(1))])
        return dh, dw, None, None, None, None


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (i, i + D/2) of x (..., T, H, D) by position.

    cos is (T, 1, D) = [cos, cos] and sin is (T, 1, D) = [sin, -sin] (see GPT._rotary),
    so the rotation is x * cos + roll(x, D/2) * sin: three kernels instead of ten,
    which is most of the difference when decoding one token at a time.
    """
    return torch.addcmul(x * cos, x.roll(x.size(-1) // 2, dims=-1), sin)


class KVCache:
    """Preallocated keys/values for every layer, filled left to right.

    One tensor per layer of shape (B, n_kv_head, capacity, head_dim): decoding
    writes one slot per step and attends over the filled prefix, never
    reallocating or concatenating.
    """

    def __init__(
        self,
        config: GPTConfig,
        batch_size: int,
        capacity: int,
        device,
        dtype,
        compile: bool = False,
        int8: bool = False,
    ):
        shape = (batch_size, config.n_kv_head, capacity, config.n_embd // config.n_head)
        self.k = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.v = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.capacity = capacity
        self.pos = 0
        self.plan = None  # GPT._decode_one's per-generation views, made on first use
        self.compile = compile  # decode steps through the torch.compile'd decode_step (see there)
        self.int8 = int8  # decode steps with int8 weights (see Int8Weights)

    def expand(self, batch_size: int) -> KVCache:
        """A batch-sized copy of a batch-1 cache: many samples from one prefill."""
        new = object.__new__(KVCache)
        new.k = [t.expand(batch_size, -1, -1, -1).contiguous() for t in self.k]
        new.v = [t.expand(batch_size, -1, -1, -1).contiguous() for t in self.v]
        new.capacity, new.pos, new.plan, new.compile = self.capacity, self.pos, None, self.compile
        new.int8 = self.int8
        return new


class Attention(nn.Module):
    def __init__(self, config: GPTConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.n_head, self.n_kv_head = config.n_head, config.n_kv_head
        self.head_dim = config.n_embd // config.n_head
        assert config.n_head % config.n_kv_head == 0
        # One fused matmul for q, k, v: one kernel launch instead of three, which matters
        # most when decoding one token at a time.
        self.c_qkv = nn.Linear(
            config.n_embd, (config.n_head + 2 * config.n_kv_head) * self.head_dim, bias=False
        )
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=False)

    def forward(self, x, cos, sin, cache: KVCache | None):
        B, T, C = x.shape
        H, Hkv = self.n_head, self.n_kv_head
        qkv = self.c_qkv(x).view(B, T, H + 2 * Hkv, self.head_dim)
        # QK-norm and rotary on q and k together. Normalising before rotating equals
        # nanochat's rotate-then-normalise: a rotation keeps each head vector's norm.
        qk, v = qkv_norm_rotary(qkv, cos, sin, H + Hkv)
        qk, v = qk.transpose(1, 2), v.transpose(1, 2)
        q, k = qk[:, :H], qk[:, H:]
        gqa = Hkv != H
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=gqa)
        else:
            pos = cache.pos
            ck, cv = cache.k[self.layer_idx], cache.v[self.layer_idx]
            ck.narrow(2, pos, T).copy_(k)
            cv.narrow(2, pos, T).copy_(v)
            k, v = ck.narrow(2, 0, pos + T), cv.narrow(2, 0, pos + T)
            q = q.to(k.dtype)  # under CUDA autocast the cache is bf16 while rotary promoted q to fp32
            if T == 1:  # one new query sees the whole prefix: no mask needed
                y = F.scaled_dot_product_attention(q, k, v, enable_gqa=gqa)
            elif pos == 0:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=gqa)
            else:  # a chunk after a prefix: query i sees keys 0 .. pos + i
                mask = torch.ones(T, pos + T, dtype=torch.bool, device=x.device).tril(diagonal=pos)
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=gqa)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, config.mlp_ratio * config.n_embd, bias=False)
        self.c_proj = nn.Linear(config.mlp_ratio * config.n_embd, config.n_embd, bias=False)

    def forward(self, x):
        return self.c_proj(relu_square(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config: GPTConfig, layer_idx: int):
        super().__init__()
        self.attn = Attention(config, layer_idx)
        self.mlp = MLP(config)

    def forward(self, x, cos, sin, cache):
        x = x + self.attn(norm(x), cos, sin, cache)
        return x + self.mlp(norm(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        V = config.padded_vocab
        self.wte = nn.Embedding(V, config.n_embd)
        self.blocks = nn.ModuleList(Block(config, i) for i in range(config.n_layer))
        self.lm_head = nn.Linear(config.n_embd, V, bias=False)
        # Rotary tables computed once for the whole context; every forward slices them.
        # Over-allocate 2x so a cache may run a little past sequence_len without recomputing.
        cos, sin = self._rotary(2 * config.sequence_len)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def _rotary(self, n: int, device=None):
        hd = self.config.n_embd // self.config.n_head
        inv_freq = 1.0 / (
            self.config.rope_base ** (torch.arange(0, hd, 2, dtype=torch.float32, device=device) / hd)
        )
        f = torch.outer(torch.arange(n, dtype=torch.float32, device=device), inv_freq)
        cos, sin = f.cos(), f.sin()
        # (T, 1, D) tables in the layout apply_rotary wants: [cos, cos] and [sin, -sin].
        return torch.cat([cos, cos], -1).unsqueeze(1), torch.cat([sin, -sin], -1).unsqueeze(1)

    @torch.no_grad()
    def init_weights(self, seed: int | None = None):
        """Initialise in place (deterministic given seed).

        Linear layers: std 1/sqrt(fan_in), shrunk for wide-to-narrow projections, so
        activations keep unit scale at any width. Residual outputs (attn/mlp c_proj) and
        lm_head start at zero: every block starts as the identity and the initial loss
        is exactly ln(vocab), so depth can grow without retuning. Embeddings: std 1,
        because the first norm rescales them anyway.
        """
        g = torch.Generator(device="cpu")
        g.manual_seed(0 if seed is None else seed)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight") or name.startswith("lm_head"):
                p.zero_()
            elif p.dim() == 2 and name.startswith("wte"):
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                fan_out, fan_in = p.shape
                std = 1.0 / math.sqrt(fan_in) * min(1.0, math.sqrt(fan_out / fan_in))
                p.copy_(torch.randn(p.shape, generator=g) * std)
        cos, sin = self._rotary(2 * self.config.sequence_len, device=self.cos.device)
        self.cos.copy_(cos)
        self.sin.copy_(sin)
        return self

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token: 6 per non-embedding weight plus attention's QK^T and AV."""
        n = self.num_params() - self.wte.weight.numel()
        c = self.config
        attn = 12 * c.n_layer * c.n_embd * seq_len / 2  # causal: half of the T x T scores
        return 6 * n + attn

    def forward(
        self,
        idx,
        targets=None,
        cache: KVCache | None = None,
        reduction: str = "mean",
        last_only: bool = False,
    ):
        """idx (B, T) -> logits (B, T, vocab), or the loss if targets are given.

        Target positions of -1 are ignored (how SFT masks non-tutor tokens). last_only
        returns only the last position's logits (B, 1, vocab), which is all sampling needs:
        a prefill of T tokens then skips T - 1 rows of the vocabulary-wide output matmul.
        """
        T = idx.size(1)
        decoding = cache is not None and T == 1 and not torch.is_grad_enabled()
        if decoding and not torch.is_autocast_enabled(idx.device.type):  # (CUDA autocast: the generic path)
            return self._decode_one(idx, cache)
        pos = cache.pos if cache is not None else 0
        cos, sin = self.cos[pos : pos + T], self.sin[pos : pos + T]
        x = norm(self.wte(idx))
        for block in self.blocks:
            x = block(x, cos, sin, cache)
        x = norm(x)
        if cache is not None:
            cache.pos += T
        if targets is None:
            return self._logits(x[:, -1:] if last_only else x)
        if 0 < self.config.softcap <= 30 and _hand_backward(x) and x.dtype == torch.float32:
            # CPU training: output layer + soft-cap + loss in one node (see _HeadSoftcapCrossEntropyCPU)
            return _HeadSoftcapCrossEntropyCPU.apply(
                x.reshape(-1, x.size(-1)),
                self.lm_head.weight,
                targets.reshape(-1),
                float(self.config.softcap),
                self.config.vocab_size,
                reduction,
            )
        logits = self._logits(x).float()
        flat = targets.reshape(-1)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)),
            flat,
            ignore_index=-1,
            reduction="sum" if reduction == "mean" else reduction,
        )
        # Mean over the real targets; a batch with none (all masked) gives 0, not NaN.
        return loss / (flat >= 0).sum().clamp(min=1) if reduction == "mean" else loss

    def _decode_plan(self, cache: KVCache) -> tuple:
        """decode_step's arguments that stay fixed for one generation, made once per cache.

        Per layer: the four weight matrices transposed (views, no copies) and the cache's
        keys/values viewed as (B * Hkv, capacity, head_dim); plus the rotary permutation
        P (roll(x, hd/2) = x @ P). Rebuilding them every token would cost a dozen
        dispatches per layer; a cache lives for one generation, with fixed weights.
        """
        B, Hkv, cap, hd = cache.k[0].shape
        P = torch.eye(hd, device=self.cos.device, dtype=self.cos.dtype).roll(hd // 2, dims=1)
        if cache.int8:
            packed = Int8Weights.of(self)
            layers = [
                (*packed.layers[i], k.view(B * Hkv, cap, hd), v.view(B * Hkv, cap, hd))
                for i, (k, v) in enumerate(zip(cache.k, cache.v))
            ]
            return decode_step, P, layers, packed.head
        layers = [
            (
                b.attn.c_qkv.weight.t(),
                b.attn.c_proj.weight.t(),
                b.mlp.c_fc.weight.t(),
                b.mlp.c_proj.weight.t(),
                k.view(B * Hkv, cap, hd),
                v.view(B * Hkv, cap, hd),
            )
            for b, k, v in zip(self.blocks, cache.k, cache.v)
        ]
        step = compiled_decode_step() if cache.compile else decode_step
        return step, P, layers, self.lm_head.weight.t()

    def _decode_one(self, idx, cache: KVCache):
        """forward() for one new token per row against the cache: see decode_step."""
        if cache.plan is None:
            cache.plan = self._decode_plan(cache)
        step, P, layers, head_t = cache.plan
        c, pos = self.config, cache.pos
        logits = step(
            idx,
            pos,
            self.cos[pos, 0],
            self.sin[pos, 0],
            P,
            self.wte.weight,
            layers,
            head_t,
            c.n_head,
            c.vocab_size,
            c.softcap,
        )
        cache.pos += 1
        return logits.unsqueeze(1)

    def _logits(self, x):
        logits = self.lm_head(x)[..., : self.config.vocab_size]
        if self.config.softcap:
            c = self.config.softcap
            logits = c * torch.tanh(logits / c)
        return logits


# Activations are quantised to 7 bits (reduce_range): on x86 CPUs without VNNI (AVX2 only)
# fbgemm multiplies u8 x s8 pairs into saturating int16 sums, and with the full 8-bit range
# those overflow - decoding drifted 18-22% from fp32 on an AVX2-only AMD EPYC (2026-12-05)
# against under 1% with 7 bits; PyTorch's own dynamic quantisation defaults to it on x86.
REDUCE_RANGE = True


def _mm(x, w):
    """x @ w for a transposed weight view, or the int8 product for a packed weight."""
    if isinstance(w, torch.Tensor):
        return torch.mm(x, w)
    return torch.ops.quantized.linear_dynamic(x, w, REDUCE_RANGE)


def _addmm(x, a, w, alpha: float = 1.0):
    if isinstance(w, torch.Tensor):
        return torch.addmm(x, a, w, alpha=alpha)
    y = torch.ops.quantized.linear_dynamic(a, w, REDUCE_RANGE)
    return x.add_(y, alpha=alpha) if alpha != 1.0 else x.add_(y)


def _version(p: torch.Tensor) -> int:
    try:
        return p._version
    except RuntimeError:  # an inference tensor (made under inference_mode) has no version counter
        return -1


class Int8Weights:
    """The decoder's weights as int8 for CPU decoding: Engine(model, int8=True).

    At batch 1 a decode step streams every weight matrix once, so on CPU it is bound by
    memory traffic (fp32: 4 bytes per parameter; `bench_infer` measures the floor).
    Symmetric per-output-channel int8 weights (scale = max |w| / 127) with fbgemm's dynamic
    linear (activations quantised per call) move a quarter of the bytes and use the CPU's
    int8 dot-product instructions. The prefill keeps fp32; only the per-token steps change,
    and their numerics change with them: `bench_infer` reports how often greedy tokens
    agree with fp32 on a trained checkpoint. Packed once per model and reused until a
    weight changes (their version counters are part of the key).
    """

    def __init__(self, model: GPT):
        pack = self._pack
        self.layers = [
            (
                pack(b.attn.c_qkv.weight),
                pack(b.attn.c_proj.weight),
                pack(b.mlp.c_fc.weight),
                pack(b.mlp.c_proj.weight),
            )
            for b in model.blocks
        ]
        self.head = pack(model.lm_head.weight)

    @staticmethod
    def _pack(w: torch.Tensor):
        w = w.detach().float().cpu()
        scale = (w.abs().amax(dim=1) / 127.0).clamp(min=1e-12).double()
        with warnings.catch_warnings():  # quantized tensors are how fbgemm takes packed weights
            warnings.simplefilter("ignore", UserWarning)
            q = torch.quantize_per_channel(w, scale, torch.zeros(w.size(0), dtype=torch.long), 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(q, None)

    @staticmethod
    def of(model: GPT) -> Int8Weights:
        key = tuple((p.data_ptr(), _version(p)) for p in model.parameters())
        hit = getattr(model, "_int8_weights", None)
        if hit is None or hit[0] != key:
            hit = (key, Int8Weights(model))
            model._int8_weights = hit
        return hit[1]


def decode_step(idx, pos: int, cos, sin, P, wte, layers, head_t, n_head: int, vocab: int, softcap: float):
    """GPT.forward for one new token per row (idx (B, 1)) at position pos of the KV cache.

    Written flat for batch-1 CPU decoding: at batch 1 a step mostly streams the weights
    through one matrix-vector product each, and every other kernel dispatch costs a few
    microseconds (more with the weights evicting Python from the caches), so the step
    is a short run of kernels with no module machinery between them. The same code runs
    eagerly or under torch.compile (compiled_decode_step). Same math as forward(): the
    KV-cache tests compare it with the full forward. Tricks, none changing the result
    beyond float rounding:

    - RMSNorm before a matmul is x / |x| (two kernels); rms_norm's missing sqrt(C) factor
      (|x| = sqrt(C) rms(x)) is folded in where it is free: q and k are normalised again
      anyway, v gets it while being written into the cache, the MLP's relu(u)^2 is
      homogeneous of degree 2 so addmm's alpha=C restores it, and the logits get it in
      the soft-cap's first multiply. rms_norm adds eps = 1.2e-7 to the mean square and
      this does not: a relative difference of ~1e-7, below fp32 rounding (an exactly zero
      activation vector would give NaN instead of 0; it does not occur).
    - rotary is one small matmul with the (hd, hd) matrix R = diag(cos) + P diag(sin),
      built once per token and shared by every layer, instead of mul + roll + addcmul.
    - QK-norm leaves unit vectors q/|q|, k/|k|; k is stored at rms scale (k/|k| sqrt(hd),
      as forward() stores it) and q_unit . k_rms = q_rms . k_rms / sqrt(hd) is SDPA's
      scaled score, so no scale multiply is needed.
    - attention over the cache is bmm, softmax, bmm: one query needs no mask, and
      grouped-query heads are a reshape (query head h uses kv head h // (H / Hkv), as
      SDPA's enable_gqa does). At T=1 this is cheaper than SDPA's CPU kernel.
    - residual adds are fused into the output matmuls with addmm.

    layers: per layer (W_qkv^T, W_attn_proj^T, W_fc^T, W_mlp_proj^T, keys, values) with
    keys/values the cache viewed as (B * Hkv, capacity, hd). Returns logits (B, vocab).
    The weights may instead be `Int8Weights`' packed matrices: the same step with int8
    matrix-vector products.
    """
    B, C = idx.size(0), wte.size(1)
    hd = C // n_head
    Hkv = layers[0][4].size(0) // B
    Hqk = n_head + Hkv
    vnorm = torch.linalg.vector_norm
    compiling = torch.compiler.is_compiling()
    R = torch.addcmul(torch.diag(cos), P, sin)  # x @ R == apply_rotary(x) at this position
    e = F.embedding(idx.view(B), wte)  # (B, C)
    x = e / (vnorm(e, dim=-1, keepdim=True) * C**-0.5)  # the residual stream: a true rms_norm
    for wqkv, wo, wfc, wproj, ck, cv in layers:
        qkv = _mm(x / vnorm(x, dim=-1, keepdim=True), wqkv)  # the true q, k, v / sqrt(C)
        qk, v = qkv.view(B, Hqk + Hkv, hd).split((Hqk, Hkv), dim=1)
        qk = torch.mm(qk.reshape(B * Hqk, hd), R).view(B, Hqk, hd) / vnorm(qk, dim=-1, keepdim=True)
        q, k = qk.split((n_head, Hkv), dim=1)  # rotated unit vectors
        k, v = k.reshape(B * Hkv, hd), v.reshape(B * Hkv, hd)
        if compiling:  # dynamo cannot trace out= into a strided view; inductor fuses this anyway
            ck.select(1, pos).copy_(k * hd**0.5)
            cv.select(1, pos).copy_(v * C**0.5)
        else:  # one kernel each: scale and write into the cache slot
            torch.mul(k, hd**0.5, out=ck.select(1, pos))  # k at rms scale, as forward() stores it
            torch.mul(v, C**0.5, out=cv.select(1, pos))  # the true v
        s = torch.bmm(q.reshape(B * Hkv, n_head // Hkv, hd), ck[:, : pos + 1].transpose(1, 2)).softmax(-1)
        x = _addmm(x, torch.bmm(s, cv[:, : pos + 1]).view(B, C), wo)
        u = _mm(x / vnorm(x, dim=-1, keepdim=True), wfc).relu_().square_()  # relu(true u)^2 / C
        x = _addmm(x, u, wproj, alpha=C)
    logits = _mm(x / vnorm(x, dim=-1, keepdim=True), head_t)[:, :vocab]  # the true logits / sqrt(C)
    if softcap:
        return torch.tanh(logits * (C**0.5 / softcap)).mul_(softcap)
    return logits * C**0.5


@functools.cache
def compiled_decode_step():
    """decode_step under torch.compile (inductor, C++ wrapper), for Engine(compile=True).

    One compiled graph per batch size, dynamic in the position and the cache capacity,
    so a generation never recompiles. Inductor fuses the elementwise work between the
    matmuls into a few C++ loops and calls them from C++, which removes most of the
    per-kernel overhead left in the eager step (measured ~25% less CPU time per token on
    6L/384d). Compiling takes ~45 s on a loaded 2-core CPU the first time (gcc), ~10 s
    in a later process (inductor's on-disk cache, TORCHINDUCTOR_CACHE_DIR).
    """
    return torch.compile(decode_step, dynamic=True, fullgraph=True, options={"cpp_wrapper": True})
