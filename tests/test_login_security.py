"""Logins and API tokens under attack: guessing is paused without locking the owner out, sessions
end when they should, weak passwords are refused, and the logs tell who without any secret."""

import logging
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from policy.security import client_ip

PASSWORD = "correct horse battery staple"  # noqa: S105
WRONG_PASSWORD = "S3cret-guess-that-must-not-be-logged"  # noqa: S105
ATTACKER = "203.0.113.66"
OWNER_ADDRESS = "198.51.100.7"
LOGIN_URL = "/admin/login/?next=/admin/"
PROBLEM = "application/problem+json"


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("olivia", password=PASSWORD, is_staff=True)


def log_in(client, username, password, address="127.0.0.1", **headers):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        headers=headers,
    )


def fail_until_paused(client, username="olivia", address=ATTACKER):
    """Wrong passwords up to the limit; the last one answers with the pause."""
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, username, WRONG_PASSWORD, address).status_code == 200
    return log_in(client, username, WRONG_PASSWORD, address)


def is_logged_in(client):
    return client.get("/admin/").status_code == 200


def all_logged_text(caplog):
    """Every message and every attribute of every record, as one text to search for secrets."""
    return "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)


def security_warnings(caplog):
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "policy.security" and r.levelno == logging.WARNING
    ]


# Pausing logins


def test_logins_pause_after_five_failures_for_fifteen_minutes_with_a_429_page(
    client, owner, settings
):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60

    response = fail_until_paused(client)

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    assert "<title>Too many failed logins | Puente editorial admin</title>" in page
    assert "After 5 failed attempts" in page
    assert "paused for 15 minutes" in page

    # The right password from the same address waits too.
    assert log_in(client, "olivia", PASSWORD, ATTACKER).status_code == 429
    assert not is_logged_in(client)


def test_a_pause_keeps_out_only_that_account_from_that_address(client, owner, django_user_model):
    django_user_model.objects.create_user("nora", password=PASSWORD, is_staff=True)
    assert fail_until_paused(client).status_code == 429

    response = log_in(Client(), "olivia", PASSWORD, OWNER_ADDRESS)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    # Another account from the attacker's address, such as a colleague behind the same NAT.
    assert log_in(Client(), "nora", PASSWORD, ATTACKER).status_code == 302


def test_an_administrator_can_lift_a_pause_in_the_admin(client, owner, admin_client):
    assert fail_until_paused(client).status_code == 429
    attempt = AccessAttempt.objects.get()

    response = admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert log_in(client, "olivia", PASSWORD, ATTACKER).status_code == 302


def test_a_pause_ends_after_the_cool_off_however_often_it_was_tried(client, owner, settings):
    assert fail_until_paused(client).status_code == 429
    for _ in range(3):
        assert log_in(client, "olivia", WRONG_PASSWORD, ATTACKER).status_code == 429
    # Attempts during the pause are not counted, so it ends when it said it would.
    attempt = AccessAttempt.objects.get(username="olivia", ip_address=ATTACKER)
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME)

    assert log_in(client, "olivia", PASSWORD, ATTACKER).status_code == 302
    assert is_logged_in(client)


def test_a_successful_login_forgets_the_failures_before_it(client, owner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "olivia", WRONG_PASSWORD)
    assert log_in(client, "olivia", PASSWORD).status_code == 302

    assert not AccessAttempt.objects.exists()
    assert fail_until_paused(Client(), address="127.0.0.1").status_code == 429


def test_a_forged_x_forwarded_for_does_not_escape_a_pause(client, owner):
    for attempt in range(django_settings.AXES_FAILURE_LIMIT):
        response = log_in(
            client, "olivia", WRONG_PASSWORD, ATTACKER, x_forwarded_for=f"192.0.2.{attempt}"
        )

    assert response.status_code == 429
    assert AccessAttempt.objects.get().ip_address == ATTACKER


def test_behind_a_proxy_each_client_is_known_by_the_address_the_proxy_saw(client, owner, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # Whatever the attacker writes first, the proxy appends the address it saw.
        forwarded = f"192.0.2.{attempt}, {ATTACKER}"
        response = log_in(client, "olivia", WRONG_PASSWORD, proxy, x_forwarded_for=forwarded)
    assert response.status_code == 429
    assert AccessAttempt.objects.get().ip_address == ATTACKER

    response = log_in(Client(), "olivia", PASSWORD, proxy, x_forwarded_for=OWNER_ADDRESS)

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, None, "192.0.2.1"),
        (0, "203.0.113.5", "192.0.2.1"),
        (1, None, "192.0.2.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.3", "203.0.113.5"),
        (1, "2001:db8::7", "2001:db8::7"),
        # Fewer entries than proxies: the request skipped one, so nothing in it is trusted.
        (2, "203.0.113.5", "192.0.2.1"),
        (1, "unknown", "192.0.2.1"),
    ],
)
def test_the_client_address_counts_proxies_from_the_end(settings, proxies, forwarded, address):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"x_forwarded_for": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", headers=headers)

    assert client_ip(request) == address


# Sessions


def test_login_gives_the_session_a_new_key(client, owner):
    planted_key = client.session.session_key

    assert log_in(client, "olivia", PASSWORD).status_code == 302

    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value != planted_key
    holder_of_the_old_key = Client()
    holder_of_the_old_key.cookies[django_settings.SESSION_COOKIE_NAME] = planted_key
    assert not is_logged_in(holder_of_the_old_key)


def test_logout_ends_the_session_on_the_server(client, owner):
    log_in(client, "olivia", PASSWORD)
    session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    assert client.post(reverse("admin:logout")).status_code == 200

    assert not Session.objects.filter(session_key=session_key).exists()
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    assert not is_logged_in(replay)


def test_deactivating_a_user_ends_their_sessions(client, owner):
    log_in(client, "olivia", PASSWORD)
    assert is_logged_in(client)

    owner.is_active = False
    owner.save()

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_password_set_by_an_administrator_ends_the_users_sessions(client, owner, admin_client):
    log_in(client, "olivia", PASSWORD)

    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[owner.pk]),
        {
            "usable_password": "true",
            "password1": "a new and long one",
            "password2": "a new and long one",
        },
    )

    assert response.status_code == 302
    assert not is_logged_in(client)


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(owner):
    here, elsewhere = Client(), Client()
    log_in(here, "olivia", PASSWORD)
    log_in(elsewhere, "olivia", PASSWORD)

    response = here.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a new and long one",
            "new_password2": "a new and long one",
        },
    )

    assert response.status_code == 302
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)


def test_tokens_stop_working_when_their_user_is_deactivated_or_deleted(client, owner):
    token = Token.objects.create(user=owner)
    headers = {"Authorization": f"Token {token.key}"}
    assert client.get("/api/v1/countries/", headers=headers).status_code == 200

    owner.is_active = False
    owner.save()
    response = client.get("/api/v1/countries/", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."

    owner.delete()
    response = client.get("/api/v1/countries/", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


# Guessing API tokens


def send_wrong_tokens(client, address=ATTACKER):
    for guess in range(django_settings.AXES_FAILURE_LIMIT):
        response = client.get(
            "/api/v1/countries/",
            headers={"Authorization": f"Token {guess:040x}"},
            REMOTE_ADDR=address,
        )
        assert response.status_code == 401


def test_wrong_tokens_pause_tokens_from_their_address_with_429_and_retry_after(client, owner):
    right = {"Authorization": f"Token {Token.objects.create(user=owner).key}"}
    send_wrong_tokens(client)

    response = client.get("/api/v1/countries/", headers=right, REMOTE_ADDR=ATTACKER)

    # A right token waits too, or the answers would tell the guess that hit.
    assert response.status_code == 429
    assert response["Content-Type"] == PROBLEM
    assert response.json()["detail"].startswith("Too many wrong tokens came from your address.")
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    # Other addresses, and requests without a token, go on.
    assert (
        client.get("/api/v1/countries/", headers=right, REMOTE_ADDR=OWNER_ADDRESS).status_code
        == 200
    )
    assert client.get("/api/v1/countries/", REMOTE_ADDR=ATTACKER).status_code == 200


def test_a_forged_x_forwarded_for_does_not_escape_the_api_throttle(client, db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "2/minute"},
    }

    statuses = [
        client.get("/api/v1/countries/", headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code
        for n in range(3)
    ]

    assert statuses == [200, 200, 429]


def test_the_token_pause_ends_after_the_cool_off(client, owner, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    right = {"Authorization": f"Token {Token.objects.create(user=owner).key}"}
    send_wrong_tokens(client)
    assert client.get("/api/v1/countries/", headers=right, REMOTE_ADDR=ATTACKER).status_code == 429

    time.sleep(1.1)

    assert client.get("/api/v1/countries/", headers=right, REMOTE_ADDR=ATTACKER).status_code == 200


# Logs without secrets


def test_failed_logins_are_logged_with_username_and_address_but_never_the_password(owner, caplog):
    caplog.set_level(logging.INFO)
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN_URL)
    csrf_token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    form = {"username": "olivia", "password": WRONG_PASSWORD, "csrfmiddlewaretoken": csrf_token}
    limit = django_settings.AXES_FAILURE_LIMIT

    statuses = [
        client.post(LOGIN_URL, form, REMOTE_ADDR=ATTACKER).status_code for _ in range(limit)
    ]

    assert statuses == [200] * (limit - 1) + [429]
    records = [r for r in caplog.records if r.name == "policy.security"]
    assert {r.levelno for r in records} == {logging.WARNING}
    assert [r.getMessage() for r in records] == [
        *[f"Login failed for 'olivia' from {ATTACKER}"] * (limit - 1),
        f"Login refused for 'olivia' from {ATTACKER}: too many failures, paused for 0:15:00",
    ]
    assert WRONG_PASSWORD not in all_logged_text(caplog)
    # Nor is it kept with the failed attempt, nor is the CSRF token.
    post_data = AccessAttempt.objects.get().post_data
    assert "csrfmiddlewaretoken" in post_data
    assert WRONG_PASSWORD not in post_data
    assert csrf_token not in post_data


def test_successful_logins_are_logged_with_user_and_address(client, owner, caplog):
    caplog.set_level(logging.INFO)

    log_in(client, "olivia", PASSWORD, OWNER_ADDRESS)

    assert f"Login by user {owner.pk} from {OWNER_ADDRESS}" in caplog.messages
    assert PASSWORD not in all_logged_text(caplog)


def test_a_username_cannot_forge_a_log_line(client, db, caplog):
    log_in(client, "mallory\nERROR policy forged entry\r", WRONG_PASSWORD)

    assert "Login failed for 'malloryERROR policy forged entry' from 127.0.0.1" in (caplog.messages)


def test_wrong_tokens_are_logged_without_the_token(client, db, caplog):
    token = "0123456789abcdef0123456789abcdef01234567"  # noqa: S105

    client.get("/api/v1/countries/", headers={"Authorization": f"Token {token}"})

    assert "API token refused from 127.0.0.1: GET /api/v1/countries/: Invalid token." in (
        caplog.messages
    )
    assert token not in all_logged_text(caplog)


def test_admin_permission_denials_are_logged_with_user_method_and_path(
    client, django_user_model, caplog
):
    staff = django_user_model.objects.create_user("stan", password=PASSWORD, is_staff=True)
    client.force_login(staff)

    assert client.get("/admin/auth/user/").status_code == 403

    assert security_warnings(caplog) == [
        f"Permission denied to user {staff.pk}: GET /admin/auth/user/"
    ]


def test_api_permission_denials_are_logged_with_user_method_and_path(
    client, django_user_model, caplog
):
    staff = django_user_model.objects.create_user("stan", password=PASSWORD, is_staff=True)
    token = Token.objects.create(user=staff).key

    response = client.post("/api/v1/commitments/", {}, headers={"Authorization": f"Token {token}"})

    assert response.status_code == 403
    assert security_warnings(caplog) == [
        f"Permission denied to user {staff.pk}: POST /api/v1/commitments/"
    ]
    assert token not in all_logged_text(caplog)


# Passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("12345678", "This password is entirely numeric."),
        ("marisol.quintero", "The password is too similar to the username."),
        ("k3#Rt!q", "This password is too short. It must contain at least 8 characters."),
    ],
)
def test_the_admin_refuses_a_new_user_with_a_weak_password(
    admin_client, django_user_model, password, message
):
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "marisol.quintero",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not django_user_model.objects.filter(username="marisol.quintero").exists()


def test_the_admin_refuses_to_set_a_weak_password(admin_client, owner):
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[owner.pk]),
        {"usable_password": "true", "password1": "12345678", "password2": "12345678"},
    )

    assert response.status_code == 200
    assert "This password is entirely numeric." in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_users_cannot_change_their_own_password_to_a_weak_one(client, owner):
    client.force_login(owner)

    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": "olivia123", "new_password2": "olivia123"},
    )

    assert response.status_code == 200
    assert "The password is too similar to the username." in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
