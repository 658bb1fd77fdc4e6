"""The API's HTTP behaviour: problem details, conditional requests, caching, throttling, CORS
and CSV export."""

import csv
import datetime
import hashlib
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework import renderers, serializers
from rest_framework.authtoken.models import Token

from policy.api.errors import field_errors
from policy.api.export import CSVExportMixin, CSVRenderer
from policy.api.renderers import JSONRenderer
from policy.api.throttling import AnonRateThrottle
from policy.models import CommitmentKind, PublicationStatus

from .factories import (
    ActorFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
)

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
DOCUMENTED_ERRORS = {"401", "403", "404", "405", "406", "429"}


@pytest.fixture(autouse=True)
def fresh_throttle_history():
    """Throttling counts requests in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.wsgi_request.path
    return body


# Problem details


def test_invalid_filter_answers_400_with_the_messages_of_each_field(client):
    response = client.get("/api/v1/commitments/", {"status": "promised", "kind": "loan"})

    body = assert_problem(response, 400)
    assert body["title"] == "Bad Request"
    assert sorted(body["errors"]) == ["kind", "status"]
    assert all(isinstance(message, str) for message in body["errors"]["status"])


def test_nested_validation_errors_are_flattened_to_dotted_paths():
    detail = {
        "figures": {"amount": {"value": ["Enter a number."]}},
        "parties": [{}, {"slug": ["Unknown party."]}],
        "non_field_errors": ["Dates overlap."],
    }

    assert field_errors(detail) == {
        "figures.amount.value": ["Enter a number."],
        "parties.1.slug": ["Unknown party."],
        "non_field_errors": ["Dates overlap."],
    }
    assert field_errors(["Not allowed."]) == {"non_field_errors": ["Not allowed."]}


def test_unknown_record_answers_404_problem_details(client):
    body = assert_problem(client.get("/api/v1/commitments/no-such-commitment/"), 404)

    assert body["title"] == "Not Found"
    assert "errors" not in body


def test_unknown_api_url_answers_404_problem_details(client):
    assert_problem(client.get("/api/v1/no-such-list/"), 404)


def test_unknown_site_url_still_answers_the_html_404_page(client):
    response = client.get("/en/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_method_not_allowed_answers_405_problem_details(admin_client):
    body = assert_problem(admin_client.delete("/api/v1/countries/"), 405)

    assert body["title"] == "Method Not Allowed"


def test_malformed_json_answers_400_problem_details(editor_client):
    response = editor_client.post(
        "/api/v1/commitments/", "{not json", content_type="application/json"
    )

    body = assert_problem(response, 400)
    assert body["detail"].startswith("JSON parse error")


def test_a_body_that_is_not_json_answers_415_problem_details(editor_client):
    response = editor_client.post("/api/v1/commitments/", "title", content_type="text/plain")

    body = assert_problem(response, 415)
    assert body["title"] == "Unsupported Media Type"


def test_a_wrong_token_answers_401_problem_details_with_www_authenticate(client):
    response = client.get("/api/v1/commitments/", headers={"Authorization": "Token wrong"})

    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_too_many_requests_answer_429_with_retry_after(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "2/minute"},
    }

    for _ in range(2):
        assert client.get("/api/v1/countries/").status_code == 200
    response = client.get("/api/v1/countries/")

    body = assert_problem(response, 429)
    assert body["title"] == "Too Many Requests"
    assert 0 < int(response["Retry-After"]) <= 60


@pytest.mark.parametrize(
    ("rates", "signed_in", "allowed"),
    [
        # Anonymous clients have the anonymous limit alone, signed-in users the user limit alone.
        ({"anon": "2/minute", "user": "1/minute"}, False, 2),
        ({"anon": "1/minute", "user": "3/minute"}, True, 3),
    ],
    ids=["anonymous", "signed-in"],
)
def test_each_client_is_held_to_the_limit_of_its_kind(
    client, settings, publisher, rates, signed_in, allowed
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    headers = {}
    if signed_in:
        headers["Authorization"] = f"Token {Token.objects.create(user=publisher).key}"

    statuses = [client.get("/api/v1/countries/", headers=headers).status_code for _ in range(4)]

    assert statuses == [200] * allowed + [429] * (4 - allowed)


def test_the_count_starts_again_with_the_next_window(client, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/minute", "user": "1/minute"},
    }
    clock = iter([120.0, 130.0, 180.0])
    monkeypatch.setattr(AnonRateThrottle, "timer", lambda self: next(clock))

    first, refused, next_window = (client.get("/api/v1/countries/") for _ in range(3))

    assert first.status_code == 200
    assert (refused.status_code, refused["Retry-After"]) == (429, "50")
    assert next_window.status_code == 200


# Conditional requests and caching


@pytest.mark.parametrize("path", ["/api/v1/commitments/", "/api/v1/commitments/visas/"])
def test_list_and_detail_carry_etag_and_last_modified(client, path):
    commitment = CommitmentFactory(slug="visas")

    response = client.get(path)

    assert response.has_header("ETag")
    stamp = datetime.datetime.strptime(response["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT")
    assert stamp.replace(tzinfo=datetime.UTC) == commitment.updated_at.replace(microsecond=0)


def test_a_list_etag_is_a_weak_hash_of_the_body(client):
    CommitmentFactory()

    response = client.get("/api/v1/commitments/")

    assert response["ETag"] == f'W/"{hashlib.sha256(response.content).hexdigest()[:32]}"'


def test_records_without_an_update_time_have_an_etag_only(client):
    CountryFactory(slug="brazil")

    response = client.get("/api/v1/countries/brazil/")

    assert response.has_header("ETag")
    assert not response.has_header("Last-Modified")


@pytest.mark.parametrize("path", ["/api/v1/commitments/", "/api/v1/commitments/visas/"])
def test_matching_if_none_match_answers_304(client, path):
    CommitmentFactory(slug="visas")
    first = client.get(path)

    response = client.get(path, headers={"If-None-Match": first["ETag"]})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == first["ETag"]
    assert response["Cache-Control"] == first["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/v1/commitments/", "/api/v1/commitments/visas/"])
def test_unchanged_since_if_modified_since_answers_304(client, path):
    CommitmentFactory(slug="visas")
    first = client.get(path)

    response = client.get(path, headers={"If-Modified-Since": first["Last-Modified"]})

    assert response.status_code == 304


def test_a_save_changes_etag_and_last_modified(client, monkeypatch):
    commitment = CommitmentFactory(slug="visas")
    first = client.get("/api/v1/commitments/")
    later = timezone.now() + datetime.timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    commitment.title = "Visa waiver"
    commitment.save()

    by_etag = client.get("/api/v1/commitments/", headers={"If-None-Match": first["ETag"]})
    by_date = client.get(
        "/api/v1/commitments/", headers={"If-Modified-Since": first["Last-Modified"]}
    )

    assert by_etag.status_code == 200
    assert by_etag["ETag"] != first["ETag"]
    assert by_date.status_code == 200
    assert by_date["Last-Modified"] != first["Last-Modified"]


def test_a_record_leaving_the_list_changes_its_etag(client):
    CommitmentFactory(slug="kept")
    leaving = CommitmentFactory(slug="leaving")
    first = client.get("/api/v1/commitments/")
    leaving.publication_status = PublicationStatus.ARCHIVED
    leaving.save()

    response = client.get("/api/v1/commitments/", headers={"If-None-Match": first["ETag"]})

    assert response.status_code == 200


def test_stale_if_match_on_a_read_answers_412_problem_details(client):
    CommitmentFactory(slug="visas")

    response = client.get("/api/v1/commitments/visas/", headers={"If-Match": 'W/"old"'})

    assert_problem(response, 412)


def test_anonymous_reads_may_be_cached_publicly_for_a_minute(client):
    response = client.get("/api/v1/commitments/")

    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=60"}
    assert {"Accept", "Authorization", "Cookie"} <= set(response["Vary"].split(", "))


def test_signed_in_reads_are_not_stored(admin_client):
    response = admin_client.get("/api/v1/commitments/")

    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}


def test_errors_carry_no_caching_headers(client):
    response = client.get("/api/v1/commitments/no-such-commitment/")

    assert not response.has_header("ETag")
    assert not response.has_header("Cache-Control")


# CORS


@pytest.fixture
def allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://partner.example"]
    return "https://partner.example"


def test_an_allowed_origin_may_read_the_api(client, allowed_origin):
    response = client.get("/api/v1/commitments/", headers={"Origin": allowed_origin})

    assert response["Access-Control-Allow-Origin"] == allowed_origin
    assert not response.has_header("Access-Control-Allow-Credentials")


def test_other_origins_get_no_cors_headers(client, allowed_origin):
    response = client.get("/api/v1/commitments/", headers={"Origin": "https://elsewhere.example"})

    assert not response.has_header("Access-Control-Allow-Origin")


def test_cors_preflight_allows_reading_but_not_writing(client, allowed_origin):
    response = client.options(
        "/api/v1/commitments/",
        headers={"Origin": allowed_origin, "Access-Control-Request-Method": "POST"},
    )

    allowed = set(response["Access-Control-Allow-Methods"].split(", "))
    assert allowed == {"GET", "HEAD", "OPTIONS"}


def test_the_public_site_sends_no_cors_headers(client, allowed_origin):
    response = client.get("/en/", headers={"Origin": allowed_origin})

    assert not response.has_header("Access-Control-Allow-Origin")


# JSON


def drf_json(data, **renderer_context):
    return renderers.JSONRenderer().render(data, renderer_context=renderer_context)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/commitments/",
        "/api/v1/commitments/awkward/",
        "/api/v1/articles/",
        "/api/v1/focus-areas/",
        "/api/v1/countries/",
        "/api/v1/commitments/awkward/status-updates/",
        "/api/v1/commitments/?status=promised",
    ],
)
def test_the_json_is_byte_for_byte_what_drf_would_write(client, path):
    # Text that JSON encoders write in different ways: non-ASCII, escapes, the line separators
    # that DRF escapes for JavaScript; exact money, times, nulls.
    commitment = full_commitment(
        slug="awkward",
        title='Línea de crédito 中拉 "66" \\ mil millones\u2028\u2029 \x01',
        amount=Decimal("66000000000.01"),
        currency="CNY",
    )
    commitment.focus_areas.update(description="Tab\there, emoji 🌎, “quotes”")

    response = client.get(path)

    assert response["Content-Type"] in ("application/json", "application/problem+json")
    assert response.content == drf_json(response.data)


def test_the_api_writes_its_json_with_the_orjson_renderer(client):
    response = client.get("/api/v1/commitments/")

    assert type(response.accepted_renderer) is JSONRenderer


def test_json_escapes_the_line_separators_that_javascript_refuses_as_drf_does():
    content = JSONRenderer().render({"title": "one\u2028two\u2029three"})

    assert content == b'{"title":"one\\u2028two\\u2029three"}'


def test_the_browsable_api_and_an_indent_asked_for_get_drfs_own_layout(client):
    CommitmentFactory()

    indented = client.get("/api/v1/commitments/", headers={"Accept": "application/json; indent=2"})

    assert indented.content == drf_json(indented.data, indent=2)
    assert indented.content.startswith(b'{\n  "count": 1')


def test_what_orjson_refuses_is_written_by_drf():
    data = {1: "a key that is not a string", "big": 2**70, "when": datetime.date(2025, 1, 31)}

    assert JSONRenderer().render(data) == drf_json(data)


# CSV export


def csv_rows(response):
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def full_commitment(**kwargs):
    commitment = CommitmentFactory(announced_at=EventFactory(), **kwargs)
    commitment.parties.add(ActorFactory(), ActorFactory())
    commitment.countries.add(CountryFactory())
    commitment.focus_areas.add(FocusAreaFactory())
    SourceQuoteFactory(commitment=commitment)
    StatusUpdateFactory(commitment=commitment)
    return commitment


@pytest.mark.parametrize(
    ("query", "headers"),
    [({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})],
    ids=["format-parameter", "accept-header"],
)
def test_commitments_export_as_streamed_csv(client, query, headers):
    full_commitment(slug="credit-line", title="Credit line")

    response = client.get("/api/v1/commitments/", query, headers=headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="commitments.csv"'
    [row] = csv_rows(response)
    assert row["slug"] == "credit-line"
    assert row["title"] == "Credit line"
    assert row["url"].startswith("http://testserver/api/v1/commitments/credit-line/")


def test_csv_flattens_nested_fields_into_dotted_columns_and_joins_lists(client):
    commitment = full_commitment()

    [row] = csv_rows(client.get("/api/v1/commitments/", {"format": "csv"}))

    parties = commitment.parties.values_list("slug", flat=True)
    assert sorted(row["parties.slug"].split("; ")) == sorted(parties)
    assert row["figures.period.start_precision"] == "year"
    assert row["status_history.status"] == "in_the_works"
    assert row["figures.amount.value"] == ""


def test_csv_keeps_money_exact(client):
    CommitmentFactory(
        kind=CommitmentKind.CREDIT_LINE,
        amount=Decimal("66000000000.00"),
        currency="CNY",
        usd_equivalent=Decimal("9200000000.10"),
    )

    [row] = csv_rows(client.get("/api/v1/commitments/", {"format": "csv"}))

    assert row["figures.amount.value"] == "66000000000.00"
    assert row["figures.amount.currency"] == "CNY"
    assert row["figures.amount.usd_equivalent"] == "9200000000.10"


def test_csv_applies_filters_and_ordering_and_leaves_out_drafts(client):
    CommitmentFactory(slug="b-credit", title="B", kind=CommitmentKind.CREDIT_LINE)
    CommitmentFactory(slug="a-credit", title="A", kind=CommitmentKind.CREDIT_LINE)
    CommitmentFactory(slug="visas", kind=CommitmentKind.VISA_POLICY)
    CommitmentFactory(
        slug="draft", kind=CommitmentKind.CREDIT_LINE, publication_status=PublicationStatus.DRAFT
    )

    rows = csv_rows(client.get("/api/v1/commitments/", {"format": "csv", "kind": "credit_line"}))

    assert [row["slug"] for row in rows] == ["a-credit", "b-credit"]


def test_csv_is_the_whole_list_not_one_page(client):
    CommitmentFactory.create_batch(25)

    rows = csv_rows(client.get("/api/v1/commitments/", {"format": "csv", "page_size": 10}))

    assert len(rows) == 25


def test_csv_escapes_text_that_a_spreadsheet_would_run_as_a_formula(client):
    CommitmentFactory(
        title='=HYPERLINK("https://attacker.example","Open")',
        description="@SUM(A1:A9)",
        target_value=Decimal("3500"),
        target_unit="-2+3 scholarships",
        slug="-leading-hyphen",
    )

    [row] = csv_rows(client.get("/api/v1/commitments/", {"format": "csv"}))

    assert row["title"] == """'=HYPERLINK("https://attacker.example","Open")"""
    assert row["description"] == "'@SUM(A1:A9)"
    assert row["figures.target.unit"] == "'-2+3 scholarships"
    assert row["slug"] == "'-leading-hyphen"
    assert row["figures.target.value"] == "3500.00"


def test_csv_leaves_numbers_alone_even_negative_ones():
    class Change(serializers.Serializer):
        label = serializers.CharField()
        delta = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=10, decimal_places=2)

    class View:
        def get_serializer(self):
            return Change()

    rows = [{"label": "-5", "delta": -5, "amount": "-1.50"}]
    lines = CSVRenderer().render(rows, renderer_context={"view": View()})

    assert "".join(lines).splitlines() == ["label,delta,amount", "'-5,-5,-1.50"]


def test_csv_with_an_invalid_filter_answers_problem_details(client):
    response = client.get("/api/v1/commitments/", {"format": "csv", "status": "promised"})

    assert_problem(response, 400)


def test_a_record_exports_as_one_csv_row_linking_to_itself_in_csv(client):
    CommitmentFactory(slug="visas")

    response = client.get("/api/v1/commitments/visas/", {"format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    [row] = csv.DictReader(io.StringIO(response.content.decode()))
    assert row["slug"] == "visas"
    assert row["url"] == "http://testserver/api/v1/commitments/visas/?format=csv"


@pytest.mark.parametrize("rows", [3, 30])
def test_csv_query_count_does_not_grow_with_rows(client, django_assert_num_queries, rows):
    for _ in range(rows):
        full_commitment()

    # Streamed: the commitments, and one query each for parties, countries, focus areas, quotes
    # and status history per chunk of rows.
    with django_assert_num_queries(6):
        assert len(csv_rows(client.get("/api/v1/commitments/", {"format": "csv"}))) == rows


def test_csv_prefetches_per_chunk(client, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(CSVExportMixin, "csv_chunk_size", 10)
    for _ in range(25):
        CommitmentFactory()

    # The commitments, then five prefetches for each of three chunks.
    with django_assert_num_queries(1 + 5 * 3):
        assert len(csv_rows(client.get("/api/v1/commitments/", {"format": "csv"}))) == 25


@pytest.mark.parametrize(
    ("path", "filename"),
    [
        ("/api/v1/articles/", "articles.csv"),
        ("/api/v1/focus-areas/", "focus-areas.csv"),
        ("/api/v1/countries/", "countries.csv"),
    ],
)
def test_every_list_exports_csv(client, path, filename):
    response = client.get(path, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.getvalue().decode().startswith(("title,", "name,"))


# Documentation


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_served_as_yaml_by_default(client):
    response = client.get("/api/v1/schema/")

    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


def test_schema_view_serves_the_document_the_contract_tests_check(openapi):
    document = SchemaGenerator().get_schema(request=None, public=True)

    assert openapi == json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


def test_schema_describes_the_api_version(openapi):
    assert openapi["info"]["title"] == "Puente API"
    assert openapi["info"]["version"] == "1.0.0"
    assert "## Errors" in openapi["info"]["description"]


def test_every_operation_documents_its_problem_details(openapi):
    for operations in openapi["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            assert set(responses) >= DOCUMENTED_ERRORS, operation["operationId"]
            for status in DOCUMENTED_ERRORS:
                assert PROBLEM in responses[status]["content"]
            assert "Retry-After" in responses["429"]["headers"]


def test_lists_document_filters_csv_and_conditional_requests(openapi):
    operation = openapi["paths"]["/api/v1/commitments/"]["get"]

    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"status", "country", "page", "page_size", "format", "If-None-Match"} <= names
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert {"ETag", "Last-Modified"} <= set(operation["responses"]["200"]["headers"])
    assert "304" in operation["responses"]
    problem = operation["responses"]["400"]["content"][PROBLEM]["schema"]
    assert problem == {"$ref": "#/components/schemas/ValidationProblem"}


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_api_docs_load_only_local_assets(client, path):
    html = client.get(path).content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    # Static files, and Swagger UI's start-up script from the page's own URL.
    assert all(asset.startswith(("/static/", f"{path}?script=")) for asset in assets)
    assert "http://" not in html
    assert "https://" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/commitments/?search=a%00b",
        "/api/v1/commitments/?country=B%00R",
        "/api/v1/commitments/a%00b/",
        "/en/commitments/?party=x%00",
        "/en/search/?q=%00",
    ],
)
def test_a_nul_character_anywhere_in_the_request_is_a_clear_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
