"""The moments the tutor speaks at, and the prompt the model sees at each (plain Python).

One format serves training and serving: the data factory (``models_train.factory``) writes
its tutoring dialogues with these functions, and the study loop (``tutor.speaking``) asks the
active model with the very same prompts. A small model cannot paraphrase a concept it never
saw, but it can learn to copy and adapt text that is in its prompt; so a prompt carries this
learner's situation (the question as shown, their answer, the checker's verdict) and the
*authored candidates* for the moment (the matched misconception's probe, the next hint, a
paragraph of the material), and the model turns them into a reply to this learner. What the
course's code decides (answers, verdicts) stays in the prompt as given; the model never
computes it.

    from models_train.moments import Situation, prompt_dialogue
    s = Situation(course="Fractions", concept="Adding fractions", problem="What is 1/2 + 1/4?",
                  answer="2/6", checker=checker_line("adds the denominators"),
                  candidates=(("Probe", "How many quarters make a half?"),))
    d = prompt_dialogue("mistake", s)   # system + learner turns; the model writes the tutor's

Prompt layout (the system turn, one fact per line, then the conversation)::

    Course: <course>. Concept: <concept>.
    Problem: <the question as the learner sees it>
    Checker: wrong; matches the misconception: <diagnosis>     (or: matches no known misconception)
    Recent answers: <the learner's latest answers on the concept, e.g. "5/4 (wrong); 4/5 (right)">
    Probe: <the misconception's authored probing question>
    Hint shown: <a hint the learner has already seen>
    Hint: <the next authored hint>
    Material: <a paragraph of the concept's material>
"""

from __future__ import annotations

from dataclasses import dataclass

# moment -> the dialogue format's task (models_train.dialogue.TASKS)
MOMENTS = {
    "mistake": "respond_to_mistake",  # after a wrong answer: probe the misconception, or ask how
    "followup": "respond_to_mistake",  # the learner answered the probe: the next step for them
    "hint": "hint",  # the next hint, given the hints already shown
    "explain": "explain",  # the concept's material once more, another way
    "chat": "chat",  # a learner's question, answered from the material
}
# what a candidate line may be called, in the order lines appear in a prompt
LABELS = ("Probe", "Hint shown", "Hint", "Material")
# the learner's words where the moment has none of its own (buttons on the study page)
HINT_REQUEST = "Can I have a hint?"
EXPLAIN_REQUEST = "Can you explain it another way?"


def checker_line(diagnosis: str | None) -> str:
    """The Checker line for a wrong answer: the matched misconception's diagnosis, or that
    no known misconception matched."""
    if diagnosis:
        return f"wrong; matches the misconception: {' '.join(diagnosis.split())}"
    return "wrong; matches no known misconception"


@dataclass(frozen=True, kw_only=True)
class Situation:
    """Everything the tutor knows at a moment: the learner's situation and the candidates."""

    course: str
    concept: str
    problem: str = ""  # the question as the learner sees it
    answer: str = ""  # the learner's answer to it, as typed
    checker: str = ""  # checker_line(...) for a wrong answer
    candidates: tuple[tuple[str, str], ...] = ()  # (label from LABELS, authored text)
    said: tuple[tuple[str, str], ...] = ()  # earlier turns of this exchange: (role, text)
    request: str = ""  # the learner's own words for this turn (their question, their reply)
    recent: tuple[str, ...] = ()  # the learner's latest answers on the concept, e.g. "5/4 (wrong)"

    def candidate(self, label: str) -> str:
        """The text of the first candidate called ``label`` ('' when there is none)."""
        return next((text for name, text in self.candidates if name == label), "")


def system_text(s: Situation) -> str:
    lines = [f"Course: {s.course}. Concept: {s.concept}."]
    if s.problem:
        lines.append(f"Problem: {s.problem}")
    if s.checker:
        lines.append(f"Checker: {s.checker}")
    if s.recent:
        lines.append("Recent answers: " + "; ".join(" ".join(a.split()) for a in s.recent))
    order = {label: i for i, label in enumerate(LABELS)}
    for label, text in sorted(s.candidates, key=lambda c: order.get(c[0], len(LABELS))):
        if label not in order:
            raise ValueError(f"unknown candidate label {label!r}; expected one of {', '.join(LABELS)}")
        lines.append(f"{label}: {text.strip()}")
    return "\n".join(lines)


_LINE_LABELS = ("Course", "Problem", "Checker", "Recent answers", *LABELS)


def candidates_of(system: str) -> list[tuple[str, str]]:
    """The (label, text) candidates of a system turn written by ``system_text`` (a candidate's
    text may run over several lines: it ends where the next labelled line starts)."""
    out: list[list] = []
    current = None
    for line in system.split("\n"):
        label, sep, rest = line.partition(": ")
        if sep and label in _LINE_LABELS:
            current = [label, rest] if label in LABELS else None
            if current is not None:
                out.append(current)
        elif current is not None:
            current[1] += "\n" + line
    return [(label, text) for label, text in out]


def learner_turn(moment: str, s: Situation) -> str:
    """What the learner says that the tutor answers: their answer after a mistake, their own
    words otherwise (a button's fixed request when they typed nothing)."""
    if moment == "mistake":
        return s.answer
    if moment == "hint":
        return s.request or HINT_REQUEST
    if moment == "explain":
        return s.request or EXPLAIN_REQUEST
    return s.request


def prompt_dialogue(moment: str, s: Situation, *, course_slug: str = "", concept_slug: str = "") -> dict:
    """The dialogue up to the turn the model writes: the system turn, the exchange so far, the
    learner's turn. Render it with ``models_train.dialogue.render(tok, d, upto=len(messages))``
    and append ``<|tutor|>``; the factory appends the tutor's reply to train on."""
    if moment not in MOMENTS:
        raise ValueError(f"unknown moment {moment!r}; expected one of {', '.join(MOMENTS)}")
    said = [{"role": role, "content": text} for role, text in s.said]
    turn = learner_turn(moment, s)
    if not turn.strip():
        raise ValueError(f"a {moment} prompt needs the learner's words (answer or request)")
    return {
        "task": MOMENTS[moment],
        "course": course_slug,
        "concept": concept_slug,
        "split": "train",
        "messages": [
            {"role": "system", "content": system_text(s)},
            *said,
            {"role": "learner", "content": turn},
        ],
        "meta": {"moment": moment},
    }
