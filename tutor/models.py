from django.conf import settings
from django.db import models


class WorkerCheck(models.Model):
    """An admin's round trip through the broker to a worker and back into the database.

    It proves the whole background path works (web → broker → worker → database), which a
    broker ping alone does not.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    queue = models.CharField(max_length=32, default="default")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    worker_hostname = models.CharField(max_length=255, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"worker check {self.pk} on {self.queue}: {self.status}"


class TutorMessage(models.Model):
    """One thing the tutor said to a learner: the model's words when they passed every guard,
    else the authored fallback, with the reason. Each row belongs to one learner's enrollment
    and is only ever shown to them (educators see anonymised questions, admins counts)."""

    class Moment(models.TextChoices):
        MISTAKE = "mistake", "Reply to a wrong answer"
        FOLLOWUP = "followup", "Reply to the learner's answer to a probe"
        HINT = "hint", "Hint"
        EXPLAIN = "explain", "Explanation"
        CHAT = "chat", "Answer to a question"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the tutor model"
        STREAMING = "streaming", "Being written"
        DONE = "done", "Done"

    class Source(models.TextChoices):
        MODEL = "model", "The tutor model"
        AUTHORED = "authored", "The course's authored text"

    class Rating(models.TextChoices):
        HELPFUL = "helpful", "Helpful"
        NOT_HELPFUL = "not_helpful", "Not helpful"
        GAVE_AWAY = "gave_away", "Gave away the answer"

    enrollment = models.ForeignKey(
        "learner.Enrollment", on_delete=models.CASCADE, related_name="tutor_messages"
    )
    step = models.ForeignKey(
        "learner.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    concept = models.ForeignKey("courses.Concept", on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        help_text="The tutor message this one answers after the learner's reply (a probe's follow-up).",
    )
    moment = models.CharField(max_length=16, choices=Moment.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=16, choices=Source.choices, blank=True)
    model_version = models.ForeignKey(
        "models_train.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    situation = models.JSONField(
        help_text="The prompt's facts and candidates (models_train.moments.Situation)."
    )
    request = models.TextField(blank=True, help_text="The learner's own words, when the moment has any.")
    text = models.TextField(blank=True, help_text="What the learner has been shown (so far).")
    fallback = models.TextField(help_text="The authored text shown when the model's words are not.")
    raw = models.TextField(blank=True, help_text="Everything the model wrote, shown or not (for review).")
    refusal = models.CharField(max_length=32, blank=True, help_text="Why the model's words were not shown.")
    refusal_detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_text_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rating = models.CharField(max_length=16, choices=Rating.choices, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["enrollment", "moment", "created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["concept", "moment"]),
        ]

    def __str__(self) -> str:
        return f"tutor message {self.pk} ({self.moment}, {self.status})"


class GeneratedQuestion(models.Model):
    """A practice question the tutor model wrote for the pool: the template and values it chose.
    The course's variant code rendered and keyed it; only verified ones are served, and a
    study step that serves one says so in its details."""

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    concept = models.ForeignKey("courses.Concept", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(
        "courses.Item", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    item_version = models.ForeignKey(
        "courses.ItemVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    difficulty = models.CharField(max_length=8, help_text="The bucket asked for: easy, medium or hard.")
    params = models.JSONField(default=dict, blank=True, help_text="The values the model chose.")
    seed = models.PositiveIntegerField(default=0, help_text="Orders the choices, as a drawn variant's seed.")
    question = models.TextField(blank=True)
    verified = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it isn't verified.")
    model_version = models.ForeignKey(
        "models_train.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["concept", "difficulty", "verified"])]

    def __str__(self) -> str:
        return f"generated question {self.pk} ({self.concept_id}, {self.difficulty})"
