"""Faults of what the site depends on: a request that cannot reach the database is answered
503 with Retry-After, as the site's page or as problem details, never 500; the site recovers by
itself when PostgreSQL or Redis comes back.

The slow tests run the production server under load while the test stops and starts servers of
its own, on free ports, so that no one else's is harmed: a PostgreSQL cluster that initdb
creates in a temporary folder, with the programs of POSTGRESQL_BIN_DIR (by default the newest
/usr/lib/postgresql/*/bin), and a redis-server without persistence. Without them, these tests
fail. They take a few minutes, and run in the PostgreSQL leg of CI.
"""

import contextlib
import logging
import socket
import time
import uuid

import psycopg
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import IntegrityError, InterfaceError, OperationalError
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from policy.api.views import ArticleViewSet
from policy.views import HomeView
from tests.servers import (
    BackgroundLoad,
    gunicorn,
    load_paths,
    once_in_ci,
    postgresql_cluster,
    redis_server,
    seeded_site,
    signed_in_publisher,
    worker_pids,
)

RETRY_AFTER = "30"
# No answer may take longer, outage or not: the database is refused at once when it is down.
MOST_SECONDS_PER_REQUEST = 5
# How long after PostgreSQL or Redis answers again every request is served as before.
RECOVERY_SECONDS = 10
UNAVAILABLE_PAGE = "The site cannot show this page right now."
UNAVAILABLE_PAGE_IN_SPANISH = "El sitio no puede mostrar esta página ahora."

# A view or a middleware that cannot reach the database, in this process


def refuse(*args, **kwargs):
    raise OperationalError('connection to server at "10.1.2.3", port 5432 failed: refused')


@pytest.fixture
def visitor():
    """A client that gets the answer a visitor would, even for an error."""
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_page_that_cannot_reach_the_database_answers_503_with_the_site_look(
    visitor, monkeypatch, error, caplog
):
    def fail(*args, **kwargs):
        raise error("connection already closed")

    monkeypatch.setattr(HomeView, "get_context_data", fail)

    response = visitor.get("/es/")

    assert response.status_code == 503
    assert response["Retry-After"] == RETRY_AFTER
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert '<html lang="es">' in page
    assert UNAVAILABLE_PAGE_IN_SPANISH in page
    assert 'href="/static/css/site.css"' in page
    assert "connection already closed" not in page
    # The middleware's answers carry the site's headers like any other.
    assert "Content-Security-Policy" in response
    assert response["X-Content-Type-Options"] == "nosniff"
    [warning] = [each for each in caplog.records if each.name == "policy.availability"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        f"The database cannot serve /es/ ({error.__name__}: connection already closed); "
        "answered 503."
    )


@pytest.mark.django_db
def test_an_api_request_that_cannot_reach_the_database_answers_503_problem_details(
    visitor, monkeypatch
):
    monkeypatch.setattr(ArticleViewSet, "get_queryset", refuse)

    response = visitor.get("/api/v1/articles/")

    assert response.status_code == 503
    assert response["Retry-After"] == RETRY_AFTER
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service is temporarily unavailable. Try again later.",
        "instance": "/api/v1/articles/",
    }


@pytest.mark.django_db
def test_a_signed_in_editor_gets_503_when_the_page_cache_cannot_look_up_the_session(
    visitor, editor, settings, monkeypatch
):
    # The page cache asks who the user is before any view runs.
    settings.PAGE_CACHE_SECONDS = 300
    visitor.force_login(editor)
    monkeypatch.setattr(SessionStore, "_get_session_from_db", refuse)

    page = visitor.get("/en/commitments/")
    api = visitor.get("/api/v1/commitments/")

    assert page.status_code == 503
    assert UNAVAILABLE_PAGE in page.content.decode()
    assert api.status_code == 503
    assert api["Content-Type"] == "application/problem+json"
    assert page["Retry-After"] == api["Retry-After"] == RETRY_AFTER


@pytest.mark.django_db
def test_other_database_errors_are_still_server_errors(visitor, monkeypatch):
    def fail(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(HomeView, "get_context_data", fail)

    response = visitor.get("/en/")

    assert response.status_code == 500
    assert "Retry-After" not in response


# The production server under load while the servers it depends on stop and start


@pytest.fixture(scope="module")
def database_server():
    with postgresql_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def cache_server():
    with redis_server() as server:
        yield server


@pytest.fixture(scope="module")
def site(database_server, cache_server, collected_static, tmp_path_factory):
    """The production environment on those servers, with the seed and a signed-in publisher."""
    with psycopg.connect(database_server.url("postgres"), autocommit=True) as server:
        server.execute("CREATE DATABASE puente")
    environment = seeded_site(
        database_server.url("puente"),
        cache_server.url,
        static_root=collected_static,
        media_root=tmp_path_factory.mktemp("media"),
    )
    return environment, signed_in_publisher(environment)


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    environment, _ = site
    with gunicorn(environment, tmp_path_factory.mktemp("gunicorn") / "server.log") as server:
        yield server


def assert_statuses(answers, allowed, server):
    """Fail with every answer outside `allowed`, what it said, and the server's log."""
    wrong = [
        f"{each.path}: {each.status or each.error} {each.body[:300]!r}"
        for each in answers
        if each.status not in allowed
    ]
    assert not wrong, "\n".join(wrong) + "\n" + server.output()


def assert_quick(answers, *, since):
    """Fail with every answer that took too long, and when it was asked relative to `since`."""
    slow = [
        f"{each.path}: {each.status or each.error} after {each.seconds:.1f} s, "
        f"asked at {each.started - since:+.1f} s"
        for each in answers
        if each.seconds >= MOST_SECONDS_PER_REQUEST
    ]
    assert not slow, "\n".join(slow)


def is_well_formed_503(answer):
    api = answer.path.startswith("/api/")
    return (
        answer.status == 503
        and answer.headers["Retry-After"] == RETRY_AFTER
        and answer.headers["Content-Type"]
        == ("application/problem+json" if api else "text/html; charset=utf-8")
        and (b'"status":503' if api else unavailable_page_text(answer.path).encode()) in answer.body
    )


def unavailable_page_text(path):
    """The 503 page's sentence, in the language of the page at `path`."""
    with translation.override(translation.get_language_from_path(path) or "en"):
        return gettext(
            "The site cannot show this page right now. Please try again in a few minutes."
        )


def served_without_the_database(answer):
    return answer.path.startswith("/static/") or answer.headers["X-Cache"] == "hit"


@pytest.mark.slow
@once_in_ci
def test_with_postgresql_stopped_requests_get_503_and_the_same_workers_serve_once_it_is_back(
    server, site, database_server
):
    _, session = site
    paths = load_paths(server)
    workers = worker_pids(server)
    unique = uuid.uuid4().hex
    # Visitors, most of whose pages come from the page cache, and an editor, whose never do.
    visitors = BackgroundLoad(server, paths, threads=3)
    editor = BackgroundLoad(server, paths, threads=2, headers={"Cookie": f"sessionid={session}"})

    with visitors, editor:
        time.sleep(3)
        stopping = time.monotonic()
        database_server.stop()
        stopped = time.monotonic()
        time.sleep(2)
        uncached_page = server.fetch(f"/en/commitments/?q={unique}")
        uncached_api = server.fetch(f"/api/v1/commitments/?search={unique}")
        readiness, liveness = server.fetch("/readyz"), server.fetch("/healthz")
        time.sleep(2)
        starting = time.monotonic()
        database_server.start()
        started = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 3)
    ended = time.monotonic()

    for load in visitors, editor:
        assert_statuses(load.answers, {200, 304, 503}, server)
        assert_quick(load.answers, since=stopping)
        before = load.answers_between(0, stopping)
        assert before
        assert_statuses(before, {200, 304}, server)
        during = load.answers_between(stopped, starting)
        assert during
        # Static files and cached pages need no database; everything else is refused cleanly.
        assert_statuses(
            [each for each in during if not served_without_the_database(each)], {503}, server
        )
        assert all(map(is_well_formed_503, (each for each in during if each.status == 503)))
        after = load.answers_between(started + RECOVERY_SECONDS, ended)
        assert after
        assert_statuses(after, {200, 304}, server)
    refused = [each for each in editor.answers_between(stopped, starting) if each.status == 503]
    assert {each.path.startswith("/api/") for each in refused} == {True, False}
    assert worker_pids(server) == workers

    assert (uncached_page[0], uncached_page[1]["Retry-After"]) == (503, RETRY_AFTER)
    assert UNAVAILABLE_PAGE.encode() in uncached_page[2]
    assert (uncached_api[0], uncached_api[1]["Content-Type"]) == (503, "application/problem+json")
    assert readiness[0] == 503
    assert b"the database did not answer a query" in readiness[2]
    assert liveness[0] == 200
    assert "Internal Server Error" not in server.output()
    assert server.fetch("/readyz")[0] == 200


@pytest.mark.slow
@once_in_ci
def test_a_database_server_that_never_answers_gets_503_within_the_connect_timeout(site, tmp_path):
    environment, _ = site
    with socket.socket() as black_hole:
        # Connections are taken by the system and never answered: a server that hangs.
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)
        host, port = black_hole.getsockname()
        hanging = {**environment, "DATABASE_URL": f"postgres://postgres@{host}:{port}/puente"}
        with gunicorn(hanging, tmp_path / "server.log", ready=False) as server:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    if server.fetch("/healthz")[0] == 200:
                        break
                time.sleep(0.2)
            started = time.monotonic()
            status, headers, body = server.fetch("/en/commitments/")
            seconds = time.monotonic() - started

    assert status == 503, server.output()
    assert headers["Retry-After"] == RETRY_AFTER
    assert UNAVAILABLE_PAGE.encode() in body
    # libpq's default, 0, would wait until Gunicorn killed the worker, 30 seconds on.
    assert 4 < seconds < 10


@pytest.mark.slow
@once_in_ci
def test_with_redis_stopped_the_site_keeps_serving_and_uses_the_cache_once_it_is_back(
    server, cache_server
):
    paths = load_paths(server)
    page = "/en/commitments/"
    server.fetch(page)
    assert server.fetch(page)[1]["X-Cache"] == "hit"

    with BackgroundLoad(server, paths, revalidate_every=5) as load:
        time.sleep(3)
        cache_server.stop()
        stopped = time.monotonic()
        time.sleep(5)
        starting = time.monotonic()
        cache_server.start()
        started = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 3)
    ended = time.monotonic()

    assert_statuses(load.answers, {200, 304}, server)
    assert_quick(load.answers, since=stopped)
    during = load.answers_between(stopped, starting)
    assert during
    assert not any(each.headers["X-Cache"] == "hit" for each in during)
    after = load.answers_between(started + RECOVERY_SECONDS, ended)
    assert any(each.headers["X-Cache"] == "hit" for each in after)
    assert "Internal Server Error" not in server.output()
