"""The learner's knowledge model in the database.

`Response` is the append-only log: never edited, everything else can be recomputed from it.
`Enrollment.mastery_state` (the tracker's beliefs) and `ConceptState` are derived state,
updated in the same transaction as each answer. `Step` records every decision the policy
made and why.
"""

from django.conf import settings
from django.db import models


class Enrollment(models.Model):
    """A learner studying a course: their knowledge state and placement progress."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="enrollments")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    mastery_state = models.JSONField(
        default=dict, blank=True, help_text="The mastery tracker's per-concept beliefs."
    )
    placement = models.JSONField(null=True, blank=True, help_text="A placement in progress (serialised).")
    placement_finished_at = models.DateTimeField(null=True, blank=True)
    pending_probe = models.JSONField(
        null=True, blank=True, help_text="(concept, misconception) to probe next."
    )
    response_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="one_enrollment_per_course")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"


class Step(models.Model):
    """One decision of the policy: what was served, predicted success, and why."""

    class Kind(models.TextChoices):
        PLACEMENT = "placement", "Placement question"
        NEW = "new", "New concept"
        PRACTICE = "practice", "Practice"
        REVIEW = "review", "Review"
        PROBE = "probe", "Probing question"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    concept = models.ForeignKey("courses.Concept", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("courses.Item", on_delete=models.CASCADE, related_name="+")
    item_version = models.ForeignKey("courses.ItemVersion", on_delete=models.PROTECT, related_name="+")
    variant_seed = models.PositiveIntegerField(default=0)
    predicted_success = models.FloatField(null=True, blank=True)
    reason = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    hints_shown = models.PositiveSmallIntegerField(default=0)
    hints_up_front = models.PositiveSmallIntegerField(
        default=0, help_text="Hints the policy showed with the question from the start (scaffolding)."
    )
    solution_shown = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["enrollment", "id"]
        indexes = [models.Index(fields=["enrollment", "answered_at"])]
        # A learner has one question in front of them at a time, whatever requests race.
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"], condition=models.Q(answered_at__isnull=True), name="one_open_step"
            )
        ]


class Response(models.Model):
    """One answer. Append-only: saving an existing row or deleting one is refused."""

    class Outcome(models.TextChoices):
        CORRECT = "correct", "Correct"
        INCORRECT = "incorrect", "Incorrect"
        DONT_KNOW = "dont_know", "I don't know"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    step = models.OneToOneField(Step, on_delete=models.PROTECT, related_name="response")
    kind = models.CharField(max_length=16, choices=Step.Kind.choices)
    concept = models.ForeignKey("courses.Concept", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("courses.Item", on_delete=models.CASCADE, related_name="+")
    item_version = models.ForeignKey("courses.ItemVersion", on_delete=models.PROTECT, related_name="+")
    variant_seed = models.PositiveIntegerField(default=0)
    answer = models.TextField(blank=True)
    normalised = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    correct = models.BooleanField()
    misconception = models.CharField(max_length=100, blank=True)
    hints_used = models.PositiveSmallIntegerField(
        default=0, help_text="Hints shown before the answer, all told."
    )
    hints_up_front = models.PositiveSmallIntegerField(
        default=0, help_text="Of those, shown with the question from the start (scaffolding), not asked for."
    )
    time_taken_ms = models.PositiveIntegerField(null=True, blank=True)
    predicted_success = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrollment", "id"]
        indexes = [models.Index(fields=["concept", "created_at"]), models.Index(fields=["item"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The response log is append-only: a response is never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The response log is append-only: a response is never deleted.")


class ConceptState(models.Model):
    """What Ramp believes about one learner on one concept, and what it rests on."""

    class Source(models.TextChoices):
        NONE = "none", "No evidence yet"
        PLACEMENT = "placement", "Placement"
        PRACTICE = "practice", "Answers"
        GRAPH = "graph", "Related concepts"
        LEARNER = "learner", "The learner's own correction"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="concept_states")
    concept = models.ForeignKey("courses.Concept", on_delete=models.CASCADE, related_name="+")
    p_mastery = models.FloatField(default=0.0)
    p_correct = models.FloatField(
        default=0.5, help_text="Expected success on a typical question of the concept."
    )
    sd = models.FloatField(default=1.5, help_text="Uncertainty of the proficiency estimate (logits).")
    n_responses = models.PositiveIntegerField(default=0)
    n_correct = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.NONE)
    last_response_at = models.DateTimeField(null=True, blank=True)
    review_card = models.JSONField(null=True, blank=True)
    review_due_at = models.DateTimeField(null=True, blank=True)
    mastered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When Ramp first counted the concept as mastered (kept if it fades later).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "concept"], name="one_state_per_concept")
        ]


class Calibration(models.Model):
    """One calibration of a course from its response log: the items' difficulties refitted,
    and how well the knowledge model's live predictions matched the learners' answers."""

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="calibrations")
    n_responses = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict, blank=True)
    fitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fitted_at", "-id"]
