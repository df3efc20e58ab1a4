"""Ramps in the database. The ramp files (courses/ramp_files.py) are the authoring format;
these tables are what learners study from and what the response log points at.

Ids are stable: a re-imported ramp updates concepts and items in place (matched by slug),
a changed item gets a new ItemVersion (responses keep pointing at the version they
answered), and what disappears from the files is retired, never deleted.
"""

from django.conf import settings
from django.db import models

from courses.specs import ITEM_TYPES, LEVELS


class Course(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    language = models.CharField(max_length=16, default="en")
    version = models.PositiveIntegerField(default=1)
    target_success = models.FloatField(
        default=0.85, help_text="Practice is served near this predicted success."
    )
    mastery_threshold = models.FloatField(
        default=0.95, help_text="Probability of mastery that unlocks what follows."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="owned_courses", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Concept(models.Model):
    """A knowledge component: one step of the ramp."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="concepts")
    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    introduces = models.JSONField(default=list, blank=True, help_text="Terms first defined here.")
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, through="Prerequisite", related_name="dependents", blank=True
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["course", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="concept_slug_per_course")]

    def __str__(self) -> str:
        return self.title


class Prerequisite(models.Model):
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="prerequisite_links")
    requires = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="dependent_links")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["concept", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["concept", "requires"], name="prerequisite_once")]


class Material(models.Model):
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="material")
    level = models.CharField(max_length=32, choices=[(level, level) for level in LEVELS])
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["concept", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["concept", "level"], name="material_level_once")]


class ConceptMisconception(models.Model):
    """A misconception that applies to every item of its concept (item-level ones live in
    the item's spec)."""

    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="misconceptions")
    slug = models.SlugField(max_length=100)
    spec = models.JSONField(help_text="diagnosis, probe and match, as in the ramp file")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["concept", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["concept", "slug"], name="misconception_slug_per_concept")
        ]


class Item(models.Model):
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="items")
    slug = models.SlugField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=32, choices=[(t, t) for t in ITEM_TYPES])
    difficulty_prior = models.FloatField(default=0.0, help_text="The author's prior, logit scale.")
    difficulty = models.FloatField(
        default=0.0, help_text="Calibrated from the response log; starts at the prior."
    )
    is_template = models.BooleanField(default=False)
    current_version = models.ForeignKey("ItemVersion", null=True, on_delete=models.SET_NULL, related_name="+")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["concept", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["concept", "slug"], name="item_slug_per_concept")]

    def __str__(self) -> str:
        return f"{self.concept.slug}/{self.slug}"


class ItemVersion(models.Model):
    """An immutable snapshot of an item's spec; responses point at the one they answered."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="item_version_number_once")]
