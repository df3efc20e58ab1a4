"""The mastery tracker's stored beliefs get named fields.

Each concept's belief was a positional list ``[mean, var, last_t, spaced, rate_weight]``
(older rows may hold only the first two to four: the missing ones read as null / 0 / 0.0)
and the learning rate ``[mean, var]``; they become ``{"mean", "var", "t", "spaced",
"rate_weight"}`` and ``{"mean", "var"}``. Backwards writes the full lists again.
"""

from django.db import migrations

RATE_KEY = "~rate"
FIELDS = ("mean", "var", "t", "spaced", "rate_weight")
DEFAULTS = (None, None, None, 0, 0.0)


def named(state: dict) -> dict:
    out = {}
    for key, value in state.items():
        if isinstance(value, dict):
            out[key] = value
        elif key == RATE_KEY:
            out[key] = {"mean": value[0], "var": value[1]}
        else:
            padded = list(value) + list(DEFAULTS[len(value) :])
            out[key] = dict(zip(FIELDS, padded))
    return out


def positional(state: dict) -> dict:
    out = {}
    for key, value in state.items():
        if not isinstance(value, dict):
            out[key] = value
        elif key == RATE_KEY:
            out[key] = [value["mean"], value["var"]]
        else:
            out[key] = [value.get(f, d) for f, d in zip(FIELDS, DEFAULTS)]
    return out


def _convert(apps, convert) -> int:
    Enrollment = apps.get_model("learner", "Enrollment")
    changed = []
    for enrollment in Enrollment.objects.exclude(mastery_state={}).only("id", "mastery_state").iterator():
        new = convert(enrollment.mastery_state or {})
        if new != enrollment.mastery_state:
            enrollment.mastery_state = new
            changed.append(enrollment)
    Enrollment.objects.bulk_update(changed, ["mastery_state"], batch_size=500)
    return len(changed)


def forwards(apps, schema_editor):
    _convert(apps, named)


def backwards(apps, schema_editor):
    _convert(apps, positional)


class Migration(migrations.Migration):
    dependencies = [("learner", "0004_knowledge_state_from_the_tracker_alone")]

    operations = [migrations.RunPython(forwards, backwards)]
