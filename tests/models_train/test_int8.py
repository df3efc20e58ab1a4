"""Decoding with int8 weights (gpt.Int8Weights, Engine(int8=True))."""

import torch

from models_train.engine import Engine
from models_train.gpt import Int8Weights, KVCache

from .conftest import random_gpt


@torch.inference_mode()
def _teacher_forced(model, tokens, int8):
    cache = KVCache(model.config, 1, len(tokens) + 1, "cpu", torch.float32, int8=int8)
    out = [model(torch.tensor([tokens[:8]]), cache=cache, last_only=True)[:, -1]]
    for t in tokens[8:]:
        out.append(model(torch.tensor([[t]]), cache=cache)[:, -1])
    return torch.cat(out)


def test_int8_decoding_stays_close_to_fp32():
    model = random_gpt(vocab=400, n_layer=2, n_embd=128, n_head=2, n_kv_head=1, seq=64)
    tokens = torch.randint(0, 400, (48,), generator=torch.Generator().manual_seed(1)).tolist()
    a, b = _teacher_forced(model, tokens, False), _teacher_forced(model, tokens, True)
    torch.testing.assert_close(a[0], b[0])  # the prefill stays fp32
    err = (a[1:] - b[1:]).abs().max() / a[1:].abs().max()
    assert 0 < err < 0.05  # int8 is not fp32, but close
    assert (a[1:].argmax(-1) == b[1:].argmax(-1)).float().mean() > 0.9
    pa, pb = torch.log_softmax(a, -1), torch.log_softmax(b, -1)
    assert (pa.exp() * (pa - pb)).sum(-1).max() < 0.05  # KL(fp32 || int8) per step


def test_int8_engine_generates_streams_and_stops():
    model = random_gpt(vocab=400, seq=64)
    e = Engine(model, int8=True, compile=True)
    assert e.int8 and not e.compile  # int8 takes precedence
    out = e.generate([1, 2, 3], max_tokens=12, temperature=0.0)[0]
    assert len(out) == 12 and out == list(e.stream([1, 2, 3], max_tokens=12, temperature=0.0))
    stop = out[3]
    assert e.generate([1, 2, 3], max_tokens=12, temperature=0.0, stop=[stop])[0] == out[: out.index(stop)]


def test_packed_weights_are_reused_until_a_weight_changes():
    model = random_gpt(vocab=400, seq=64)
    first = Int8Weights.of(model)
    assert Int8Weights.of(model) is first
    with torch.no_grad():
        model.lm_head.weight.mul_(2.0)
    assert Int8Weights.of(model) is not first
