"""Operations: health checks, request IDs, structured logs, and server errors that show nothing
of the error."""

import json
import logging
import os
import re
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError, connections
from django.test import Client

from policy.api.views import ArticleViewSet
from policy.views import HomeView

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Nothing listens there.
DEAD_REDIS_URL = "redis://127.0.0.1:6391/0"


def redis_cache(location, *, ignore_exceptions):
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"IGNORE_EXCEPTIONS": ignore_exceptions, "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }


@pytest.fixture
def failing_client():
    """A client that gets the 500 response, as a visitor would, instead of the exception."""
    return Client(raise_request_exception=False)


# Health checks


def test_liveness_answers_while_the_database_and_cache_are_down(settings):
    """No `db` fixture: pytest-django refuses database access, which would answer 500 here."""
    settings.CACHES = redis_cache(DEAD_REDIS_URL, ignore_exceptions=False)

    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_readiness_answers_ok_when_the_database_and_cache_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_makes_a_round_trip_through_a_live_redis(client, settings):
    settings.CACHES = redis_cache(REDIS_URL, ignore_exceptions=True)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "ok"


@pytest.mark.django_db
def test_readiness_answers_503_with_the_reason_when_the_database_fails(client, caplog):
    refusal = OperationalError('connection to server at "10.1.2.3", port 5432 failed: refused')

    with mock.patch.object(connections["default"], "cursor", side_effect=refusal):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "the database did not answer a query (OperationalError)",
            "cache": "ok",
        },
    }
    assert "10.1.2.3" not in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    [warning] = [record for record in caplog.records if record.name == "policy.health"]
    assert warning.levelname == "WARNING"
    assert "database" in warning.getMessage()
    assert warning.exc_info[1] is refusal


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ignore_exceptions", "reason"),
    [
        (True, "the cache did not give back the value just stored"),
        (False, "the cache did not answer (ConnectionError)"),
    ],
)
def test_readiness_answers_503_with_the_reason_when_redis_is_unreachable(
    client, settings, caplog, ignore_exceptions, reason
):
    settings.CACHES = redis_cache(DEAD_REDIS_URL, ignore_exceptions=ignore_exceptions)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": reason},
    }
    assert "6391" not in response.content.decode()
    assert any(
        record.name == "policy.health" and reason in record.getMessage()
        for record in caplog.records
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_answer_a_balancer_calling_by_ip_address_over_plain_http(settings, path):
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get(path, HTTP_HOST="10.0.0.7")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_other_pages_still_validate_the_host_and_redirect_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get("/en/", HTTP_HOST="10.0.0.7").status_code == 400
    redirect = Client().get("/en/")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://testserver/en/"


def test_health_checks_refuse_writes():
    assert Client().post("/readyz").status_code == 405


# Request IDs and the request log


@pytest.mark.django_db
def test_each_request_gets_a_new_request_id(client):
    first = client.get("/robots.txt")["X-Request-ID"]
    second = client.get("/robots.txt")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_id", ["5f1c2b7e-0d4a-4f4e-9a43-1b2c3d4e5f60", "0f9d6c8a2b3e4f5a6b7c8d9e0f1a2b3c"]
)
def test_a_well_formed_incoming_request_id_is_kept(client, request_id):
    response = client.get("/robots.txt", HTTP_X_REQUEST_ID=request_id)

    assert response["X-Request-ID"] == request_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_id",
    ["", "x" * 129, "abc def", 'abc"}, {"level": "ERROR', "abc\ndef", "abc%0Adef", "日本"],
)
def test_a_malformed_incoming_request_id_is_replaced(client, request_id):
    response = client.get("/robots.txt", HTTP_X_REQUEST_ID=request_id)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_every_record_of_a_request_carries_its_id(client, json_log):
    response = client.get("/en/no-such-page/", HTTP_X_REQUEST_ID="req-42")

    assert response.status_code == 404
    records = {record["logger"]: record for record in json_log()}
    # The request line, and Django's warning, written after the last middleware returned.
    assert records["policy.requests"]["request_id"] == "req-42"
    assert records["django.request"]["message"] == "Not Found: /en/no-such-page/"
    assert records["django.request"]["request_id"] == "req-42"


@pytest.mark.django_db
def test_the_request_line_has_the_path_without_the_query_status_and_duration(client, json_log):
    response = client.get("/en/search/?q=my+private+search", HTTP_AUTHORIZATION="Token secret")

    [line] = [record for record in json_log() if record["logger"] == "policy.requests"]
    assert line["message"] == "GET /en/search/ 200"
    assert line["method"] == "GET"
    assert line["path"] == "/en/search/"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["user_id"] is None
    assert line["request_id"] == response["X-Request-ID"]
    assert "private" not in json.dumps(line)
    assert "secret" not in json.dumps(line)


@pytest.mark.django_db
def test_the_request_line_names_the_authenticated_user(editor_client, editor, json_log):
    editor_client.get("/admin/")

    [line] = [record for record in json_log() if record["logger"] == "policy.requests"]
    assert line["user_id"] == editor.pk


# Log format


def test_a_json_record_has_timestamp_level_logger_and_message(json_log):
    logging.getLogger("policy.example").warning("Imported %s articles", 3)

    [record] = json_log()
    assert record["level"] == "WARNING"
    assert record["logger"] == "policy.example"
    assert record["message"] == "Imported 3 articles"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", record["timestamp"])
    # Written outside any request.
    assert "request_id" not in record


def test_records_skip_the_lookups_no_line_writes_and_keep_the_process_id(caplog):
    logging.getLogger("policy.example").warning("Careful")

    [record] = caplog.records
    assert (record.pathname, record.lineno, record.funcName) == (
        "(unknown file)",
        0,
        "(unknown function)",
    )
    assert (record.threadName, record.processName) == (None, None)
    assert record.process == os.getpid()


def run_with_settings(module, code, **environment):
    env = {**os.environ, **environment, "DJANGO_SETTINGS_MODULE": module}
    env.pop("LOG_FORMAT", None)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_logs_json_lines_with_the_traceback():
    code = (
        "import logging\n"
        "try:\n    1 / 0\n"
        "except ZeroDivisionError:\n    logging.getLogger('policy').exception('Failed')"
    )
    result = run_with_settings(
        "config.settings.production",
        code,
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="example.org",
        DATABASE_URL="sqlite:///:memory:",
    )

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stderr)
    assert (record["level"], record["logger"], record["message"]) == ("ERROR", "policy", "Failed")
    assert "Traceback" in record["exc_info"]
    assert "ZeroDivisionError" in record["exc_info"]


def test_development_logs_text_lines():
    result = run_with_settings(
        "config.settings.local",
        "import logging; logging.getLogger('policy').warning('Careful')",
        DEBUG="True",
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.rstrip().endswith("WARNING policy - Careful")


# Server errors


@pytest.fixture
def broken_home_page(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the secret detail of the failure")

    monkeypatch.setattr(HomeView, "get_context_data", fail)


@pytest.fixture
def broken_article_api(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the secret detail of the failure")

    monkeypatch.setattr(ArticleViewSet, "get_queryset", fail)


@pytest.mark.django_db
@pytest.mark.usefixtures("broken_home_page")
def test_a_server_error_shows_the_site_page_with_the_request_id_and_no_traceback(
    failing_client,
):
    response = failing_client.get("/en/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert f"<code>{response['X-Request-ID']}</code>" in page
    assert "Traceback" not in page
    assert "secret detail" not in page
    assert "RuntimeError" not in page
    assert settings.SECRET_KEY not in page


@pytest.mark.django_db
@pytest.mark.usefixtures("broken_article_api")
def test_an_api_server_error_is_problem_details_with_the_request_id_and_no_traceback(
    failing_client,
):
    response = failing_client.get("/api/v1/articles/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "A server error occurred.",
        "instance": "/api/v1/articles/",
        "request_id": response["X-Request-ID"],
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("broken_home_page")
def test_a_server_error_is_logged_with_its_traceback_and_request_id(failing_client, json_log):
    response = failing_client.get("/en/")

    [error] = [record for record in json_log() if record["level"] == "ERROR"]
    assert error["logger"] == "django.request"
    assert error["message"] == "Internal Server Error: /en/"
    assert error["status_code"] == 500
    assert error["request_id"] == response["X-Request-ID"]
    assert "Traceback" in error["exc_info"]
    assert "RuntimeError: the secret detail of the failure" in error["exc_info"]
