from fractions import Fraction

import pytest

from courses.checkers import answer_as_input, check_answer
from courses.expressions import as_value, format_value
from courses.ramp_files import read_ramp
from courses.specs import ItemSpec, Match, MisconceptionSpec, ParamSpec
from courses.variants import UnsatisfiableError, VariantError, draw_variant, values_from_params

from .helpers import GOOD_RAMP

ADD = ItemSpec(
    slug="add",
    type="numeric",
    prompt=r"What is $\frac{{{a}}}{{{b}}} + \frac{{{c}}}{{{d}}}$?",
    answer="a/b + c/d",
    params=tuple(ParamSpec(n, lo=1 if n in "ac" else 2, hi=9) for n in "abcd"),
    constraints=("b != d", "gcd(a, b) == 1", "gcd(c, d) == 1"),
    derived=(("den", "lcm(b, d)"),),
    hints=("Use denominator {den}.",),
    misconceptions=(
        MisconceptionSpec(
            "scale",
            "kept numerators over {den}",
            "Is {a}/{b} = {a}/{den}?",
            Match("value", "(a + c)/lcm(b, d)"),
        ),
    ),
)
ADD_ACROSS = MisconceptionSpec("add-across", "adds across", "", Match("value", "(a+c)/(b+d)"))


def test_same_seed_same_variant():
    assert draw_variant(ADD, 7) == draw_variant(ADD, 7)
    assert {draw_variant(ADD, s).prompt for s in range(20)} != {draw_variant(ADD, 0).prompt}


def test_variant_satisfies_constraints_and_fills_text():
    for seed in range(50):
        v = draw_variant(ADD, seed)
        a, b, c, d = (int(v.values[n]) for n in "abcd")
        assert b != d
        assert rf"\frac{{{a}}}{{{b}}}" in v.prompt
        assert v.hints == (f"Use denominator {v.values['den']}.",)
        assert v.misconceptions[0].probe == f"Is {a}/{b} = {a}/{v.values['den']}?"
        assert v.seed == seed


def test_every_variant_verifies():
    for seed in range(100):
        v = draw_variant(ADD, seed, concept_misconceptions=[ADD_ACROSS])
        for typed in answer_as_input(v.key):
            assert check_answer(v.key, typed).correct


def test_concept_misconception_rule_is_matched_per_variant():
    v = draw_variant(ADD, 3, concept_misconceptions=[ADD_ACROSS])
    a, b, c, d = (int(v.values[n]) for n in "abcd")
    result = check_answer(v.key, f"{a + c}/{b + d}")
    assert result.misconception == "add-across"


def test_concept_misconception_that_does_not_fit_is_left_out():
    fixed = ItemSpec(slug="f", type="numeric", prompt="1+1?", answer="2")
    v = draw_variant(fixed, 0, concept_misconceptions=[ADD_ACROSS])  # no a, b, c, d here
    assert v.key.misconceptions == () and v.misconceptions == ()


def test_unsatisfiable_constraints_are_reported():
    item = ItemSpec(
        slug="u",
        type="numeric",
        prompt="{a}",
        answer="a",
        params=(ParamSpec("a", lo=1, hi=5),),
        constraints=("a > 5",),
    )
    with pytest.raises(UnsatisfiableError, match="no values satisfy"):
        draw_variant(item, 0)


def test_rare_solutions_found_by_exhaustive_search():
    item = ItemSpec(
        slug="r",
        type="numeric",
        prompt="{a} {b}",
        answer="a*b",
        params=(ParamSpec("a", lo=1, hi=100), ParamSpec("b", lo=1, hi=100)),
        constraints=("a == 37", "b == 59"),
    )
    assert draw_variant(item, 0).values == {"a": "37", "b": "59"}


def test_a_constraint_is_checked_as_soon_as_the_values_it_reads_are_known():
    # 'a > 0' reads a param only, so a = 0 is turned away before 1/a is computed (that order
    # is what keeps the exhaustive search of a sparse template fast); one that reads a derived
    # value waits for it. The accepted draws are the same in either order.
    item = ItemSpec(
        slug="o",
        type="numeric",
        prompt="{a} {q}",
        answer="q",
        params=(ParamSpec("a", lo=0, hi=4), ParamSpec("b", lo=1, hi=3)),
        derived=(("q", "b/a"),),
        constraints=("q < 2", "a > 0"),
    )
    with pytest.raises(VariantError) as refused:
        values_from_params(item, [(0, None), (1, None)])
    assert str(refused.value) == "the params break a constraint"  # not 1/0's division error
    with pytest.raises(VariantError, match="break a constraint"):
        values_from_params(item, [(1, None), (3, None)])  # q = 3 read after it was computed
    env, shown = values_from_params(item, [(2, None), (3, None)])
    assert shown == {"a": "2", "b": "3", "q": "3/2"}
    drawn = {tuple(draw_variant(item, seed).values.items()) for seed in range(200)}
    assert drawn == {
        (("a", str(a)), ("b", str(b)), ("q", format_value(as_value(Fraction(b, a)))))
        for a in range(1, 5)
        for b in range(1, 4)
        if Fraction(b, a) < 2
    }


def test_answer_that_cannot_be_computed():
    item = ItemSpec(
        slug="z", type="numeric", prompt="{a}", answer="1/(a - a)", params=(ParamSpec("a", lo=1, hi=5),)
    )
    with pytest.raises(VariantError, match="division by zero"):
        draw_variant(item, 0)


def test_choices_params_keep_their_text():
    item = ItemSpec(
        slug="c",
        type="numeric",
        prompt="{p} of {n}",
        answer="p",
        params=(ParamSpec("p", choices=("0.5", "0.25")), ParamSpec("n", choices=("Ana", "Bo"))),
    )
    v = draw_variant(item, 1)
    assert v.values["p"] in ("0.5", "0.25") and v.values["n"] in ("Ana", "Bo")
    assert check_answer(v.key, v.values["p"]).correct


def test_ordering_is_shown_shuffled_but_never_solved():
    item = ItemSpec(slug="o", type="ordering", prompt="Order", choices=("a", "b"))
    for seed in range(10):
        v = draw_variant(item, seed)
        assert v.choices == ("b", "a")
        assert check_answer(v.key, ["a", "b"]).correct


def test_fixture_templates_verify_across_many_variants():
    course = read_ramp(GOOD_RAMP)
    for concept in course.concepts:
        for item in concept.items:
            for seed in range(30 if item.is_template else 1):
                v = draw_variant(item, seed, concept_misconceptions=concept.misconceptions)
                for typed in answer_as_input(v.key):
                    assert check_answer(v.key, typed).correct, (item.slug, seed, typed)


def test_multiple_choice_templates_shuffle_their_choices_by_seed():
    from pathlib import Path

    from courses.ramp_files import read_ramp

    spec = read_ramp(Path(__file__).resolve().parents[2] / "ramps" / "fractions-to-linear-equations")
    template = next(
        i for c in spec.concepts for i in c.items if i.type == "multiple_choice" and i.is_template
    )
    positions = set()
    for seed in range(30):
        variant = draw_variant(template, seed)
        assert sorted(variant.choices) == sorted(variant.key.choices)
        positions.add(variant.choices.index(variant.key.answer))
    assert len(positions) > 1
    fixed = next(
        i for c in spec.concepts for i in c.items if i.type == "multiple_choice" and not i.is_template
    )
    assert draw_variant(fixed, 0).choices == tuple(fixed.choices)
