import time
from fractions import Fraction

import pytest
import sympy

from courses.checkers import (
    AnswerKey,
    MisconceptionKey,
    check_answer,
    equivalent,
    matching_misconceptions,
    normalise_text,
    parse_number,
)
from courses.learner_math import variable_symbols
from courses.patterns import compile_pattern

x = variable_symbols(["x"])["x"]


def numeric(answer, **kw):
    return AnswerKey(type="numeric", answer=answer, **kw)


def test_numeric_forms():
    key = numeric(Fraction(3, 2))
    for typed in ["3/2", "1.5", "1 1/2", "6/4", " 1.50 ", "+1.5", "15e-1"]:
        assert check_answer(key, typed).correct, typed
    assert check_answer(key, "1.4").outcome == "incorrect"
    assert check_answer(numeric(Fraction(-3, 2)), "-1 1/2").correct
    assert check_answer(numeric(-2), "−2").correct  # unicode minus
    assert check_answer(numeric(1000), "1,000").correct


def test_a_solved_for_variable_is_read_as_its_value():
    key = numeric(7)
    for typed in ["x = 7", "x=7", "y = 7", " n = 14/2 "]:
        assert check_answer(key, typed).correct, typed
    assert check_answer(key, "x = 8").outcome == "incorrect"
    assert check_answer(key, "x = y = 7").outcome == "unreadable"  # one "=" only
    assert check_answer(numeric(Fraction(3, 4)), "x = 3/4").normalised == "3/4"


def test_normalised_numeric_answer_is_exact():
    assert check_answer(numeric(Fraction(3, 4)), "0.75").normalised == "3/4"
    assert check_answer(numeric(2), "4/2").normalised == "2"


def test_unreadable_is_not_wrong():
    result = check_answer(numeric(Fraction(3, 4)), "3//4")
    assert not result.readable and not result.correct
    assert result.outcome == "unreadable"
    assert result.message == "I couldn't read 3//4 as a number."
    for typed in ["", "three quarters", "3/0", "1,5", "12 apples"]:
        assert check_answer(numeric(3), typed).outcome == "unreadable", typed


def test_tolerance():
    key = numeric(sympy.pi, tolerance=Fraction(1, 100))
    assert check_answer(key, "3.14").correct
    assert not check_answer(key, "3.1").correct
    assert not check_answer(numeric(Fraction(1, 3)), "0.333").correct  # default tolerance 1e-9
    assert check_answer(numeric(sympy.sqrt(2)), "1.41421356237309505").correct


def test_units():
    key = numeric(Fraction(15, 2), units=("cm", "centimetres"))
    assert check_answer(key, "7.5").correct
    assert check_answer(key, "7.5 cm").correct
    assert check_answer(key, "7.5cm").correct
    assert check_answer(key, "7.5 Centimetres").normalised == "15/2 cm"
    wrong_unit = check_answer(key, "7.5 m")
    assert wrong_unit.outcome == "incorrect" and "unit" in wrong_unit.message
    assert check_answer(numeric(4, units=("m²",)), "4 m^2").correct


def test_percent_without_units_reads_both_ways():
    assert check_answer(numeric(75), "75%").correct
    assert check_answer(numeric(Fraction(3, 4)), "75%").correct
    assert not check_answer(numeric(75), "70%").correct


def test_parse_number():
    assert parse_number("2 3/4") == (Fraction(11, 4), "")
    assert parse_number("-.5 kg") == (Fraction(-1, 2), "kg")
    assert parse_number("abc") is None


def test_value_misconception_rule_form():
    # 1/2 + 1/3 added across is 2/5: the rule (a+c)/(b+d) evaluated for this variant
    key = numeric(Fraction(5, 6), misconceptions=(MisconceptionKey("add-across", "value", Fraction(2, 5)),))
    result = check_answer(key, "2/5")
    assert result.outcome == "incorrect" and result.misconception == "add-across"
    assert check_answer(key, "4/10").misconception == "add-across"  # any equal value
    assert check_answer(key, "3/5").misconception is None
    assert check_answer(key, "5/6").misconception is None  # correct answers never match


def test_multiple_choice():
    key = AnswerKey(
        type="multiple_choice",
        answer="No",
        choices=("Yes", "No"),
        misconceptions=(MisconceptionKey("says-yes", "choice", "Yes"),),
    )
    assert check_answer(key, "No").correct
    assert check_answer(key, "no.").correct  # normalised
    result = check_answer(key, "Yes")
    assert result.misconception == "says-yes"
    assert check_answer(key, "Maybe").outcome == "unreadable"


def test_short_text():
    key = AnswerKey(
        type="short_text",
        answer=("one half", "a half"),
        misconceptions=(
            MisconceptionKey("one-two", "answer", "one two"),
            MisconceptionKey("quarter", "pattern", compile_pattern("(a|one) (quarter|fourth)")),
        ),
    )
    assert check_answer(key, "  One   Half. ").correct
    assert check_answer(key, "A half!").correct
    assert check_answer(key, "one two").misconception == "one-two"
    assert check_answer(key, "One Quarter").misconception == "quarter"
    assert check_answer(key, "three").outcome == "incorrect"
    assert check_answer(key, "   ").outcome == "unreadable"
    assert normalise_text("  Hello,   World?! ") == "hello, world"


def test_expression_equivalence_is_symbolic_not_textual():
    key = AnswerKey(type="expression", answer=2 * x + 2, variables=("x",))
    for typed in ["2(x+1)", "2x+2", "2 + 2x", "x + x + 2", "(4x + 4)/2"]:
        assert check_answer(key, typed).correct, typed
    assert check_answer(key, "2x+1").outcome == "incorrect"
    assert check_answer(key, "2(x+1").outcome == "unreadable"
    assert check_answer(key, "2(x+1)").normalised == "2*x + 2"


def test_expression_misconception():
    key = AnswerKey(
        type="expression",
        answer=3 * x + 6,
        variables=("x",),
        misconceptions=(MisconceptionKey("first-term-only", "expression", 3 * x + 2),),
    )
    assert check_answer(key, "3x + 2").misconception == "first-term-only"
    assert check_answer(key, "2 + x*3").misconception == "first-term-only"


def test_equivalence_falls_back_to_sampling():
    # sympy's expand can't see these are equal; sampling (or simplify) can
    assert equivalent(sympy.sin(x) ** 2 + sympy.cos(x) ** 2, sympy.Integer(1))
    assert equivalent(sympy.log(x**2), 2 * sympy.log(sympy.Abs(x)))
    assert not equivalent(sympy.sqrt(x**2), x)  # differs for negative x
    assert equivalent((x**2 - 1) / (x - 1), x + 1)


def test_ordering():
    steps = ("find", "rewrite", "add")
    key = AnswerKey(
        type="ordering",
        answer=steps,
        choices=steps,
        misconceptions=(MisconceptionKey("adds-first", "order", ("add", "find", "rewrite")),),
    )
    assert check_answer(key, ["find", "rewrite", "add"]).correct
    assert check_answer(key, "find\nrewrite\nadd").correct
    assert check_answer(key, ["add", "find", "rewrite"]).misconception == "adds-first"
    assert check_answer(key, ["find", "add"]).outcome == "unreadable"
    assert check_answer(key, ["find", "find", "add"]).outcome == "unreadable"


def test_matching_misconceptions_ignores_correctness():
    key = numeric(2, misconceptions=(MisconceptionKey("same", "value", 2),))
    assert matching_misconceptions(key, "2") == ["same"]
    assert check_answer(key, "2").misconception is None


def test_pattern_matches_unreadable_input():
    key = numeric(
        3, misconceptions=(MisconceptionKey("double-slash", "pattern", compile_pattern(r"\d+//\d+")),)
    )
    result = check_answer(key, "3//4")
    assert result.readable and not result.correct and result.misconception == "double-slash"


def test_huge_answers_are_refused_quickly():
    assert check_answer(numeric(1), "9" * 10_000).outcome == "unreadable"


@pytest.mark.parametrize(
    "typed",
    [
        "(log(ln(y)sqrt(3.5))-99x)^60",  # sympy's expand and simplify take minutes on these
        "((3.5*x)*((3.5099^60/y)^(99(y+x)/((x*1/2)/3.5))))",
        "exp(exp((y^2+pi^(1/3)))^60)",
        "(log(ln(pi)(0+2)sqrt((pi/1)))/(992(1^pi)pi-1/2^60))",
        "((x^60)^60)^60",
        "x" * 199,
    ],
)
def test_adversarial_expressions_are_graded_quickly(typed):
    key = AnswerKey(type="expression", answer=2 * x + 2, variables=("x", "y"))
    started = time.perf_counter()
    result = check_answer(key, typed)
    assert not result.correct
    assert time.perf_counter() - started < 3


def test_equivalence_when_a_variable_cancels():
    y = variable_symbols(["y"])["y"]
    assert equivalent(x**2 + y, x**2 + y + 0 * x)
    assert not equivalent(x**2 + y, x**2 + 2 * y)
