"""Learner and tutor phrasings, several per task, picked by a seeded rng.

Tutor replies are short and kind; none ever states an answer (the builder also checks each
reply against the answer with the evaluator's own normalisation)."""

from __future__ import annotations

LEVEL_WORDS = {
    "intuition": ["intuitively", "in simple terms", "without the formulas", "in plain words"],
    "formal": ["precisely", "formally", "with the exact definitions", "the formal way"],
    "worked-example": [
        "with a worked example",
        "by working through an example",
        "with an example",
        "step by step on an example",
    ],
}

EXPLAIN_ASK = [
    "Can you explain {title} {how}?",
    "I don't really get {title_lc}. Could you explain it {how}?",
    "Explain {title_lc} {how}, please.",
    "Could you go over {title_lc} again, {how}?",
    "What's the idea behind {title_lc}? {How_cap}, please.",
]
EXPLAIN_LEAD = ["", "Sure. ", "Here's the idea. ", "Of course. ", "Let's take it slowly. "]
EXPLAIN_CLOSE = [
    "Can you say it back in your own words?",
    "Which part would you like me to go over again?",
    "Does that make sense? Try putting it in your own words.",
    "What would you say is the key step here?",
]

QUESTION_ASK_TERM = [
    "What does \u201c{term}\u201d mean?",
    "Can you remind me what {term} means?",
    "I keep seeing \u201c{term}\u201d. What is it?",
    "Sorry if this is a dumb question, but what is meant by {term}?",
    "What exactly is {term}?",
]
QUESTION_ASK_TITLE = [
    "What is {title_lc} about?",
    "Why do we need {title_lc}?",
    "Can you tell me what {title_lc} is for?",
]
QUESTION_LEAD = ["", "Good question. ", "Not dumb at all. ", "From the material: "]
QUESTION_CLOSE = [
    "Does that answer your question?",
    "Where did you run into it?",
    "Can you think of an example of it?",
    "What made you wonder about it?",
]

STUCK_FIRST = [
    "I'm stuck.",
    "I don't know how to start this one.",
    "Can I have a hint?",
    "I tried but I'm stuck.",
    "No idea where to begin.",
    "I'm lost on this one.",
]
STUCK_AGAIN = [
    "Still stuck.",
    "I still don't get it.",
    "Another hint, please?",
    "Hmm, I'm still not sure.",
    "That didn't help me yet.",
    "Can you give me one more hint?",
]
HINT_REPLY = [
    "Here's a hint: {hint}",
    "Try this: {hint}",
    "{hint}",
    "Sure. {hint}",
    "Let's take one step: {hint}",
]

HOW_ASK = [
    "How do I solve this?",
    "How do I do this one?",
    "Can you show me how to solve it?",
    "What's the method for this?",
    "Can you just show me the solution?",
    "Where do I even start?",
]
TRY_FIRST_REPLY = [
    "Let's have you try first: how would you start? {hint}",
    "Before I show you anything: what would your first step be? Here's a nudge: {hint}",
    "How would you begin? {hint}",
    "Good that you asked. What do you think the first step is? {hint}",
]
TRY_FIRST_NO_HINT = [
    "Let's have you try first: how would you start?",
    "What would your first step be? Give it a go and tell me what you get.",
    "How would you begin? Tell me your idea, even if you're unsure.",
]

WRONG_SAY = ["I got {a}.", "Is it {a}?", "My answer is {a}.", "{a}", "I think it's {a}.", "I put {a}."]
WRONG_SAY_CHOICE = ["I picked \u201c{a}\u201d.", "Is it \u201c{a}\u201d?", "I think it's: {a}", "{a}"]
WRONG_SAY_ORDER = ["My order:\n{a}", "I put them like this:\n{a}", "{a}"]

PROBE_OPEN = [
    "",
    "Let's look at that together. ",
    "Not quite yet. ",
    "Thanks for showing me. ",
    "Good try. ",
    "Let's check that. ",
]
# before the probe, the learner's own answer: the reply is to *this* learner
PROBE_ACK = [
    "You wrote {a}. ",
    "You said {a}. ",
    "You answered {a}. ",
    "{a}: let's check that. ",
    "Let's look at {a} together. ",
    "Thanks. You got {a}. ",
]

# what a learner answers to a probing question, and what the tutor says next
PROBE_REPLY = [
    "I don't know.",
    "Oh, I'm not sure.",
    "Yes?",
    "No.",
    "Hmm, I think I mixed something up.",
    "I just did what I always do.",
    "Maybe it should be smaller?",
    "I'm not sure what you mean.",
    "I added them.",
    "Because that's how I learned it.",
]
FOLLOWUP_LEAD = [
    "Thanks. Here's a hint: {hint}",
    "Let's go one step at a time. {hint}",
    "That helps. {hint}",
    "OK. Look at it this way: {hint}",
    "Fair enough. {hint}",
]
FOLLOWUP_NO_HINT = [
    "Thanks. Have a look at the worked solution, then try the next one.",
    "OK. The worked solution shows each step; compare it with yours.",
]

UNMATCHED_ASK = [
    "How did you get {a}? Walk me through your first step.",
    "Can you explain the steps that gave you {a}?",
    "Not quite yet. What did you do first to get {a}?",
    "Interesting. How did you arrive at {a}?",
]
UNMATCHED_ASK_CHOICE = [
    "Why did you pick \u201c{a}\u201d?",
    "What made you choose \u201c{a}\u201d? Tell me your reasoning.",
    "Not quite yet. Can you explain why \u201c{a}\u201d fits?",
]
UNMATCHED_ASK_ORDER = [
    "Why did you put \u201c{a}\u201d first?",
    "Can you explain why \u201c{a}\u201d comes first?",
    "Not quite yet. What has to happen before \u201c{a}\u201d?",
]
UNMATCHED_HINT = [
    "Not quite yet. Here's a hint: {hint} What do you get now?",
    "Let's check it together. {hint} Does that change your answer?",
    "Close look time: {hint} What do you get when you try that?",
]

DIFFICULTY_WORDS = {"easy": "an easy", "medium": "a medium", "hard": "a hard"}
PRACTICE_ASK = [
    "Can you give me {diff} practice question on {title_lc}?",
    "I'd like to practise {title_lc}. Something {diff_word}, please.",
    "Give me {diff} question about {title_lc}.",
    "One more {diff_word} exercise on {title_lc}?",
    "Make me {diff} problem on {title_lc}, with the answer so I can check.",
]


def lower_title(title: str) -> str:
    """`Adding fractions` -> `adding fractions`, keeping acronyms and names (GPT, Bayes)."""
    first, _, rest = title.partition(" ")
    if len(first) > 1 and first[1:].islower():
        first = first.lower()
    return (first + (" " + rest if rest else "")).strip()


# What the tutor says, per task of the dialogue format: (role, place, phrases, answer forms).
# The factory's replies are made of these - a mistake reply is an acknowledgement before the
# probe, or one question about the learner's reasoning (worded for a value, a choice or an
# order), or a lead into the hint; a hint reply is one phrase with the hint; an explanation or
# an answer is a lead-in, the material, a closing question - so a reply has one phrase per
# role, "first" ones open it and "last" ones close it.
ANY_FORM = ("value", "choice", "order")
TUTOR_PHRASES = {
    "respond_to_mistake": (
        ("reply", "first", (PROBE_OPEN, PROBE_ACK), ANY_FORM),
        ("reply", "any", (FOLLOWUP_LEAD, FOLLOWUP_NO_HINT, UNMATCHED_HINT), ANY_FORM),
        ("reply", "any", (UNMATCHED_ASK,), ("value",)),
        ("reply", "any", (UNMATCHED_ASK_CHOICE,), ("choice",)),
        ("reply", "any", (UNMATCHED_ASK_ORDER,), ("order",)),
    ),
    "hint": (("reply", "any", (HINT_REPLY, TRY_FIRST_REPLY, TRY_FIRST_NO_HINT), ANY_FORM),),
    "explain": (("lead", "first", (EXPLAIN_LEAD,), ANY_FORM), ("close", "last", (EXPLAIN_CLOSE,), ANY_FORM)),
    "chat": (("lead", "first", (QUESTION_LEAD,), ANY_FORM), ("close", "last", (QUESTION_CLOSE,), ANY_FORM)),
}


def tutor_phrases(task: str, form: str = "value") -> list[tuple[str, str, str]]:
    """(role, place, phrase with its {placeholders}) the factory puts in the tutor's mouth for
    ``task`` when the learner's answer is a ``form`` ("value", "choice" or "order"): what
    composed decoding lets the model say besides its prompt's sentences (models_train.serving)."""
    return [
        (role, place, text)
        for role, place, groups, forms in TUTOR_PHRASES.get(task, ())
        if form in forms
        for group in groups
        for text in group
        if text.strip()
    ]
