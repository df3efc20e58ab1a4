"""What the item editor's "try it" and "show variants" show: an item as a learner sees it,
and the checker's verdict on an answer (correct, wrong, unreadable, which misconception)."""

from dataclasses import dataclass

from courses.checkers import answer_as_input, check_answer
from courses.html import markdown_html as render_markdown
from courses.specs import ItemSpec
from courses.variants import VariantError, draw_variant


class ItemPreviewError(ValueError):
    """The item can't be shown (no variant satisfies it, an answer can't be computed, …)."""


@dataclass
class VariantPreview:
    seed: int
    values: dict
    prompt_html: str
    choices_html: list[str]
    hints_html: list[str]
    solution_html: str
    answer: str
    misconceptions: list


@dataclass
class Verdict:
    outcome: str  # correct / incorrect / unreadable
    normalised: str
    message: str
    misconception: object | None  # a RenderedMisconception (slug, diagnosis, probe)
    expected: str


def _draw(spec: ItemSpec, seed: int, concept_misconceptions):
    try:
        return draw_variant(spec, seed, concept_misconceptions=concept_misconceptions)
    except VariantError as error:
        raise ItemPreviewError(f"Variant {seed} can't be made: {error}") from None


def _expected(variant) -> str:
    shown = answer_as_input(variant.key)
    first = shown[0] if shown else ""
    return " → ".join(first) if isinstance(first, list) else str(first)


def item_variants(spec: ItemSpec, *, concept_misconceptions=(), count: int = 5) -> list[VariantPreview]:
    seeds = range(count) if spec.is_template else range(1)
    previews = []
    for seed in seeds:
        variant = _draw(spec, seed, concept_misconceptions)
        previews.append(
            VariantPreview(
                seed=seed,
                values=variant.values,
                prompt_html=render_markdown(variant.prompt),
                choices_html=[render_markdown(c) for c in variant.choices],
                hints_html=[render_markdown(h) for h in variant.hints],
                solution_html=render_markdown(variant.solution),
                answer=_expected(variant),
                misconceptions=list(variant.misconceptions),
            )
        )
    return previews


def item_try(spec: ItemSpec, *, seed: int, answer: str, concept_misconceptions=()) -> Verdict:
    variant = _draw(spec, seed, concept_misconceptions)
    response: str | list[str] = answer
    if spec.type == "ordering":
        response = [line.strip() for line in answer.splitlines() if line.strip()]
    result = check_answer(variant.key, response)
    matched = next((m for m in variant.misconceptions if m.slug == result.misconception), None)
    return Verdict(result.outcome, result.normalised, result.message, matched, _expected(variant))
