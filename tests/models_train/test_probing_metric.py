"""The probing metric (models_train.scoring.is_probing) against replies a person labelled: a
probing reply to a mistake asks about the learner's reasoning or about the problem's own
quantities and words, and keeps the answer back. Generic questions, stop words and lone
digits don't make a reply probing."""

import json
from pathlib import Path

import pytest

from models_train.scoring import is_probing

FRACTIONS = (
    "A chocolate bar is made of 5 equal pieces. You eat 4 of them. What fraction of the bar did you eat?"
)
ADDING = "What is 1/2 + 1/3? Give a fraction."
EQUATION = "Solve 3x + 12 = 27 for x."
SPOONS = "A recipe needs 12 spoons of sugar. You have used 3. How many spoons are left?"

# (reply, problem, the learner's wrong answer, the correct answer, probing?) - labelled by reading
LABELLED = [
    # about the learner's reasoning
    ("How did you get 5/4?", FRACTIONS, "5/4", "4/5", True),
    ("You wrote 5/4. Walk me through your first step.", FRACTIONS, "5/4", "4/5", True),
    ("Interesting. Why did you put the 5 on top?", FRACTIONS, "5/4", "4/5", True),
    ("What made you add the denominators?", ADDING, "2/5", "5/6", True),
    ("Can you explain how you got 2/5?", ADDING, "2/5", "5/6", True),
    ("What did you do first to get 13?", EQUATION, "13", "5", True),
    ("How do you know that x is 13?", EQUATION, "13", "5", True),
    ("Why did you subtract the 3 spoons?", SPOONS, "15", "9", True),
    # about the problem's own quantities and words
    (
        "You wrote a fraction bigger than 1. Did you eat more than the whole bar?",
        FRACTIONS,
        "5/4",
        "4/5",
        True,
    ),
    ("How many pieces is the whole bar cut into?", FRACTIONS, "5/4", "4/5", True),
    ("Is 1/2 + 1/3 more or less than 1/2?", ADDING, "2/5", "5/6", True),
    ("What happens to both sides when you take 12 away?", EQUATION, "13", "5", True),
    ("If you used 3 spoons, can there be more than 12 spoons left?", SPOONS, "15", "9", True),
    ("Does your answer of 15 fit with having only 12 spoons of sugar?", SPOONS, "15", "9", True),
    # generic: a question, but not about this learner's thinking or this problem
    ("Are you sure?", FRACTIONS, "5/4", "4/5", False),
    ("Good try. What do you get now?", FRACTIONS, "5/4", "4/5", False),
    ("Can you get the answer now?", ADDING, "2/5", "5/6", False),
    ("Do you want to try again?", EQUATION, "13", "5", False),
    ("Is that your final answer?", SPOONS, "15", "9", False),
    ("Can you recheck your work?", EQUATION, "13", "5", False),
    ("Is it 1?", FRACTIONS, "5/4", "4/5", False),  # a lone digit
    ("What is 2 + 2?", ADDING, "2/5", "5/6", False),  # asks, but nothing of this problem
    # no question at all
    ("Let's look at that together.", FRACTIONS, "5/4", "4/5", False),
    ("Not quite. Remember to add the numerators.", ADDING, "2/5", "5/6", False),
    ("The whole bar has 5 pieces and you ate 4.", FRACTIONS, "5/4", "4/5", False),
    ("Great job!", EQUATION, "13", "5", False),
    # asks, but gives the answer away
    ("The answer is 4/5. Do you see why?", FRACTIONS, "5/4", "4/5", False),
    ("Isn't x = 5? How did you get 13?", EQUATION, "13", "5", False),
    ("So 9 spoons are left, right?", SPOONS, "15", "9", False),
    ("Did you mean 5/6 for 1/2 + 1/3?", ADDING, "2/5", "5/6", False),
]


@pytest.mark.parametrize(("reply", "problem", "said", "answer", "probing"), LABELLED)
def test_the_metric_agrees_with_the_labels(reply, problem, said, answer, probing):
    assert is_probing(reply, answer=answer, probe=f"{problem} {said}") is probing


def test_human_tutors_in_the_shipped_conversations_fall_in_the_usual_range():
    """Human tutors ask a probing question in 10-70% of their replies to mistakes; the metric
    should see them there, not at 0 or 1 (it measured 0.24 when written)."""
    vendored = Path(__file__).resolve().parents[2] / "models_train" / "data" / "tutoring"
    hits = total = 0
    for path in vendored.glob("*/dialogues.jsonl"):
        for line in path.read_text().splitlines():
            d = json.loads(line)
            if d["task"] != "respond_to_mistake":
                continue
            k = max(i for i, m in enumerate(d["messages"]) if m["role"] == "tutor")
            context = " ".join(m["content"] for m in d["messages"][:k])
            context += " " + " ".join(d["meta"].get("probe_terms") or [])
            hits += is_probing(d["messages"][k]["content"], answer=d["meta"].get("answer"), probe=context)
            total += 1
    assert total > 1000
    assert 0.10 <= hits / total <= 0.70
