"""The interface every knowledge-tracing estimator implements.

An estimator is *fitted* once on training sequences (population parameters: skill and
item difficulties, weights), then used *online*: each learner has a small, JSON-serialisable
``state`` (a dict) that the estimator reads to predict the next response and mutates in
place to absorb an observed response::

    est = SomeEstimator().fit(train_sequences)
    state = est.new_state()
    p = est.predict(state, "fractions", item="q17", t=1700000000.0)
    est.update(state, "fractions", 1, item="q17", t=1700000000.0, hints=0)
    est.mastery(state, "fractions")   # ConceptEstimate(p_correct, p_mastered, sd, n)

``difficulty`` everywhere is on the logit scale, relative to the concept's typical item
(0 = typical, +1 = harder by one logit). ``t`` is seconds since the epoch (or None).
Plain Python: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from learner.response_log import Response


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def logit(p: float, eps: float = 1e-6) -> float:
    p = min(max(p, eps), 1.0 - eps)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class ConceptEstimate:
    """What an estimator believes about one learner on one concept right now."""

    skill: str
    p_correct: float  # predicted success on a typical item of the concept
    p_mastered: float  # probability the concept is mastered
    sd: float  # uncertainty: standard deviation of the proficiency (logits)
    n: float  # (effective) number of responses seen on the concept


def as_sequences(data) -> list[Sequence[Response]]:
    """Accept {user: [Response]} or an iterable of per-learner response lists."""
    if isinstance(data, Mapping):
        return [seq for seq in data.values() if seq]
    return [seq for seq in data if seq]


class Estimator:
    """Base class; subclasses override fit/new_state/predict/update (and mastery)."""

    name = "estimator"
    #: success probability that counts as "mastered" for the default mastery()
    mastery_threshold = 0.85

    def fit(self, sequences: Mapping[str, Sequence[Response]] | Iterable[Sequence[Response]]):
        return self

    def new_state(self) -> dict:
        return {}

    def predict(self, state: dict, skill: str, item: str | None = None, t: float | None = None) -> float:
        raise NotImplementedError

    def update(
        self,
        state: dict,
        skill: str,
        correct: int,
        item: str | None = None,
        t: float | None = None,
        hints: int = 0,
    ) -> None:
        raise NotImplementedError

    def apply_evidence(self, state: dict, skill: str, weight: float) -> None:
        """Soft evidence on ``skill`` (prerequisite graph, placement): ``weight`` > 0 counts
        as that many (fractional) successes, < 0 as failures."""
        raise NotImplementedError(f"{type(self).__name__} does not take soft evidence")

    # --- conveniences built on the above -------------------------------------------------
    def observe(self, state: dict, response: Response) -> float:
        """Predict ``response`` before seeing it, then absorb it; returns the prediction."""
        p = self.predict(state, response.skill_id, response.item_id, response.timestamp)
        self.update(
            state, response.skill_id, response.correct, response.item_id, response.timestamp, response.hints
        )
        return p

    def predict_at_difficulty(
        self, state: dict, skill: str, difficulty: float, t: float | None = None
    ) -> float:
        """Predicted success on an item of ``skill`` that is ``difficulty`` logits harder
        than the concept's typical item."""
        return sigmoid(logit(self.predict(state, skill, None, t)) - difficulty)

    def difficulty_for_target(
        self, state: dict, skill: str, target: float = 0.85, t: float | None = None
    ) -> float:
        """The item difficulty (logits) at which predicted success equals ``target``."""
        return logit(self.predict(state, skill, None, t)) - logit(target)

    def mastery(self, state: dict, skill: str, t: float | None = None) -> ConceptEstimate:
        p = self.predict(state, skill, None, t)
        return ConceptEstimate(
            skill, p, 1.0 if p >= self.mastery_threshold else 0.0, float("nan"), float("nan")
        )

    def knowledge_map(
        self, state: dict, skills: Iterable[str], t: float | None = None
    ) -> dict[str, ConceptEstimate]:
        return {s: self.mastery(state, s, t) for s in skills}
