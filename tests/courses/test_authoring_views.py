"""Educator pages: only a course's owners (and admins) can see or change it; what authors
write comes out inert; htmx requests get fragments."""

import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from courses.models import Concept, Course, Item
from courses.ramp_files import ramp_to_zip, read_ramp
from courses.ramp_import import course_import

FIXTURE = Path(__file__).parent / "fixtures" / "good-ramp"
pytestmark = pytest.mark.django_db

ITEM_YAML = """slug: add-two
type: numeric
difficulty: -0.5
params:
  a: {range: [2, 9]}
  b: {range: [2, 9]}
prompt: What is {a} + {b}?
answer: a + b
hints:
  - Count on from {a}.
solution: Count on {b} from {a}.
misconceptions:
  - slug: multiplied
    diagnosis: Multiplied instead of adding.
    probe: What does the + sign ask you to do with {a} and {b}?
    match: {value: "a*b"}
"""


@pytest.fixture
def course(educator):
    return course_import(spec=read_ramp(FIXTURE), user=educator).course


def urls_for(course):
    concept = course.concepts.first()
    item = concept.items.first()
    c, k, i = course.slug, concept.slug, item.slug
    return {
        "get": [
            reverse("course_detail", args=[c]),
            reverse("course_export", args=[c]),
            reverse("concept_edit", args=[c, k]),
            reverse("item_create", args=[c, k]),
            reverse("item_edit", args=[c, k, i]),
        ],
        "post": [
            reverse("course_settings", args=[c]),
            reverse("course_publish", args=[c]),
            reverse("concept_create", args=[c]),
            reverse("concept_edit", args=[c, k]),
            reverse("material_preview", args=[c, k]),
            reverse("item_create", args=[c, k]),
            reverse("item_variants", args=[c, k]),
            reverse("item_try", args=[c, k]),
            reverse("item_edit", args=[c, k, i]),
            reverse("item_retire", args=[c, k, i]),
        ],
    }


def test_owner_can_open_every_page(client, educator, course):
    client.force_login(educator)
    for url in urls_for(course)["get"]:
        assert client.get(url).status_code == 200, url


def test_another_educator_gets_403_everywhere_and_changes_nothing(client, make_user, course):
    client.force_login(make_user("educator"))
    urls = urls_for(course)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url, {"title": "Hijacked", "yaml": ITEM_YAML, "slug": "x"}).status_code == 403, url
    course.refresh_from_db()
    assert course.title == "Tiny fractions" and course.status == Course.Status.DRAFT
    assert not Item.objects.filter(slug="add-two").exists()
    assert Item.objects.filter(retired_at__isnull=False).count() == 0


def test_learner_gets_403_everywhere(client, learner, course):
    client.force_login(learner)
    urls = urls_for(course)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url, {}).status_code == 403, url
    assert client.post(reverse("course_create"), {"title": "x", "slug": "x"}).status_code == 403


def test_admin_can_edit_any_course(client, admin_user, course):
    client.force_login(admin_user)
    assert client.get(reverse("course_detail", args=[course.slug])).status_code == 200


def test_unknown_course_is_404(client, educator):
    client.force_login(educator)
    assert client.get(reverse("course_detail", args=["no-such-course"])).status_code == 404


def test_create_course_concept_prerequisite_item_and_publish(client, educator):
    client.force_login(educator)
    response = client.post(
        reverse("course_create"), {"title": "Counting", "slug": "counting", "language": "en"}
    )
    assert response.status_code == 302
    course = Course.objects.get(slug="counting")
    client.post(reverse("concept_create", args=["counting"]), {"title": "Counting on", "slug": "counting-on"})
    client.post(reverse("concept_create", args=["counting"]), {"title": "Adding", "slug": "adding"})
    response = client.post(
        reverse("concept_edit", args=["counting", "adding"]),
        {
            "title": "Adding",
            "prerequisites": ["counting-on"],
            "introduces": "sum",
            "level_intuition": "Put two piles together.",
        },
    )
    assert response.status_code == 302
    adding = Concept.objects.get(slug="adding")
    assert [c.slug for c in adding.prerequisites.all()] == ["counting-on"]
    assert adding.material.get().text == "Put two piles together."
    for concept in ("counting-on", "adding"):
        yaml = ITEM_YAML.replace("add-two", f"{concept}-item")
        response = client.post(reverse("item_create", args=["counting", concept]), {"yaml": yaml})
        assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(reverse("course_publish", args=["counting"]), follow=True)
    course.refresh_from_db()
    assert course.status == Course.Status.PUBLISHED, response.content.decode()


def test_publishing_is_refused_while_checks_find_problems(client, educator):
    client.force_login(educator)
    client.post(reverse("course_create"), {"title": "Empty", "slug": "empty", "language": "en"})
    client.post(reverse("concept_create", args=["empty"]), {"title": "Lonely", "slug": "lonely"})
    response = client.post(reverse("course_publish", args=["empty"]), follow=True)
    assert Course.objects.get(slug="empty").status == Course.Status.DRAFT
    assert "fix them before publishing" in response.content.decode()


def test_cycle_is_refused_with_a_clear_message(client, educator, course):
    client.force_login(educator)
    first, second = list(course.concepts.all()[:2])
    assert first in second.prerequisites.all()
    response = client.post(
        reverse("concept_edit", args=[course.slug, first.slug]),
        {"title": first.title, "prerequisites": [second.slug]},
    )
    assert response.status_code == 200
    assert "cycle" in response.content.decode()
    assert second not in first.prerequisites.all()


def test_material_with_a_direction_override_is_refused_and_saves_nothing(client, educator, course):
    client.force_login(educator)
    concept = course.concepts.get(slug="what-a-fraction-is")
    before = list(concept.material.values_list("level", "text"))
    response = client.post(
        reverse("concept_edit", args=[course.slug, concept.slug]),
        {"title": concept.title, "level_intuition": "First line.\nSecond \u202eline."},
    )
    assert response.status_code == 200
    assert "The intuition material contains U+202E RIGHT-TO-LEFT OVERRIDE" in response.content.decode()
    assert "(line 2)" in response.content.decode()
    assert list(concept.material.values_list("level", "text")) == before


def test_item_yaml_error_names_the_line_and_saves_nothing(client, educator, course):
    client.force_login(educator)
    concept = course.concepts.first()
    bad = ITEM_YAML.replace("answer: a + b", "answer: a +* b")
    response = client.post(reverse("item_create", args=[course.slug, concept.slug]), {"yaml": bad})
    assert response.status_code == 200
    assert "line 8: item add-two: answer" in response.content.decode()
    assert not Item.objects.filter(slug="add-two").exists()


def test_editing_an_item_makes_a_new_version_and_keeps_its_id(client, educator, course):
    client.force_login(educator)
    concept = course.concepts.first()
    client.post(reverse("item_create", args=[course.slug, concept.slug]), {"yaml": ITEM_YAML})
    item = Item.objects.get(slug="add-two")
    client.post(
        reverse("item_edit", args=[course.slug, concept.slug, "add-two"]),
        {"yaml": ITEM_YAML.replace("difficulty: -0.5", "difficulty: 0.5")},
    )
    edited = Item.objects.get(slug="add-two")
    assert edited.pk == item.pk and edited.current_version.number == 2 and edited.difficulty_prior == 0.5
    renamed = ITEM_YAML.replace("slug: add-two", "slug: add-three")
    response = client.post(
        reverse("item_edit", args=[course.slug, concept.slug, "add-two"]), {"yaml": renamed}
    )
    assert "never changes" in response.content.decode()


def test_try_it_reports_verdict_and_misconception(client, educator, course):
    client.force_login(educator)
    concept = course.concepts.first()
    url = reverse("item_try", args=[course.slug, concept.slug])
    from courses.item_yaml import item_from_yaml
    from courses.variants import draw_variant

    values = draw_variant(item_from_yaml(ITEM_YAML), 3).values
    a, b = int(values["a"]), int(values["b"])
    html = client.post(
        url, {"yaml": ITEM_YAML, "seed": 3, "answer": str(a + b)}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Correct" in html and "<html" not in html
    html = client.post(
        url, {"yaml": ITEM_YAML, "seed": 3, "answer": str(a * b)}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Incorrect" in html and "multiplied" in html
    html = client.post(
        url, {"yaml": ITEM_YAML, "seed": 3, "answer": "three//4"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Unreadable" in html


def test_show_variants_gives_five_verified_variants(client, educator, course):
    client.force_login(educator)
    concept = course.concepts.first()
    html = client.post(
        reverse("item_variants", args=[course.slug, concept.slug]), {"yaml": ITEM_YAML}
    ).content.decode()
    assert html.count('class="variant card"') == 5


def test_material_and_items_are_rendered_inert(client, educator, course):
    client.force_login(educator)
    concept = course.concepts.first()
    attack = (
        "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)> "
        "$</span><script>alert(4)</script>$"
    )
    client.post(
        reverse("concept_edit", args=[course.slug, concept.slug]),
        {"title": "<b>T</b>", "level_intuition": attack},
    )
    html = client.get(reverse("concept_edit", args=[course.slug, concept.slug])).content.decode()
    preview = html.split('id="material-preview"')[1].split("</aside>")[0]
    assert "<script" not in preview and 'href="javascript:' not in preview and "<img" not in preview
    assert "&lt;script&gt;alert(1)" in preview  # shown as text, not dropped silently
    assert "<b>T</b>" not in html  # titles are escaped, not rendered
    yaml = ITEM_YAML.replace("What is {a} + {b}?", "What is {a} + {b}? <script>alert(5)</script>")
    html = client.post(
        reverse("item_variants", args=[course.slug, concept.slug]), {"yaml": yaml}
    ).content.decode()
    assert "<script>alert(5)" not in html and "&lt;script&gt;" in html


def test_upload_zip_imports_and_bad_zip_changes_nothing(client, educator):
    client.force_login(educator)
    archive = io.BytesIO(ramp_to_zip(read_ramp(FIXTURE)))
    archive.name = "tiny.zip"
    response = client.post(reverse("ramp_upload"), {"archive": archive})
    assert response.status_code == 302 and Course.objects.filter(slug="tiny-fractions").exists()
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("ramp/course.yaml", "format: 1\nslug: other\ntitle: Other\nconcepts: [missing]\n")
    broken.seek(0)
    broken.name = "broken.zip"
    response = client.post(reverse("ramp_upload"), {"archive": broken})
    assert response.status_code == 400
    assert "course.yaml:4" in response.content.decode()
    assert not Course.objects.filter(slug="other").exists()


def test_export_downloads_the_ramp_zip(client, educator, course):
    client.force_login(educator)
    response = client.get(reverse("course_export", args=[course.slug]))
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "tiny-fractions/course.yaml" in names


def test_graph_page_links_every_concept(client, educator, course):
    client.force_login(educator)
    html = client.get(reverse("course_detail", args=[course.slug])).content.decode()
    for concept in course.concepts.all():
        assert f'href="{reverse("concept_edit", args=[course.slug, concept.slug])}" class="node' in html


def test_format_guide_is_for_educators(client, educator, learner):
    client.force_login(educator)
    assert "course.yaml" in client.get(reverse("format_guide")).content.decode()
    client.force_login(learner)
    assert client.get(reverse("format_guide")).status_code == 403


def test_course_page_shows_advice_apart_from_findings(client, educator, course):
    client.force_login(educator)
    # The checks arrive by htmx after the page (tests/courses/test_course_page.py).
    html = client.get(reverse("course_checks", args=[course.slug]), HTTP_HX_REQUEST="true").content.decode()
    assert "4 pieces of advice (advice never blocks publishing)" in html
    assert "its 3 questions are rated -0.5 to +0.3" in html
    assert "No problems: every step depends only on the steps before it" in html
    # advice doesn't stand in the way of publishing
    response = client.post(reverse("course_publish", args=[course.slug]))
    assert response.status_code in (200, 302)
    course.refresh_from_db()
    assert course.status == Course.Status.PUBLISHED
