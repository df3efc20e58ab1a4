"""The educator's course page: it never waits for the ramp checks (they come by htmx and are
kept until the course changes), and its queries don't grow with the course."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses import services
from courses.ramp_import import course_import
from courses.selectors import course_checks_known, course_checks_run
from courses.specs import ConceptSpec, CourseSpec, ItemSpec, ParamSpec

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def chain_course(owner, n: int, slug: str):
    """A ramp of ``n`` concepts in a chain, two questions each, one of them a template."""
    concepts = tuple(
        ConceptSpec(
            slug=f"c{i}",
            title=f"Concept {i}, with a title long enough to need three lines in the graph",
            prerequisites=(f"c{i - 1}",) if i else (),
            items=(
                ItemSpec(slug="fixed", type="numeric", prompt=f"What is {i} + 1?", answer=str(i + 1)),
                ItemSpec(
                    slug="template",
                    type="numeric",
                    prompt="What is {a} + 1?",
                    answer="a + 1",
                    params=(ParamSpec(name="a", lo=1, hi=9),),
                ),
            ),
            file=f"concepts/c{i}.md",
        )
        for i in range(n)
    )
    return course_import(spec=CourseSpec(slug=slug, title=slug, concepts=concepts), user=owner).course


def page_queries(client, course) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("course_detail", args=[course.slug]))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_page_does_not_wait_for_the_checks_and_htmx_fetches_them(client, educator):
    course = chain_course(educator, 2, "two")
    client.force_login(educator)
    html = client.get(reverse("course_detail", args=[course.slug])).content.decode()
    checks_url = reverse("course_checks", args=[course.slug])
    assert f'hx-get="{checks_url}" hx-trigger="load"' in html
    assert "No problems" not in html
    assert course_checks_known(course=course) is None  # the page computed nothing

    fragment = client.get(checks_url, HTTP_HX_REQUEST="true").content.decode()
    assert "No problems: every step depends only on the steps before it" in fragment
    # the graph comes along, coloured by the findings, swapped out of band
    assert 'id="course-graph" hx-swap-oob="true"' in fragment
    assert 'class="node ok"' in fragment

    # now kept: the page shows them at once
    html = client.get(reverse("course_detail", args=[course.slug])).content.decode()
    assert "No problems: every step depends only on the steps before it" in html
    assert 'hx-trigger="load"' not in html


def test_without_htmx_the_checks_link_runs_them_and_returns_to_the_page(client, educator):
    course = chain_course(educator, 1, "one")
    client.force_login(educator)
    response = client.get(reverse("course_checks", args=[course.slug]))
    assert response.status_code == 302 and response.url == reverse("course_detail", args=[course.slug])
    assert "No problems" in client.get(response.url).content.decode()


def test_a_change_to_the_course_runs_the_checks_again(client, educator):
    course = chain_course(educator, 1, "one")
    course_checks_run(course=course)
    course.refresh_from_db()
    assert course_checks_known(course=course) is not None
    services.concept_create(course=course, slug="empty", title="A concept without questions")
    course.refresh_from_db()
    assert course_checks_known(course=course) is None
    findings, _ = course_checks_run(course=course)
    assert any(f.concept == "empty" and f.check == "no-items" for f in findings)


def test_findings_colour_the_graph_and_are_said_in_words(client, educator):
    course = chain_course(educator, 1, "one")
    services.concept_create(course=course, slug="empty", title="A concept without questions")
    client.force_login(educator)
    fragment = client.get(reverse("course_checks", args=[course.slug]), HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert 'class="node warning" aria-label="A concept without questions: 1 warning"' in html


def test_queries_do_not_grow_with_concepts_and_items(client, educator):
    small = chain_course(educator, 2, "small")
    large = chain_course(educator, 12, "large")
    client.force_login(educator)
    page_queries(client, small)  # the session's first-request queries, once
    cold_small, html_small = page_queries(client, small)
    cold_large, html_large = page_queries(client, large)
    assert "Running the ramp checks" in html_small and "Running the ramp checks" in html_large
    assert cold_small == cold_large

    for course in (small, large):
        course_checks_run(course=course)
    warm_small, html_small = page_queries(client, small)
    warm_large, html_large = page_queries(client, large)
    assert "No problems" in html_small and "No problems" in html_large
    assert warm_small == warm_large


def test_the_items_column_leaves_retired_items_out(client, educator):
    course = chain_course(educator, 1, "one")
    item = course.concepts.get().items.get(slug="template")
    services.item_retire(item=item)
    client.force_login(educator)
    _, html = page_queries(client, course)
    assert "<td>1</td></tr>" in html


def test_the_checks_are_for_the_course_educators_only(client, make_user, educator):
    course = chain_course(educator, 1, "one")
    url = reverse("course_checks", args=[course.slug])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    for other in (make_user("educator"), make_user("learner")):
        client.force_login(other)
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 403
        assert client.get(reverse("course_detail", args=[course.slug])).status_code == 403
    client.logout()
    response = client.get(reverse("course_detail", args=[course.slug]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
