"""The guards between the tutor model and a learner: nothing revealing, ungrounded or marked up
reaches the page, also while a reply streams."""

from pathlib import Path

import pytest

from courses.ramp_files import read_ramp
from courses.variants import draw_variant
from models_train.guards import (
    Guard,
    StreamGuard,
    answer_spans,
    domain_vocabulary,
    number_atoms,
    reveals,
)

FIXTURE = Path(__file__).resolve().parents[1] / "courses" / "fixtures" / "good-ramp"


@pytest.fixture(scope="module")
def course():
    return read_ramp(FIXTURE)


def variant(course, concept, item, seed=3):
    c = course.concept(concept)
    return draw_variant(c.item(item), seed, concept_misconceptions=c.misconceptions)


def numeric_case(course):
    """add-unlike-template: a/b + c/d, one seeded variant, with its sum and the sum doubled."""
    v = variant(course, "adding-fractions", "add-unlike-template")
    total = v.key.answer
    return (
        v,
        total,
        f"{total.numerator}/{total.denominator}",
        f"{2 * total.numerator}/{2 * total.denominator}",
    )


class RevealingModel:
    """A stub tutor model that does its worst: every way of stating the answer it knows."""

    def __init__(self, answers):
        self.answers = answers

    def replies(self):
        for a in self.answers:
            yield f"The answer is {a}."
            yield f"Nearly! It should be {a}, so check your steps."
            yield f"Try $x = {a}$ and see."


def test_a_model_that_tries_to_reveal_is_refused_every_time(course):
    v, total, fraction, equivalent = numeric_case(course)
    latex = f"\\frac{{{total.numerator}}}{{{total.denominator}}}"
    decimal = f"{float(total):.6f}".rstrip("0")
    context = f"Problem: {v.prompt}\nLearner's answer: 2/4 {fraction} {equivalent} {latex} {decimal}"
    guard = Guard(context=context, key=v.key)  # even numbers that are grounded may not reveal
    model = RevealingModel([fraction, equivalent, latex, decimal])
    verdicts = [guard.check(reply, final=True) for reply in model.replies()]
    assert len(verdicts) == 12 and all(v.reason == "reveals" for v in verdicts), verdicts


def test_the_right_choice_and_an_accepted_text_answer_are_refused(course):
    v = variant(course, "adding-fractions", "pick-the-common-denominator")
    wrong = next(c for c in v.choices if c != v.key.answer)
    context = f"Problem: {v.prompt} Choices: {', '.join(v.choices)}"
    guard = Guard(context=context, key=v.key)
    assert guard.check(f"Is it {v.key.answer}?").reason == "reveals"
    assert not guard.check(f"Why did you pick {wrong}? Is it a multiple of both?").refused
    words = variant(
        course,
        "fraction-words",
        next(i.slug for i in course.concept("fraction-words").items if i.type == "short_text"),
    )
    said = words.key.answer[0]
    guard = Guard(context=words.prompt + " " + said, key=words.key)
    assert guard.check(f"It is called {said}.").reason == "reveals"


def test_repeating_the_learners_wrong_answer_is_fine(course):
    v, total, fraction, _ = numeric_case(course)
    wrong = f"{total.numerator + 1}/{total.denominator}"
    context = f"Problem: {v.prompt}\nLearner: {wrong}"
    verdict = Guard(context=context, key=v.key).check(f"You wrote {wrong}. How did you get it?", final=True)
    assert not verdict.refused, verdict


def test_numbers_must_come_from_the_context(course):
    v, *_ = numeric_case(course)
    guard = Guard(context=f"Problem: {v.prompt}", key=None)
    verdict = guard.check("Think of 987 equal parts. What do you notice?", final=True)
    assert verdict.reason == "ungrounded_number" and verdict.detail == "987"
    b = v.values["b"]
    assert not guard.check(f"What does the {b} in the problem tell you?", final=True).refused


def test_terms_from_another_course_or_an_unreached_concept_are_refused():
    vocabulary = domain_vocabulary(
        [
            ("fractions", "what-a-fraction-is", ["What a fraction is", "numerator", "denominator"]),
            ("fractions", "adding-fractions", ["common denominator"]),
            ("gpt", "attention", ["Attention", "attention head"]),
        ]
    )
    context = "Course: Fractions. Concept: What a fraction is.\nProblem: In 3/7, what is the denominator?"
    reached = frozenset({"fractions/what-a-fraction-is"})
    guard = Guard(context=context, vocabulary=vocabulary, reached=reached)
    assert guard.check("Each attention head looks at the 7 parts.").reason == "unreached"
    graph_free = Guard(context=context, vocabulary=vocabulary)
    assert graph_free.check("Each attention head looks at the 7 parts.").reason == "ungrounded_term"
    assert not guard.check("The denominator says how many parts: 7. What does the 3 say?").refused
    # a term of a concept not reached, but already on the learner's screen, is grounded
    shown = Guard(context=context + " (a common denominator)", vocabulary=vocabulary, reached=reached)
    assert not shown.check("A common denominator comes later.").refused


@pytest.mark.parametrize(
    "text",
    [
        "<b>Look</b> at the 7 parts",
        "Click <a href='x'>here</a>",
        "Try hx-get on it",
        "javascript:alert(1)",
        "an onclick=steal() trick",
        "{{ secret }}",
    ],
)
def test_markup_is_refused(text):
    assert Guard(context="7").check(text).reason == "markup"


def test_a_less_than_sign_in_a_formula_is_not_markup():
    guard = Guard(context="b < c and 2<3")
    assert guard.check("exactly when $b < c$", final=True).reason != "markup"
    assert guard.check("so 2<3", final=True).reason != "markup"


def test_empty_and_runaway_replies_are_refused():
    guard = Guard(context="Problem: share 3 pizzas among 4 friends")
    assert guard.check("  ok ", final=True).reason == "empty"
    assert guard.check("How many slices does each friend get?", final=True, ended=False).reason == "runaway"
    loop = "what do you think " * 4
    assert guard.check(loop, final=True).reason == "runaway"
    assert not guard.check("How many slices does each friend get?", final=True).refused


def test_the_stream_never_releases_a_revealing_prefix(course):
    v, total, fraction, _ = numeric_case(course)
    context = f"Problem: {v.prompt} {fraction}"
    stream = StreamGuard(Guard(context=context, key=v.key))
    shown = ""
    for token in [
        "You",
        " are",
        " close",
        ":",
        " it",
        " is",
        f" {total.numerator}",
        "/",
        f"{total.denominator}",
    ]:
        shown += stream.feed(token)
        assert not reveals(shown, v.key)
    assert stream.finish(ended=True).reason == "reveals"
    assert shown.startswith("You are close") and str(total.numerator) not in shown.split()[-1:]


def test_a_clean_stream_releases_everything_in_order(course):
    v, *_ = numeric_case(course)
    b = v.values["b"]
    text = f"You wrote 2/4. What does the {b} in the problem say about the pieces?"
    stream = StreamGuard(Guard(context=f"Problem: {v.prompt}\nLearner: 2/4", key=v.key))
    shown = "".join(stream.feed(piece + " ") for piece in text.split(" "))
    verdict = stream.finish(ended=True)
    assert not verdict.refused
    assert (shown + stream.remaining()).strip() == text
    assert shown  # released while streaming, not all at the end


def test_spans_and_atoms():
    assert number_atoms("$\\frac{3}{4}$ and 1,000 and 0.50") == {"3", "4", "1000", "0.5"}
    spans = answer_spans("Maybe 1 3/4 cm, or $\\frac{6}{8}$, or x = 7")
    assert {"1 3/4", "6/8", "7", "x = 7", "3/4 cm"} <= set(spans)
