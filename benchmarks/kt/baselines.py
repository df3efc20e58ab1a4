"""Classic knowledge-tracing baselines, fitted on training sequences.

* :class:`SkillMean`   - per-skill success rate in the training log (smoothed).
* :class:`BKT`         - Bayesian knowledge tracing (Corbett & Anderson 1995), one 2-state
  HMM per skill fitted by EM (Baum-Welch); ``forgetting=True`` also learns P(forget)
  (Khajah, Lindsey & Mozer 2016 style "BKT+forgets" per opportunity).
* :class:`Elo`         - Elo / online IRT: global learner ability plus a per-concept offset
  against skill (and item) difficulty (Pelanek 2016, "Applications of the Elo rating system
  in adaptive educational systems").
* :class:`PFA`         - performance factors analysis (Pavlik, Cen & Koedinger 2009):
  logit p = beta_s + gamma_s * successes_s + rho_s * failures_s, logistic regression.

Unseen skills (and items) fall back to population-average parameters.
Plain Python + numpy: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .base import ConceptEstimate, Estimator, as_sequences, sigmoid


def _skill_index(seqs) -> dict[str, int]:
    idx: dict[str, int] = {}
    for seq in seqs:
        for r in seq:
            if r.skill_id not in idx:
                idx[r.skill_id] = len(idx)
    return idx


# --------------------------------------------------------------------------------------
class SkillMean(Estimator):
    """P(correct) = smoothed success rate of the skill in training; no learner state."""

    name = "skill_mean"

    def __init__(self, prior_strength: float = 2.0):
        self.prior_strength = prior_strength
        self.rates: dict[str, float] = {}
        self.global_rate = 0.5

    def fit(self, sequences):
        seqs = as_sequences(sequences)
        n: dict[str, int] = {}
        c: dict[str, int] = {}
        tot = cor = 0
        for seq in seqs:
            for r in seq:
                n[r.skill_id] = n.get(r.skill_id, 0) + 1
                c[r.skill_id] = c.get(r.skill_id, 0) + r.correct
                tot += 1
                cor += r.correct
        self.global_rate = (cor + 1) / (tot + 2)
        a = self.prior_strength
        self.rates = {s: (c[s] + a * self.global_rate) / (n[s] + a) for s in n}
        return self

    def predict(self, state, skill, item=None, t=None):
        return self.rates.get(skill, self.global_rate)

    def update(self, state, skill, correct, item=None, t=None, hints=0):
        pass


# --------------------------------------------------------------------------------------
def fit_hmm_em(
    skill_of_seq: np.ndarray,
    obs_seqs: Sequence[np.ndarray],
    n_skills: int,
    forgetting: bool,
    max_iter: int = 60,
    tol: float = 1e-6,
    init=(0.4, 0.1, 0.05, 0.2, 0.1),
    max_guess_slip: float = 0.45,
):
    """Baum-Welch for per-skill 2-state BKT HMMs, vectorised over all sequences.

    ``obs_seqs[i]`` is the 0/1 outcome sequence of one (learner, skill) pair and
    ``skill_of_seq[i]`` its skill index. Returns arrays (L0, T, F, G, S) of length
    ``n_skills`` and the final log-likelihood. Sequences are packed time-major, longest
    first, so the sequences active at step t are a prefix of those active at t-1.
    """
    lengths = np.array([len(o) for o in obs_seqs], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    lengths = lengths[order]
    sk_sorted = np.asarray(skill_of_seq, dtype=np.int64)[order]
    maxlen = int(lengths[0])
    asc = lengths[::-1]
    n_t = len(lengths) - np.searchsorted(asc, np.arange(maxlen), side="right")
    off = np.concatenate(([0], np.cumsum(n_t)))
    total = int(off[-1])
    obs = np.empty(total, dtype=np.float64)
    for rank, i in enumerate(order):
        o = obs_seqs[i]
        obs[off[: len(o)] + rank] = o
    skill_flat = np.empty(total, dtype=np.int64)
    for t in range(maxlen):
        skill_flat[off[t] : off[t + 1]] = sk_sorted[: n_t[t]]

    L0 = np.full(n_skills, init[0])
    T = np.full(n_skills, init[1])
    F = np.full(n_skills, init[2] if forgetting else 0.0)
    G = np.full(n_skills, init[3])
    S = np.full(n_skills, init[4])
    # The E step works with logarithms of probabilities. In linear space a long run on one
    # skill breaks it: after many right answers P(known) rounds to exactly 1, the scaled
    # backward variables of the later wrong answers grow by (1 - G) / S per step until they
    # overflow, and 0 * inf gives NaN parameters (14% NaN predictions on an ASSISTments log).
    # In log space the forward variables never round to 0 or 1 and the backward ones are
    # renormalised at every step, so nothing overflows and nothing underflows to -inf.
    la0 = np.empty(total)  # log P(unknown at t | answers up to t)
    la1 = np.empty(total)  # log P(known at t | answers up to t)
    lc = np.empty(total)  # log P(answer at t | answers before t)
    lb0 = np.empty(total)  # log backward variables, normalised per step
    lb1 = np.empty(total)
    prev_ll = -np.inf
    ll = -np.inf
    seqs_per_skill = np.bincount(sk_sorted, minlength=n_skills).astype(np.float64)
    right = obs > 0.5
    for _ in range(max_iter):
        with np.errstate(divide="ignore"):  # log(0) = -inf for F = 0 (no forgetting) is meant
            # per response (indexed once here, sliced per step below)
            lT, l1T = np.log(T)[skill_flat], np.log1p(-T)[skill_flat]
            lF, l1F = np.log(F)[skill_flat], np.log1p(-F)[skill_flat]
        # E step: forward, emission log probabilities
        le1 = np.where(right, np.log1p(-S[skill_flat]), np.log(S[skill_flat]))
        le0 = np.where(right, np.log(G[skill_flat]), np.log1p(-G[skill_flat]))
        for t in range(maxlen):
            a, b = off[t], off[t + 1]
            if t == 0:
                sk = skill_flat[a:b]
                lp1, lp0 = np.log(L0[sk]), np.log1p(-L0[sk])
            else:
                q0 = la0[off[t - 1] : off[t - 1] + (b - a)]
                q1 = la1[off[t - 1] : off[t - 1] + (b - a)]
                lp1 = np.logaddexp(q0 + lT[a:b], q1 + l1F[a:b])
                lp0 = np.logaddexp(q0 + l1T[a:b], q1 + lF[a:b])
            x1 = lp1 + le1[a:b]
            x0 = lp0 + le0[a:b]
            lcc = np.logaddexp(x0, x1)
            la1[a:b] = x1 - lcc
            la0[a:b] = x0 - lcc
            lc[a:b] = lcc
        ll = float(lc.sum())
        # backward and expected transition counts
        lb0.fill(0.0)
        lb1.fill(0.0)
        xi01 = np.zeros(n_skills)
        xi10 = np.zeros(n_skills)
        g0_next = np.zeros(n_skills)
        g1_next = np.zeros(n_skills)
        for t in range(maxlen - 2, -1, -1):
            a = off[t]
            n1 = n_t[t + 1]
            an, bn = off[t + 1], off[t + 1] + n1
            sk = skill_flat[an:bn]
            lw0 = le0[an:bn] + lb0[an:bn]
            lw1 = le1[an:bn] + lb1[an:bn]
            # the transition into step t + 1 (the parameters of that response's skill)
            tT, t1T, tF, t1F = lT[an:bn], l1T[an:bn], lF[an:bn], l1F[an:bn]
            b0 = np.logaddexp(t1T + lw0, tT + lw1)
            b1 = np.logaddexp(tF + lw0, t1F + lw1)
            norm = np.logaddexp(b0, b1)
            lb0[a : a + n1] = b0 - norm
            lb1[a : a + n1] = b1 - norm
            q0 = la0[a : a + n1]
            q1 = la1[a : a + n1]
            x00 = q0 + t1T + lw0
            x01 = q0 + tT + lw1
            x10 = q1 + tF + lw0
            x11 = q1 + t1F + lw1
            z = np.logaddexp(np.logaddexp(x00, x01), np.logaddexp(x10, x11))
            x00, x01, x10, x11 = (np.exp(x - z) for x in (x00, x01, x10, x11))
            xi01 += np.bincount(sk, x01, n_skills)
            xi10 += np.bincount(sk, x10, n_skills)
            g0_next += np.bincount(sk, x00 + x01, n_skills)
            g1_next += np.bincount(sk, x10 + x11, n_skills)
        lg1 = la1 + lb1
        lg0 = la0 + lb0
        z = np.logaddexp(lg0, lg1)
        g1 = np.exp(lg1 - z)
        g0 = np.exp(lg0 - z)
        # M step (with one pseudo-observation at the initial value for stability)
        L0 = (np.bincount(skill_flat[: n_t[0]], g1[: n_t[0]], n_skills) + 0.5) / (seqs_per_skill + 1.0)
        T = (xi01 + 0.1) / (g0_next + 1.0)
        if forgetting:
            F = (xi10 + 0.05) / (g1_next + 1.0)
        sg0 = np.bincount(skill_flat, g0, n_skills)
        sg1 = np.bincount(skill_flat, g1, n_skills)
        G = (np.bincount(skill_flat, g0 * obs, n_skills) + 0.2) / (sg0 + 1.0)
        S = (np.bincount(skill_flat, g1 * (1.0 - obs), n_skills) + 0.1) / (sg1 + 1.0)
        G = np.clip(G, 1e-3, max_guess_slip)
        S = np.clip(S, 1e-3, max_guess_slip)
        T = np.clip(T, 1e-4, 1.0 - 1e-4)
        L0 = np.clip(L0, 1e-4, 1.0 - 1e-4)
        if forgetting:
            F = np.clip(F, 0.0, 0.5)
        if abs(ll - prev_ll) < tol * max(1.0, abs(ll)):
            break
        prev_ll = ll
    if not all(np.isfinite(arr).all() for arr in (L0, T, F, G, S)) or not np.isfinite(ll):
        # never expected; a NaN parameter would make every prediction of its skill NaN
        raise FloatingPointError("the BKT fit produced a non-finite parameter")
    return L0, T, F, G, S, ll


class BKT(Estimator):
    """Bayesian knowledge tracing per skill, fitted by EM; optional forgetting.

    State: ``{skill: P(known)}`` (prior of the next opportunity).
    """

    name = "bkt"

    def __init__(self, forgetting: bool = False, max_iter: int = 60):
        self.forgetting = forgetting
        self.max_iter = max_iter
        if forgetting:
            self.name = "bkt_forget"
        self.params: dict[str, tuple[float, float, float, float, float]] = {}
        self.default = (0.4, 0.1, 0.0, 0.2, 0.1)

    def fit(self, sequences):
        seqs = as_sequences(sequences)
        idx = _skill_index(seqs)
        obs_seqs: list[np.ndarray] = []
        skill_of: list[int] = []
        for seq in seqs:
            per: dict[str, list[int]] = {}
            for r in seq:
                per.setdefault(r.skill_id, []).append(r.correct)
            for s, o in per.items():
                obs_seqs.append(np.asarray(o, dtype=np.float64))
                skill_of.append(idx[s])
        L0, T, F, G, S, _ = fit_hmm_em(
            np.asarray(skill_of), obs_seqs, len(idx), self.forgetting, self.max_iter
        )
        names = list(idx)
        self.params = {
            s: (float(L0[i]), float(T[i]), float(F[i]), float(G[i]), float(S[i])) for i, s in enumerate(names)
        }
        w = np.bincount(np.asarray(skill_of), minlength=len(idx)).astype(float)
        w /= w.sum()
        self.default = tuple(float((arr * w).sum()) for arr in (L0, T, F, G, S))
        return self

    def _p(self, skill):
        return self.params.get(skill, self.default)

    def p_known(self, state, skill) -> float:
        pk = state.get(skill)
        return self._p(skill)[0] if pk is None else pk

    def predict(self, state, skill, item=None, t=None):
        _, _, _, g, s = self._p(skill)
        pk = self.p_known(state, skill)
        return pk * (1.0 - s) + (1.0 - pk) * g

    def update(self, state, skill, correct, item=None, t=None, hints=0):
        _, tr, f, g, s = self._p(skill)
        pk = self.p_known(state, skill)
        if correct:
            post = pk * (1.0 - s) / (pk * (1.0 - s) + (1.0 - pk) * g)
        else:
            post = pk * s / (pk * s + (1.0 - pk) * (1.0 - g))
        state[skill] = post * (1.0 - f) + (1.0 - post) * tr

    def apply_evidence(self, state, skill, weight):
        """Soft evidence: ``weight`` pseudo-observations (negative = failures), as a
        likelihood-ratio update of P(known) with no learning transition."""
        if not weight:
            return
        _, _, _, g, s = self._p(skill)
        pk = self.p_known(state, skill)
        lr = ((1.0 - s) / g) ** weight if weight > 0 else (s / (1.0 - g)) ** (-weight)
        state[skill] = pk * lr / (pk * lr + 1.0 - pk)

    def mastery(self, state, skill, t=None):
        pk = self.p_known(state, skill)
        return ConceptEstimate(
            skill, self.predict(state, skill), pk, math.sqrt(pk * (1.0 - pk)), float("nan")
        )


# --------------------------------------------------------------------------------------
class Elo(Estimator):
    """Elo / online IRT with a global ability and a per-concept ability offset.

    p = sigmoid(theta + theta_s - d_s - d_i); after each response both abilities move by
    K(n) * (correct - p) with K(n) = a / (1 + b n). Difficulties d_s (and d_i when item ids
    exist) are calibrated on the training log by running Elo over it, then frozen.
    State: ``{"th": theta, "n": n, "s": {skill: [theta_s, n_s]}}``.
    """

    name = "elo"

    def __init__(self, k_global: float | None = None, k_local: float | None = None, decay: float = 0.05):
        self.k_global = k_global
        self.k_local = k_local
        self.decay = decay
        self.d_skill: dict[str, float] = {}
        self.d_item: dict[str, float] = {}

    def _run(self, seqs, calibrate: bool, kg: float, kl: float, record=False):
        ds, di = self.d_skill, self.d_item
        ns: dict[str, int] = {}
        ni: dict[str, int] = {}
        ll = 0.0
        for seq in seqs:
            st = self.new_state()
            for r in seq:
                p = self._predict(st, r.skill_id, r.item_id)
                if record:
                    ll -= math.log(p if r.correct else 1.0 - p)
                if calibrate:
                    k = ns.get(r.skill_id, 0)
                    ds[r.skill_id] = ds.get(r.skill_id, 0.0) - 1.0 / (1.0 + 0.05 * k) * (r.correct - p)
                    ns[r.skill_id] = k + 1
                    if r.item_id is not None:
                        k = ni.get(r.item_id, 0)
                        di[r.item_id] = di.get(r.item_id, 0.0) - 1.0 / (1.0 + 0.05 * k) * (r.correct - p)
                        ni[r.item_id] = k + 1
                self._update(st, r.skill_id, r.correct, p, kg, kl)
        return ll

    def fit(self, sequences):
        seqs = as_sequences(sequences)
        self.d_skill, self.d_item = {}, {}
        # calibrate difficulties with moderate learner steps, twice over the data
        for _ in range(2):
            self._run(seqs, True, 0.8, 0.8)
        if self.k_global is None or self.k_local is None:
            rng = np.random.default_rng(0)
            sub = [seqs[i] for i in rng.permutation(len(seqs))[:3000]]
            best = None
            for kg in (0.2, 0.5, 1.0):
                for kl in (0.2, 0.5, 1.0, 2.0):
                    ll = self._run(sub, False, kg, kl, record=True)
                    if best is None or ll < best[0]:
                        best = (ll, kg, kl)
            self.k_global, self.k_local = best[1], best[2]
        return self

    def new_state(self):
        return {"th": 0.0, "n": 0, "s": {}}

    def _predict(self, state, skill, item):
        loc = state["s"].get(skill)
        x = state["th"] + (loc[0] if loc else 0.0) - self.d_skill.get(skill, 0.0)
        if item is not None:
            x -= self.d_item.get(item, 0.0)
        return sigmoid(x)

    def _update(self, state, skill, correct, p, kg, kl):
        loc = state["s"].get(skill)
        if loc is None:
            loc = state["s"][skill] = [0.0, 0]
        err = correct - p
        state["th"] += kg / (1.0 + self.decay * state["n"]) * err
        state["n"] += 1
        loc[0] += kl / (1.0 + self.decay * loc[1]) * err
        loc[1] += 1

    def predict(self, state, skill, item=None, t=None):
        return self._predict(state, skill, item)

    def update(self, state, skill, correct, item=None, t=None, hints=0):
        p = self._predict(state, skill, item)
        self._update(state, skill, correct, p, self.k_global, self.k_local)


# --------------------------------------------------------------------------------------
class PFA(Estimator):
    """Performance factors analysis with per-skill parameters (raw counts, as published).

    State: ``{skill: [successes, failures]}``.
    """

    name = "pfa"

    def __init__(self, l2: float = 1e-3):
        self.l2 = l2
        self.params: dict[str, tuple[float, float, float]] = {}
        self.default = (0.0, 0.1, -0.1)

    def fit(self, sequences):
        from .ramp import lbfgs

        seqs = as_sequences(sequences)
        idx = _skill_index(seqs)
        sk, su, fa, y = [], [], [], []
        for seq in seqs:
            cnt: dict[str, list[int]] = {}
            for r in seq:
                c = cnt.get(r.skill_id)
                if c is None:
                    c = cnt[r.skill_id] = [0, 0]
                sk.append(idx[r.skill_id])
                su.append(c[0])
                fa.append(c[1])
                y.append(r.correct)
                c[0 if r.correct else 1] += 1
        K = len(idx)
        sk_a = np.asarray(sk, dtype=np.int64)
        su_a = np.asarray(su, dtype=np.float64)
        fa_a = np.asarray(fa, dtype=np.float64)
        y_a = np.asarray(y, dtype=np.float64)
        n = float(len(y))
        l2 = self.l2 / K

        def fun(theta):
            beta, gam, rho = theta[:K], theta[K : 2 * K], theta[2 * K :]
            z = beta[sk_a] + gam[sk_a] * su_a + rho[sk_a] * fa_a
            nll = (np.logaddexp(0.0, z) - y_a * z).sum() / n
            g = (1.0 / (1.0 + np.exp(-z)) - y_a) / n
            grad = np.concatenate(
                [np.bincount(sk_a, g, K), np.bincount(sk_a, g * su_a, K), np.bincount(sk_a, g * fa_a, K)]
            )
            reg = np.concatenate([np.zeros(K), theta[K:]])
            return nll + l2 * (reg * reg).sum(), grad + 2.0 * l2 * reg

        x0 = np.concatenate([np.zeros(K), np.full(K, 0.1), np.full(K, -0.1)])
        theta = lbfgs(fun, x0, 300)
        b, g, r = theta[:K], theta[K : 2 * K], theta[2 * K :]
        names = list(idx)
        self.params = {s: (float(b[i]), float(g[i]), float(r[i])) for i, s in enumerate(names)}
        w = np.bincount(sk_a, minlength=K).astype(float)
        w /= w.sum()
        self.default = (float((b * w).sum()), float((g * w).sum()), float((r * w).sum()))
        return self

    def predict(self, state, skill, item=None, t=None):
        b, g, r = self.params.get(skill, self.default)
        c = state.get(skill)
        if c is None:
            return sigmoid(b)
        return sigmoid(b + g * c[0] + r * c[1])

    def update(self, state, skill, correct, item=None, t=None, hints=0):
        c = state.get(skill)
        if c is None:
            c = state[skill] = [0, 0]
        c[0 if correct else 1] += 1
