"""How the tutor speaks at each moment: the prompt, the authored fallback, the guards, and the
generation itself. The study loop (``tutor.speaking``) and the evaluation of the production
path (``manage.py evaluate_tutor``) both go through these functions, so what is measured is
what learners get.

A :class:`Moment` is built from the course's own objects (specs and a drawn variant: the study
loop reads them from the database, the evaluation from ramp files):

    moment = mistake_moment(course="Fractions", concept="Adding fractions", item_type="numeric",
                            variant=v, answer="2/6", misconception=matched)
    outcome = speak(tutor_model, moment, vocabulary=vocab, reached=None, on_text=print)
    outcome.shown   # the model's words that passed every guard, or moment.fallback
    outcome.verdict # why not, when the fallback was used

Tiny CPU run: ``python manage.py evaluate_tutor CHECKPOINT --moments 2`` (see that command).
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from courses.checkers import AnswerKey, answer_as_input, check_answer
from courses.specs import ConceptSpec, CourseSpec, ItemSpec
from courses.variants import RenderedMisconception, Variant
from models_train.factory.builder import difficulty_bucket, excerpt, practice_request
from models_train.factory.structured import StructuredError, item_ref, question_text, variant_of
from models_train.guards import OK, Guard, StreamGuard, Verdict
from models_train.moments import Situation, checker_line, prompt_dialogue
from models_train.scoring import content_terms
from models_train.structured_gen import choose_item
from models_train.verify import practice_schema

MAX_TOKENS = {"mistake": 64, "followup": 64, "hint": 64, "explain": 200, "chat": 160}
CHAT_EXCERPT = 420  # characters of material quoted into a chat prompt (keeps it in context)


@dataclass(frozen=True)
class Moment:
    """One thing the tutor is about to say."""

    kind: str  # a key of models_train.moments.MOMENTS
    situation: Situation
    fallback: str  # the authored text the learner reads when the model's isn't shown
    key: AnswerKey | None = None  # the open question's answer key: the reveal guard's reference

    def dialogue(self) -> dict:
        return prompt_dialogue(self.kind, self.situation)

    def context(self) -> str:
        """All the text of the prompt: what grounded words and numbers must come from."""
        d = self.dialogue()
        return "\n".join(m["content"] for m in d["messages"])


def problem_text(item_type: str, variant: Variant) -> str:
    """The question as the learner sees it (choices listed; an ordering's steps shuffled)."""

    class _Item:
        type = item_type

    return question_text(_Item, variant.prompt, variant.choices)


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- the moments ------------------------------------------------------------------------------


def mistake_moment(
    *,
    course: str,
    concept: str,
    item_type: str,
    variant: Variant,
    answer: str,
    misconception: RenderedMisconception | None,
) -> Moment:
    """After a wrong answer: the matched misconception's probe, asked of this learner; without
    one, a question about how they got their answer. Never the correct answer."""
    probe = _flat(misconception.probe) if misconception and misconception.probe.strip() else ""
    situation = Situation(
        course=course,
        concept=concept,
        problem=problem_text(item_type, variant),
        answer=answer.strip(),
        checker=checker_line(misconception.diagnosis if misconception else None),
        candidates=(("Probe", probe),) if probe else (),
    )
    said = _flat(answer)[:80]
    if probe:
        fallback = f"You answered {said}. {probe}"
    else:
        fallback = f"You answered {said}. How did you get it? Tell me your first step."
    return Moment("mistake", situation, fallback, variant.key)


def followup_moment(*, mistake: Moment, asked: str, reply: str, variant: Variant) -> Moment:
    """The learner answered the tutor's probing question: the first hint that keeps the answer
    back, or (none) the way to the worked solution."""
    s = mistake.situation
    hint = _flat(variant.hints[0]) if variant.hints else ""
    situation = Situation(
        course=s.course,
        concept=s.concept,
        problem=s.problem,
        answer=s.answer,
        checker=s.checker,
        candidates=s.candidates + ((("Hint", hint),) if hint else ()),
        said=(("learner", s.answer), ("tutor", asked)),
        request=reply.strip()[:500],
    )
    if hint:
        fallback = f"Thanks. Here's a hint: {hint}"
    else:
        fallback = "Thanks. Have a look at the worked solution, then try the next one."
    return Moment("followup", situation, fallback, variant.key)


def hint_moment(*, course: str, concept: str, item_type: str, variant: Variant, shown: int) -> Moment:
    """Hint number ``shown`` (0-based) of the variant, with the ones already shown in the
    prompt: the authored hint is the fallback and the ceiling on what is given away."""
    if not 0 <= shown < len(variant.hints):
        raise ValueError(f"the question has {len(variant.hints)} hints; there is no hint {shown + 1}")
    situation = Situation(
        course=course,
        concept=concept,
        problem=problem_text(item_type, variant),
        candidates=tuple(("Hint shown", _flat(h)) for h in variant.hints[:shown])
        + (("Hint", _flat(variant.hints[shown])),),
    )
    return Moment("hint", situation, variant.hints[shown], variant.key)


def explain_moment(
    *, course: str, concept: str, material: Sequence[tuple[str, str]], level: str, key: AnswerKey | None
) -> Moment:
    """The concept's material at ``level`` (one of its levels), explained again: grounded in
    that text only. ``material``: (level, Markdown) pairs of the concept."""
    text = dict(material).get(level)
    if not text:
        raise ValueError(f"the concept has no material at level {level!r}")
    quoted = excerpt(text)
    situation = Situation(course=course, concept=concept, candidates=(("Material", quoted),))
    return Moment("explain", situation, text, key)


def chat_moment(
    *,
    course: str,
    concept: str,
    question: str,
    material: Sequence[tuple[str, str]],
    problem: str = "",
    key: AnswerKey | None = None,
    recent: Sequence[str] = (),
) -> Moment:
    """A learner's question, answered from the paragraph of the concept's material that
    matches it best (by the words they share; the fallback quotes that paragraph), knowing the
    learner's latest answers on the concept (``recent``: "5/4 (wrong)", …)."""
    paragraph = retrieve(question, [text for _, text in material])
    quoted = excerpt(paragraph, CHAT_EXCERPT) if paragraph else ""
    situation = Situation(
        course=course,
        concept=concept,
        problem=problem,
        candidates=(("Material", quoted),) if quoted else (),
        request=question.strip()[:500],
        recent=tuple(" ".join(a.split())[:60] for a in recent[-3:]),
    )
    if paragraph:
        fallback = f"Here is what the material says:\n\n{paragraph}"
    else:
        fallback = (
            f"I can only answer from the material of “{concept}”, and it doesn't cover that. "
            "Try asking about a word or a step of this concept."
        )
    return Moment("chat", situation, fallback, key)


def retrieve(question: str, texts: Iterable[str]) -> str:
    """The paragraph of ``texts`` sharing the most content words with ``question``, rarer words
    counting more (idf over the paragraphs); '' when none shares any. A paragraph that
    introduces what follows (it ends with ':') comes with the paragraph it introduces."""
    split = [[p.strip() for p in re.split(r"\n\s*\n", t) if p.strip()] for t in texts]
    paragraphs = [p for ps in split for p in ps]
    follows = [ps[i + 1] if i + 1 < len(ps) else "" for ps in split for i in range(len(ps))]
    if not paragraphs:
        return ""
    terms = [content_terms(p) for p in paragraphs]
    asked = content_terms(question)
    df: dict[str, int] = {}
    for ts in terms:
        for t in ts:
            df[t] = df.get(t, 0) + 1
    n = len(paragraphs)

    def score(ts: set[str]) -> float:
        return sum(math.log(1 + n / df[t]) for t in asked & ts)

    best = max(range(n), key=lambda i: (score(terms[i]), -i))
    if score(terms[best]) <= 0:
        return ""
    if paragraphs[best].endswith(":") and follows[best]:
        return paragraphs[best] + "\n\n" + follows[best]
    return paragraphs[best]


# --- practice questions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Practice:
    """A practice question the model chose: a template and its values. The course's variant
    code rendered it and computed its answer; the model never states the answer."""

    ref: str  # "<concept>/<item>"
    item: ItemSpec
    params: dict
    variant: Variant


def difficulties(concept: ConceptSpec) -> list[str]:
    """The difficulty buckets the concept's templates cover (easy / medium / hard)."""
    found = {difficulty_bucket(it.difficulty) for it in concept.items if it.is_template and it.params}
    return [d for d in ("easy", "medium", "hard") if d in found]


def write_practice(
    model, *, course: CourseSpec, concept: ConceptSpec, difficulty: str, seed: int = 0, tries: int = 8
) -> tuple[Practice | None, str]:
    """A practice question of ``difficulty`` on ``concept`` written by ``model`` (a TutorModel):
    the model picks the template and its values among those the course allows (constrained
    decoding, models_train.structured_gen); the course's variant code renders the question and
    keys it, and the checker must accept that key's own answer. (question, '') or (None, why)."""
    rng = random.Random(seed)
    dialogue = {"task": "practice_question", "messages": practice_request(course, concept, difficulty, rng)}
    system = dialogue["messages"][0]["content"]
    schema = practice_schema({course.slug: course}, {"course": course.slug}, system)
    if not schema:
        return None, f"no template of {concept.slug} at {difficulty}"
    prompt = model.prompt_ids(dialogue)
    reason = "no values the model chose satisfied the template's constraints"
    for attempt in range(tries):
        ref, params = choose_item(
            model.engine.model,
            model.tok,
            prompt,
            schema,
            temperature=0.0 if attempt == 0 else 1.0,
            rng=rng,
        )
        item = concept.item(ref.split("/", 1)[1])
        try:
            variant = variant_of(item, params, concept.misconceptions, seed=seed)
        except StructuredError as error:
            reason = str(error)
            continue
        shown = answer_as_input(variant.key)[0]
        if not check_answer(variant.key, shown).correct:
            reason = f"the checker refuses the question's own answer {shown!r}"
            continue
        return Practice(item_ref(concept.slug, item.slug), item, params, variant), ""
    return None, reason


# --- speaking -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What came of one moment: what the learner was shown and why."""

    shown: str  # the text the learner reads
    source: str  # "model" or "authored"
    verdict: Verdict  # OK, or why the model's words were not shown
    raw: str = ""  # everything the model wrote
    first_text_s: float | None = None  # seconds until the first words could be shown
    total_s: float = 0.0
    tokens: int = 0


def guard_for(moment: Moment, *, vocabulary, reached) -> Guard:
    return Guard(context=moment.context(), key=moment.key, vocabulary=vocabulary, reached=reached)


def speak(
    model,
    moment: Moment,
    *,
    vocabulary=None,
    reached: frozenset[str] | None = None,
    on_text: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    seed: int = 0,
    max_tokens: int | None = None,
) -> Outcome:
    """Ask ``model`` (a ``models_train.serving.TutorModel``, or None) for the moment's reply,
    releasing its words through the guards to ``on_text`` as they pass. Any refusal (or no
    model, or an error, or ``should_stop()`` turning true) ends in the authored fallback."""
    start = time.perf_counter()
    if model is None:
        return Outcome(moment.fallback, "authored", Verdict("no_model"))
    stream = StreamGuard(guard_for(moment, vocabulary=vocabulary or {}, reached=reached))
    first = None
    tokens, ended = 0, False
    try:
        for piece, done in model.reply(
            moment.dialogue(), max_tokens=max_tokens or MAX_TOKENS[moment.kind], seed=seed
        ):
            tokens += 1
            if done:
                ended = True
                break
            released = stream.feed(piece)
            if released:
                if first is None:
                    first = time.perf_counter() - start
                if on_text is not None:
                    on_text(released)
            if stream.verdict.refused:
                break
            if should_stop is not None and should_stop():
                stream.verdict = Verdict("late", "the time budget ran out")
                break
    except Exception as error:  # the learner gets the authored text; the reason is logged
        return Outcome(
            moment.fallback,
            "authored",
            Verdict("error", f"{type(error).__name__}: {error}"),
            raw=stream.text,
            total_s=time.perf_counter() - start,
            tokens=tokens,
        )
    verdict = stream.finish(ended=ended)
    total = time.perf_counter() - start
    if verdict.refused:
        return Outcome(
            moment.fallback,
            "authored",
            verdict,
            raw=stream.text,
            first_text_s=first,
            total_s=total,
            tokens=tokens,
        )
    rest = stream.remaining()
    if rest and on_text is not None:
        if first is None:
            first = time.perf_counter() - start
        on_text(rest)
    return Outcome(
        stream.text.strip(), "model", OK, raw=stream.text, first_text_s=first, total_s=total, tokens=tokens
    )
