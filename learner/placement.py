"""Adaptive placement over the prerequisite graph (plain Python + numpy, no Django).

The learner's knowledge state is a *downward-closed* set of concepts: knowing a concept
implies knowing its prerequisites. Placement keeps a weighted sample ("particles") of
such sets and, after each answer, the posterior over them; from it come the marginals
P(mastered) per concept, and the next question.

Prior (the generative model the particles are drawn from): a learner has a *level*
``f`` (uniform on a grid from below the first concept to beyond the last); going through
the concepts in topological order, a concept whose prerequisites are all known is known
with probability ``q_c(f) = sigmoid(slope * (f - r_c))`` where ``r_c`` in [0, 1] is how far
along the ramp the concept sits (half position in the ramp order, half depth in the DAG);
a concept with an unknown prerequisite is unknown. So learners tend to know a prefix of
the ramp, with holes, and nothing is ever known without what it builds on.

Likelihood of an answer to an item of concept c (``slip`` grows with item difficulty;
``guess`` is 1/choices for multiple choice):

============  =========================  ================================
outcome        c known                    c not known
============  =========================  ================================
correct        (1 - dk_known)(1 - slip)   (1 - dk_unknown) guess
incorrect      (1 - dk_known) slip        (1 - dk_unknown)(1 - guess)
dont_know      dk_known (0.02)            dk_unknown (0.35)
============  =========================  ================================

so "I don't know" is much stronger evidence of not knowing than a wrong answer (which may
be a slip), and a right answer on a multiple-choice item is weaker evidence of knowing than
one on a free-response item.

Inference: after each answer the particle weights are multiplied by the likelihood; when
the effective sample size drops below half, the particles are resampled and rejuvenated by
Gibbs sweeps that target the exact posterior (each concept's membership is resampled given
the rest of the set, the level and all the answers so far, subject to downward closure;
then each particle's level).

Question choice: for every (concept, item) still available, the expected reduction of
the *sum of the marginal entropies* of all concepts in scope, computed exactly over the
particles (pairwise co-membership matrix, three outcomes). Because the particles respect
the implication structure, a question on a concept in the middle of a chain informs its
ancestors and descendants too, and the placement asks there first. It stops when every
concept's P(mastered) is >= ``confidence`` or <= 1 - ``confidence``, or after
``max_questions`` questions, or when no item is left to ask.

Serialisation stores the settings, the seed and the observations (a few hundred bytes);
:meth:`Placement.from_dict` replays them deterministically. Replaying is costly (a dozen
answers with their resampling: 100-200 ms on a 36-concept ramp), so the particles after
each answer are kept: in an in-process cache, and in a ``store`` shared by the web
processes when one is given (:meth:`state_bytes`; ``learner.placement_store`` keeps them
in Redis), so the usual "load, observe, save" cycle costs one update whichever process
serves the learner's next answer.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import pickle
from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

import numpy as np

from .course_graph import CourseGraph, ItemInfo

OUTCOMES = ("correct", "incorrect", "dont_know")
_OUT_INDEX = {o: i for i, o in enumerate(OUTCOMES)}
VERSION = 1


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log(1 - p))


class Placement:
    def __init__(
        self,
        graph: CourseGraph,
        *,
        confidence: float = 0.9,
        max_questions: int = 12,
        seed: int = 0,
        concepts: Iterable[str] | None = None,
        n_particles: int | None = None,
        slip: float = 0.1,
        guess: float = 0.1,
        dont_know_known: float = 0.02,
        dont_know_unknown: float = 0.35,
        slope: float = 8.0,
        rejuvenate_sweeps: int = 2,
    ):
        self.graph = graph
        self.confidence = float(confidence)
        self.max_questions = int(max_questions)
        self.seed = int(seed)
        self.slip = slip
        self.guess = guess
        self.dk_known = dont_know_known
        self.dk_unknown = dont_know_unknown
        self.slope = slope
        self.sweeps = rejuvenate_sweeps
        scope = set(graph.concepts if concepts is None else concepts)
        unknown = scope - set(graph.concepts)
        if unknown:
            raise KeyError(f"not concepts of this graph: {sorted(unknown)}")
        self._restricted = None if concepts is None else sorted(scope, key=graph.index.__getitem__)
        self.names: list[str] = [c for c in graph.order if c in scope]
        n = self.n = len(self.names)
        self.local = {c: i for i, c in enumerate(self.names)}
        # prerequisites outside the scope are taken as known
        self.pre = [tuple(self.local[p] for p in graph.prereqs(c) if p in self.local) for c in self.names]
        kids: list[list[int]] = [[] for _ in range(n)]
        for i, ps in enumerate(self.pre):
            for p in ps:
                kids[p].append(i)
        self.kids = [tuple(k) for k in kids]
        # for the Gibbs step of concept i: each child with its other prerequisites
        self._kid_other = [
            [(d, np.asarray([p for p in self.pre[d] if p != i], dtype=np.intp)) for d in self.kids[i]]
            for i in range(n)
        ]
        self._pre_arr = [np.asarray(p, dtype=np.intp) for p in self.pre]
        self._kid_arr = [np.asarray(k, dtype=np.intp) for k in self.kids]
        adj = np.zeros((n, n), dtype=np.float32)
        for i, ps in enumerate(self.pre):
            for p in ps:
                adj[p, i] = 1.0
        self._adj = adj
        # how far along the ramp each concept is, in [0, 1]
        pos = np.arange(n, dtype=np.float64) / max(1, n - 1)
        depth = np.zeros(n)
        for i in range(n):
            depth[i] = 1 + max((depth[p] for p in self.pre[i]), default=-1)
        depth = depth / max(1.0, depth.max())
        self.rank = 0.5 * pos + 0.5 * depth
        self.levels = np.linspace(-0.35, 1.35, 18)
        q = 1.0 / (1.0 + np.exp(-slope * (self.levels[None, :] - self.rank[:, None])))
        q = np.clip(q, 0.02, 0.98)
        self._logq = np.log(q)  # (n, G)
        self._log1mq = np.log1p(-q)  # (n, G)
        self._logit_q = self._logq - self._log1mq
        # candidate questions: (local concept index, item); their likelihood tables
        self._cand: list[tuple[int, ItemInfo]] = []
        lik = []
        for i, c in enumerate(self.names):
            for it in graph.items.get(c, ()):
                self._cand.append((i, it))
                lik.append(self._likelihood(it))
        self._lik = np.asarray(lik, dtype=np.float64).reshape(-1, 2, 3)  # (cand, known?, outcome)
        self._cand_by_item = {it.id: k for k, (_, it) in enumerate(self._cand)}
        self._cand_concept = np.asarray([i for i, _ in self._cand], dtype=np.intp)
        # evidence so far
        self.observations: list[tuple[str, str, str]] = []
        self._ll = np.zeros((n, 2))  # per concept: log-lik if unknown [0], known [1]
        self._asked: set[str] = set()
        if n_particles is None:
            n_particles = int(min(2000, max(600, 60000 // max(1, n))))
        self.P = int(n_particles)
        self.rng = np.random.Generator(np.random.PCG64(self.seed))
        self._init_particles()

    # ---- model ----------------------------------------------------------------------------
    def _likelihood(self, it: ItemInfo) -> list[float]:
        d = self.graph.relative_difficulty(it)  # against the concept's typical question
        slip = 1.0 / (1.0 + math.exp(-(math.log(self.slip / (1 - self.slip)) + 0.5 * d)))
        slip = min(max(slip, 0.02), 0.4)
        # easy free-response items can be worked out without really knowing the concept
        g = 1.0 / (1.0 + math.exp(-(math.log(self.guess / (1 - self.guess)) - 0.6 * d)))
        guess = max(it.guess_rate, min(max(g, 0.02), 0.35))
        dkk, dku = self.dk_known, self.dk_unknown
        unknown = [(1 - dku) * guess, (1 - dku) * (1 - guess), dku]
        known = [(1 - dkk) * (1 - slip), (1 - dkk) * slip, dkk]
        return unknown + known

    def _init_particles(self) -> None:
        P, n = self.P, self.n
        F = self.rng.integers(0, len(self.levels), size=P)
        S = np.zeros((P, n), dtype=bool)
        U = self.rng.random((P, n))
        q = np.exp(self._logq)
        for i in range(n):
            ok = U[:, i] < q[i, F]
            for p in self.pre[i]:
                ok &= S[:, p]
            S[:, i] = ok
        self.S, self.F = S, F
        self.logw = np.zeros(P)

    def _weights(self) -> np.ndarray:
        w = np.exp(self.logw - self.logw.max())
        return w / w.sum()

    def _gibbs_sweep(self) -> None:
        S, F, P = self.S, self.F, self.P
        for i in range(self.n):
            if self._pre_arr[i].size:
                can_in = S[:, self._pre_arr[i]].all(1)
            else:
                can_in = np.ones(P, dtype=bool)
            if self._kid_arr[i].size:
                free = can_in & ~S[:, self._kid_arr[i]].any(1)
            else:
                free = can_in
            if not free.any():
                continue
            lo = self._logit_q[i, F] + (self._ll[i, 1] - self._ll[i, 0])
            for d, other in self._kid_other[i]:
                elig = S[:, other].all(1) if other.size else True
                lo = lo + np.where(elig, self._log1mq[d, F], 0.0)
            u = self.rng.random(P)
            new = u < 1.0 / (1.0 + np.exp(-lo))
            S[:, i] = np.where(free, new, S[:, i])
        # the level of each particle given its set
        missing = (~S).astype(np.float32) @ self._adj  # (P, n) unknown prerequisites
        elig = missing == 0
        known = (elig & S).astype(np.float64)
        unk = (elig & ~S).astype(np.float64)
        logp = known @ self._logq + unk @ self._log1mq  # (P, G)
        g = self.rng.gumbel(size=logp.shape)
        self.F = np.argmax(logp + g, axis=1)

    def _resample(self) -> None:
        w = self._weights()
        P = self.P
        u = (self.rng.random() + np.arange(P)) / P
        idx = np.minimum(np.searchsorted(np.cumsum(w), u), P - 1)
        self.S = self.S[idx].copy()
        self.F = self.F[idx].copy()
        self.logw = np.zeros(P)
        for _ in range(self.sweeps):
            self._gibbs_sweep()

    # ---- public API -----------------------------------------------------------------------
    def marginals(self) -> dict[str, float]:
        """P(mastered) per concept in scope."""
        m = self._weights() @ self.S
        return {c: float(m[i]) for i, c in enumerate(self.names)}

    @property
    def n_asked(self) -> int:
        return len(self.observations)

    def _available(self) -> np.ndarray:
        return np.asarray([it.is_template or it.id not in self._asked for _, it in self._cand], dtype=bool)

    @property
    def finished(self) -> bool:
        if self.n_asked >= self.max_questions or not self._cand:
            return True
        m = self._weights() @ self.S
        if np.all((m >= self.confidence) | (m <= 1.0 - self.confidence)):
            return True
        return not self._available().any()

    def scores(self) -> list[tuple[float, str, str]]:
        """Expected entropy reduction (nats, summed over the concepts' marginals) of the
        best available question of each concept, best first: ``[(gain, concept, item_id)]``."""
        if not self._cand:
            return []
        w = self._weights()
        Sf = self.S.astype(np.float64)
        m = w @ Sf  # (n,)
        A = (Sf * w[:, None]).T @ Sf  # A[c, d] = P(c and d known)
        B = m[None, :] - A  # P(c unknown, d known)
        ok = self._available()
        lu_all, lk_all = self._lik[:, 0, :], self._lik[:, 1, :]  # (K, 3)
        cand_c = self._cand_concept
        # per concept, the available item most informative about the concept itself
        # (mutual information between its outcome and the concept's membership); the
        # full, graph-wide gain is then computed for that item only
        mc = m[cand_c]
        Z = lk_all * mc[:, None] + lu_all * (1 - mc[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            mi = (
                mc[:, None] * lk_all * np.log(lk_all / Z) + (1 - mc[:, None]) * lu_all * np.log(lu_all / Z)
            ).sum(1)
        mi = np.where(ok, mi, -np.inf)
        best: dict[int, int] = {}
        for k in np.flatnonzero(ok):
            c = cand_c[k]
            if c not in best or mi[k] > mi[best[c]] + 1e-12:
                best[c] = int(k)
        if not best:
            return []
        ks = np.asarray(sorted(best.values()))
        cc = cand_c[ks]
        lu, lk = lu_all[ks], lk_all[ks]
        mcc = m[cc]
        Z = lk * mcc[:, None] + lu * (1 - mcc[:, None])  # (K, 3) P(outcome)
        # only concepts still uncertain can lose entropy worth counting
        live = np.flatnonzero(_entropy(m) > 1e-4)
        Al, Bl = A[np.ix_(cc, live)], B[np.ix_(cc, live)]
        post = (lk[:, :, None] * Al[:, None, :] + lu[:, :, None] * Bl[:, None, :]) / Z[:, :, None]
        eh = (Z * _entropy(post).sum(2)).sum(1)
        gain = _entropy(m[live]).sum() - eh
        out = [(float(gain[j]), self.names[cc[j]], self._cand[ks[j]][1].id) for j in range(len(ks))]
        out.sort(key=lambda x: -x[0])
        return out

    def next_question(self) -> tuple[str, str] | None:
        """(concept, item_id) of the most informative question, or None when finished."""
        if self.finished:
            return None
        best = self.scores()
        return (best[0][1], best[0][2]) if best else None

    def observe(self, concept: str, item_id: str, outcome: str) -> None:
        """Absorb an answer: ``outcome`` is "correct", "incorrect" or "dont_know"."""
        if outcome not in _OUT_INDEX:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        i = self.local.get(concept)
        if i is None:
            raise KeyError(f"{concept!r} is not in this placement's scope")
        k = self._cand_by_item.get(item_id)
        if k is not None and self._cand[k][0] == i:
            lik = self._lik[k]
        else:  # an item the graph doesn't know (e.g. retired since): a typical item
            lik = np.asarray(self._likelihood(ItemInfo(item_id, concept, 0.0))).reshape(2, 3)
        o = _OUT_INDEX[outcome]
        self.observations.append((concept, item_id, outcome))
        self._asked.add(item_id)
        l_unk, l_kn = math.log(lik[0, o]), math.log(lik[1, o])
        self._ll[i, 0] += l_unk
        self._ll[i, 1] += l_kn
        self.logw = self.logw + np.where(self.S[:, i], l_kn, l_unk)
        w = self._weights()
        ess = 1.0 / float((w * w).sum())
        if ess < 0.5 * self.P:
            self._resample()

    # ---- serialisation --------------------------------------------------------------------
    def _settings(self) -> dict:
        return {
            "confidence": self.confidence,
            "max_questions": self.max_questions,
            "seed": self.seed,
            "concepts": self._restricted,
            "n_particles": self.P,
            "slip": self.slip,
            "guess": self.guess,
            "dont_know_known": self.dk_known,
            "dont_know_unknown": self.dk_unknown,
            "slope": self.slope,
            "rejuvenate_sweeps": self.sweeps,
        }

    def to_dict(self, *, store: PlacementStore | None = None) -> dict:
        """The placement as JSON-ready data; its particles are also kept in the in-process
        cache and in ``store``, so loading it back costs no replay."""
        d = {"version": VERSION, **self._settings(), "observations": [list(o) for o in self.observations]}
        _cache_put(self.graph, d, self)
        if store is not None:
            # the state this one extends is needed no more (the learner's answers are applied
            # one at a time)
            replaces = state_key({**d, "observations": d["observations"][:-1]}) if self.observations else None
            store.put(state_key(d), self.state_bytes(), replaces=replaces)
        return d

    def state_bytes(self) -> bytes:
        """What answers change (particles, weights, evidence, the random generator): with the
        graph and the settings, this restores the placement exactly."""
        return pickle.dumps(
            {
                "shape": self.S.shape,
                "S": np.packbits(self.S),
                "F": self.F.astype(np.uint8),  # an index into 18 levels
                "logw": self.logw,
                "ll": self._ll,
                "asked": sorted(self._asked),
                "observations": self.observations,
                "rng": self.rng.bit_generator.state,
            },
            protocol=pickle.HIGHEST_PROTOCOL,
        )

    def _with_state(self, data: bytes, seed: int) -> Placement:
        state = pickle.loads(data)
        new = copy.copy(self)
        new.seed = int(seed)
        rows, cols = state["shape"]
        new.S = np.unpackbits(state["S"], count=rows * cols).astype(bool).reshape(rows, cols)
        new.F = state["F"].astype(np.intp)
        new.logw = state["logw"].copy()
        new._ll = state["ll"].copy()
        new._asked = set(state["asked"])
        new.observations = [tuple(o) for o in state["observations"]]
        new.rng = np.random.Generator(np.random.PCG64())
        new.rng.bit_generator.state = state["rng"]
        return new

    @classmethod
    def from_dict(cls, graph: CourseGraph, d: dict, *, store: PlacementStore | None = None) -> Placement:
        """The placement ``d`` describes: from the in-process cache, else from ``store``,
        else replayed from its longest cached beginning (or from the start)."""
        if d.get("version") != VERSION:
            raise ValueError("not a placement of this version")
        hit = _cache_get(graph, d)
        if hit is not None:
            return hit
        settings = {k: d[k] for k in _SETTINGS if k in d}
        if store is not None:
            data = store.get(state_key(d))
            if data is not None:
                restored = _skeleton(graph, settings)._with_state(data, settings.get("seed", 0))
                _cache_put(graph, d, restored)
                return restored
        obs = [tuple(o) for o in d.get("observations", ())]
        # the longest cached prefix of the observations saves most of the replay
        for k in range(len(obs) - 1, -1, -1):
            base = _cache_get(graph, {**d, "observations": [list(o) for o in obs[:k]]})
            if base is not None:
                break
        else:
            base, k = cls(graph, **settings), 0
        for c, item, outcome in obs[k:]:
            base.observe(c, item, outcome)
        return base


_SETTINGS = (
    "confidence",
    "max_questions",
    "seed",
    "concepts",
    "n_particles",
    "slip",
    "guess",
    "dont_know_known",
    "dont_know_unknown",
    "slope",
    "rejuvenate_sweeps",
)


class PlacementStore(Protocol):
    """Where placements' particles are shared between processes (keys from :func:`state_key`);
    a store may forget anything, and then the placement is replayed."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes, *, replaces: str | None = None) -> None:
        """Keep ``data`` under ``key``, and forget ``replaces`` (the state it extends)."""
        ...


def state_key(d: dict) -> str:
    """The store's key of a placement's state: a digest of its settings and observations (the
    graph is the store's part of the key)."""
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:40]


# ---- a small in-process cache: "load, observe, save" costs one update, not a replay ------
# Enough for a few hundred learners in placement at once per process (an entry is ~100 KB on
# a 36-concept ramp); a learner's newer state replaces the one it extends.
_CACHE: OrderedDict[tuple, tuple[CourseGraph, Placement]] = OrderedDict()
_CACHE_SIZE = 256
# What a state is restored into, per graph and settings but the seed (the candidate
# questions and their likelihood tables): building it draws particles that the state replaces.
_SKELETONS: OrderedDict[tuple, tuple[CourseGraph, Placement]] = OrderedDict()
_SKELETONS_SIZE = 16


def _key(graph: CourseGraph, d: dict) -> tuple:
    obs = tuple(tuple(o) for o in d.get("observations", ()))
    conc = d.get("concepts")
    settings = tuple(sorted((k, v) for k, v in d.items() if k not in ("observations", "concepts")))
    return (id(graph), settings, tuple(conc) if conc is not None else None, obs)


def _skeleton(graph: CourseGraph, settings: dict) -> Placement:
    rest = {k: v for k, v in settings.items() if k != "seed"}
    key = (id(graph), json.dumps(rest, sort_keys=True))
    hit = _SKELETONS.get(key)
    if hit is None or hit[0] is not graph:
        hit = _SKELETONS[key] = (graph, Placement(graph, **rest))
        while len(_SKELETONS) > _SKELETONS_SIZE:
            _SKELETONS.popitem(last=False)
    _SKELETONS.move_to_end(key)
    return hit[1]


def _clone(p: Placement) -> Placement:
    new = copy.copy(p)
    new.S, new.F, new.logw = p.S.copy(), p.F.copy(), p.logw.copy()
    new._ll = p._ll.copy()
    new._asked = set(p._asked)
    new.observations = list(p.observations)
    new.rng = copy.deepcopy(p.rng)
    return new


def _cache_put(graph: CourseGraph, d: dict, p: Placement) -> None:
    key = _key(graph, d)
    if key[3]:
        _CACHE.pop((*key[:3], key[3][:-1]), None)
    _CACHE[key] = (graph, _clone(p))
    _CACHE.move_to_end(key)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def _cache_get(graph: CourseGraph, d: dict) -> Placement | None:
    hit = _CACHE.get(_key(graph, d))
    if hit is None or hit[0] is not graph:
        return None
    return _clone(hit[1])
