"""Login throttling behind a proxy: the client's address from a trusted proxy's header only,
lockouts per username and address, and a lockout that failures don't extend."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from core.client_address import client_address

PASSWORD = "a-Strong-pass-123"
PROXY = "10.0.0.5"


def _address(settings, trusted, remote, forwarded=None):
    settings.RAMP_TRUSTED_PROXIES = trusted
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **headers))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    assert _address(settings, [], PROXY, "203.0.113.9") == PROXY


def test_a_trusted_proxy_names_its_client(settings):
    assert _address(settings, [PROXY], PROXY, "203.0.113.9") == "203.0.113.9"
    assert _address(settings, ["10.0.0.0/8"], PROXY, "203.0.113.9:51234") == "203.0.113.9"
    assert _address(settings, ["10.0.0.0/8"], PROXY, "[2001:db8::7]:443") == "2001:db8::7"


def test_what_a_client_writes_into_the_header_is_not_believed(settings):
    # the client sent "X-Forwarded-For: 198.51.100.1"; the proxy appended the address it saw
    assert _address(settings, [PROXY], PROXY, "198.51.100.1, 203.0.113.9") == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    trusted = ["10.0.0.0/8", "192.0.2.10"]
    assert _address(settings, trusted, PROXY, "198.51.100.1, 203.0.113.9, 192.0.2.10") == "203.0.113.9"
    assert _address(settings, trusted, PROXY, "10.1.1.1, 192.0.2.10") == "10.1.1.1"


def test_a_request_not_from_a_trusted_proxy_is_taken_at_its_address(settings):
    assert _address(settings, [PROXY], "203.0.113.66", "198.51.100.1") == "203.0.113.66"


def test_a_missing_or_garbled_header_falls_back_to_the_proxy(settings):
    assert _address(settings, [PROXY], PROXY) == PROXY
    assert _address(settings, [PROXY], PROXY, "unknown") == PROXY
    assert _address(settings, [PROXY], PROXY, "203.0.113.9, garbage") == PROXY


def test_a_bad_trusted_proxies_setting_stops_start_up_with_one_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "RAMP_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.org"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "RAMP_TRUSTED_PROXIES: expected comma-separated IP addresses or networks" in done.stderr
    assert "Traceback" not in done.stderr


# --- the lockout itself (django-axes, on the real database) -------------------------------


def _log_in(client, user, password, client_ip):
    return client.post(
        reverse("login"),
        {"username": user.username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_ip,
    )


def _lock(client, settings, user, client_ip):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, user, "wrong", client_ip)
    assert _log_in(client, user, PASSWORD, client_ip).status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_an_attacker_locks_out_only_their_own_address(client, settings, make_user):
    settings.RAMP_TRUSTED_PROXIES = [PROXY]
    admin = make_user("admin")
    _lock(client, settings, admin, "203.0.113.9")
    # the admin, at their own address behind the same proxy, logs in
    assert _log_in(client, admin, PASSWORD, "198.51.100.7").status_code == 302


@pytest.mark.django_db
def test_without_trust_everyone_behind_the_proxy_shares_its_address(client, settings, make_user):
    """The default: X-Forwarded-For is ignored, so a spoofed header doesn't escape a lockout."""
    settings.RAMP_TRUSTED_PROXIES = []
    learner = make_user("learner")
    _lock(client, settings, learner, "203.0.113.9")
    assert _log_in(client, learner, PASSWORD, "198.51.100.7").status_code == 429


@pytest.mark.django_db
def test_a_lockout_is_per_username_and_address(client, settings, make_user):
    settings.RAMP_TRUSTED_PROXIES = [PROXY]
    victim, other = make_user("learner"), make_user("learner")
    _lock(client, settings, victim, "203.0.113.9")
    # the same address may still log in as another user ...
    assert _log_in(client, other, PASSWORD, "203.0.113.9").status_code == 302
    client.logout()
    # ... and the same user from another address
    assert _log_in(client, victim, PASSWORD, "198.51.100.7").status_code == 302


@pytest.mark.django_db
def test_failures_during_a_lockout_do_not_extend_it(client, settings, make_user):
    settings.RAMP_TRUSTED_PROXIES = [PROXY]
    learner = make_user("learner")
    _lock(client, settings, learner, "203.0.113.9")
    # ten minutes later the attacker is still trying
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=10)
    )
    locked_at = AccessAttempt.objects.get().attempt_time
    assert _log_in(client, learner, "wrong", "203.0.113.9").status_code == 429
    assert AccessAttempt.objects.get().attempt_time == locked_at
    # fifteen minutes after the lockout began it is over, however often they tried
    AccessAttempt.objects.update(attempt_time=locked_at - timedelta(minutes=5, seconds=1))
    assert _log_in(client, learner, PASSWORD, "203.0.113.9").status_code == 302
