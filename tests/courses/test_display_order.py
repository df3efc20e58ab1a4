"""How a question's choices and steps are shown: a fixed multiple-choice question's right answer
moves around between learners and visits; an ordering starts far from solved."""

from courses.specs import ItemSpec
from courses.variants import draw_variant

FIXED_CHOICE = ItemSpec(
    slug="pick",
    type="multiple_choice",
    prompt="Which?",
    answer="right",
    choices=("right", "wrong one", "wrong two", "wrong three"),
)
STEPS = tuple(f"step {i}" for i in range(1, 7))
ORDERING = ItemSpec(slug="order", type="ordering", prompt="Put them in order.", choices=STEPS)


def test_a_fixed_multiple_choice_question_is_shuffled_per_variant():
    assert draw_variant(FIXED_CHOICE, 0).choices == FIXED_CHOICE.choices  # previews: as authored
    positions = {draw_variant(FIXED_CHOICE, seed).choices.index("right") for seed in range(1, 40)}
    assert len(positions) == 4  # the right answer is not always first


def test_an_ordering_starts_far_from_solved():
    for seed in range(60):
        shown = draw_variant(ORDERING, seed).choices
        assert sorted(shown) == sorted(STEPS)
        assert shown[0] != STEPS[0]
        assert sum(a == b for a, b in zip(shown, STEPS)) <= len(STEPS) // 3
