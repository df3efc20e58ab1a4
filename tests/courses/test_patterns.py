"""Misconception patterns match in linear time, and patterns that can't are refused at import."""

import time

import pytest

from courses.checkers import AnswerKey, MisconceptionKey, check_answer
from courses.patterns import compile_pattern
from courses.ramp_files import parse_ramp
from courses.specs import RampFileError
from courses.variants import draw_variant
from tests.courses.helpers import edited, line_of

WORDS = "concepts/fraction-words.md"
ORIGINAL = 'match: {pattern: "(a|one) (quarter|fourth)"}'

# Known catastrophic patterns for a backtracking engine (Python's re, PCRE), each with an
# answer that makes backtracking explode; the first one took 13.9 s on 27 characters.
CATASTROPHIC = [
    (r"(a|a)*c", "a" * 26 + "b"),
    (r"(a+)+b", "a" * 40),
    (r"(a*)*b", "a" * 40),
    (r"(a+)*b", "a" * 40),
    (r"(a|aa)+b", "a" * 60),
    (r"(a|a?)+b", "a" * 40),
    (r"((a+)+)+b", "a" * 40),
    (r"(x+x+)+y", "x" * 60),
    (r"(\d+)*\.", "1" * 60),
    (r"(\w+\s?)*!", "word " * 30 + "x"),
    (r"(.*a){20}", "a" * 200),
    (r"(.*,){12}x", ",a" * 100),
    (r"^(([a-z])+.)+[A-Z]([a-z])+$", "a" * 60),
    (r"([a-zA-Z]+)*\d", "a" * 60),
    (r"(\s*,?\s*)*x", " ," * 100),
    (r"(a|b|ab)*c", "ab" * 100),
    (r"(?:a|a)*?c", "a" * 60),
    (
        r"^([a-z0-9])(([\-.]|[_]+)?([a-z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
        "a" * 60 + "!",
    ),
]
# Patterns the linear-time engine can't run: refused when the ramp is read.
REFUSED = [
    (r"(a+)\1", "backreferences"),
    (r"(?=a)a+", "lookahead"),
    (r"(?!b)a+", "negative lookahead"),
    (r"(?<=a)b", "lookbehind"),
    (r"(?<!a)b", "negative lookbehind"),
    (r"(.*){1,32000}[bc]", "above 1000"),
    (r"(a{100}){100}", "above 1000"),
    (r"\pL{1000}", "too large"),
    (r"(unclosed", "not a valid regular expression"),
]


def _key_with(pattern: str) -> AnswerKey:
    return AnswerKey(
        type="short_text",
        answer=("one half",),
        misconceptions=(MisconceptionKey("slip", "pattern", compile_pattern(pattern)),),
    )


@pytest.mark.parametrize("pattern, attack", CATASTROPHIC)
def test_catastrophic_patterns_are_read_and_match_in_linear_time(pattern, attack):
    files = edited(WORDS, ORIGINAL, f"match: {{pattern: '{pattern}'}}")
    parse_ramp(files)  # accepted: nothing about it is slow any more
    key = _key_with(pattern)
    for answer in (attack, (attack * 20)[:500]):  # the longest answer a learner may send
        started = time.perf_counter()
        check_answer(key, answer)
        assert time.perf_counter() - started < 0.05, (pattern, len(answer))


def test_a_matching_catastrophic_pattern_still_matches():
    assert check_answer(_key_with(r"(a|a)*c"), "aaac").misconception == "slip"
    assert check_answer(_key_with(r"(a+)+b"), "AAAB").misconception == "slip"  # case is ignored


@pytest.mark.parametrize("pattern, fragment", REFUSED)
def test_patterns_the_engine_cannot_run_are_refused_at_import_with_file_and_line(pattern, fragment):
    files = edited(WORDS, ORIGINAL, f"match: {{pattern: '{pattern}'}}")
    with pytest.raises(RampFileError) as info:
        parse_ramp(files)
    error = info.value
    assert (error.file, error.line) == (WORDS, line_of(files, WORDS, "match: {pattern")), str(error)
    assert "pattern:" in error.message and fragment in error.message, error.message
    assert str(error).startswith(f"{WORDS}:{error.line}: ")


def test_the_shipped_patterns_draw_and_match():
    files = edited(WORDS, ORIGINAL, ORIGINAL)
    item = parse_ramp(files).concept("fraction-words").item("name-one-half")
    key = draw_variant(item, 0).key
    assert check_answer(key, "One Quarter").misconception == "says-a-quarter"
    assert check_answer(key, "one half").correct


def test_compiled_patterns_compare_by_source_and_keep_what_readers_use():
    import re

    p = compile_pattern("(a|one) (quarter|fourth)")
    assert p == compile_pattern("(a|one) (quarter|fourth)") and hash(p) == hash(compile_pattern(p.pattern))
    assert p.pattern == "(a|one) (quarter|fourth)" and p.flags & re.IGNORECASE
    assert p.search("it is one fourth") and not p.fullmatch("it is one fourth")
