"""Muon for the transformer's matrices, AdamW for the rest, in one optimizer.

    opt = MuonAdamW([
        {"kind": "muon", "params": hidden_matrices, "lr": 0.02, "splits": [...]},
        {"kind": "adamw", "params": [wte, lm_head], "lr": 3e-3},
    ])

Muon (Keller Jordan et al., 2024; used by modded-nanogpt and nanochat) replaces each
hidden matrix's update with the nearest semi-orthogonal matrix to its Nesterov momentum,
found by five Newton-Schulz iterations: every direction of the update moves at the same
rate, so rare directions are not drowned by common ones. Embeddings and the output layer
are not "hidden" matrices and keep AdamW. A fused q/k/v matrix is orthogonalised per
block (``splits``: row counts), as three matrices.

One optimizer object (not two) so that learning-rate schedules, gradient clipping and the
checkpoint code (`optimizer_to_tensors`) see the usual ``param_groups`` / ``state_dict``.
Under DDP every rank holds all-reduced gradients and computes the same update.
"""

from __future__ import annotations

import torch

# quintic Newton-Schulz coefficients (Keller Jordan): fast convergence of the singular values
# towards ~1 in 5 steps, without needing them exactly 1
NS_COEFFS = (3.4445, -4.7750, 2.0315)


def orthogonalise(g: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """Approximately U V^T for g = U S V^T (Newton-Schulz; bf16 on CUDA, fp32 on CPU)."""
    a, b, c = NS_COEFFS
    x = g.to(torch.bfloat16 if g.is_cuda else torch.float32)
    tall = x.size(0) > x.size(1)
    if tall:
        x = x.mT
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        s = x @ x.mT
        x = a * x + (b * s + c * (s @ s)) @ x
    if tall:
        x = x.mT
    return x.to(g.dtype)


class MuonAdamW(torch.optim.Optimizer):
    def __init__(
        self, groups, *, momentum: float = 0.95, betas=(0.9, 0.95), eps: float = 1e-8, ns_steps: int = 5
    ):
        defaults = {
            "lr": 0.02,
            "weight_decay": 0.0,
            "momentum": momentum,
            "betas": betas,
            "eps": eps,
            "ns_steps": ns_steps,
            "splits": None,
            "kind": "adamw",
        }
        super().__init__(groups, defaults)
        for g in self.param_groups:
            if g["kind"] not in ("muon", "adamw"):
                raise ValueError(f"unknown parameter group kind {g['kind']!r}")
            if g["kind"] == "muon" and any(p.ndim != 2 for p in g["params"]):
                raise ValueError("Muon is for 2-D weight matrices")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group["kind"] == "muon":
                self._muon(group)
            else:
                self._adamw(group)
        return loss

    def _muon(self, group) -> None:
        lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = torch.zeros_like(p)
            buf = state["momentum_buffer"]
            buf.lerp_(p.grad, 1 - mom)
            g = p.grad.lerp(buf, mom)  # Nesterov
            splits = group["splits"] if group["splits"] and sum(group["splits"]) == p.size(0) else [p.size(0)]
            update = torch.cat(
                [
                    orthogonalise(part, group["ns_steps"]) * max(1.0, part.size(0) / part.size(1)) ** 0.5
                    for part in g.split(splits, dim=0)
                ]
            )
            if wd:
                p.mul_(1 - lr * wd)
            p.add_(update, alpha=-lr)

    def _adamw(self, group) -> None:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        b1, b2 = group["betas"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if "step" not in state:
                state["step"] = torch.zeros((), dtype=torch.float32)
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            state["step"] += 1
            t = float(state["step"])
            state["exp_avg"].lerp_(p.grad, 1 - b1)
            state["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (state["exp_avg_sq"] / (1 - b2**t)).sqrt_().add_(eps)
            if wd:
                p.mul_(1 - lr * wd)
            p.addcdiv_(state["exp_avg"], denom, value=-lr / (1 - b1**t))
