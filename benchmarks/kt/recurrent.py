"""A recurrent knowledge-tracing model (DKT-style GRU) with numpy inference.

:class:`GRUKT` is Piech et al.'s deep knowledge tracing (NeurIPS 2015) with a GRU cell and
skill embeddings: the learner's history is summarised in a hidden vector ``h`` (``hidden``
floats, the per-learner state), updated once per response from an embedding of
(skill, correct), and the next response on skill ``s`` is predicted as

    logit = out_bias[s] + out_emb[s] . h

Training (:func:`train_gru`, PyTorch on CPU, imported only when fitting) uses Adam,
dropout on ``h`` before the output, gradient clipping and early stopping on a validation
split of learners. Skills seen fewer than ``min_count`` times in training, and skills
unseen in training, share one "unknown skill" embedding; during training a small share of
tokens is replaced by it (``unk_rate``) so that it is trained and the hidden state stays
meaningful when a learner practises a concept the model has never seen.

Inference is numpy only: one GRU step is a (3H x H) matrix-vector product plus a table
lookup for the input side (precomputed per (skill, correct) token), O(H^2) per response
and independent of the length of the history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from learner.metrics import auc
from learner.response_log import Response

from .base import as_sequences, sigmoid
from .ramp import RampKT

UNK = 0  # index of the shared "unknown skill" embedding


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


class GRUKT:
    """Fitted GRU parameters and the numpy forward step (no torch needed)."""

    def __init__(
        self,
        skills: dict[str, int],
        in_table: np.ndarray,
        w_hh: np.ndarray,
        b_hh: np.ndarray,
        out_emb: np.ndarray,
        out_bias: np.ndarray,
        h0: np.ndarray,
        info: dict | None = None,
    ):
        self.skills = skills  # skill id -> index (1..K; 0 = unknown)
        self.in_table = np.asarray(in_table, dtype=np.float64)  # (2(K+1), 3H): W_ih x + b_ih
        self.w_hh = np.asarray(w_hh, dtype=np.float64)  # (3H, H)
        self.b_hh = np.asarray(b_hh, dtype=np.float64)  # (3H,)
        self.out_emb = np.asarray(out_emb, dtype=np.float64)  # (K+1, H)
        self.out_bias = np.asarray(out_bias, dtype=np.float64)  # (K+1,)
        self.h0 = np.asarray(h0, dtype=np.float64)  # (H,)
        self.hidden = int(self.h0.shape[0])
        self.info = dict(info or {})

    def index(self, skill: str) -> int:
        return self.skills.get(skill, UNK)

    def logit(self, h: np.ndarray, skill: str) -> float:
        k = self.skills.get(skill, UNK)
        return float(self.out_bias[k] + self.out_emb[k] @ h)

    def step(self, h: np.ndarray, skill: str, correct: int) -> np.ndarray:
        k = self.skills.get(skill, UNK)
        H = self.hidden
        gi = self.in_table[2 * k + (1 if correct else 0)]
        gh = self.w_hh @ h + self.b_hh
        r = _sig(gi[:H] + gh[:H])
        z = _sig(gi[H : 2 * H] + gh[H : 2 * H])
        n = np.tanh(gi[2 * H :] + r * gh[2 * H :])
        return (1.0 - z) * n + z * h

    # ---- batch (training-time) helpers ----------------------------------------------------
    def sequence_logits(self, seq: Sequence[Response]) -> np.ndarray:
        """Logits of every response of one learner, each predicted before it is seen."""
        h = self.h0.copy()
        out = np.empty(len(seq))
        for i, r in enumerate(seq):
            out[i] = self.logit(h, r.skill_id)
            h = self.step(h, r.skill_id, r.correct)
        return out

    def to_dict(self) -> dict:
        return {
            "skills": self.skills,
            "in_table": self.in_table.tolist(),
            "w_hh": self.w_hh.tolist(),
            "b_hh": self.b_hh.tolist(),
            "out_emb": self.out_emb.tolist(),
            "out_bias": self.out_bias.tolist(),
            "h0": self.h0.tolist(),
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: dict) -> GRUKT:
        return cls(
            dict(d["skills"]),
            np.asarray(d["in_table"]),
            np.asarray(d["w_hh"]),
            np.asarray(d["b_hh"]),
            np.asarray(d["out_emb"]),
            np.asarray(d["out_bias"]),
            np.asarray(d["h0"]),
            d.get("info"),
        )


def skill_vocabulary(seqs: Sequence[Sequence[Response]], min_count: int) -> dict[str, int]:
    n: dict[str, int] = {}
    for seq in seqs:
        for r in seq:
            n[r.skill_id] = n.get(r.skill_id, 0) + 1
    keep = sorted((s for s, c in n.items() if c >= min_count), key=lambda s: (-n[s], s))
    return {s: i + 1 for i, s in enumerate(keep)}


def _encode(seqs, vocab):
    out = []
    for seq in seqs:
        sk = np.fromiter((vocab.get(r.skill_id, UNK) for r in seq), dtype=np.int64, count=len(seq))
        y = np.fromiter((1 if r.correct else 0 for r in seq), dtype=np.int64, count=len(seq))
        out.append((sk, y))
    return out


def train_gru(
    train: Sequence[Sequence[Response]],
    valid: Sequence[Sequence[Response]],
    hidden: int = 64,
    emb: int = 64,
    dropout: float = 0.2,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    batch_size: int = 48,
    max_epochs: int = 30,
    patience: int = 3,
    min_count: int = 10,
    unk_rate: float = 0.03,
    max_seconds: float = 600.0,
    seed: int = 0,
    threads: int | None = 1,
    offsets=None,
    extras=None,
    log: Callable[[str], None] | None = None,
) -> GRUKT:
    """Fit a GRU DKT with early stopping on the validation learners (log loss).

    ``offsets`` = (train, valid): per-sequence arrays of a fixed logit (another model's
    prediction) that enters the output with a learned scale ``alpha``; ``extras`` =
    (train, valid): per-sequence (T, F) feature arrays that enter the output linearly
    (learned weights ``w_x``). Both are optional; the GRU then learns the residual."""
    import torch
    from torch import nn

    log = log or (lambda s: None)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vocab = skill_vocabulary(train, min_count)
    K1 = len(vocab) + 1
    tr = _encode(train, vocab)
    va = _encode(valid, vocab)
    F = 0
    x_mu = x_sd = None
    if extras is not None:
        F = extras[0][0].shape[1]
        allx = np.concatenate(extras[0])
        x_mu, x_sd = allx.mean(0), allx.std(0)
        x_sd[x_sd < 1e-8] = 1.0
        del allx

    def _aux(i, split):
        o = None if offsets is None else offsets[split][i]
        x = None if extras is None else (extras[split][i] - x_mu) / x_sd
        return o, x

    tr = [(s, c) + _aux(i, 0) for i, (s, c) in enumerate(tr)]
    va = [(s, c) + _aux(i, 1) for i, (s, c) in enumerate(va)]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Embedding(2 * K1, emb)
            self.gru = nn.GRU(emb, hidden, batch_first=True)
            self.h0 = nn.Parameter(torch.zeros(hidden))
            self.out = nn.Embedding(K1, hidden)
            self.out_b = nn.Embedding(K1, 1)
            self.drop = nn.Dropout(dropout)
            self.alpha = nn.Parameter(torch.ones(()))
            self.wx = nn.Linear(F, 1) if F else None
            nn.init.normal_(self.inp.weight, std=0.1)
            nn.init.normal_(self.out.weight, std=0.1)
            nn.init.zeros_(self.out_b.weight)

        def forward(self, tok, tgt, off=None, x=None):
            # tok: (B, T) input tokens of responses 0..T-1; tgt: (B, T) skills to predict
            B = tok.shape[0]
            h0 = self.h0.expand(1, B, hidden).contiguous()
            o, _ = self.gru(self.inp(tok), h0)
            hs = torch.cat([h0.transpose(0, 1), o[:, :-1]], dim=1)  # (B, T, H): state before t
            hs = self.drop(hs)
            z = (hs * self.out(tgt)).sum(-1) + self.out_b(tgt).squeeze(-1)
            if off is not None:
                z = z + self.alpha * off
            if x is not None:
                z = z + self.wx(x).squeeze(-1)
            return z

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)

    def batches(data, shuffle):
        order = np.argsort([len(d[0]) for d in data], kind="stable")
        groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if shuffle:
            rng.shuffle(groups)
        for g in groups:
            T = max(len(data[i][0]) for i in g)
            sk = np.zeros((len(g), T), dtype=np.int64)
            y = np.zeros((len(g), T), dtype=np.int64)
            m = np.zeros((len(g), T), dtype=bool)
            off = np.zeros((len(g), T), dtype=np.float32) if offsets is not None else None
            x = np.zeros((len(g), T, F), dtype=np.float32) if F else None
            for row, i in enumerate(g):
                s, c, o, xx = data[i]
                sk[row, : len(s)] = s
                y[row, : len(s)] = c
                m[row, : len(s)] = True
                if off is not None:
                    off[row, : len(s)] = o
                if x is not None:
                    x[row, : len(s)] = xx
            yield (
                g,
                sk,
                y,
                m,
                (None if off is None else torch.from_numpy(off)),
                (None if x is None else torch.from_numpy(x)),
            )

    def evaluate():
        net.eval()
        ys, zs = [], []
        with torch.no_grad():
            for _, sk, y, m, off, x in batches(va, False):
                z = net(torch.from_numpy(2 * sk + y), torch.from_numpy(sk), off, x).numpy()
                ys.append(y[m])
                zs.append(z[m])
        y = np.concatenate(ys).astype(float)
        z = np.concatenate(zs)
        ll = float(np.mean(np.logaddexp(0.0, z) - y * z))
        return ll, auc(y, z)

    best = (math.inf, None, -1)
    start = time.perf_counter()
    history = []
    bce = nn.BCEWithLogitsLoss(reduction="sum")
    for epoch in range(max_epochs):
        net.train()
        tot = 0.0
        cnt = 0
        for _, sk, y, m, off, x in batches(tr, True):
            sk_in = sk.copy()
            sk_out = sk.copy()
            if unk_rate > 0:
                sk_in[rng.random(sk.shape) < unk_rate] = UNK
                sk_out[rng.random(sk.shape) < unk_rate] = UNK
            z = net(torch.from_numpy(2 * sk_in + y), torch.from_numpy(sk_out), off, x)
            mt = torch.from_numpy(m)
            loss = bce(z[mt], torch.from_numpy(y)[mt].float()) / float(m.sum())
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            tot += float(loss.detach()) * m.sum()
            cnt += m.sum()
        vll, vauc = evaluate()
        el = time.perf_counter() - start
        history.append(
            {"epoch": epoch + 1, "train_ll": tot / cnt, "valid_ll": vll, "valid_auc": vauc, "s": round(el, 1)}
        )
        log(f"gru epoch {epoch + 1}: train ll {tot / cnt:.4f} valid ll {vll:.4f} auc {vauc:.4f} ({el:.0f}s)")
        if vll < best[0]:
            best = (vll, {k: v.detach().clone() for k, v in net.state_dict().items()}, epoch + 1)
        elif epoch + 1 - best[2] >= patience:
            break
        if el > max_seconds:
            break
    if best[1] is not None:
        net.load_state_dict(best[1])
    sd = {k: v.detach().double().numpy() for k, v in net.state_dict().items()}
    # fold the input embedding into the GRU's input projection: one row per token
    in_table = sd["inp.weight"] @ sd["gru.weight_ih_l0"].T + sd["gru.bias_ih_l0"]
    info = {
        "hidden": hidden,
        "emb": emb,
        "dropout": dropout,
        "lr": lr,
        "best_epoch": best[2],
        "valid_ll": best[0],
        "history": history,
        "min_count": min_count,
        "unk_rate": unk_rate,
        "alpha": float(sd["alpha"]) if offsets is not None else 0.0,
    }
    if F:  # fold the standardisation into the weights
        w = sd["wx.weight"][0] / x_sd
        info["w_x"] = w.tolist()
        info["b_x"] = float(sd["wx.bias"][0] - (w * x_mu).sum())
    return GRUKT(
        vocab,
        in_table,
        sd["gru.weight_hh_l0"],
        sd["gru.bias_hh_l0"],
        sd["out.weight"],
        sd["out_b.weight"][:, 0],
        sd["h0"],
        info,
    )


# --------------------------------------------------------------------------------------
class RampGRU(RampKT):
    """Ramp's logistic estimator (:class:`RampKT`) blended with recurrent (GRU) models.

    ``logit = c + a_0 * logit_ramp + sum_k a_k * logit_gru_k``: each part is fitted on
    the training learners but one validation share, the GRUs stop early on the validation
    learners, and the blend weights ``(c, a_0, a_1, ...)`` are a logistic regression on the
    validation learners' online predictions; then RampKT is refitted on all learners. A
    log too small for a GRU (``min_gru_responses``), or a machine without torch, gives
    plain RampKT (no GRU, blend = identity).

    State: RampKT's state plus ``"h"``: one list of ``hidden`` floats per GRU (rounded to
    5 decimals). Unseen concepts use RampKT's fallbacks and the GRUs' "unknown skill"
    embedding; soft evidence (``apply_evidence``) reaches the RampKT part only.
    """

    name = "ramp_gru"

    def __init__(
        self,
        n_gru: int = 2,
        hidden: int = 64,
        valid_share: float = 0.2,
        min_gru_responses: int = 20000,
        seed: int = 0,
        gru_kwargs: dict | None = None,
        refit: bool = True,
        log: Callable[[str], None] | None = None,
        **ramp_kwargs,
    ):
        super().__init__(**ramp_kwargs)
        self.n_gru = n_gru
        self.hidden = hidden
        self.valid_share = valid_share
        self.min_gru_responses = min_gru_responses
        self.seed = seed
        self.gru_kwargs = dict(gru_kwargs or {})
        self.refit = refit
        self.log = log or (lambda s: None)
        self.grus: list[GRUKT] = []
        self.blend: list[float] = [0.0, 1.0]

    # ---- state -------------------------------------------------------------------------
    def new_state(self) -> dict:
        st = super().new_state()
        st["h"] = [np.round(g.h0, 5).tolist() for g in self.grus]
        return st

    def _hidden(self, state: dict, k: int) -> np.ndarray:
        hs = state.get("h")
        if hs is None or len(hs) <= k:  # a state started before this model had GRUs
            return self.grus[k].h0
        return np.asarray(hs[k], dtype=np.float64)

    def update(self, state, skill, correct, item=None, t=None, hints=0):
        super().update(state, skill, correct, item, t, hints)
        if self.grus:
            hs = state.get("h")
            if hs is None or len(hs) != len(self.grus):
                hs = state["h"] = [list(self._hidden(state, k)) for k in range(len(self.grus))]
            for k, g in enumerate(self.grus):
                h = g.step(self._hidden(state, k), skill, correct)
                hs[k] = np.round(h, 5).tolist()

    # ---- prediction --------------------------------------------------------------------
    def _blend(self, state, skill, z_ramp: float) -> float:
        b = self.blend
        z = b[0] + b[1] * z_ramp
        for k, g in enumerate(self.grus):
            z += b[2 + k] * g.logit(self._hidden(state, k), skill)
        return z

    def _skill_logit(self, state, skill, t=None) -> float:
        return self._blend(state, skill, super()._skill_logit(state, skill, t))

    def predict(self, state, skill, item=None, t=None):
        z = super()._skill_logit(state, skill, t)
        if item is not None:
            z -= self.item_difficulty.get(item, 0.0)
        return sigmoid(self._blend(state, skill, z))

    # ---- fitting -----------------------------------------------------------------------
    def _ramp_fit(self, seqs):
        RampKT.fit(self, seqs)

    def fit(self, sequences):
        seqs = as_sequences(sequences)
        self.grus = []
        self.blend = [0.0, 1.0]
        n = sum(len(s) for s in seqs)
        try:
            import torch  # noqa: F401
        except ImportError:  # serving-only install: plain RampKT
            self.log("ramp_gru: torch not installed; fitting RampKT only")
            n = 0
        if n < self.min_gru_responses or len(seqs) < 10:
            self._ramp_fit(seqs)
            self.fit_info["gru"] = "skipped"
            return self
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(seqs))
        n_valid = max(1, int(round(len(seqs) * self.valid_share)))
        valid = [seqs[i] for i in order[:n_valid]]
        train = [seqs[i] for i in order[n_valid:]]
        t0 = time.perf_counter()
        self._ramp_fit(train)
        z_ramp = []
        for seq in valid:
            st = RampKT.new_state(self)
            for r in seq:
                z = RampKT._skill_logit(self, st, r.skill_id, r.timestamp)
                if r.item_id is not None:
                    z -= self.item_difficulty.get(r.item_id, 0.0)
                z_ramp.append(z)
                RampKT.update(self, st, r.skill_id, r.correct, r.item_id, r.timestamp, r.hints)
        cols = [np.ones(len(z_ramp)), np.asarray(z_ramp)]
        self.log(f"ramp_gru: RampKT on {len(train)} learners {time.perf_counter() - t0:.0f}s")
        grus = []
        for k in range(self.n_gru):
            kw = dict(self.gru_kwargs)
            kw.setdefault("hidden", self.hidden)
            g = train_gru(train, valid, seed=self.seed + k, log=self.log, **kw)
            grus.append(g)
            cols.append(np.concatenate([g.sequence_logits(s) for s in valid]))
        y = np.asarray([r.correct for s in valid for r in s], dtype=np.float64)
        X = np.column_stack(cols)
        a = _fit_blend(X, y)

        def ll(z):  # mean log loss of logits z
            return float(np.mean(np.logaddexp(0.0, z) - y * z))

        info = {
            "valid_learners": len(valid),
            "valid_responses": int(len(y)),
            "valid_auc_ramp": auc(y, X[:, 1]),
            "valid_ll_ramp": ll(X[:, 1]),
            "valid_auc_blend": auc(y, X @ a),
            "valid_ll_blend": ll(X @ a),
            "valid_auc_gru": [auc(y, X[:, 2 + k]) for k in range(len(grus))],
            "gru_epochs": [g.info["best_epoch"] for g in grus],
        }
        self.log(
            f"ramp_gru: blend {np.round(a, 3).tolist()} valid auc ramp "
            f"{info['valid_auc_ramp']:.4f} blend {info['valid_auc_blend']:.4f}"
        )
        if self.refit:
            self._ramp_fit(seqs)
        self.grus = grus
        self.blend = [float(v) for v in a]
        self.fit_info["gru"] = info
        return self

    # ---- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = super().to_dict()
        d.update(kind="ramp_gru", blend=self.blend, grus=[g.to_dict() for g in self.grus])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RampGRU:
        if d.get("kind") != "ramp_gru":
            raise ValueError("not a RampGRU parameter set")
        base = RampKT.from_dict({**d, "kind": "ramp"})
        m = cls()
        m.__dict__.update({k: v for k, v in base.__dict__.items()})
        m.grus = [GRUKT.from_dict(g) for g in d.get("grus", ())]
        m.blend = [float(v) for v in d.get("blend", (0.0, 1.0))]
        if len(m.blend) != 2 + len(m.grus):
            raise ValueError("blend weights do not match the number of GRUs")
        return m


def _fit_blend(X: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Logistic regression of ``y`` on the columns of ``X`` (first = intercept), with a
    small L2 pull of the weights towards an equal-weight average of the models."""
    from .ramp import lbfgs

    prior = np.zeros(X.shape[1])
    prior[1:] = 1.0 / (X.shape[1] - 1)
    n = len(y)

    def f(w):
        z = X @ w
        g = 1.0 / (1.0 + np.exp(-z)) - y
        d = w - prior
        return (float(np.mean(np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * float(d @ d), X.T @ g / n + l2 * d)

    return lbfgs(f, prior.copy(), 200)
