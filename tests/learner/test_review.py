"""FSRS review cards (plain Python, no database)."""

import json
from datetime import UTC, datetime, timedelta

from learner.review import recall_probability, review_card_new, review_card_update, review_due

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_new_card_is_json_and_not_due():
    card = review_card_new()
    assert json.loads(json.dumps(card)) == card
    assert not review_due(card, now=T0)
    assert recall_probability(card, now=T0) == 0.0


def test_update_round_trip_and_due_logic():
    card = review_card_update(review_card_new(), correct=True, hints=0, when=T0)
    assert json.loads(json.dumps(card)) == card
    due = datetime.fromisoformat(card["due"])
    assert due > T0 + timedelta(hours=12)
    assert not review_due(card, now=T0 + timedelta(hours=1))
    assert review_due(card, now=due)
    assert review_due(card, now=due + timedelta(days=3))
    # recall fades with time
    r1 = recall_probability(card, now=T0 + timedelta(hours=1))
    r2 = recall_probability(card, now=due)
    r3 = recall_probability(card, now=due + timedelta(days=30))
    assert 1.0 >= r1 > r2 > r3 > 0.0
    assert abs(r2 - 0.9) < 0.05  # due when recall reaches the desired retention


def test_spaced_successes_push_the_next_review_out_and_a_lapse_pulls_it_in():
    card = review_card_update(review_card_new(), correct=True, hints=0, when=T0)
    intervals = []
    when = T0
    for _ in range(3):
        when = datetime.fromisoformat(card["due"])
        card = review_card_update(card, correct=True, hints=0, when=when)
        intervals.append(datetime.fromisoformat(card["due"]) - when)
    assert intervals[0] < intervals[1] < intervals[2]
    lapsed = review_card_update(card, correct=False, hints=0, when=datetime.fromisoformat(card["due"]))
    assert datetime.fromisoformat(lapsed["due"]) - datetime.fromisoformat(card["due"]) < intervals[-1]


def test_hints_count_as_a_harder_success():
    base = review_card_update(review_card_new(), correct=True, hints=0, when=T0)
    when = datetime.fromisoformat(base["due"])
    clean = review_card_update(base, correct=True, hints=0, when=when)
    hinted = review_card_update(base, correct=True, hints=2, when=when)
    assert datetime.fromisoformat(hinted["due"]) < datetime.fromisoformat(clean["due"])


def test_naive_datetimes_are_taken_as_utc_and_schedules_are_deterministic():
    a = review_card_update(review_card_new(), correct=True, hints=0, when=T0.replace(tzinfo=None))
    b = review_card_update(review_card_new(), correct=True, hints=0, when=T0)
    assert a == b
