"""models_train.verify: hand-written good and bad practice-question outputs (no DB, no torch)."""

from pathlib import Path

import pytest

from courses.ramp_files import read_ramp
from models_train.verify import make_verifier

FIXTURE = Path(__file__).resolve().parents[1] / "courses" / "fixtures" / "good-ramp"
META = {"course": "tiny-fractions", "concept": "adding-fractions", "difficulty": "medium"}
ADD_Q = r"What is $\frac{1}{2} + \frac{1}{3}$? Give a fraction."


def out(item, params, question, answer):
    import json

    return (
        f"ITEM: {json.dumps({'item': item, 'params': params})}\n<|question|> {question} <|answer|> {answer}"
    )


@pytest.fixture(scope="module")
def verify():
    return make_verifier([read_ramp(FIXTURE)])


def add(params=None, question=ADD_Q, answer="5/6"):
    return out(
        "adding-fractions/add-unlike-template", params or {"a": 1, "b": 2, "c": 1, "d": 3}, question, answer
    )


GOOD = [
    (META, add()),
    (META, add(answer="10/12")),  # any equivalent spelling the checker accepts
    (META, add(answer="0.8333333333333")),
    (
        META,
        add().replace("\n<|question|>", "\n<|question|>\n").replace(" <|answer|>", "\n\n<|answer|>"),
    ),  # spacing
    (
        {**META, "difficulty": "medium"},
        out(
            "adding-fractions/pick-the-common-denominator",
            {"b": 3, "d": 4},
            "Which is a common denominator of $\\frac{1}{3}$ and $\\frac{1}{4}$?\nA) 12\nB) 7",
            "12",
        ),
    ),
    (
        {**META, "difficulty": "medium"},  # choice params may be given as strings, as written
        out(
            "adding-fractions/pick-the-common-denominator",
            {"b": "5", "d": "7"},
            "Which is a common denominator of $\\frac{1}{5}$ and $\\frac{1}{7}$?\nA) 35\nB) 12",
            "35",
        ),
    ),
    (
        {"course": "tiny-fractions", "concept": "simplifying-expressions", "difficulty": "hard"},
        out("simplifying-expressions/expand-template", {"k": 3, "m": 5}, "Expand $3(x + 5)$.", "3x + 15"),
    ),
    (
        {"course": "tiny-fractions", "concept": "simplifying-expressions"},  # symbolic: any equivalent form
        out("simplifying-expressions/expand-template", {"k": 3, "m": 5}, "Expand $3(x + 5)$.", "15 + 3*x"),
    ),
    ({}, add()),  # no course/concept/difficulty asked: any item of the given courses
]

BAD = {
    "wrong answer (a misconception)": (META, add(answer="2/5")),
    "wrong answer": (META, add(answer="7/6")),
    "unreadable answer": (META, add(answer="five sixths")),
    "constraint broken (b == d)": (
        META,
        add(
            {"a": 1, "b": 3, "c": 1, "d": 3}, r"What is $\frac{1}{3} + \frac{1}{3}$? Give a fraction.", "2/3"
        ),
    ),
    "out of range": (
        META,
        add(
            {"a": 10, "b": 11, "c": 1, "d": 3},
            r"What is $\frac{10}{11} + \frac{1}{3}$? Give a fraction.",
            "41/33",
        ),
    ),
    "missing param": (META, add({"a": 1, "b": 2, "c": 1})),
    "extra param": (META, add({"a": 1, "b": 2, "c": 1, "d": 3, "e": 4})),
    "param not an integer": (META, add({"a": 1.5, "b": 2, "c": 1, "d": 3})),
    "param a boolean": (META, add({"a": True, "b": 2, "c": 1, "d": 3})),
    "question of other params": (META, add({"a": 1, "b": 2, "c": 1, "d": 5})),
    "off the step": (
        {"course": "tiny-fractions", "concept": "simplifying-expressions"},
        out("simplifying-expressions/expand-template", {"k": 3, "m": 4}, "Expand $3(x + 4)$.", "3x+12"),
    ),
    "not a choice": (
        {**META},
        out(
            "adding-fractions/pick-the-common-denominator",
            {"b": 4, "d": 4},
            "Which is a common denominator of $\\frac{1}{4}$ and $\\frac{1}{4}$?\nA) 4\nB) 8",
            "4",
        ),
    ),
    "wrong difficulty": ({**META, "difficulty": "hard"}, add()),
    "other concept than asked": ({**META, "concept": "fraction-words"}, add()),
    "unknown course": ({**META, "course": "nope"}, add()),
    "unknown item": (META, out("adding-fractions/nope", {}, "?", "1")),
    "no ITEM line": (META, f"<|question|> {ADD_Q} <|answer|> 5/6"),
    "ITEM not JSON": (
        META,
        "ITEM: {item: adding-fractions/add-unlike-template}\n<|question|> q <|answer|> 5/6",
    ),
    "ITEM unknown key": (META, add().replace('"params"', '"values"')),
    "no markers": (META, add().replace("<|question|>", "").replace("<|answer|>", "")),
    "empty answer": (META, add(answer="")),
    "ITEM answer disagrees": (META, add().replace('"params"', '"answer": "1/2", "params"')),
    "garbage": (META, "<|question|><|answer|>ITEM: {}"),
    "empty": (META, ""),
}


@pytest.mark.parametrize("meta,text", GOOD)
def test_good_outputs_pass(verify, meta, text):
    assert verify.check(meta, text) == (True, "ok")
    assert verify(meta, text) is True


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_outputs_fail(verify, name):
    meta, text = BAD[name]
    assert verify(meta, text) is False, verify.check(meta, text)


def test_reasons_name_the_problem(verify):
    assert "constraint" in verify.check(*BAD["constraint broken (b == d)"])[1]
    assert "range" in verify.check(*BAD["out of range"])[1]
    assert "misconception" in verify.check(*BAD["wrong answer (a misconception)"])[1]
    assert "question" in verify.check(*BAD["question of other params"])[1]


def test_question_check_can_be_switched_off():
    verify = make_verifier([read_ramp(FIXTURE)], check_question=False, check_difficulty=False)
    meta, text = BAD["question of other params"]
    assert verify(meta, text) is False  # 1/2 + 1/5 is not 5/6 ...
    assert verify(meta, add({"a": 1, "b": 2, "c": 1, "d": 5}, answer="7/10")) is True  # ... but 7/10 is
    assert verify({**META, "difficulty": "hard"}, add()) is True


def test_never_raises(verify):
    for meta, text in [
        (None, 'ITEM: {"item": 3}'),
        ({"course": None}, add()),
        (META, "ITEM: " + "{" * 5000),
        ({"concept": []}, add()),
        (META, 'ITEM: {"item": "a/b", "params": []}'),
    ]:
        assert verify(meta, text) in (True, False)
