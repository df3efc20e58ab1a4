"""User journeys in a real browser: sign up, log in/out, role dashboards, 403s, htmx under CSP."""

import pytest

from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Strong-pass-123"


def real_errors(page) -> list[str]:
    # A 403 page load is reported as a console error by Chromium; that one is expected.
    return [e for e in page.console_errors if "Failed to load resource" not in e]


def log_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_learner_signs_up_logs_out_and_back_in(page, live_server):
    base = live_server.url
    response = page.goto(base + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email address").fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/learn/")
    assert page.get_by_role("heading", name="Your learning").is_visible()
    assert page.get_by_text("Welcome to Ramp, grace.").is_visible()
    screenshot(page, "learner-dashboard")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/accounts/login/")
    log_in(page, base, "grace")
    page.wait_for_url(f"{base}/learn/")
    assert page.get_by_role("heading", name="Your learning").is_visible()

    for url in ("/teach/", "/system/"):
        response = page.goto(base + url)
        assert response.status == 403
        assert page.get_by_role("heading", name="You can't open this page").is_visible()
    assert real_errors(page) == []


def test_educator_sees_the_educator_dashboard(page, live_server, make_user):
    educator = make_user("educator")
    log_in(page, live_server.url, educator.username)
    page.wait_for_url(f"{live_server.url}/teach/")
    assert page.get_by_role("heading", name="Teach").is_visible()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Teach").is_visible()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").count() == 0
    assert page.goto(live_server.url + "/system/").status == 403
    screenshot(page, "educator-dashboard")


@pytest.mark.worker
def test_admin_worker_check_updates_in_place_with_htmx(page, live_server, make_user, celery_worker_process):
    admin = make_user("admin")
    log_in(page, live_server.url, admin.username)
    page.wait_for_url(f"{live_server.url}/system/")
    marker = page.evaluate("() => { window.__notReloaded = true; return true; }")
    page.get_by_role("button", name="Check workers").click()
    # htmx swaps the list in place, then polls until the worker has written back.
    page.locator("#worker-checks tr.check-done").wait_for(timeout=20_000)
    assert marker and page.evaluate("() => window.__notReloaded === true"), (
        "the page reloaded instead of swapping"
    )
    assert real_errors(page) == []
    screenshot(page, "admin-worker-check")
