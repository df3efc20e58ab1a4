"""Review scheduling with FSRS (the ``fsrs`` package), one card per (learner, concept).

Every graded response on a concept is a review of that concept's card:

* right without hints -> ``Rating.Good``; right after one or more hints -> ``Rating.Hard``;
* wrong (or "I don't know") -> ``Rating.Again``.

Cards go straight to day-scale scheduling (no minute-scale learning steps: a concept is
practised to mastery by the policy, not by re-showing a flash card after ten minutes), and
fuzzing is off so schedules are reproducible. Repeated reviews on the same day barely move
the stability (FSRS's short-term rule), so a concept practised ten times in one sitting is
due again in about two days, and each successful spaced review pushes the next one out.

A card is a JSON-serialisable dict (``fsrs.Card.to_dict()``: ``state``, ``step``,
``stability``, ``difficulty``, ``due`` and ``last_review`` as ISO 8601 strings with a UTC
offset, ``card_id``). Plain Python: no Django.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler

DESIRED_RETENTION = 0.9
SCHEDULER = Scheduler(
    desired_retention=DESIRED_RETENTION, learning_steps=(), relearning_steps=(), enable_fuzzing=False
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def review_card_new(*, when: datetime | None = None) -> dict:
    """A card never reviewed (due at ``when``, default: the epoch, i.e. whenever asked)."""
    return Card(card_id=1, due=_aware(when) if when else _EPOCH).to_dict()


def review_card_update(card: dict, *, correct: bool, hints: int = 0, when: datetime) -> dict:
    """The card after one graded response at ``when``; its ``due`` is the next review."""
    rating = (Rating.Good if not hints else Rating.Hard) if correct else Rating.Again
    new, _log = SCHEDULER.review_card(Card.from_dict(card), rating, _aware(when))
    return new.to_dict()


def review_due(card: dict, *, now: datetime) -> bool:
    """True when the card has been reviewed at least once and its due time has come."""
    if not card.get("last_review"):
        return False
    return datetime.fromisoformat(card["due"]) <= _aware(now)


def recall_probability(card: dict, *, now: datetime) -> float:
    """FSRS retrievability at ``now`` (0.0 for a card never reviewed)."""
    if not card.get("last_review"):
        return 0.0
    return float(SCHEDULER.get_card_retrievability(Card.from_dict(card), _aware(now)))


def review_due_at(card: dict) -> datetime | None:
    """When the card is due (None if never reviewed)."""
    return datetime.fromisoformat(card["due"]) if card.get("last_review") else None
