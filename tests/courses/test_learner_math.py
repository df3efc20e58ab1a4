import pytest
import sympy

from courses.learner_math import MathInputError, parse_learner_math, to_python_syntax, variable_symbols

x, y = variable_symbols(["x", "y"]).values()


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("2(x+1)", 2 * x + 2),
        ("2x+2", 2 * x + 2),
        ("x^2 - 1", x**2 - 1),
        ("x**2", x**2),
        ("3x²", 3 * x**2),
        ("(x+1)(x-1)", x**2 - 1),
        ("2xy", 2 * x * y),
        ("√(x+1)", sympy.sqrt(x + 1)),
        ("√2 x", sympy.sqrt(2) * x),
        ("½x", x / 2),
        ("2 × x − 3", 2 * x - 3),
        ("X + 1", x + 1),
        ("ln(x)", sympy.log(x)),
        ("-x^2", -(x**2)),
        ("[x+1]/2", (x + 1) / 2),
        ("2π", 2 * sympy.pi),
    ],
)
def test_reads_what_learners_type(typed, expected):
    assert sympy.simplify(parse_learner_math(typed, ["x", "y"]) - expected) == 0


@pytest.mark.parametrize(
    "typed, fragment",
    [
        ("", "Type an answer"),
        ("y = 2x", "without '='"),
        ("x2", "x^2 for a power"),
        ("2 3", "two numbers in a row"),
        ("sqrt x", "with brackets"),
        ("z + 1", "don't know what 'z'"),
        ("__import__('os')", "couldn't read '_'"),
        ("x.real", "couldn't read '.'"),
        ("3//4", "couldn't read 3//4"),
        ("x^100000", "too large"),
        ("1/(x-x)", "division by zero"),
        ("x" * 300, "longer than"),
        ("lambda: 1", "don't know what 'lambda'"),
    ],
)
def test_unreadable_input_says_why(typed, fragment):
    with pytest.raises(MathInputError) as info:
        parse_learner_math(typed, ["x", "y"])
    assert fragment in str(info.value)


def test_rewrite_is_plain_python_syntax():
    assert to_python_syntax("2(x+1)", ["x"]) == "2 * ( x + 1 )"
    assert to_python_syntax("x^2", ["x"]) == "x ** 2"
