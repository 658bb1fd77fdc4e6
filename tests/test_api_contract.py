"""The API keeps the promises of its OpenAPI schema.

Schemathesis calls every operation of the schema that /api/v1/schema/ serves, in-process through
WSGI, with generated input, on the seed content, anonymously and with an Editor's and a
Publisher's token: no answer may be a 500, and every status code and body must be one the schema
documents. Detail paths get the seed's slugs as well as made-up ones.
"""

import json

import hypothesis
import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

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
