"""Ramp's knowledge-tracing estimator: a logistic model over online learner features.

``RampKT`` predicts the next response of a learner on a concept (skill) as

    p = sigmoid( b_skill + b_item + sum_j (w_j + u_skill,j) * x_j(state, skill, t) )

where ``x`` are features of the learner's history that are updated in O(1) per response:

* learner level (ability, estimated online): log counts of responses and successes, and
  exponentially decayed means of the *residual* ``correct - base_rate(skill)`` at a fast
  and a slow rate - an online ability that already accounts for how hard each concept is;
* learner x concept: seen flag, log counts of attempts/successes (PFA / "Best-LR"
  style), a decayed success rate (recency: the last attempts weigh most), the last
  outcome, and how many responses on other concepts came since the last attempt on this
  one (interleaving / forgetting);
* time (only when timestamps exist): log time since the last attempt on the concept and
  since the last response at all (forgetting);
* hints: log number of hints used on the concept and whether the last attempt used one;
* prerequisite graph: soft evidence from neighbouring concepts (see :mod:`learner.graph_evidence`) enters
  the decayed success rate as fractional pseudo-attempts.

``b_skill`` and ``b_item`` are difficulties calibrated on the training log (Gaussian
priors shrink rare ones; unseen skills and items get the average / zero), ``w`` are
shared weights and ``u_skill`` per-skill deviations (shrunk to zero; zero for unseen
skills, so a new concept is predicted with the shared weights and its own authored or
calibrated difficulty). Everything is fitted jointly by L-BFGS (numpy) on the features
computed from the training sequences with exactly the code the online path uses.

The per-learner state is a small JSON-serialisable dict; see :meth:`RampKT.new_state`.
Plain Python + numpy: no Django.
"""

from __future__ import annotations

import math

import numpy as np

from .base import ConceptEstimate, Estimator, as_sequences, logit, sigmoid


def lbfgs(fun, x0: np.ndarray, max_iter: int = 300, m: int = 12, tol: float = 1e-7):
    """Minimise ``fun(x) -> (value, gradient)`` with L-BFGS and a backtracking (Armijo)
    line search. Small and dependency-free; good enough for smooth convex objectives."""
    x = x0.astype(np.float64).copy()
    f, g = fun(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(max_iter):
        q = g.copy()
        alphas = []
        for s_, y_ in zip(reversed(s_hist), reversed(y_hist)):
            a = (s_ @ q) / (y_ @ s_)
            alphas.append(a)
            q -= a * y_
        if s_hist:
            q *= (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1])
        for (s_, y_), a in zip(zip(s_hist, y_hist), reversed(alphas)):
            b = (y_ @ q) / (y_ @ s_)
            q += (a - b) * s_
        d = -q
        gd = g @ d
        if gd >= 0:  # not a descent direction: restart from the gradient
            s_hist.clear()
            y_hist.clear()
            d = -g
            gd = g @ d
        step = 1.0 if s_hist else min(1.0, 1.0 / max(np.abs(g).sum(), 1e-12))
        while True:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * gd or step < 1e-10:
                break
            step *= 0.5
        s_, y_ = x_new - x, g_new - g
        if s_ @ y_ > 1e-12:
            s_hist.append(s_)
            y_hist.append(y_)
            if len(s_hist) > m:
                s_hist.pop(0)
                y_hist.pop(0)
        done = abs(f - f_new) <= tol * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if done or np.abs(g).max() < 1e-9:
            break
    return x


# decay factors (per response) of the learner-level residual means and of the
# per-concept success rate; fixed, documented, not tuned to any one log
_FAST = 0.7  # learner residual, half-life ~2 responses
_SLOW = 0.95  # learner residual, half-life ~14 responses
_SKILL = 0.8  # per-concept success rate, half-life ~3 attempts on the concept

FEATURES = (
    "g_log_n",
    "g_log_w",
    "g_res_fast",
    "g_res_slow",
    "s_seen",
    "s_log_n",
    "s_log_w",
    "s_rate",
    "s_last",
    "s_log_gap",
    "s_streak",
    "g_last",
    "g_same",
    "g_streak",
    "t_has_skill",
    "t_log_dt_skill",
    "t_log_dt_any",
    "h_log_hints",
    "h_last_hint",
)
N_FEAT = len(FEATURES)
# features whose weights may differ per skill (deviations shrunk to zero)
SKILL_SPECIFIC = ("s_seen", "s_log_n", "s_log_w", "s_rate", "s_last", "s_streak")
_SKILL_SPECIFIC_IDX = tuple(FEATURES.index(f) for f in SKILL_SPECIFIC)

# indices into the learner-level list state["g"]
_G_N, _G_W, _G_RF, _G_RFN, _G_RS, _G_RSN, _G_T, _G_RUN, _G_SKILL = range(9)
# indices into a per-concept list state["s"][skill]
_S_N, _S_W, _S_DW, _S_DN, _S_LAST, _S_IDX, _S_T, _S_H, _S_LH, _S_RUN = range(10)


def _signed_log(run: int) -> float:
    return math.log1p(run) if run >= 0 else -math.log1p(-run)


class RampKT(Estimator):
    name = "ramp"

    def __init__(
        self,
        l2_skill_dev: float = 1.0 / 0.3**2,
        l2_item: float = 1.0,
        l2_skill: float = 0.1,
        l2_weights: float = 1e-2,
        max_iter: int = 200,
        mastery_threshold: float = 0.8,
        prior_sd: float = 1.5,
        transfer: bool = False,
        l2_transfer: float = 1.0 / 0.3**2,
        min_pair_count: int = 30,
    ):
        self.use_transfer = transfer
        self.l2_transfer = l2_transfer
        self.min_pair_count = min_pair_count
        # target skill -> {practised skill: [w_successes, w_failures]} on log1p counts
        self.transfer: dict[str, dict[str, list[float]]] = {}
        self.fit_info: dict = {}
        self.l2_skill_dev = l2_skill_dev  # precision of per-skill weight deviations
        self.l2_item = l2_item  # precision of item difficulties
        self.l2_skill = l2_skill  # precision of skill intercepts
        self.l2_weights = l2_weights
        self.max_iter = max_iter
        self.mastery_threshold = mastery_threshold
        self.prior_sd = prior_sd
        self.base_rate: dict[str, float] = {}
        self.global_rate = 0.5
        self.skill_bias: dict[str, float] = {}
        self.default_bias = 0.0
        self.item_difficulty: dict[str, float] = {}
        self.weights: list[float] = [0.0] * N_FEAT
        self.skill_weights: dict[str, list[float]] = {}
        self.feature_mask = [1.0] * N_FEAT

    # ---- state ---------------------------------------------------------------------------
    def new_state(self) -> dict:
        """``{"g": [n, wins, res_fast_sum, res_fast_norm, res_slow_sum, res_slow_norm,
        last_t, run, last_skill], "s": {skill: [n, wins, decayed_wins, decayed_n,
        last(+1/-1), index_of_last, last_t, hints, last_hint, run]}}`` where ``run`` is the
        current streak, +k after k successes in a row, -k after k failures."""
        return {"g": [0, 0, 0.0, 0.0, 0.0, 0.0, None, 0, None], "s": {}}

    def _base(self, skill: str) -> float:
        return self.base_rate.get(skill, self.global_rate)

    def features(self, state: dict, skill: str, t: float | None = None) -> list[float]:
        g = state["g"]
        s = state["s"].get(skill)
        x = [0.0] * N_FEAT
        x[0] = math.log1p(g[_G_N])
        x[1] = math.log1p(g[_G_W])
        if g[_G_RFN] > 0:
            x[2] = g[_G_RF] / (g[_G_RFN] + 1.0)
            x[3] = g[_G_RS] / (g[_G_RSN] + 1.0)
        if s is not None:
            x[4] = 1.0 if s[_S_N] else 0.0
            x[5] = math.log1p(s[_S_N])
            x[6] = math.log1p(s[_S_W])
            x[7] = math.log((s[_S_DW] + 1.0) / (s[_S_DN] - s[_S_DW] + 1.0))
            x[8] = s[_S_LAST]
            if s[_S_N] > 0:
                x[9] = math.log1p(g[_G_N] - s[_S_IDX])
            if t is not None and s[_S_T] is not None:
                x[14] = 1.0
                x[15] = math.log1p(max(t - s[_S_T], 0.0) / 60.0)
            x[10] = _signed_log(s[_S_RUN])
            x[17] = math.log1p(s[_S_H])
            x[18] = s[_S_LH]
        if g[_G_N]:
            run = g[_G_RUN]
            x[11] = 1.0 if run > 0 else -1.0
            x[12] = 1.0 if g[_G_SKILL] == skill else 0.0
            x[13] = _signed_log(run)
        if t is not None and g[_G_T] is not None:
            x[16] = math.log1p(max(t - g[_G_T], 0.0) / 60.0)
        return x

    def update(self, state, skill, correct, item=None, t=None, hints=0):
        g = state["g"]
        s = state["s"].get(skill)
        if s is None:
            s = state["s"][skill] = [0, 0, 0.0, 0.0, 0, 0, None, 0, 0, 0]
        y = 1 if correct else 0
        res = y - self._base(skill)
        g[_G_RF] = _FAST * g[_G_RF] + res
        g[_G_RFN] = _FAST * g[_G_RFN] + 1.0
        g[_G_RS] = _SLOW * g[_G_RS] + res
        g[_G_RSN] = _SLOW * g[_G_RSN] + 1.0
        g[_G_N] += 1
        g[_G_W] += y
        if t is not None:
            g[_G_T] = t
        g[_G_RUN] = (g[_G_RUN] + 1 if g[_G_RUN] > 0 else 1) if y else (g[_G_RUN] - 1 if g[_G_RUN] < 0 else -1)
        g[_G_SKILL] = skill
        s[_S_RUN] = (s[_S_RUN] + 1 if s[_S_RUN] > 0 else 1) if y else (s[_S_RUN] - 1 if s[_S_RUN] < 0 else -1)
        s[_S_N] += 1
        s[_S_W] += y
        s[_S_DW] = _SKILL * s[_S_DW] + y
        s[_S_DN] = _SKILL * s[_S_DN] + 1.0
        s[_S_LAST] = 1 if y else -1
        s[_S_IDX] = g[_G_N]
        if t is not None:
            s[_S_T] = t
        h = int(hints or 0)
        s[_S_H] += h
        s[_S_LH] = 1 if h > 0 else 0

    def apply_evidence(self, state: dict, skill: str, weight: float) -> None:
        """Soft evidence on ``skill`` (e.g. from the prerequisite graph): ``weight`` > 0
        adds that many fractional pseudo-successes to the concept's decayed success rate,
        < 0 pseudo-failures. Counts, last outcome and recency are left alone."""
        if not weight:
            return
        s = state["s"].get(skill)
        if s is None:
            s = state["s"][skill] = [0, 0, 0.0, 0.0, 0, 0, None, 0, 0, 0]
        s[_S_DN] += abs(weight)
        if weight > 0:
            s[_S_DW] += weight

    # ---- prediction ----------------------------------------------------------------------
    def _skill_logit(self, state, skill, t=None) -> float:
        w = self.skill_weights.get(skill, self.weights)
        x = self.features(state, skill, t)
        z = self.skill_bias.get(skill, self.default_bias)
        for wj, xj in zip(w, x):
            z += wj * xj
        if self.transfer:
            row = self.transfer.get(skill)
            if row:
                for k, v in state["s"].items():
                    ab = row.get(k)
                    if ab is not None and v[_S_N]:
                        z += ab[0] * math.log1p(v[_S_W]) + ab[1] * math.log1p(v[_S_N] - v[_S_W])
        return z

    def predict(self, state, skill, item=None, t=None):
        z = self._skill_logit(state, skill, t)
        if item is not None:
            z -= self.item_difficulty.get(item, 0.0)
        return sigmoid(z)

    def predict_at_difficulty(self, state, skill, difficulty, t=None):
        return sigmoid(self._skill_logit(state, skill, t) - difficulty)

    def difficulty_for_target(self, state, skill, target=0.85, t=None):
        return self._skill_logit(state, skill, t) - logit(target)

    def mastery(self, state, skill, t=None) -> ConceptEstimate:
        """P(success on a typical item) now, and P(mastered) = P(proficiency logit >
        logit(mastery_threshold)) under a normal belief whose sd shrinks with the
        (decayed) evidence on the concept: sd^2 = 1 / (1/prior_sd^2 + n_eff p (1-p))."""
        z = self._skill_logit(state, skill, t)
        p = sigmoid(z)
        s = state["s"].get(skill)
        n_eff = s[_S_DN] if s is not None else 0.0
        n_all = s[_S_N] if s is not None else 0
        sd = 1.0 / math.sqrt(1.0 / self.prior_sd**2 + n_eff * p * (1.0 - p))
        zt = (z - logit(self.mastery_threshold)) / sd
        p_m = 0.5 * math.erfc(-zt / math.sqrt(2.0))
        return ConceptEstimate(skill, p, p_m, sd, float(n_all))

    # ---- fitting -------------------------------------------------------------------------
    def _design(self, seqs):
        """Features of every training response computed with the online code path, plus
        the (learner has practised k) -> (response on s) transfer entries."""
        skills: dict[str, int] = {}
        items: dict[str, int] = {}
        X = []
        sk = []
        it = []
        y = []
        tr_row, tr_pair, tr_a, tr_b = [], [], [], []
        pairs: dict[tuple[str, str], int] = {}
        use_transfer = self.use_transfer
        for seq in seqs:
            st = self.new_state()
            for r in seq:
                if use_transfer:
                    row = len(y)
                    for k, v in st["s"].items():
                        if k != r.skill_id and v[_S_N]:
                            key = (r.skill_id, k)
                            j = pairs.get(key)
                            if j is None:
                                j = pairs[key] = len(pairs)
                            tr_row.append(row)
                            tr_pair.append(j)
                            tr_a.append(math.log1p(v[_S_W]))
                            tr_b.append(math.log1p(v[_S_N] - v[_S_W]))
                X.append(self.features(st, r.skill_id, r.timestamp))
                sk.append(skills.setdefault(r.skill_id, len(skills)))
                it.append(-1 if r.item_id is None else items.setdefault(r.item_id, len(items)))
                y.append(r.correct)
                self.update(st, r.skill_id, r.correct, r.item_id, r.timestamp, r.hints)
        tr = (
            np.asarray(tr_row, dtype=np.int64),
            np.asarray(tr_pair, dtype=np.int64),
            np.asarray(tr_a),
            np.asarray(tr_b),
            list(pairs),
        )
        return (
            np.asarray(X, dtype=np.float64),
            np.asarray(sk, dtype=np.int64),
            np.asarray(it, dtype=np.int64),
            np.asarray(y, dtype=np.float64),
            skills,
            items,
            tr,
        )

    def fit(self, sequences):
        seqs = as_sequences(sequences)
        # stage 1: smoothed base rates per skill (used by the residual ability features)
        n: dict[str, int] = {}
        c: dict[str, int] = {}
        for seq in seqs:
            for r in seq:
                n[r.skill_id] = n.get(r.skill_id, 0) + 1
                c[r.skill_id] = c.get(r.skill_id, 0) + r.correct
        tot = sum(n.values())
        self.global_rate = (sum(c.values()) + 1.0) / (tot + 2.0)
        self.base_rate = {s: (c[s] + 5.0 * self.global_rate) / (n[s] + 5.0) for s in n}
        # stage 2: joint L2-regularised logistic regression over dense features and
        # sparse (skill, skill x feature, item, skill pair) columns
        X, sk, it, y, skills, items, (tr_row, tr_pair, tr_a, tr_b, pair_keys) = self._design(seqs)
        X = X * np.asarray(self.feature_mask)
        N, D = X.shape
        K, n_items, P = len(skills), len(items), len(pair_keys)
        if P:  # keep only skill pairs seen often enough to estimate
            cnt = np.bincount(tr_pair, minlength=P)
            keep_pair = cnt >= self.min_pair_count
            new_idx = np.cumsum(keep_pair) - 1
            m = keep_pair[tr_pair]
            tr_row, tr_pair, tr_a, tr_b = tr_row[m], new_idx[tr_pair[m]], tr_a[m], tr_b[m]
            pair_keys = [k for k, keep in zip(pair_keys, keep_pair) if keep]
            P = len(pair_keys)
        mu = X.mean(0)
        sdv = X.std(0)
        sdv[sdv < 1e-8] = 1.0
        Xs = (X - mu) / sdv
        spec = list(_SKILL_SPECIFIC_IDX)
        Ds = len(spec)
        off_b = D
        off_d = off_b + K
        off_i = off_d + K * Ds
        off_t = off_i + n_items
        ncol = off_t + 2 * P
        rows = [np.arange(N)]
        cols = [off_b + sk]
        vals = [np.ones(N)]
        for jj, j in enumerate(spec):
            rows.append(np.arange(N))
            cols.append(off_d + sk * Ds + jj)
            vals.append(Xs[:, j])
        has = it >= 0
        if n_items:
            rows.append(np.flatnonzero(has))
            cols.append(off_i + it[has])
            vals.append(-np.ones(int(has.sum())))
        if P:
            rows += [tr_row, tr_row]
            cols += [off_t + tr_pair, off_t + P + tr_pair]
            vals += [tr_a, tr_b]
        rows = np.concatenate(rows)
        cols = np.concatenate(cols)
        vals = np.concatenate(vals)
        prec = np.empty(ncol)
        prec[:D] = self.l2_weights
        prec[off_b:off_d] = self.l2_skill
        prec[off_d:off_i] = self.l2_skill_dev
        prec[off_i:off_t] = self.l2_item
        prec[off_t:] = self.l2_transfer

        def loss_grad(theta):
            z = Xs @ theta[:D] + np.bincount(rows, vals * theta[cols], N)
            nll = np.logaddexp(0.0, z).sum() - (y * z).sum()
            g = 1.0 / (1.0 + np.exp(-z)) - y
            grad = np.empty(ncol)
            grad[:D] = Xs.T @ g
            grad[D:] = np.bincount(cols, vals * g[rows], ncol)[D:]
            grad += prec * theta
            return (nll + 0.5 * (prec * theta * theta).sum()) / N, grad / N

        theta = lbfgs(loss_grad, np.zeros(ncol), self.max_iter)
        w_std = theta[:D]
        b = theta[off_b:off_d]
        u_std = np.zeros((K, D))
        u_std[:, spec] = theta[off_d:off_i].reshape(K, Ds)
        # fold the standardisation into the weights: w.(x-mu)/sd = (w/sd).x - w.mu/sd
        mask = np.asarray(self.feature_mask)
        w_np = w_std / sdv * mask
        u_np = u_std / sdv * mask
        b_np = b - (mu * w_np).sum() - (u_np * mu).sum(1)
        names = list(skills)
        self.weights = [float(v) for v in w_np]
        self.skill_bias = {s: float(b_np[i]) for i, s in enumerate(names)}
        self.skill_weights = {s: [float(v) for v in (w_np + u_np[i])] for i, s in enumerate(names)}
        cnt_k = np.bincount(sk, minlength=K).astype(float)
        self.default_bias = float((b_np * cnt_k).sum() / cnt_k.sum())
        bi = theta[off_i:off_t]
        self.item_difficulty = {s: float(bi[i]) for i, s in enumerate(items)}
        ta, tb = theta[off_t : off_t + P], theta[off_t + P :]
        self.transfer = {}
        for j, (target, source) in enumerate(pair_keys):
            self.transfer.setdefault(target, {})[source] = [float(ta[j]), float(tb[j])]
        self.fit_info = {"n": N, "columns": ncol, "skill_pairs": P, "loss": float(loss_grad(theta)[0])}
        return self

    # ---- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": "ramp",
            "version": 1,
            "features": list(FEATURES),
            "base_rate": self.base_rate,
            "global_rate": self.global_rate,
            "skill_bias": self.skill_bias,
            "default_bias": self.default_bias,
            "item_difficulty": self.item_difficulty,
            "weights": self.weights,
            "skill_weights": self.skill_weights,
            "transfer": self.transfer,
            "mastery_threshold": self.mastery_threshold,
            "prior_sd": self.prior_sd,
        }

    @classmethod
    def from_dict(cls, d: dict) -> RampKT:
        if d.get("kind") != "ramp" or list(d.get("features", ())) != list(FEATURES):
            raise ValueError("not a RampKT parameter set of this version")
        m = cls(mastery_threshold=d["mastery_threshold"], prior_sd=d["prior_sd"])
        m.base_rate = dict(d["base_rate"])
        m.global_rate = d["global_rate"]
        m.skill_bias = dict(d["skill_bias"])
        m.default_bias = d["default_bias"]
        m.item_difficulty = dict(d["item_difficulty"])
        m.weights = list(d["weights"])
        m.skill_weights = {k: list(v) for k, v in d["skill_weights"].items()}
        m.transfer = {k: {j: list(ab) for j, ab in row.items()} for k, row in d.get("transfer", {}).items()}
        return m
