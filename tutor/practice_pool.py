"""Practice questions the tutor model writes, kept in a pool the study loop may serve from.

A task on the ``tutor`` queue (on the beat schedule, every ``RAMP_PRACTICE_POOL_SECONDS``) tops
the pool up: for every concept of every published course and every difficulty its templates
cover, until ``RAMP_PRACTICE_POOL_SIZE`` verified questions wait, the active model picks a
template and its values (``models_train.speaking.write_practice``); the course's variant code
renders and keys the question. Every attempt is kept, verified or not, so the yield is known.
Difficulties where the concept has fewest authored fixed questions are topped up first: that
is where fresh questions help most.

When the policy picks a template for a step, the study loop serves a pool question of that
template this learner hasn't seen yet instead of a random draw, and the step's details say so
(``{"generated": {"question": id, "params": ..., "seed": ...}}``). The loop never waits on the
pool: an empty pool means a random draw, as before.

    pool_refill(course=course)          # what the task runs (needs the active model)
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings

from courses.models import Course, Item
from courses.ramp_import import course_to_spec
from learner.models import Enrollment, Step
from models_train.api import active_model_version
from models_train.factory.builder import difficulty_bucket
from models_train.speaking import difficulties, write_practice
from tutor.models import GeneratedQuestion

log = logging.getLogger(__name__)


def _seed(*parts) -> int:
    # 31 bits: the column is a PostgreSQL integer
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:4], "big") >> 1


def pool_refill(*, course: Course, model=None, per_bucket: int | None = None) -> dict:
    """Top the pool of ``course`` up; returns {"written": n, "verified": m} (or why not)."""
    if model is None:
        from models_train.serving import active_tutor

        model = active_tutor()
    if model is None:
        return {"skipped": "no model version is active"}
    per_bucket = per_bucket or settings.RAMP_PRACTICE_POOL_SIZE
    version = active_model_version()
    spec = course_to_spec(course=course)
    items = {
        (item.concept.slug, item.slug): item
        for item in Item.objects.filter(concept__course=course, retired_at__isnull=True).select_related(
            "concept", "current_version"
        )
    }
    concept_ids = dict(course.concepts.values_list("slug", "id"))
    written = verified = 0
    for concept in spec.concepts:
        fixed = [difficulty_bucket(it.difficulty) for it in concept.items if not it.is_template]
        # where the authors wrote fewest fixed questions first
        for difficulty in sorted(difficulties(concept), key=fixed.count):
            rows = GeneratedQuestion.objects.filter(
                concept__course=course, concept__slug=concept.slug, difficulty=difficulty
            )
            have = sum(
                1
                for item_id, version_id in rows.filter(verified=True).values_list(
                    "item_id", "item_version_id"
                )
                if any(i.pk == item_id and i.current_version_id == version_id for i in items.values())
            )
            tried = rows.count()
            for k in range(max(0, per_bucket - have)):
                seed = _seed(course.slug, concept.slug, difficulty, tried + k)
                practice, reason = write_practice(
                    model, course=spec, concept=concept, difficulty=difficulty, seed=seed
                )
                row = GeneratedQuestion(
                    course=course,
                    concept_id=concept_ids[concept.slug],
                    difficulty=difficulty,
                    seed=seed,
                    model_version=version,
                    reason=reason[:300],
                )
                if practice is not None:
                    item = items[(concept.slug, practice.item.slug)]
                    row.item, row.item_version = item, item.current_version
                    row.params, row.question, row.verified = practice.params, practice.variant.prompt, True
                    verified += 1
                row.save()
                written += 1
    log.info("practice pool of %s: %d written, %d verified", course.slug, written, verified)
    return {"written": written, "verified": verified}


def pool_question_for(*, enrollment: Enrollment, item: Item) -> GeneratedQuestion | None:
    """A verified pool question of ``item`` (its current version) this learner hasn't been
    served, oldest first; None when there is none."""
    # An item's pool is a few questions (RAMP_PRACTICE_POOL_SIZE per difficulty), read whole;
    # most items have none (none at all without a tutor model): then one query, not two.
    pool = list(
        GeneratedQuestion.objects.filter(
            item=item, item_version=item.current_version, verified=True
        ).order_by("id")
    )
    if not pool:
        return None
    served = {
        ref.get("question")
        for ref in Step.objects.filter(enrollment=enrollment, details__has_key="generated").values_list(
            "details__generated", flat=True
        )
        if isinstance(ref, dict)
    }
    return next((question for question in pool if question.pk not in served), None)


def pool_courses() -> list[int]:
    return list(Course.objects.filter(status=Course.Status.PUBLISHED).values_list("id", flat=True))
