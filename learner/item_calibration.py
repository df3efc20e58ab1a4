"""Item difficulties calibrated from a response log, on the authors' scale (plain numpy).

The study loop reads an item's difficulty through the mastery tracker
(:mod:`learner.mastery`): relative to its concept's typical question, in logits, with the
author's value as the starting point. So a calibration must write difficulties on that
scale and move an item away from what its author wrote only as far as the log shows.

The model: every *episode* (one learner's answers on one concept) has its own proficiency
``a_e``, which grows by ``slope`` per answer within the episode (learners learn while they
practise: without the slope, items served late in an episode - when the policy serves harder
questions to a learner who has improved - would look easier than they are), and

    P(right) = guess + (1 - guess) * (1 - SLIP) * sigmoid(a_e + slope * k - d_i + hint_relief(h))

with a normal prior N(author's value, ``PRIOR_SD``^2) on each item's ``d_i``. Fitted by
alternating Newton steps (episodes, items, slope), ``ITERATIONS`` rounds. Then:

* episodes answered all right or all wrong are left out: they say nothing about which of the
  concept's questions is harder, and kept, the shrinkage of their proficiency towards the
  middle makes easy items look harder and hard ones easier (on a simulated log it compressed
  the difficulties by a third);
* an item nobody answered (or only in such episodes) stays where its author put it;
* a concept's items keep their authored mean: a whole concept turning out harder than
  written is, for the tracker, the same as its learners being less proficient there; only an
  item's place among its concept's questions can be told from the log.

Why not a knowledge-tracing estimator's item offsets (``RampKT.item_difficulty`` in
``benchmarks/kt``)? They are offsets around 0 next to a per-concept bias, shrunk towards 0:
on a simulated 30-concept ramp their spread was 0.91 logits where the authors' was 1.43, and
the policy, reading them as difficulties, kept 0.540 of practice in the band instead of 0.666
(docs/knowledge-model.md, calibration).

    >>> from learner.course_graph import ItemInfo
    >>> from learner.response_log import Response
    >>> items = {"e": ItemInfo("e", "c", -0.5), "h": ItemInfo("h", "c", 0.5)}
    >>> log = [[Response(f"u{u}", "c", int(k % 3 != 0 or u % 2 == 0), None, "eh"[k % 2], 0)
    ...         for k in range(12)] for u in range(40)]
    >>> d = calibrate_item_difficulties(sequences=log, items=items)
    >>> round(d["e"] + d["h"], 6)   # the concept keeps its authored mean
    0.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .course_graph import ItemInfo
from .mastery import SLIP, hint_relief
from .response_log import Response

PRIOR_SD = 0.5  # how far (logits) an item is expected to be from its author's value
EPISODE_SD = 10.0  # a nearly flat prior on an episode's proficiency (only keeps Newton finite)
ITERATIONS = 100
MAX_K = 20  # answers into an episode after which the learning trend stops growing


def calibrate_item_difficulties(
    *,
    sequences: Iterable[Sequence[Response]],
    items: Mapping[str, ItemInfo],
    prior_sd: float = PRIOR_SD,
    iterations: int = ITERATIONS,
) -> dict[str, float]:
    """``items``: item id -> ItemInfo whose ``difficulty`` is the author's (the prior).
    ``sequences``: per-learner practice answers in time order; answers on items not in
    ``items`` are ignored. Returns item id -> calibrated difficulty for every item of ``items``."""
    ids = list(items)
    index = {i: k for k, i in enumerate(ids)}
    prior = np.array([float(items[i].difficulty) for i in ids])
    ep_of, it_of, k_of, y_of, g_of, h_of = [], [], [], [], [], []
    episodes: dict[tuple[int, str], int] = {}
    for u, seq in enumerate(sequences):
        count: dict[str, int] = {}
        for r in seq:
            j = index.get(r.item_id)
            if j is None:
                continue
            it = items[r.item_id]
            e = episodes.setdefault((u, it.concept), len(episodes))
            k = count.get(it.concept, 0)
            count[it.concept] = k + 1
            ep_of.append(e)
            it_of.append(j)
            k_of.append(min(k, MAX_K))
            y_of.append(1.0 if r.correct else 0.0)
            g_of.append(it.guess_rate)
            h_of.append(hint_relief(r.hints or 0))
    d = prior.copy()
    if ep_of:
        answers = {
            "episode": np.array(ep_of),
            "item": np.array(it_of),
            **{
                name: np.array(x, dtype=float)
                for name, x in (("attempt", k_of), ("outcome", y_of), ("guess", g_of), ("relief", h_of))
            },
        }
        right, n = np.bincount(answers["episode"], answers["outcome"]), np.bincount(answers["episode"])
        mixed = ((right > 0) & (right < n))[answers["episode"]]
        d = _fit(
            **{name: x[mixed] for name, x in answers.items()},
            prior=prior,
            n_episodes=len(n),
            prior_sd=prior_sd,
            iterations=iterations,
        )
    by_concept: dict[str, list[int]] = {}
    for i, k in index.items():
        by_concept.setdefault(items[i].concept, []).append(k)
    for ks in by_concept.values():
        d[ks] -= (d[ks] - prior[ks]).mean()
    return {i: float(d[k]) for i, k in index.items()}


def _fit(
    *,
    episode,
    item,
    attempt,
    outcome,
    guess,
    relief,
    prior,
    n_episodes: int,
    prior_sd: float,
    iterations: int,
) -> np.ndarray:
    """Alternating Newton steps on the episodes' proficiencies, the items' difficulties and the
    shared learning slope; one entry per answer in each array."""
    d = prior.copy()
    a = np.zeros(n_episodes)
    slope = 0.0
    top = (1.0 - guess) * (1.0 - SLIP)
    w_item, w_ep = 1.0 / prior_sd**2, 1.0 / EPISODE_SD**2

    def terms():
        """Per answer: score and Fisher information for the logit z."""
        s = 1.0 / (1.0 + np.exp(-(a[episode] + slope * attempt - d[item] + relief)))
        p = np.clip(guess + top * s, 1e-6, 1.0 - 1e-6)
        dz = top * s * (1.0 - s)
        return (outcome - p) * dz / (p * (1.0 - p)), dz * dz / (p * (1.0 - p))

    for _ in range(iterations):
        score, info = terms()
        a += (np.bincount(episode, score, n_episodes) - w_ep * a) / (
            np.bincount(episode, info, n_episodes) + w_ep
        )
        score, info = terms()
        d += (-np.bincount(item, score, len(d)) - w_item * (d - prior)) / (
            np.bincount(item, info, len(d)) + w_item
        )
        score, info = terms()
        slope += (score * attempt).sum() / ((info * attempt * attempt).sum() + 1.0)
    return d
