"""A learner has at most one open (unanswered) step per course, enforced by the database.

Concurrent first visits used to create several open steps for one learner (the same placement
question was then asked three times). Before the constraint, every enrollment keeps only its
newest open step; the older ones were never answered (an answer closes a step), so nothing of
the learner's is lost.
"""

from django.db import migrations, models
from django.db.models import Count


def keep_newest_open_step(apps, schema_editor):
    Step = apps.get_model("learner", "Step")
    crowded = (
        Step.objects.filter(answered_at__isnull=True)
        .values("enrollment_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for row in crowded:
        open_steps = Step.objects.filter(
            enrollment_id=row["enrollment_id"], answered_at__isnull=True
        ).order_by("-id")
        Step.objects.filter(pk__in=list(open_steps.values_list("pk", flat=True)[1:])).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_initial"),
        ("learner", "0005_named_tracker_state"),
    ]

    operations = [
        migrations.RunPython(keep_newest_open_step, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="step",
            constraint=models.UniqueConstraint(
                condition=models.Q(("answered_at__isnull", True)),
                fields=("enrollment",),
                name="one_open_step",
            ),
        ),
    ]
