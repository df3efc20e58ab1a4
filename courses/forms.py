from django import forms

from courses.models import Course
from courses.specs import LEVELS


class CourseCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=100, help_text="Used in addresses and file names, e.g. fractions-basics."
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    language = forms.CharField(max_length=16, initial="en")


class CourseSettingsForm(forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    language = forms.CharField(max_length=16)
    target_success = forms.FloatField(
        min_value=0.5,
        max_value=0.98,
        help_text="Practice is chosen so learners succeed about this often (0.85 is usual).",
    )
    mastery_threshold = forms.FloatField(
        min_value=0.5,
        max_value=0.999,
        help_text="Probability of mastery that unlocks what builds on a concept.",
    )

    @classmethod
    def for_course(cls, course: Course, data=None):
        initial = {
            f: getattr(course, f)
            for f in ("title", "summary", "language", "target_success", "mastery_threshold")
        }
        return cls(data, initial=initial)


class ConceptCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=100, help_text="Stable id, e.g. adding-fractions. It never changes.")


LEVEL_HELP = {
    "intuition": "Start with the problem the earlier concepts can't solve, then the idea in plain words.",
    "formal": "The precise version: definitions, rules, notation ($…$ for math).",
    "worked-example": "A worked example, step by step.",
}


class ConceptForm(forms.Form):
    title = forms.CharField(max_length=200)
    prerequisites = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    introduces = forms.CharField(
        required=False,
        help_text="Terms first defined here, separated by commas (used to find forward references).",
    )

    def __init__(self, *args, prerequisite_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prerequisites"].choices = prerequisite_choices
        for level in LEVELS:
            self.fields[f"level_{level}"] = forms.CharField(
                required=False,
                label=level.replace("-", " ").capitalize(),
                widget=forms.Textarea(attrs={"rows": 8}),
                help_text=LEVEL_HELP[level],
            )

    def material(self) -> dict[str, str]:
        return {level: self.cleaned_data.get(f"level_{level}", "") for level in LEVELS}

    def terms(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data.get("introduces", "").split(",") if t.strip()]


class ItemForm(forms.Form):
    yaml = forms.CharField(
        label="Item (YAML)",
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "false"}),
        help_text="The same block as in a ramp file: the ramp format guide (Teach › Ramp format) "
        "lists every field.",
    )


class RampUploadForm(forms.Form):
    archive = forms.FileField(
        label="Ramp (.zip)", help_text="A zip of a ramp folder: course.yaml and concepts/*.md."
    )
