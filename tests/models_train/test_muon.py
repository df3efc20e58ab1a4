"""Muon + AdamW in one optimizer (models_train/muon.py)."""

import pytest
import torch

from models_train.gpt import GPT, GPTConfig
from models_train.muon import MuonAdamW, orthogonalise
from models_train.trainer import TrainConfig, make_optimizer


def test_newton_schulz_makes_singular_values_about_one():
    g = torch.Generator().manual_seed(0)
    for shape in ((64, 16), (16, 64), (32, 32)):
        k = min(shape)
        u, _ = torch.linalg.qr(torch.randn(shape[0], k, generator=g))
        v, _ = torch.linalg.qr(torch.randn(shape[1], k, generator=g))
        m = u @ torch.diag(torch.logspace(-1, 1, k)) @ v.T  # singular values 0.1 ... 10
        before = torch.linalg.svdvals(m)
        s = torch.linalg.svdvals(orthogonalise(m))
        assert before.max() / before.min() > 50
        assert s.min() > 0.3 and s.max() < 1.3 and s.max() / s.min() < 4, (shape, s.min(), s.max())
        assert orthogonalise(m).shape == m.shape


def test_adamw_groups_match_torch_adamw():
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(5, 3))
    b = torch.nn.Parameter(a.detach().clone())
    ours = MuonAdamW([{"kind": "adamw", "params": [a], "lr": 1e-2, "weight_decay": 0.1}], betas=(0.9, 0.95))
    ref = torch.optim.AdamW([b], lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    for _ in range(5):
        grad = torch.randn(5, 3)
        a.grad, b.grad = grad.clone(), grad.clone()
        ours.step()
        ref.step()
    torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_muon_update_is_orthogonal_and_scaled_by_lr():
    p = torch.nn.Parameter(torch.zeros(8, 8))
    opt = MuonAdamW([{"kind": "muon", "params": [p], "lr": 0.1}], momentum=0.0)
    p.grad = torch.randn(8, 8)
    opt.step()
    s = torch.linalg.svdvals(-p.detach() / 0.1)
    assert s.min() > 0.5 and s.max() < 1.3


def test_fused_qkv_is_orthogonalised_per_block():
    p = torch.nn.Parameter(torch.zeros(12, 4))
    opt = MuonAdamW([{"kind": "muon", "params": [p], "lr": 1.0, "splits": [4, 4, 4]}], momentum=0.0)
    grad = torch.cat([torch.randn(4, 4), 100 * torch.randn(4, 4), 0.01 * torch.randn(4, 4)])
    p.grad = grad
    opt.step()
    for block in (-p.detach()).split(4):  # each block moved at the same rate despite the scales
        s = torch.linalg.svdvals(block)
        assert s.min() > 0.5 and s.max() < 1.3


def test_muon_trains_a_tiny_model():
    torch.manual_seed(0)
    m = GPT(
        GPTConfig(sequence_len=32, vocab_size=64, n_layer=2, n_embd=64, n_head=4, n_kv_head=2)
    ).init_weights(0)
    opt = make_optimizer(m, TrainConfig(optimizer="muon", lr=1e-2, muon_lr=0.02), torch.device("cpu"))
    kinds = [g["kind"] for g in opt.param_groups]
    assert kinds == ["muon", "muon", "adamw", "adamw"] and opt.param_groups[0]["splits"] == [64, 32, 32]
    x = torch.randint(0, 64, (4, 33))
    first = None
    for _ in range(60):
        loss = m(x[:, :-1], x[:, 1:])
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_unknown_optimizer_or_group_kind_is_refused():
    m = GPT(GPTConfig(sequence_len=8, vocab_size=16, n_layer=1, n_embd=16, n_head=2, n_kv_head=2))
    with pytest.raises(ValueError, match="adamw' or 'muon"):
        make_optimizer(m, TrainConfig(optimizer="sgd"), torch.device("cpu"))
    with pytest.raises(ValueError, match="unknown parameter group kind"):
        MuonAdamW([{"kind": "lion", "params": [torch.nn.Parameter(torch.zeros(2, 2))]}])
    with pytest.raises(ValueError, match="2-D"):
        MuonAdamW([{"kind": "muon", "params": [torch.nn.Parameter(torch.zeros(3))]}])
