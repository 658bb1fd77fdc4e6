"""The API keeps the promises of its OpenAPI schema.

Schemathesis calls every operation of the schema that /api/v1/schema/ serves, in-process through
WSGI, with generated input, on the seed content, anonymously and with an Editor's and a
Publisher's token: no answer may be a 500, and every status code and body must be one the schema
documents. Detail paths get the seed's slugs as well as made-up ones. Then chains of calls with
a Publisher's token: records created, read, changed and deleted in turn.
"""

import json

import hypothesis
import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from config.wsgi import application

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# The model of each list, to find the seed's slugs for its detail paths.
SEED_MODEL_BY_LIST = {
    "articles": "policy.article",
    "commitments": "policy.commitment",
    "focus-areas": "policy.focusarea",
    "countries": "policy.country",
    "actors": "policy.actor",
    "people": "policy.person",
    "events": "policy.event",
    "projects": "policy.project",
    "keywords": "policy.keyword",
}


def seed_slugs():
    """The slugs in the seed by list, read from its file: the database changes as tests write."""
    records = json.loads((django_settings.BASE_DIR / "fixtures" / "seed.json").read_text("utf-8"))
    return {
        name: sorted(r["fields"]["slug"] for r in records if r["model"] == model)
        for name, model in SEED_MODEL_BY_LIST.items()
    }


SEED_SLUGS = seed_slugs()


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Schemathesis calls the WSGI application itself, which closes the database connection
    after each request; the test transaction lives on that connection, so keep it open, as
    Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def no_throttling(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }
    cache.clear()


def served_schema():
    """The document /api/v1/schema/ serves, generated as its view does.

    It is generated directly because tests are collected before the test database exists, and
    the view, like every view, runs in a transaction. test_api_http checks the view serves it.
    """
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


# Examples and fuzzing only: the coverage phase, which also tries the boundary values of every
# parameter, passes as well but takes three times as long.
schema = schemathesis.openapi.from_dict(
    served_schema(),
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}}),
)
# Requests go to the Django app in-process, through WSGI.
schema.app = application


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Slugs in detail paths are also the seed's, so details are read, not only 404s."""
    slugs = SEED_SLUGS.get(context.operation.path.removeprefix("/api/v1/").split("/")[0])
    names = [name for name in path_parameters or {} if name.endswith("slug")]
    if not slugs or not names:
        return st.just(path_parameters)
    seeded = st.sampled_from(slugs).map(lambda slug: {**path_parameters, names[0]: slug})
    return st.one_of(seeded, st.just(path_parameters))


@pytest.fixture
def auth_headers(request, db):
    """No credentials, or the token of the user the test is parametrized with."""
    if request.param == "anonymous":
        return {}
    token = Token.objects.create(user=request.getfixturevalue(request.param))
    return {"Authorization": f"Token {token.key}"}


@hypothesis.settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
@schema.parametrize()
@pytest.mark.parametrize("auth_headers", ["anonymous", "editor", "publisher"], indirect=True)
def test_every_operation_keeps_to_the_schema(case, seed, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=CHECKS)


def writes_with_nul_in_every_field():
    """Each write operation, with a body whose every field is, or lists, a string with a NUL."""
    bodies = schema.raw_schema["components"]["schemas"]
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            fields = bodies[reference.rpartition("/")[2]]["properties"]
            body = {
                name: ["a\x00b"] if field.get("type") == "array" else "a\x00b"
                for name, field in fields.items()
                if not field.get("readOnly")
            }
            listed = path.removeprefix("/api/v1/").split("/")[0]
            url = path.format(
                slug=SEED_SLUGS[listed][0], commitment_slug=SEED_SLUGS["commitments"][0], id=1
            )
            yield pytest.param(method, url, body, id=f"{method.upper()} {path}")


@pytest.mark.parametrize(("method", "url", "body"), list(writes_with_nul_in_every_field()))
def test_a_nul_in_any_field_of_a_write_is_a_clear_400(client, seed, publisher, method, url, body):
    """Relations are looked up by what is sent, which PostgreSQL cannot compare with a NUL."""
    client.raise_request_exception = False
    response = getattr(client, method)(
        url,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=publisher).key}",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "The request contains a NUL character, which no field accepts."
    )


def test_an_escaped_backslash_before_u0000_is_no_nul(client, publisher):
    response = client.post(
        "/api/v1/keywords/",
        r'{"name": "C:\\u0000", "slug": "c-u0000"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=publisher).key}",
    )
    assert response.status_code == 201
    assert response.json()["name"] == "C:\\u0000"


class Workflows(schema.as_state_machine()):
    """Chains of calls along the links Schemathesis infers between operations: what a POST
    creates, or a list shows, is then read, changed and deleted. Each call is checked as above,
    and against the calls before it: a deleted record is gone, a created one can be read.

    Each chain starts from the seed: its writes are rolled back when it ends.
    """

    headers = {}

    def setup(self):
        self.chain = transaction.atomic()
        self.chain.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self.chain.__exit__(None, None, None)

    def get_call_kwargs(self, case):
        return {"headers": self.headers}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(
            response,
            checks=[*CHECKS, use_after_free, ensure_resource_availability],
            headers=self.headers,
            recorder=self.recorder,
        )


def test_chains_of_writes_keep_to_the_schema(seed, publisher):
    class PublisherWorkflows(Workflows):
        headers = {"Authorization": f"Token {Token.objects.create(user=publisher).key}"}

    PublisherWorkflows.run(
        settings=hypothesis.settings(
            max_examples=40,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
