"""Metrics for probabilistic predictions of binary outcomes (numpy only)."""

from __future__ import annotations

import math

import numpy as np


def _arrays(y, p):
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y and p differ in length: {y.size} vs {p.size}")
    return y, p


def auc(y, p) -> float:
    """Area under the ROC curve, rank based (Mann-Whitney U); tied scores count 1/2.

    Returns NaN when only one class is present.
    """
    y, p = _arrays(y, p)
    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ps = p[order]
    # average ranks (1-based) over runs of equal scores
    n = ps.size
    boundaries = np.flatnonzero(np.diff(ps)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [n]))
    avg = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def rmse(y, p) -> float:
    y, p = _arrays(y, p)
    if y.size == 0:
        return float("nan")
    return float(math.sqrt(np.mean((y - p) ** 2)))


def log_loss(y, p, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood (natural log); p clipped to [eps, 1-eps]."""
    y, p = _arrays(y, p)
    if y.size == 0:
        return float("nan")
    p = np.clip(p, eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def accuracy(y, p, threshold: float = 0.5) -> float:
    """Share of responses where (p >= threshold) equals the outcome."""
    y, p = _arrays(y, p)
    if y.size == 0:
        return float("nan")
    return float(np.mean((p >= threshold) == (y >= 0.5)))


def all_metrics(y, p) -> dict[str, float]:
    return {"auc": auc(y, p), "rmse": rmse(y, p), "log_loss": log_loss(y, p), "accuracy": accuracy(y, p)}
