"""Right and wrong answers to a study step, as a learner would type them."""

from learner.models import Step
from tutor.study import variant_for


def right_answer(step: Step) -> str:
    from courses.checkers import answer_as_input

    shown = answer_as_input(variant_for(step).key)[0]
    return "\n".join(shown) if isinstance(shown, list) else shown


def wrong_answer(step: Step) -> str:
    variant = variant_for(step)
    if step.item.type == "multiple_choice":
        return next(c for c in variant.choices if c != variant.key.answer)
    if step.item.type == "ordering":
        return "\n".join(reversed(list(variant.key.answer)))
    if step.item.type == "expression":
        return "x + 12345"
    return "98765" if step.item.type == "numeric" else "certainly not this"


def finish_placement(learner, course):
    """The learner's enrollment and first step after placement, answering "I don't know"
    throughout (so the policy starts at the beginning of the ramp)."""
    from tutor.study import answer_submit, enrollment_for, step_next

    enrollment = enrollment_for(user=learner, course=course)
    step = step_next(enrollment=enrollment)
    while step is not None and step.kind == Step.Kind.PLACEMENT:
        step = answer_submit(user=learner, course=course, step_id=step.pk, dont_know=True).next_step
    return enrollment, step


def fill_answer(page, step: Step, answer: str) -> None:
    """Give ``answer`` to the step's question on the study page as a learner would: a radio
    button, the ordering's up buttons (one line at a time into place), or the answer box."""
    if step.item.type == "multiple_choice":
        page.locator(f'input[type=radio][value="{answer}"]').check()
    elif step.item.type == "ordering":
        wanted = answer.split("\n")
        for place, line in enumerate(wanted):
            for _ in range(len(wanted)):
                order = page.locator('input[name="order"]').evaluate_all("els => els.map(e => e.value)")
                if order.index(line) <= place:
                    break
                item = page.locator(".order-item").nth(order.index(line))
                item.get_by_role("button", name="Move this line up").click()
    else:
        page.get_by_label("Your answer").fill(answer)
