"""Login throttling, security headers, error pages and production settings."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.urls import path
from django.utils import timezone

from .factories import ManagerFactory

PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parent.parent


def sign_in(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def manager(db):
    return ManagerFactory(username="maria")


def test_it_signs_in_with_the_right_password(client, manager):
    response = sign_in(client, "maria", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_explains_a_wrong_password(client, manager):
    response = sign_in(client, "maria", "wrong password")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_it_locks_out_after_five_failures_even_with_the_right_password(client, manager):
    for _ in range(5):
        sign_in(client, "maria", "wrong password")
    response = sign_in(client, "maria", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_by_username_and_address_together(client, manager):
    for _ in range(5):
        sign_in(client, "maria", "wrong password", ip="10.0.0.1")
    # The same user from another address is not locked out by someone else's guesses.
    assert sign_in(client, "maria", PASSWORD, ip="10.0.0.2").status_code == 302


def test_it_lifts_the_lock_after_the_cool_off(client, manager, settings):
    for _ in range(5):
        sign_in(client, "maria", "wrong password")
    assert sign_in(client, "maria", PASSWORD).status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(minutes=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert sign_in(client, "maria", PASSWORD).status_code == 302


def test_it_resets_failures_on_success(client, manager):
    for _ in range(3):
        sign_in(client, "maria", "wrong password")
    assert sign_in(client, "maria", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="maria", failures_since_start__gt=0).exists()


def test_it_sends_a_strict_content_security_policy(owner_client):
    policy = owner_client.get("/")["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_it_sends_security_headers(owner_client):
    response = owner_client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_it_answers_healthz_without_login_and_without_cookies(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert "sessionid" not in response.cookies


def test_it_shows_a_styled_404(owner_client):
    response = owner_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def _boom(request):
    raise RuntimeError("secret stack detail")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.urls("tests.test_security")
def test_it_shows_a_500_page_without_a_stack_trace(client, db):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret stack detail" not in body
    assert "Traceback" not in body


def test_it_shows_a_friendly_csrf_failure(db, owner):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    response = csrf_client.post("/accounts/logout/")
    assert response.status_code == 403
    assert "Your form expired" in response.content.decode()


def _manage(*args, env):
    return subprocess.run(  # noqa: S603 - our own manage.py with a fixed interpreter
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_a_secret_key_in_production():
    result = _manage("check", env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_it_names_the_variable_it_cannot_read():
    result = _manage("check", env={"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_it_explains_a_database_url_it_cannot_read():
    result = _manage("check", env={"DEBUG": "1", "DATABASE_URL": ""})
    assert result.returncode != 0
    assert "DATABASE_URL is not a database URL" in result.stderr


def test_it_passes_the_deploy_check_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "HTTPS": "1",
            "TRUST_X_FORWARDED_PROTO": "1",
            "ALLOWED_HOSTS": "onboarding.example.com",
            "SECRET_KEY": "k" * 10 + "Zq9!x" * 12,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_requires_twelve_character_passwords(owner_client):
    response = owner_client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Sh0rt!pw", "new_password2": "Sh0rt!pw"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
