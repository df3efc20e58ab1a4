"""The mastery tracker becomes the one model of what a learner knows.

The RampKT estimator used to run on every answer beside the tracker, feeding only a number
no page showed (``ConceptState.p_correct``, shifted by ``offset_logit`` after placement); its
per-learner state (``Enrollment.kt_state``) and its refitted parameters go. ``p_correct`` is
now the tracker's expected success on a typical question.

``EstimatorFit`` becomes ``Calibration``: a course's calibration (item difficulties refitted
from its log) and how well the live predictions matched the answers. The old rows keep their
date and size; their metrics measured RampKT, which no longer predicts anything, so they are
cleared rather than shown as if they were the tracker's.
"""

from django.db import migrations, models


def clear_estimator_metrics(apps, schema_editor):
    apps.get_model("learner", "Calibration").objects.update(metrics={})


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_initial"),
        ("learner", "0003_tracker_beliefs_against_typical_question"),
    ]

    operations = [
        migrations.RemoveField(model_name="conceptstate", name="offset_logit"),
        migrations.RemoveField(model_name="enrollment", name="kt_state"),
        migrations.AlterField(
            model_name="conceptstate",
            name="p_correct",
            field=models.FloatField(
                default=0.5, help_text="Expected success on a typical question of the concept."
            ),
        ),
        migrations.RenameModel(old_name="EstimatorFit", new_name="Calibration"),
        # a default first, so that going back can re-add the column to existing rows
        migrations.AlterField(model_name="calibration", name="params", field=models.JSONField(default=dict)),
        migrations.RemoveField(model_name="calibration", name="params"),
        migrations.AlterField(
            model_name="calibration",
            name="course",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE, related_name="calibrations", to="courses.course"
            ),
        ),
        migrations.RunPython(clear_estimator_metrics, migrations.RunPython.noop),
    ]
