"""The page cache (policy/cache.py): what it keeps, for whom, and that no reader gets stale content.

The suite runs with the page cache off (config/settings/test.py); here it is on. A test's
transaction never commits, so the writes run under `django_capture_on_commit_callbacks`, which
runs what waits for the commit, the renewal of the generation among it.

The Redis tests talk to the real server: REDIS_URL_FOR_CACHE_TESTS names the database they empty
(redis://127.0.0.1:6379/2 by default). Without Redis they fail.
"""

import datetime
import json
import logging
import os
import re
import subprocess
import sys

import pytest
import redis
import tablib
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django_redis.cache import RedisCache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from reversion.models import Version

import policy.cache
from config import wsgi
from policy.cache import (
    KeptConnections,
    PageCacheMiddleware,
    PageStore,
    RepeatedRedisErrorFilter,
)
from policy.middleware import DropTrackingParametersMiddleware
from policy.models import Commitment, FocusArea, PublicationStatus
from policy.observability import current_request_id
from policy.redis_client import RedisClient
from policy.resources import CommitmentResource
from policy.services import save_record
from policy.wsgi import PageCacheFrontDoor
from tests.admin_forms import admin_url, change_form_data
from tests.factories import ArticleFactory, CommitmentFactory, FocusAreaFactory

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL_FOR_CACHE_TESTS", "redis://127.0.0.1:6379/2")
# Nothing listens there.
DEAD_REDIS_URL = "redis://127.0.0.1:6390/0"

DRAFT, PUBLISHED = PublicationStatus.DRAFT, PublicationStatus.PUBLISHED


@pytest.fixture(autouse=True)
def page_cache(settings, monkeypatch):
    """The page cache on, empty, and with no failure remembered from another test."""
    settings.PAGE_CACHE_SECONDS = 300
    monkeypatch.setattr(policy.cache, "pages", PageStore())
    caches["pages"].clear()


class FrontDoorClient(RequestFactory):
    """A reader whose requests go to the WSGI application as the app server runs it
    (config/wsgi.py), where the page cache's front door answers hits before Django's handler;
    Django's test client sends them to the handler itself. Its answers are HttpResponses, built
    from what the application gave the server.

    As the test client's, its handler loads the middleware at the first request, with the
    test's settings. The database connection is left open, as the test client leaves it: the
    test's transaction lives on it.
    """

    application = None

    def request(self, **request):
        if self.application is None:
            self.application = PageCacheFrontDoor(WSGIHandler())
        environ = self._base_environ(**request)
        started = []
        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
        try:
            body = self.application(
                environ, lambda status, headers, exc_info=None: started.append((status, headers))
            )
            try:
                content = b"".join(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            for signal in (request_started, request_finished):
                signal.connect(close_old_connections)
        [(status, headers)] = started
        response = HttpResponse(content, status=int(status.split()[0]))
        del response["Content-Type"]
        for header, value in headers:
            if header.lower() == "set-cookie":
                response.cookies.load(value)
            else:
                response[header] = value
        # As the test client's answers have it.
        response.json = lambda: json.loads(response.content)
        return response


@pytest.fixture(params=["test client", "front door"])
def visitor(request):
    """An anonymous reader, apart from the `client` that staff fixtures sign in: through Django's
    handler, as under ASGI and the test client, and through the WSGI application's front door."""
    return Client() if request.param == "test client" else FrontDoorClient()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a write as if committed: what waits for the commit runs at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def served_from(response):
    return response.get("X-Cache")


def commitment_page(record):
    return reverse("policy:commitment_detail", args=[record.slug])


def commitment_api(record):
    return f"/api/v1/commitments/{record.slug}/"


@pytest.fixture
def looked_up(monkeypatch):
    """The keys that the page cache is asked for, in order."""
    keys = []
    lookup = policy.cache.pages.lookup

    def recording_lookup(key, **kwargs):
        keys.append(key)
        return lookup(key, **kwargs)

    monkeypatch.setattr(policy.cache.pages, "lookup", recording_lookup)
    return keys


# What is kept


@pytest.mark.parametrize(
    "url",
    [
        "/en/",
        "/en/commitments/",
        "/es/articles/",
        "/en/focus-areas/",
        "/en/countries/",
        "/en/search/?q=port",
        "/en/feeds/articles.rss",
        "/sitemap.xml",
        "/robots.txt",
        "/api/v1/commitments/",
        "/api/v1/docs/",
    ],
)
def test_a_public_page_is_rendered_once_then_served_from_the_cache(
    visitor, url, django_assert_num_queries
):
    CommitmentFactory(title="Port of Chancay")
    first = visitor.get(url)

    with django_assert_num_queries(0):
        second = visitor.get(url)

    assert first.status_code == second.status_code == 200
    assert (served_from(first), served_from(second)) == ("miss", "hit")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_a_hit_has_the_headers_of_the_view_and_of_the_middleware_and_a_request_id_of_its_own(
    visitor,
):
    record = CommitmentFactory()
    first = visitor.get(commitment_api(record))
    second = visitor.get(commitment_api(record))

    assert served_from(second) == "hit"
    headers = {"ETag", "Last-Modified", "Cache-Control", "Vary", "Allow", "Content-Language"}
    headers |= {"X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"}
    headers |= {"Referrer-Policy", "Cross-Origin-Opener-Policy"}
    assert {header: second[header] for header in headers} == {
        header: first[header] for header in headers
    }
    assert dict(second.items()).keys() == dict(first.items()).keys()
    assert second["X-Request-ID"] != first["X-Request-ID"]


def test_a_static_file_is_left_to_whitenoise_without_a_look_in_the_page_cache(
    visitor, looked_up, settings
):
    # Found in the app's static folders, as in development: a fresh checkout has no STATIC_ROOT.
    settings.WHITENOISE_USE_FINDERS = True

    static_file = visitor.get("/static/css/site.css")
    page = visitor.get("/en/commitments/")

    assert static_file.status_code == 200
    assert static_file["X-Content-Type-Options"] == "nosniff"
    assert "X-Cache" not in static_file
    assert len(looked_up) == 1
    assert served_from(page) == "miss"


def test_a_page_with_its_own_security_policy_keeps_it_when_served_from_the_cache(visitor):
    first = visitor.get("/api/v1/redoc/")
    second = visitor.get("/api/v1/redoc/")

    assert served_from(second) == "hit"
    assert "'unsafe-inline'" in first["Content-Security-Policy"]
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"path": "/en/commitments/"}, {"path": "/es/commitments/"}),
        ({"path": "/en/search/?q=port"}, {"path": "/en/search/?q=rail"}),
        ({"path": "/api/v1/commitments/"}, {"path": "/api/v1/commitments/?page_size=5"}),
        (
            {"path": "/api/v1/commitments/", "HTTP_ACCEPT": "application/json"},
            {"path": "/api/v1/commitments/", "HTTP_ACCEPT": "text/html"},
        ),
        (
            {"path": "/api/v1/commitments/", "HTTP_ACCEPT_LANGUAGE": "en"},
            {"path": "/api/v1/commitments/", "HTTP_ACCEPT_LANGUAGE": "es"},
        ),
        (
            {"path": "/api/v1/commitments/", "HTTP_COOKIE": "django_language=en"},
            {"path": "/api/v1/commitments/", "HTTP_COOKIE": "django_language=es"},
        ),
        (
            {"path": "/api/v1/commitments/", "HTTP_HOST": "localhost"},
            {"path": "/api/v1/commitments/", "HTTP_HOST": "127.0.0.1"},
        ),
    ],
    ids=[
        "language-prefix",
        "query",
        "api-query",
        "accept",
        "accept-language",
        "language-cookie",
        "host",
    ],
)
def test_each_language_query_format_and_host_has_its_own_answer(visitor, first, second):
    CommitmentFactory()
    assert served_from(visitor.get(**first)) == "miss"
    assert served_from(visitor.get(**first)) == "hit"

    assert served_from(visitor.get(**second)) == "miss"


def test_a_link_with_tracking_parameters_is_served_the_page_kept_without_them(visitor):
    record = CommitmentFactory()
    kept = visitor.get(commitment_page(record))

    clicks = [
        visitor.get(f"{commitment_page(record)}?fbclid=IwAR{click}&utm_source=facebook")
        for click in range(3)
    ]

    assert [served_from(click) for click in clicks] == ["hit", "hit", "hit"]
    assert all(click.content == kept.content for click in clicks)


def test_a_list_keeps_its_filters_and_page_and_its_links_carry_no_tracking_parameter(visitor):
    CommitmentFactory.create_batch(25, kind="training")
    url = reverse("policy:commitment_list")

    first = visitor.get(f"{url}?utm_campaign=launch&kind=training&gclid=abc&page=2")
    same = visitor.get(f"{url}?kind=training&page=2")
    other_filter = visitor.get(f"{url}?kind=credit_line&page=1&utm_campaign=launch")

    assert (served_from(first), served_from(same)) == ("miss", "hit")
    assert served_from(other_filter) == "miss"
    page = first.content.decode()
    assert 'href="?kind=training&amp;page=1"' in page
    assert "utm_campaign" not in page
    assert "gclid" not in page


@pytest.mark.parametrize(
    ("method", "query", "left"),
    [
        (
            "get",
            "q=caf%C3%A9+port&utm%5Fsource=x&fbclid=1&sort=title&_gl=1*abc",
            "q=caf%C3%A9+port&sort=title",
        ),
        ("head", "utm_medium=email&mc_eid=42", ""),
        ("get", "q=fbclid&page=2", "q=fbclid&page=2"),
        ("post", "utm_source=x", "utm_source=x"),
    ],
)
def test_only_the_tracking_parameters_of_a_read_are_taken_out_of_its_query(method, query, left):
    seen = {}

    def view(request):
        seen.update(query=request.META["QUERY_STRING"], parameters=request.GET.dict())
        return HttpResponse()

    request = getattr(RequestFactory(), method)(f"/en/search/?{query}")
    assert request.GET  # Read before, as a middleware above may.
    DropTrackingParametersMiddleware(view)(request)

    assert seen["query"] == left
    assert seen["parameters"] == RequestFactory().get(f"/en/search/?{left}").GET.dict()


def test_json_and_csv_of_one_record_are_kept_apart(visitor):
    record = CommitmentFactory(title="Scholarships")
    visitor.get(commitment_api(record))

    csv = visitor.get(commitment_api(record), headers={"Accept": "text/csv"})
    csv_again = visitor.get(commitment_api(record), headers={"Accept": "text/csv"})
    json_again = visitor.get(commitment_api(record))

    assert (served_from(csv), served_from(csv_again), served_from(json_again)) == (
        "miss",
        "hit",
        "hit",
    )
    assert csv_again["Content-Type"].startswith("text/csv")
    assert csv_again.content.decode().startswith("title,slug,")
    assert json_again.json()["title"] == "Scholarships"


def test_each_origin_gets_the_cors_headers_of_its_own(visitor, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://reader.example"]
    url = "/api/v1/countries/"
    from_the_reader = {"Origin": "https://reader.example"}

    first = visitor.get(url, headers=from_the_reader)
    without_origin = visitor.get(url)
    again = visitor.get(url, headers=from_the_reader)

    assert first["Access-Control-Allow-Origin"] == "https://reader.example"
    assert served_from(without_origin) == "miss"
    assert "Access-Control-Allow-Origin" not in without_origin
    assert served_from(again) == "hit"
    assert again["Access-Control-Allow-Origin"] == "https://reader.example"


def test_absolute_links_are_those_of_the_host_asked(visitor):
    record = CommitmentFactory()
    visitor.get("/api/v1/commitments/", HTTP_HOST="localhost")

    response = visitor.get("/api/v1/commitments/", HTTP_HOST="127.0.0.1")

    assert response.json()["results"][0]["url"] == f"http://127.0.0.1{commitment_api(record)}"


def test_a_streamed_csv_export_is_never_kept(visitor):
    CommitmentFactory()
    first = visitor.get("/api/v1/commitments/", {"format": "csv"})
    second = visitor.get("/api/v1/commitments/", {"format": "csv"})

    assert (served_from(first), served_from(second)) == ("miss", "miss")
    assert second["Content-Type"].startswith("text/csv")


def test_a_hit_answers_304_to_a_reader_whose_copy_is_current(visitor):
    record = CommitmentFactory()
    first = visitor.get(commitment_api(record))

    by_tag = visitor.get(commitment_api(record), headers={"If-None-Match": first["ETag"]})
    by_date = visitor.get(
        commitment_api(record), headers={"If-Modified-Since": first["Last-Modified"]}
    )
    other_tag = visitor.get(commitment_api(record), headers={"If-None-Match": 'W/"other"'})

    assert (by_tag.status_code, served_from(by_tag)) == (304, "hit")
    for header in ["ETag", "Last-Modified", "Cache-Control", "Vary"]:
        assert by_tag[header] == first[header]
    assert not by_tag.content
    assert (by_date.status_code, served_from(by_date)) == (304, "hit")
    assert (other_tag.status_code, served_from(other_tag)) == (200, "hit")
    assert other_tag.content == first.content


def test_an_expired_answer_is_kept_again_when_readers_only_revalidate(visitor, monkeypatch):
    record = CommitmentFactory()
    now = timezone.now()
    at(now, monkeypatch)
    first = visitor.get(commitment_api(record))
    current_copy = {"If-None-Match": first["ETag"]}

    at(now + datetime.timedelta(seconds=300), monkeypatch)
    after_expiry = visitor.get(commitment_api(record), headers=current_copy)
    next_read = visitor.get(commitment_api(record), headers=current_copy)
    stale_copy = visitor.get(commitment_api(record), headers={"If-None-Match": 'W/"old"'})

    assert (after_expiry.status_code, served_from(after_expiry)) == (304, "miss")
    assert after_expiry["ETag"] == first["ETag"]
    assert not after_expiry.content
    assert (next_read.status_code, served_from(next_read)) == (304, "hit")
    # The view's 304 and the cache's repeat the same headers of the answer.
    request_headers = {"X-Request-ID", "X-Cache"}
    assert {
        header: value for header, value in next_read.items() if header not in request_headers
    } == {header: value for header, value in after_expiry.items() if header not in request_headers}
    assert (stale_copy.status_code, served_from(stale_copy)) == (200, "hit")
    assert stale_copy.content == first.content


def test_a_head_request_is_answered_from_the_cache(visitor):
    visitor.get("/en/commitments/")

    response = visitor.head("/en/commitments/")

    assert (response.status_code, served_from(response)) == (200, "hit")


def test_cached_api_answers_count_against_the_rate_limit(visitor, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "2/minute"},
    }
    first = visitor.get("/api/v1/countries/")
    second = visitor.get("/api/v1/countries/")
    third = visitor.get("/api/v1/countries/")

    assert [served_from(first), served_from(second)] == ["miss", "hit"]
    assert third.status_code == 429
    assert third["Content-Type"] == "application/problem+json"


def test_no_page_is_kept_when_the_cache_time_is_zero(visitor, settings):
    settings.PAGE_CACHE_SECONDS = 0
    visitor.get("/en/commitments/")

    response = visitor.get("/en/commitments/")

    assert response.status_code == 200
    assert "X-Cache" not in response


# What is never kept, nor served from the cache


def test_signed_in_staff_get_their_own_pages_and_never_leave_one_behind(visitor, publisher_client):
    CommitmentFactory(title="Public pledge")
    CommitmentFactory(title="Draft pledge", publication_status=DRAFT)
    url = reverse("policy:commitment_list")
    publisher_client.post(reverse("policy:preview"), {"preview": "on", "next": url})

    staff_before = publisher_client.get(url)
    public = visitor.get(url)
    staff_after = publisher_client.get(url)

    assert "X-Cache" not in staff_before and "X-Cache" not in staff_after
    assert "Draft pledge" in staff_after.content.decode()
    assert served_from(public) == "miss"
    assert "Draft pledge" not in public.content.decode()
    assert "Public pledge" in public.content.decode()


def test_api_token_requests_pass_the_cache_by(visitor, publisher):
    CommitmentFactory(title="Draft pledge", publication_status=DRAFT)
    url = "/api/v1/commitments/?include_unpublished=true"
    anonymous = visitor.get(url)
    assert served_from(visitor.get(url)) == "hit"

    with_token = token_client(publisher).get(url)

    assert "X-Cache" not in with_token
    assert [each["title"] for each in with_token.json()["results"]] == ["Draft pledge"]
    assert anonymous.json()["results"] == []


@pytest.mark.parametrize("cookie", [django_settings.SESSION_COOKIE_NAME, "messages"])
def test_a_visitor_with_a_session_or_messages_waiting_passes_the_cache_by(visitor, cookie):
    visitor.get("/en/")
    assert served_from(visitor.get("/en/")) == "hit"
    visitor.cookies[cookie] = "anything"

    response = visitor.get("/en/")

    assert response.status_code == 200
    assert "X-Cache" not in response


def test_the_admin_is_never_cached(visitor):
    visitor.get(reverse("admin:login"))

    response = visitor.get(reverse("admin:login"))

    assert response.status_code == 200
    assert "X-Cache" not in response


def _with_cookie(request):
    response = HttpResponse("page")
    response.set_cookie("seen", "yes")
    return response


def _marked(**directives):
    def view(request):
        response = HttpResponse("page")
        patch_cache_control(response, **directives)
        return response

    return view


def _with_csrf_token(request):
    return HttpResponse(f"<input value='{get_token(request)}'>")


def _writing_the_session(request):
    request.session["visited"] = True
    return HttpResponse("page")


def _varying_on_an_unkeyed_header(request):
    response = HttpResponse("page")
    patch_vary_headers(response, ["User-Agent"])
    return response


@pytest.mark.parametrize(
    "view",
    [
        _with_cookie,
        _marked(private=True),
        _marked(no_store=True),
        _marked(no_cache=True),
        _with_csrf_token,
        _writing_the_session,
        _varying_on_an_unkeyed_header,
        lambda request: StreamingHttpResponse(iter([b"page"])),
        lambda request: HttpResponse("gone", status=404),
        lambda request: HttpResponse(status=302, headers={"Location": "/en/"}),
    ],
    ids=[
        "set-cookie",
        "private",
        "no-store",
        "no-cache",
        "csrf-token",
        "session-write",
        "vary-user-agent",
        "streaming",
        "404",
        "302",
    ],
)
def test_an_answer_that_is_not_the_same_for_every_reader_is_never_kept(view):
    calls = []

    def count_and_answer(request):
        calls.append(request)
        return view(request)

    middleware = PageCacheMiddleware(count_and_answer)
    middleware(anonymous_request())
    second = middleware(anonymous_request())

    assert len(calls) == 2
    assert served_from(second) == "miss"


def test_a_plain_answer_to_the_same_request_is_kept():
    """The control for the test above: the same requests, and an answer that may be kept."""
    calls = []

    def count_and_answer(request):
        calls.append(request)
        return HttpResponse("page")

    middleware = PageCacheMiddleware(count_and_answer)
    middleware(anonymous_request())
    second = middleware(anonymous_request())

    assert len(calls) == 1
    assert (served_from(second), second.content) == ("hit", b"page")


def anonymous_request(path="/en/page/"):
    """A request as it reaches the page cache: past the session and authentication middleware."""
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    request.session = SessionStore()
    return request


# The front door: hits answered before Django's handler (policy/wsgi.py)


@pytest.fixture
def handled():
    """The paths of the requests that Django's handler served, as its start signal tells them."""
    paths = []

    def record(environ, **kwargs):
        paths.append(environ["PATH_INFO"])

    request_started.connect(record, weak=False)
    yield paths
    request_started.disconnect(record)


def request_lines(json_log):
    return [
        (line["request_id"], line["path"], line["status"])
        for line in json_log()
        if line["logger"] == "policy.requests"
    ]


def test_the_app_server_runs_djangos_handler_behind_the_front_door():
    assert isinstance(wsgi.application, PageCacheFrontDoor)
    assert wsgi.application.application is wsgi.django_application
    assert isinstance(wsgi.django_application, WSGIHandler)


def test_the_front_door_answers_a_hit_without_djangos_handler(handled):
    reader = FrontDoorClient()
    first = reader.get("/en/commitments/")
    second = reader.get("/en/commitments/")

    assert (served_from(first), served_from(second)) == ("miss", "hit")
    assert handled == ["/en/commitments/"]
    assert second.content == first.content


def test_a_hit_at_the_front_door_has_its_request_id_and_its_request_line(json_log):
    reader = FrontDoorClient()
    reader.get("/en/commitments/")
    with_id = reader.get("/en/commitments/", HTTP_X_REQUEST_ID="req-8")
    without = reader.get("/en/commitments/")

    assert (served_from(with_id), served_from(without)) == ("hit", "hit")
    assert with_id["X-Request-ID"] == "req-8"
    assert re.fullmatch("[0-9a-f]{32}", without["X-Request-ID"])
    assert request_lines(json_log)[1:] == [
        ("req-8", "/en/commitments/", 200),
        (without["X-Request-ID"], "/en/commitments/", 200),
    ]
    # The records written after the request carry no ID of its own.
    assert current_request_id.get() is None


def test_a_miss_at_the_front_door_is_looked_up_once_and_keeps_its_request_id(looked_up, json_log):
    response = FrontDoorClient().get("/en/commitments/", HTTP_X_REQUEST_ID="req-7")

    assert served_from(response) == "miss"
    assert len(looked_up) == 1
    assert response["X-Request-ID"] == "req-7"
    assert request_lines(json_log) == [("req-7", "/en/commitments/", 200)]


def test_the_health_checks_are_left_to_django_without_a_look_in_the_page_cache(looked_up, handled):
    reader = FrontDoorClient()
    answers = [reader.get("/healthz"), reader.get("/healthz")]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert looked_up == []
    assert handled == ["/healthz", "/healthz"]


def test_a_host_that_is_not_allowed_gets_djangos_400_at_the_front_door():
    response = FrontDoorClient().get("/en/commitments/", HTTP_HOST="evil.example")

    assert response.status_code == 400


def test_with_the_page_cache_off_the_front_door_leaves_every_request_to_django(
    settings, looked_up, handled
):
    settings.PAGE_CACHE_SECONDS = 0
    reader = FrontDoorClient()
    answers = [reader.get("/en/commitments/"), reader.get("/en/commitments/")]

    assert [served_from(answer) for answer in answers] == [None, None]
    assert looked_up == []
    assert handled == ["/en/commitments/", "/en/commitments/"]


def test_the_front_door_does_what_the_middleware_before_the_page_cache_do():
    """policy/wsgi.py does for a hit what these do, in this order: reorder them, and the front door
    must change with them."""
    assert django_settings.MIDDLEWARE[:4] == [
        "policy.health.HealthCheckMiddleware",
        "policy.observability.RequestIDMiddleware",
        "policy.middleware.DropTrackingParametersMiddleware",
        "policy.cache.PageCacheMiddleware",
    ]


# Invalidation: every change is seen by the next reader


def test_an_admin_edit_is_seen_at_once(visitor, publisher_client, committed):
    record = CommitmentFactory(title="Before")
    assert "Before" in visitor.get(commitment_page(record)).content.decode()
    url = admin_url(Commitment, "change", record.pk)

    with committed():
        response = publisher_client.post(
            url, change_form_data(publisher_client.get(url), title="After")
        )

    assert response.status_code == 302
    page = visitor.get(commitment_page(record))
    assert served_from(page) == "miss"
    assert "After" in page.content.decode()


@pytest.mark.parametrize(
    ("action", "before", "listed_after"),
    [("publish", DRAFT, True), ("unpublish", PUBLISHED, False), ("archive", PUBLISHED, False)],
)
def test_publishing_unpublishing_and_archiving_in_the_admin_are_seen_at_once(
    visitor, publisher_client, committed, action, before, listed_after
):
    record = FocusAreaFactory(name="Green transition", publication_status=before)
    url = reverse("policy:focusarea_list")
    assert ("Green transition" in visitor.get(url).content.decode()) is (before == PUBLISHED)

    with committed():
        publisher_client.post(
            admin_url(FocusArea, "changelist"), {"action": action, "_selected_action": [record.pk]}
        )

    page = visitor.get(url)
    assert served_from(page) == "miss"
    assert ("Green transition" in page.content.decode()) is listed_after


def test_an_api_write_with_a_token_is_seen_at_once(visitor, publisher, committed):
    record = CommitmentFactory(title="Before")
    assert visitor.get(commitment_api(record)).json()["title"] == "Before"

    with committed():
        response = token_client(publisher).patch(
            commitment_api(record), {"title": "After"}, format="json"
        )

    assert response.status_code == 200
    assert visitor.get(commitment_api(record)).json()["title"] == "After"


def test_an_api_deletion_is_seen_at_once(visitor, publisher, committed):
    record = CommitmentFactory()
    assert visitor.get(commitment_api(record)).status_code == 200

    with committed():
        response = token_client(publisher).delete(commitment_api(record))

    assert response.status_code == 204
    assert visitor.get(commitment_api(record)).status_code == 404
    assert visitor.get("/api/v1/commitments/").json()["results"] == []


def test_a_change_of_related_records_is_seen_at_once(visitor, committed):
    area = FocusAreaFactory()
    commitment = CommitmentFactory(title="Solar parks")
    url = reverse("policy:focusarea_detail", args=[area.slug])
    assert "Solar parks" not in visitor.get(url).content.decode()

    with committed():
        commitment.focus_areas.add(area)

    assert "Solar parks" in visitor.get(url).content.decode()

    with committed():
        area.commitments.clear()

    assert "Solar parks" not in visitor.get(url).content.decode()


def test_a_revert_from_history_is_seen_at_once(visitor, publisher, committed):
    record = CommitmentFactory(title="Before")
    save_record(record=record, changes={"title": "Middle"}, user=publisher, via="test")
    with committed():
        save_record(record=record, changes={"title": "After"}, user=publisher, via="test")
    assert "After" in visitor.get(commitment_page(record)).content.decode()

    with committed():
        Version.objects.get_for_object(record).last().revision.revert()

    assert "Middle" in visitor.get(commitment_page(record)).content.decode()


def test_an_import_is_seen_at_once(visitor, publisher, committed):
    url = reverse("policy:commitment_list")
    assert "Imported pledge" not in visitor.get(url).content.decode()
    rows = tablib.Dataset(
        ["imported-pledge", "Imported pledge", "training", "published"],
        headers=["slug", "title", "kind", "publication_status"],
    )

    with committed():
        result = CommitmentResource().import_data(rows, user=publisher)

    assert not result.has_errors() and not result.has_validation_errors()
    assert "Imported pledge" in visitor.get(url).content.decode()


def test_loading_fixtures_is_seen_at_once(visitor, committed):
    assert visitor.get("/api/v1/commitments/").json()["count"] == 0

    with committed():
        call_command("loaddata", "seed", verbosity=0)

    assert visitor.get("/api/v1/commitments/").json()["count"] == Commitment.objects.count() > 0


def test_the_generation_is_renewed_when_the_change_is_committed_not_before(
    visitor, django_capture_on_commit_callbacks
):
    record = CommitmentFactory(title="Before")
    visitor.get(commitment_page(record))

    with django_capture_on_commit_callbacks() as waiting:
        record.title = "After"
        record.save()
        # Other readers see the rows as they were until the commit: the kept page is still right.
        assert served_from(visitor.get(commitment_page(record))) == "hit"

    for renewal in waiting:
        renewal()
    page = visitor.get(commitment_page(record))
    assert served_from(page) == "miss"
    assert "After" in page.content.decode()


def test_a_bulk_change_renews_the_generation_once_per_transaction(
    django_capture_on_commit_callbacks, monkeypatch
):
    renewals = []
    monkeypatch.setattr(policy.cache.pages, "renew_generation", lambda: renewals.append(1))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        CommitmentFactory.create_batch(3)
        Commitment.objects.all().delete()

    assert renewals == [1]


# Scheduled publication and expiry


def at(moment, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_a_scheduled_publication_is_seen_at_its_time_without_a_save(visitor, monkeypatch):
    now = timezone.now()
    ArticleFactory(title="Scheduled news", publish_at=now + datetime.timedelta(seconds=60))
    url = reverse("policy:article_list")
    at(now, monkeypatch)
    assert "Scheduled news" not in visitor.get(url).content.decode()

    at(now + datetime.timedelta(seconds=59), monkeypatch)
    just_before = visitor.get(url)
    at(now + datetime.timedelta(seconds=60), monkeypatch)
    on_time = visitor.get(url)

    assert served_from(just_before) == "hit"
    assert "Scheduled news" not in just_before.content.decode()
    assert served_from(on_time) == "miss"
    assert "Scheduled news" in on_time.content.decode()


def test_a_scheduled_expiry_is_seen_at_its_time_without_a_save(visitor, monkeypatch):
    now = timezone.now()
    record = CommitmentFactory(
        title="Expiring pledge", unpublish_at=now + datetime.timedelta(seconds=90)
    )
    at(now, monkeypatch)
    assert visitor.get(commitment_api(record)).status_code == 200

    at(now + datetime.timedelta(seconds=89), monkeypatch)
    assert served_from(visitor.get(commitment_api(record))) == "hit"
    at(now + datetime.timedelta(seconds=90), monkeypatch)
    assert visitor.get(commitment_api(record)).status_code == 404


def test_after_one_scheduled_change_the_next_one_bounds_the_cache(visitor, monkeypatch):
    now = timezone.now()
    ArticleFactory(title="First news", publish_at=now + datetime.timedelta(seconds=60))
    ArticleFactory(title="Second news", publish_at=now + datetime.timedelta(seconds=120))
    FocusAreaFactory(publication_status=DRAFT, publish_at=now + datetime.timedelta(seconds=30))
    url = reverse("policy:article_list")

    def titles_at(seconds):
        at(now + datetime.timedelta(seconds=seconds), monkeypatch)
        page = visitor.get(url)
        content = page.content.decode()
        return served_from(page), [t for t in ["First news", "Second news"] if t in content]

    assert titles_at(0) == ("miss", [])
    # A draft's scheduled time ends the answer too: renewed for nothing, never stale.
    assert titles_at(30) == ("miss", [])
    assert titles_at(61) == ("miss", ["First news"])
    assert titles_at(119) == ("hit", ["First news"])
    assert titles_at(120) == ("miss", ["First news", "Second news"])
    # Then nothing more is scheduled: the configured time alone bounds the answer.
    assert titles_at(419) == ("hit", ["First news", "Second news"])
    assert titles_at(420) == ("miss", ["First news", "Second news"])


def test_without_scheduled_changes_an_answer_is_kept_for_the_configured_time(
    visitor, monkeypatch, settings
):
    settings.PAGE_CACHE_SECONDS = 120
    now = timezone.now()
    url = reverse("policy:commitment_list")
    at(now, monkeypatch)
    visitor.get(url)

    at(now + datetime.timedelta(seconds=119), monkeypatch)
    assert served_from(visitor.get(url)) == "hit"
    at(now + datetime.timedelta(seconds=120), monkeypatch)
    assert served_from(visitor.get(url)) == "miss"


# The fragment cache: the filters' options, kept between pages


@pytest.fixture
def fragments(settings):
    """The fragment cache on and the page cache off, so that every page is rendered."""
    settings.PAGE_CACHE_SECONDS = 0
    settings.FRAGMENT_CACHE_SECONDS = 300


@pytest.fixture
def context_reader():
    """An anonymous reader through Django's test client, whose answers hold the rendered page's
    context."""
    return Client()


def focus_area_options(response):
    form = response.context["filter"].form
    return [label for value, label in form.fields["focus_area"].choices if value]


@pytest.mark.parametrize("fragment_seconds, queries", [(300, 2), (0, 5)])
def test_the_filters_options_are_read_once_for_every_page_that_shows_them(
    context_reader, settings, fragment_seconds, queries, django_assert_num_queries
):
    settings.FRAGMENT_CACHE_SECONDS = fragment_seconds
    CommitmentFactory(title="Port of Chancay").focus_areas.add(FocusAreaFactory(name="Energy"))
    url = reverse("policy:commitment_list")
    first = context_reader.get(url)

    # The count and the page of commitments, and with the cache off the three lists of options.
    with django_assert_num_queries(queries):
        other = context_reader.get(f"{url}?sort=recent")

    assert focus_area_options(first) == focus_area_options(other) == ["Energy"]
    assert "Port of Chancay" in other.content.decode()


def test_a_new_option_is_offered_once_its_record_is_committed(context_reader, fragments, committed):
    FocusAreaFactory(name="Energy")
    url = reverse("policy:commitment_list")
    before = focus_area_options(context_reader.get(url))

    with committed():
        FocusAreaFactory(name="Agriculture")
    after = focus_area_options(context_reader.get(url))

    assert before == ["Energy"]
    assert after == ["Energy", "Agriculture"]


def test_a_scheduled_option_is_offered_at_its_time_without_a_save(
    context_reader, fragments, monkeypatch
):
    now = timezone.now()
    FocusAreaFactory(name="Energy")
    FocusAreaFactory(name="Agriculture", publish_at=now + datetime.timedelta(seconds=60))
    url = reverse("policy:commitment_list")

    def options_at(seconds):
        at(now + datetime.timedelta(seconds=seconds), monkeypatch)
        return focus_area_options(context_reader.get(url))

    assert options_at(0) == ["Energy"]
    assert options_at(59) == ["Energy"]
    assert options_at(60) == ["Energy", "Agriculture"]


def test_a_preview_offers_drafts_and_the_public_never_gets_them(
    context_reader, fragments, publisher_client
):
    FocusAreaFactory(name="Energy")
    FocusAreaFactory(name="Draft theme", publication_status=DRAFT)
    url = reverse("policy:commitment_list")
    public_before = focus_area_options(context_reader.get(url))
    publisher_client.post(reverse("policy:preview"), {"preview": "on", "next": url})

    preview = focus_area_options(publisher_client.get(url))
    public_after = focus_area_options(context_reader.get(url))

    assert public_before == public_after == ["Energy"]
    assert preview == ["Energy", "Draft theme"]


# Redis: shared by every app server, and not needed to serve


@pytest.fixture(scope="module")
def settings_caches():
    """CACHES as config.settings.base builds them for an app server with the given REDIS_URL."""

    def build(redis_url):
        environment = {**os.environ, "REDIS_URL": redis_url}
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import json; from config.settings import base; print(json.dumps(base.CACHES))",
            ],
            cwd=django_settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout)

    return build


@pytest.fixture
def live_redis(settings, settings_caches):
    """The settings' Redis caches, in an empty Redis database that is emptied again afterwards."""
    server = redis.Redis.from_url(REDIS_URL)
    server.flushdb()
    caches_with_redis = settings_caches(REDIS_URL)
    settings.CACHES = caches_with_redis
    yield caches_with_redis
    server.flushdb()


@pytest.fixture
def dead_redis(settings_caches):
    return settings_caches(DEAD_REDIS_URL)


def serving_with(cache):
    """Serve the next requests as an app server whose page cache client is `cache`."""
    caches["pages"] = cache


def test_the_settings_use_django_redis_for_every_cache_when_redis_is_set(live_redis):
    assert {alias: config["BACKEND"] for alias, config in live_redis.items()} == {
        "default": "django_redis.cache.RedisCache",
        "pages": "django_redis.cache.RedisCache",
    }
    assert {config["LOCATION"] for config in live_redis.values()} == {REDIS_URL}
    assert {config["OPTIONS"]["CLIENT_CLASS"] for config in live_redis.values()} == {
        "policy.redis_client.RedisClient"
    }


STORED_VALUES = [0, 42, -7, 2**70, True, None, 1.5, "12", b"-3", "text", [1, "2"]]
STORED_VALUES += [{"content": b"\x80\x05 a kept page", "status": 200}]


@pytest.mark.parametrize("value", STORED_VALUES, ids=repr)
def test_with_redis_every_kind_of_value_reads_back_as_it_was_stored(live_redis, value):
    cache = caches["default"]
    cache.set("value", value)

    read = cache.get("value", default="missing")

    assert isinstance(cache.client, RedisClient)
    assert (read, type(read)) == (value, type(value))


def test_with_redis_a_count_is_raised_and_read_as_a_number(live_redis):
    cache = caches["default"]
    cache.set("count", 41)

    assert cache.incr("count") == 42
    assert cache.get("count") == 42


@pytest.mark.parametrize("value", [None, "long " * 1000], ids=["left-as-is", "compressed"])
def test_with_redis_a_compressed_cache_reads_back_small_and_large_values(live_redis, value):
    """The compressor leaves what is serialized in fewer than 16 bytes as it is: None in 4."""
    config = live_redis["default"]
    options = {**config["OPTIONS"], "COMPRESSOR": "django_redis.compressors.zlib.ZlibCompressor"}
    cache = RedisCache(config["LOCATION"], {**config, "OPTIONS": options})
    cache.set("value", value)

    assert cache.get("value", default="missing") == value


def test_two_app_servers_share_the_kept_pages_and_the_generation_through_redis(
    live_redis, visitor, publisher, committed
):
    record = CommitmentFactory(title="Before")
    first_server, second_server = (caches.create_connection("pages") for _ in range(2))
    assert first_server is not second_server

    serving_with(first_server)
    warmed = visitor.get(commitment_page(record))
    serving_with(second_server)
    shared = visitor.get(commitment_page(record))
    serving_with(first_server)
    with committed():
        token_client(publisher).patch(commitment_api(record), {"title": "After"}, format="json")
    serving_with(second_server)
    after_the_edit = visitor.get(commitment_page(record))

    assert served_from(warmed) == "miss"
    assert served_from(shared) == "hit"
    assert "Before" in shared.content.decode()
    assert served_from(after_the_edit) == "miss"
    assert "After" in after_the_edit.content.decode()
    assert redis.Redis.from_url(REDIS_URL).keys("*page:generation")


@pytest.fixture
def redis_round_trips(monkeypatch):
    """The number of times a Redis client sends, each a round trip (a pipeline sends once)."""
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counting(connection, command, *args, **kwargs):
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return sent


def anonymous_api_counts():
    """The API's request counts of anonymous clients, by window."""
    server = redis.Redis.from_url(REDIS_URL)
    return [int(server.get(key)) for key in server.keys("*throttle_anon_*")]


def test_with_redis_an_api_hit_is_counted_in_the_round_trip_that_finds_it(
    live_redis, visitor, redis_round_trips, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "2/minute"},
    }
    url = "/api/v1/countries/"
    first = visitor.get(url)
    redis_round_trips.clear()
    second = visitor.get(url)
    round_trips_of_a_hit = len(redis_round_trips)
    third = visitor.get(url)

    assert [served_from(first), served_from(second)] == ["miss", "hit"]
    assert round_trips_of_a_hit == 1
    assert third.status_code == 429
    # The miss and the refused request went to the view: each is counted once all the same.
    assert anonymous_api_counts() == [3]


def test_with_redis_a_page_hit_counts_no_api_request(live_redis, visitor, redis_round_trips):
    visitor.get("/en/commitments/")
    redis_round_trips.clear()

    hit = visitor.get("/en/commitments/")

    assert served_from(hit) == "hit"
    assert len(redis_round_trips) == 1
    assert anonymous_api_counts() == []


def test_with_redis_a_request_reads_no_setting_that_is_missing(live_redis, visitor, monkeypatch):
    """Each read of a missing setting raises and catches an AttributeError, on every request."""
    read = []
    getattr_of_settings = type(django_settings).__getattr__

    def recording(settings, name):
        read.append(name)
        return getattr_of_settings(settings, name)

    first_reads = [visitor.get("/en/commitments/"), visitor.get("/api/v1/countries/")]
    monkeypatch.setattr(type(django_settings), "__getattr__", recording)
    page = visitor.get("/en/search/?q=port")
    hit = visitor.get("/en/commitments/")
    api_read = visitor.get("/api/v1/countries/")

    assert [each.status_code for each in [*first_reads, page, hit, api_read]] == [200] * 5

    missing = [name for name in read if not hasattr(django_settings._wrapped, name)]
    assert missing == []


@pytest.fixture
def kept_connections(live_redis):
    """The connections of a pool of the test's Redis database, and a client of that pool."""
    pool = redis.ConnectionPool.from_url(REDIS_URL)
    yield KeptConnections(), pool, redis.Redis(connection_pool=pool)
    pool.disconnect()


def test_redis_replies_are_parsed_by_hiredis():
    """requirements.txt installs hiredis, which redis-py uses only in a version it supports."""
    assert redis.utils.HIREDIS_AVAILABLE


def test_a_thread_keeps_its_connection_for_the_next_lookups(kept_connections):
    connections, pool, _ = kept_connections

    [first] = connections.send(pool, [("CLIENT", "ID")])
    [second] = connections.send(pool, [("CLIENT", "ID")])

    assert first == second


def test_a_kept_connection_that_redis_closed_is_replaced_and_the_lookup_answered(
    kept_connections,
):
    connections, pool, server = kept_connections
    server.set("answer", "42")
    [closed] = connections.send(pool, [("CLIENT", "ID")])
    server.client_kill_filter(_id=closed)

    replies = connections.send(pool, [("CLIENT", "ID"), ("GET", "answer")])

    assert replies[0] != closed
    assert replies[1] == b"42"


def test_an_error_reply_leaves_no_reply_unread_for_the_next_lookup(kept_connections):
    connections, pool, server = kept_connections
    server.rpush("a list", "x")
    server.mset({"first": "1", "second": "2"})

    with pytest.raises(redis.ResponseError):
        connections.send(pool, [("INCR", "a list"), ("GET", "first")])

    assert connections.send(pool, [("GET", "second")]) == [b"2"]


def test_a_forked_process_takes_a_connection_of_its_own(kept_connections, monkeypatch):
    connections, pool, _ = kept_connections
    [parent] = connections.send(pool, [("CLIENT", "ID")])
    monkeypatch.setattr(os, "getpid", lambda: -1)

    [child] = connections.send(pool, [("CLIENT", "ID")])

    assert child != parent


def test_a_thread_gives_its_connection_back_to_the_pool_it_leaves(kept_connections):
    connections, first_pool, first_client = kept_connections
    second_pool = redis.ConnectionPool.from_url(REDIS_URL)
    [left] = connections.send(first_pool, [("CLIENT", "ID")])

    connections.send(second_pool, [("PING",)])

    assert first_client.client_id() == left
    second_pool.disconnect()


@pytest.fixture
def new_outage(monkeypatch):
    """No Redis error logged lately, so the next one is."""
    for each in logging.getLogger("django_redis.cache").filters:
        if isinstance(each, RepeatedRedisErrorFilter):
            monkeypatch.setattr(each, "quiet_until", 0.0)


def test_with_redis_down_pages_come_from_the_database_and_the_outage_is_logged_once(
    settings, dead_redis, new_outage, visitor, publisher, committed, caplog
):
    caplog.set_level(logging.WARNING)
    settings.CACHES = dead_redis
    record = CommitmentFactory(title="Before")

    pages = [visitor.get(commitment_page(record)) for _ in range(3)]
    api_reads = [visitor.get(commitment_api(record)) for _ in range(3)]
    with committed():
        edit = token_client(publisher).patch(
            commitment_api(record), {"title": "After"}, format="json"
        )
    after_the_edit = visitor.get(commitment_page(record))

    assert [each.status_code for each in [*pages, *api_reads]] == [200] * 6
    assert all("X-Cache" not in each for each in [*pages, *api_reads, after_the_edit])
    assert edit.status_code == 200
    assert Commitment.objects.get(pk=record.pk).title == "After"
    assert "After" in after_the_edit.content.decode()
    page_cache_warning, throttle_error = [
        each for each in caplog.records if each.name in ("policy.cache", "django_redis.cache")
    ]
    assert page_cache_warning.getMessage().startswith("The page cache fails (ConnectionError")
    assert "served from the database" in page_cache_warning.getMessage()
    assert throttle_error.getMessage().startswith("Redis fails (ConnectionError")
    assert throttle_error.exc_info is None


def test_the_outage_seen_at_the_front_door_is_logged_with_the_request_id_of_its_line(
    settings, dead_redis, json_log
):
    settings.CACHES = dead_redis

    response = FrontDoorClient().get("/en/commitments/")

    assert response.status_code == 200
    records = {line["logger"]: line for line in json_log()}
    assert records["policy.cache"]["message"].startswith("The page cache fails")
    assert (
        records["policy.cache"]["request_id"]
        == records["policy.requests"]["request_id"]
        == response["X-Request-ID"]
    )


def test_an_edit_made_while_redis_was_down_is_seen_once_it_answers_again(
    settings, live_redis, dead_redis, visitor, publisher, committed, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING, logger="policy.cache")
    monkeypatch.setattr(policy.cache, "RETRY_AFTER_ERROR", 0)
    record = CommitmentFactory(title="Before")
    visitor.get(commitment_page(record))
    assert served_from(visitor.get(commitment_page(record))) == "hit"

    settings.CACHES = dead_redis
    during = visitor.get(commitment_page(record))
    with committed():
        token_client(publisher).patch(commitment_api(record), {"title": "After"}, format="json")
    settings.CACHES = live_redis
    back = visitor.get(commitment_page(record))

    assert "X-Cache" not in during
    assert served_from(back) == "miss"
    assert "After" in back.content.decode()
    failure, recovery = [
        each.getMessage() for each in caplog.records if each.name == "policy.cache"
    ]
    assert failure.startswith("The page cache fails (ConnectionError")
    assert recovery == "The page cache answers again; its pages start anew."
