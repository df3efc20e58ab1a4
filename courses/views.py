"""Educator pages: courses, the concept graph, concept and item editors. Thin views: the
work is in courses.services (changes) and courses.selectors (reads)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.accounts.permissions import educator_required
from courses import services
from courses.forms import (
    ConceptCreateForm,
    ConceptForm,
    CourseCreateForm,
    CourseSettingsForm,
    ItemForm,
    RampUploadForm,
)
from courses.html import markdown_html as render_markdown
from courses.item_yaml import item_from_yaml, item_to_yaml
from courses.ramp_files import RampFileError, ramp_to_zip, read_ramp_zip
from courses.ramp_import import course_import, course_to_spec
from courses.selectors import (
    concept_for_editor,
    concept_items,
    concept_prerequisite_slugs,
    course_checks_known,
    course_checks_run,
    course_concepts,
    course_concepts_for_table,
    course_for_editor,
    course_graph_for_editor,
    item_for_editor,
)
from courses.spec_json import item_from_json, misconception_from_json
from courses.specs import LEVELS
from courses.try_item import ItemPreviewError, item_try, item_variants

NEW_ITEM_TEMPLATE = """slug: new-item
type: numeric
difficulty: 0.0
params:
  a: {range: [2, 9]}
  b: {range: [2, 9]}
prompt: What is {a} + {b}?
answer: a + b
hints:
  - What do you get if you count on from {a}?
solution: "{a} + {b} = {a} + {b}, counted on from {a}."
"""


@require_POST
@educator_required
def course_create(request):
    form = CourseCreateForm(request.POST)
    if form.is_valid():
        try:
            course = services.course_create(user=request.user, **form.cleaned_data)
        except services.CourseEditError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Created “{course.title}”. Add its first concept below.")
            return redirect("course_detail", slug=course.slug)
    else:
        messages.error(request, "The course could not be created: " + _form_errors(form))
    return redirect("educator_dashboard")


@require_POST
@educator_required
def ramp_upload(request):
    form = RampUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a .zip file of a ramp folder to import.")
        return redirect("educator_dashboard")
    try:
        spec = read_ramp_zip(form.cleaned_data["archive"].read(), name=form.cleaned_data["archive"].name)
        report = course_import(spec=spec, user=request.user)
    except RampFileError as error:
        return render(request, "courses/import_failed.html", {"problems": error.problems}, status=400)
    except PermissionDenied as error:
        messages.error(request, str(error))
        return redirect("educator_dashboard")
    messages.success(request, report.summary())
    return redirect("course_detail", slug=report.course.slug)


@require_GET
@educator_required
def course_detail(request, slug):
    course = course_for_editor(user=request.user, slug=slug)
    # The page never waits for the ramp checks: when they haven't run on this version of the
    # course, the page asks for them with htmx (course_checks_view) once it is shown.
    checks = course_checks_known(course=course)
    context = {
        **_checks_context(course, checks),
        "concepts": course_concepts_for_table(course=course),
        "settings_form": CourseSettingsForm.for_course(course),
        "concept_form": ConceptCreateForm(),
    }
    return render(request, "courses/course_detail.html", context)


@require_GET
@educator_required
def course_checks_view(request, slug):
    """The ramp checks' section of the course page (and the graph, coloured by them). Without
    htmx it runs them and goes back to the page, which then shows them."""
    course = course_for_editor(user=request.user, slug=slug)
    checks = course_checks_run(course=course)
    if not request.htmx:
        return redirect("course_detail", slug=course.slug)
    return render(request, "courses/course_detail.html#checks-response", _checks_context(course, checks))


def _checks_context(course, checks: tuple[list, list] | None) -> dict:
    findings, advice = checks if checks is not None else (None, None)
    return {
        "course": course,
        "checks_pending": checks is None,
        "graph": course_graph_for_editor(course=course, findings=findings),
        "findings": findings or [],
        "advice": advice or [],
    }


@require_POST
@educator_required
def course_settings(request, slug):
    course = course_for_editor(user=request.user, slug=slug)
    form = CourseSettingsForm.for_course(course, request.POST)
    if form.is_valid():
        try:
            services.course_update(course=course, **form.cleaned_data)
            messages.success(request, "Course settings saved.")
        except services.CourseEditError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, "The settings were not saved: " + _form_errors(form))
    return redirect("course_detail", slug=course.slug)


@require_POST
@educator_required
def course_publish(request, slug):
    course = course_for_editor(user=request.user, slug=slug)
    try:
        if request.POST.get("action") == "unpublish":
            services.course_unpublish(course=course)
            messages.success(request, "The course is a draft again: learners no longer see it.")
        else:
            services.course_publish(course=course)
            messages.success(request, f"Published “{course.title}” (version {course.version}).")
    except services.CourseEditError as error:
        messages.error(request, str(error))
    return redirect("course_detail", slug=course.slug)


@require_GET
@educator_required
def course_export(request, slug):
    course = course_for_editor(user=request.user, slug=slug)
    response = HttpResponse(ramp_to_zip(course_to_spec(course=course)), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{course.slug}.zip"'
    return response


@require_POST
@educator_required
def concept_create(request, slug):
    course = course_for_editor(user=request.user, slug=slug)
    form = ConceptCreateForm(request.POST)
    if form.is_valid():
        try:
            concept = services.concept_create(course=course, **form.cleaned_data)
        except services.CourseEditError as error:
            messages.error(request, str(error))
        else:
            return redirect("concept_edit", slug=course.slug, concept=concept.slug)
    else:
        messages.error(request, "The concept was not created: " + _form_errors(form))
    return redirect("course_detail", slug=course.slug)


@require_http_methods(["GET", "POST"])
@educator_required
def concept_edit(request, slug, concept):
    course = course_for_editor(user=request.user, slug=slug)
    concept = concept_for_editor(course=course, slug=concept)
    choices = [(c.slug, c.title) for c in course_concepts(course=course) if c.pk != concept.pk]
    material = {m.level: m.text for m in concept.material.all()}
    initial = {
        "title": concept.title,
        "prerequisites": concept_prerequisite_slugs(concept=concept),
        "introduces": ", ".join(concept.introduces),
        **{f"level_{level}": material.get(level, "") for level in LEVELS},
    }
    form = ConceptForm(request.POST or None, initial=initial, prerequisite_choices=choices)
    preview_url = reverse("material_preview", kwargs={"slug": course.slug, "concept": concept.slug})
    for level in LEVELS:
        # Each material box refreshes the preview as the author types.
        form.fields[f"level_{level}"].widget.attrs.update(
            {
                "hx-post": preview_url,
                "hx-trigger": "input changed delay:600ms",
                "hx-include": "closest form",
                "hx-target": "#material-preview",
                "hx-swap": "outerHTML",
            }
        )
    saved = None
    if request.method == "POST" and form.is_valid():
        try:
            services.concept_update(
                concept=concept,
                title=form.cleaned_data["title"],
                prerequisites=form.cleaned_data["prerequisites"],
                introduces=form.terms(),
                material=form.material(),
            )
        except services.CourseEditError as error:
            form.add_error(None, str(error))
        else:
            saved = f"Saved “{concept.title}”."
            if not request.htmx:
                messages.success(request, saved)
                return redirect("concept_edit", slug=course.slug, concept=concept.slug)
    if request.htmx and request.method == "POST":
        return render(
            request,
            "courses/concept_edit.html#concept-form",
            {
                "course": course,
                "concept": concept,
                "form": form,
                "level_fields": [form[f"level_{level}"] for level in LEVELS],
                "saved": saved,
            },
        )
    context = {
        "course": course,
        "concept": concept,
        "form": form,
        "level_fields": [form[f"level_{level}"] for level in LEVELS],
        "previews": [
            (level, render_markdown(material.get(level, ""))) for level in LEVELS if material.get(level)
        ],
        "items": concept_items(concept=concept),
        "misconceptions": [misconception_from_json(m.spec) for m in concept.misconceptions.all()],
    }
    return render(request, "courses/concept_edit.html", context)


@require_POST
@educator_required
def material_preview(request, slug, concept):
    course = course_for_editor(user=request.user, slug=slug)
    concept_for_editor(course=course, slug=concept)
    previews = [
        (level, render_markdown(request.POST.get(f"level_{level}", "")))
        for level in LEVELS
        if request.POST.get(f"level_{level}", "").strip()
    ]
    return render(request, "courses/concept_edit.html#material-preview", {"previews": previews})


@require_http_methods(["GET", "POST"])
@educator_required
def item_edit(request, slug, concept, item=None):
    course = course_for_editor(user=request.user, slug=slug)
    concept = concept_for_editor(course=course, slug=concept)
    item_obj = item_for_editor(concept=concept, slug=item) if item else None
    initial_yaml = (
        item_to_yaml(item_from_json(item_obj.current_version.spec)) if item_obj else NEW_ITEM_TEMPLATE
    )
    form = ItemForm(request.POST or None, initial={"yaml": initial_yaml})
    if request.method == "POST" and form.is_valid():
        try:
            saved, changed = services.item_save(
                concept=concept, yaml_text=form.cleaned_data["yaml"], item=item_obj
            )
        except services.CourseEditError as error:
            form.add_error("yaml", str(error))
        else:
            if changed and item_obj is not None:
                notice = f"Saved {saved.slug} as version {saved.current_version.number}."
            else:
                notice = f"Saved {saved.slug}." if changed else "No changes to save."
            url = reverse(
                "item_edit", kwargs={"slug": course.slug, "concept": concept.slug, "item": saved.slug}
            )
            if request.htmx and item_obj is not None:
                context = {"course": course, "concept": concept, "item": saved, "form": form, "saved": notice}
                return render(request, "courses/item_edit.html#item-form", context)
            messages.success(request, notice)
            if request.htmx:  # a new item has a page of its own now
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = {"course": course, "concept": concept, "item": item_obj, "form": form}
    if request.htmx and request.method == "POST":
        return render(request, "courses/item_edit.html#item-form", context)
    return render(request, "courses/item_edit.html", context)


def _item_from_request(request, concept):
    spec = item_from_yaml(request.POST.get("yaml", ""))
    concept_misconceptions = [misconception_from_json(m.spec) for m in concept.misconceptions.all()]
    return spec, concept_misconceptions


@require_POST
@educator_required
def item_variants_preview(request, slug, concept):
    course = course_for_editor(user=request.user, slug=slug)
    concept = concept_for_editor(course=course, slug=concept)
    try:
        spec, concept_misconceptions = _item_from_request(request, concept)
        variants = item_variants(spec, concept_misconceptions=concept_misconceptions, count=5)
        error = None
    except (RampFileError, ItemPreviewError) as exc:
        variants, error = [], str(exc)
    return render(request, "courses/item_edit.html#variants", {"variants": variants, "preview_error": error})


@require_POST
@educator_required
def item_try_answer(request, slug, concept):
    course = course_for_editor(user=request.user, slug=slug)
    concept = concept_for_editor(course=course, slug=concept)
    try:
        spec, concept_misconceptions = _item_from_request(request, concept)
        seed = int(request.POST.get("seed") or 0)
        verdict = item_try(
            spec,
            seed=seed,
            answer=request.POST.get("answer", ""),
            concept_misconceptions=concept_misconceptions,
        )
        error = None
    except (RampFileError, ItemPreviewError, ValueError) as exc:
        verdict, error = None, str(exc)
    return render(request, "courses/item_edit.html#verdict", {"verdict": verdict, "preview_error": error})


@require_POST
@educator_required
def item_retire(request, slug, concept, item):
    course = course_for_editor(user=request.user, slug=slug)
    concept = concept_for_editor(course=course, slug=concept)
    item_obj = item_for_editor(concept=concept, slug=item)
    services.item_retire(item=item_obj)
    messages.success(
        request, f"Retired {item_obj.slug}: learners no longer get it; their past answers are kept."
    )
    return redirect("concept_edit", slug=course.slug, concept=concept.slug)


@require_GET
@educator_required
def format_guide(request):
    """docs/ramp-format.md, the reference for ramp files and the item editor, as a page."""
    text = (settings.BASE_DIR / "docs" / "ramp-format.md").read_text()
    return render(request, "courses/format_guide.html", {"guide": render_markdown(text)})


def _form_errors(form) -> str:
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
