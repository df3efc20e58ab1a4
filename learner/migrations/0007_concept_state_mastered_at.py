"""When each concept was first counted as mastered: the learner's progress page draws
concepts mastered over time from it.

P(mastered) depends on more than the response log (the item difficulties calibrated at the
time, placement's result, time since the last answer), so its history can't be replayed
faithfully; from now on the moment is recorded as it happens. Rows mastered before this
migration keep no date (the page counts them apart) rather than a made-up one.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("learner", "0006_one_open_step"),
    ]

    operations = [
        migrations.AddField(
            model_name="conceptstate",
            name="mastered_at",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="When Ramp first counted the concept as mastered (kept if it fades later).",
            ),
        ),
    ]
