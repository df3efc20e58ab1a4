"""Sign-up, log in/out, password reset, roles and login throttling."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from core.accounts.models import Role, User

PASSWORD = "a-Strong-pass-123"


@pytest.mark.django_db
def test_signup_creates_a_learner_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "ada", "email": "ada@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(username="ada")
    assert user.role == Role.LEARNER and not user.is_staff
    assert client.get(reverse("learner_dashboard")).status_code == 200


@pytest.mark.django_db
def test_signup_cannot_choose_a_role(client):
    client.post(
        reverse("signup"),
        {
            "username": "eve",
            "email": "e@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": "admin",
        },
    )
    assert User.objects.get(username="eve").role == Role.LEARNER


@pytest.mark.django_db
def test_signup_shows_errors_and_creates_nothing(client):
    response = client.post(reverse("signup"), {"username": "bob", "password1": "x", "password2": "y"})
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode() or "didn't match" in response.content.decode()
    assert not User.objects.filter(username="bob").exists()


def test_login_and_logout(client, learner):
    response = client.post(reverse("login"), {"username": learner.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("learner_dashboard")
    client.post(reverse("logout"))
    response = client.get(reverse("learner_dashboard"))
    assert response.status_code == 302 and reverse("login") in response.url


@pytest.mark.parametrize(
    ("role", "dashboard"),
    [("learner", "learner_dashboard"), ("educator", "educator_dashboard"), ("admin", "admin_dashboard")],
)
def test_home_sends_each_role_to_its_dashboard(client, make_user, role, dashboard):
    client.force_login(make_user(role))
    assert client.get(reverse("home")).url == reverse(dashboard)
    assert client.get(reverse(dashboard)).status_code == 200


@pytest.mark.parametrize("url_name", ["educator_dashboard", "admin_dashboard"])
def test_learner_gets_403_on_staff_pages(client, learner, url_name):
    client.force_login(learner)
    assert client.get(reverse(url_name)).status_code == 403


def test_educator_gets_403_on_admin_pages(client, educator):
    client.force_login(educator)
    assert client.get(reverse("admin_dashboard")).status_code == 403
    assert client.post(reverse("worker_check_create")).status_code == 403


def test_navigation_shows_only_allowed_links(client, learner, educator):
    client.force_login(learner)
    page = client.get(reverse("learner_dashboard")).content.decode()
    assert reverse("educator_dashboard") not in page and reverse("admin_dashboard") not in page
    client.force_login(educator)
    page = client.get(reverse("educator_dashboard")).content.decode()
    assert reverse("educator_dashboard") in page and reverse("admin_dashboard") not in page


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("educator_dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_password_reset_flow_by_email(client, learner):
    response = client.post(reverse("password_reset"), {"email": learner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    new_password = "An0ther-strong-pass"
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.check_password(new_password)


def test_login_is_throttled_after_repeated_failures(client, learner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": learner.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": learner.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()


def test_pages_have_landmarks_and_csp(client, learner):
    client.force_login(learner)
    response = client.get(reverse("learner_dashboard"))
    html = response.content.decode()
    for landmark in (
        'role="banner"',
        '<main id="main"',
        'role="contentinfo"',
        'aria-label="Main"',
        'class="skip-link"',
    ):
        assert landmark in html
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_404_page_is_friendly(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404


def test_admin_changes_a_role_in_the_admin_site(client, admin_user, learner):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[learner.pk])
    form = client.get(url).context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("password", "groups", "user_permissions", "last_login", "date_joined")
    }
    data.update(
        role="educator", username=learner.username, date_joined_0="2026-01-01", date_joined_1="00:00:00"
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    learner.refresh_from_db()
    assert learner.role == Role.EDUCATOR and learner.is_educator and not learner.is_staff
