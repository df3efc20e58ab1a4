"""Composed decoding: whatever the model prefers, a reply is made of whole pieces, joined by a
space or a line break, each at most once, one phrase per role, ends within its token budget, and
says something of substance when the prompt has any."""

import random

import pytest
import torch

from models_train.composing import Composer, Piece, pieces_of, sentences
from models_train.engine import Engine
from tests.models_train.conftest import random_gpt

PROBE = "How many quarters make a half? Draw it if it helps."
PHRASES = [
    ("reply", "first", "You said {a}."),
    ("reply", "first", "Good try."),
    ("reply", "any", "How did you get {a}?"),
    ("reply", "any", "Here's a hint: {hint}"),
]


def test_sentences_never_cut_a_formula_nor_an_introduction_from_what_it_introduces():
    text = "Score it. $$P(a \\mid .)\\, P(b). x$$ Then: go.\nAnd $1. 2$ ok. To solve it:\n$$x = 2$$"
    assert sentences(text) == [
        "Score it.",
        "$$P(a \\mid .)\\, P(b). x$$ Then: go.",
        "And $1. 2$ ok.",
        "To solve it:\n$$x = 2$$",
    ]


def test_pieces_fill_the_phrases_and_drop_what_cannot_be_filled():
    pieces = pieces_of(
        [("Probe", PROBE), ("Hint", "Count them. 4. Then add.")], PHRASES, {"a": ["2/6"], "hint": []}
    )
    texts = {p.text: p for p in pieces}
    assert {"How many quarters make a half?", "Draw it if it helps."} <= set(texts)
    assert "4." not in texts and "Then add." in texts  # a list number is not a sentence
    assert texts["You said 2/6."].content and texts["How did you get 2/6?"].content
    assert not texts["Good try."].content and texts["Good try."].place == "first"
    assert not any("{" in t or "hint:" in t for t in texts)  # no hint: that phrase is left out


def compose(tok, pieces, budget, rng):
    """A reply written by a model that picks any allowed token at random: the worst case."""
    end = tok.special("<|end|>")
    composer = Composer(tok, pieces, end=end, budget=budget)
    ids = []
    for _ in range(budget):
        allowed = composer.mask().nonzero().flatten().tolist()
        token = rng.choice(allowed)
        if token == end:
            return tok.decode(ids), True
        composer.feed(token)
        ids.append(token)
    return tok.decode(ids), False


def split_into_pieces(text, pieces):
    """``text`` as a sequence of piece texts (a space or line break between them), or None."""
    texts = sorted({p.text for p in pieces}, key=len, reverse=True)

    def walk(rest, first):
        if not rest:
            return []
        for sep in [""] if first else [" ", "\n", "\n\n"]:
            if not rest.startswith(sep):
                continue
            for t in texts:
                if rest[len(sep) :].startswith(t):
                    tail = walk(rest[len(sep) + len(t) :], False)
                    if tail is not None:
                        return [t, *tail]
        return None

    return walk(text, True)


@pytest.mark.parametrize("seed", range(40))
def test_any_choice_of_the_model_gives_a_reply_of_whole_pieces(tok, seed):
    rng = random.Random(seed)
    pieces = pieces_of(
        [("Probe", PROBE)], PHRASES, {"a": ["2/6"], "hint": ["Quarters are smaller than halves."]}
    )
    budget = rng.choice([12, 24, 64])
    text, ended = compose(tok, pieces, budget, rng)
    assert ended, f"no end within {budget} tokens: {text!r}"
    if not text:  # nothing of substance fits the budget: an empty reply (the guard's "empty")
        assert budget == 12
        return
    used = split_into_pieces(text, pieces)
    assert used, f"not made of pieces: {text!r}"
    assert len(used) == len(set(used))
    by_text = {p.text: p for p in pieces}
    phrases = [t for t in used if by_text[t].role]
    assert len(phrases) <= 1  # one phrase per role
    assert all(by_text[t].place != "first" or i == 0 for i, t in enumerate(used))
    assert any(by_text[t].content for t in used)  # something of substance, not "Good try." alone
    # a piece that repeats another one is never written after it
    assert not ("Quarters are smaller than halves." in used and any("hint:" in t for t in used))
    # the probe's sentences keep their order
    probe = [t for t in used if t in PROBE]
    assert probe == sorted(probe, key=PROBE.index)


def test_a_closing_phrase_comes_last_and_only_after_the_material(tok):
    pieces = pieces_of(
        [("Material", "A fraction names equal parts of a whole.\nThe bottom number counts the parts.")],
        [("lead", "first", "Good question."), ("close", "last", "Does that answer your question?")],
        {},
    )
    for seed in range(30):
        text, ended = compose(tok, pieces, 64, random.Random(seed))
        assert ended
        used = split_into_pieces(text, pieces)
        assert any(t.startswith(("A fraction", "The bottom")) for t in used), text
        if "Does that answer your question?" in used:
            assert used[-1] == "Does that answer your question?"


def test_a_question_in_the_material_is_no_answer_on_its_own(tok):
    pieces = pieces_of(
        [("Material", "Can we do better? Yes: divide by the number of letters.")],
        [("lead", "first", "Good question."), ("close", "last", "Does that answer your question?")],
        {},
    )
    for seed in range(30):
        text, _ = compose(tok, pieces, 64, random.Random(seed))
        assert "divide by the number of letters" in text, text


def test_a_piece_too_long_for_the_budget_is_never_started(tok):
    long = "This sentence is far too long to be written within the few tokens that remain here."
    pieces = [Piece("Yes.", True), Piece(long, True)]
    for seed in range(10):
        text, ended = compose(tok, pieces, 6, random.Random(seed))
        assert ended and long not in text


def test_the_engine_samples_only_what_the_composer_allows(tok):
    model = random_gpt(vocab=tok.vocab_size, seq=128)
    end = tok.special("<|end|>")
    pieces = pieces_of([("Probe", PROBE)], PHRASES, {"a": ["7"], "hint": []})
    composer = Composer(tok, pieces, end=end, budget=40)
    prompt = tok.encode("The learner says 7.")
    ids = list(Engine(model).stream(prompt, max_tokens=40, temperature=0.0, stop=[end], constraint=composer))
    assert ids[-1] == end
    assert split_into_pieces(tok.decode(ids[:-1]), pieces)


def test_free_decoding_is_unchanged_without_a_constraint(tok):
    model = random_gpt(vocab=tok.vocab_size, seq=128)
    prompt = tok.encode("The learner says 7.")
    engine = Engine(model)
    a = list(engine.stream(prompt, max_tokens=12, temperature=0.0))
    b = list(engine.stream(prompt, max_tokens=12, temperature=0.0, constraint=None))
    assert a == b and torch.tensor(a).numel() == 12


def test_the_prompts_candidates_and_the_learners_kind_of_answer_are_read_back():
    from models_train.moments import Situation, candidates_of, system_text
    from models_train.serving import answer_form

    s = Situation(
        course="C",
        concept="K",
        problem="Which is bigger?\nA) 1/2\nB) 1/3",
        checker="wrong",
        candidates=(("Probe", "How many?"), ("Material", "Line one.\n\nLine two: $x$.")),
    )
    system = system_text(s)
    assert candidates_of(system) == [("Probe", "How many?"), ("Material", "Line one.\n\nLine two: $x$.")]
    assert answer_form(system, "1/3") == "choice"
    assert answer_form(system, "0.5") == "value"
    assert answer_form(system, "first\nsecond") == "order"


def test_a_retrieved_paragraph_that_introduces_a_formula_comes_with_it():
    from models_train.speaking import chat_moment, retrieve

    material = "Intro.\n\nThe sum of like fractions is:\n\n$$\\frac{a}{c} + \\frac{b}{c} = \\frac{a+b}{c}$$"
    assert retrieve("what is the sum of like fractions?", [material]).endswith("\\frac{a+b}{c}$$")
    moment = chat_moment(
        course="C",
        concept="K",
        question="what is the sum of like fractions?",
        material=[("intuition", material)],
    )
    assert moment.situation.candidate("Material").startswith("The sum of like fractions is:")


def test_a_served_reply_of_even_a_random_model_is_made_of_its_prompts_pieces(tmp_path):
    from models_train.moments import Situation, checker_line, prompt_dialogue
    from models_train.serving import TutorModel

    from .conftest import tiny_tutor_checkpoint

    probe = "How many quarters make a half? Draw it if it helps."
    model = TutorModel(tiny_tutor_checkpoint(tmp_path / "t", [probe, "You said 2/6."]))
    s = Situation(
        course="Fractions",
        concept="Adding fractions",
        problem="What is 1/2 + 1/4?",
        answer="2/6",
        checker=checker_line("adds the denominators"),
        candidates=(("Probe", probe),),
    )
    dialogue = prompt_dialogue("mistake", s)
    text = "".join(piece for piece, _ in model.reply(dialogue, max_tokens=48, composed=True))
    pieces = model.composer(dialogue, 48).pieces
    assert text and split_into_pieces(text, pieces), text
    free = "".join(piece for piece, _ in model.reply(dialogue, max_tokens=48, composed=False))
    assert not split_into_pieces(free, pieces)  # token by token, a random model writes noise
