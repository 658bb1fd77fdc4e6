"""Every API error as RFC 9457 problem details, in application/problem+json.

    {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "Invalid input.",
     "instance": "/api/v1/commitments/", "errors": {"status": ["Select a valid choice."]}}

`errors` comes with validation errors only: each field, nested ones as a dotted path such as
`figures.amount.value`, maps to its messages. Errors that concern no one field are under
`non_field_errors`.
"""

import sys
from http import HTTPStatus

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, renderers
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from policy.transactions import roll_back_write

API_PATH_PREFIX = "/api/"
# What a database that cannot serve for now raises: OperationalError when it cannot be reached, is
# shutting down or starting up, or has no connection left; InterfaceError on a connection it closed.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# A restart or a failover of the database takes seconds to a minute.
RETRY_AFTER_SECONDS = 30


class ProblemJSONRenderer(renderers.JSONRenderer):
    media_type = "application/problem+json"


def problem(*, status, detail, instance, errors=None):
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail),
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def field_errors(detail):
    """Flatten DRF's nested error detail into {"dotted.path": [messages]}."""
    errors = {}

    def visit(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                visit(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                # Messages stay on their field; nested records in a list are numbered.
                nested = isinstance(item, dict | list)
                visit(item, (f"{path}.{index}" if path else str(index)) if nested else path)
        else:
            errors.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(node))

    visit(detail, "")
    return errors


def problem_details_handler(exc, context):
    """DRF's exception handler, with its status and headers (WWW-Authenticate, Retry-After) kept."""
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django logs it and answers 500
    request = context["request"]
    # DRF rolls back only under ATOMIC_REQUESTS; policy.transactions.AtomicWritesMiddleware takes
    # its place.
    roll_back_write(request)
    data = response.data
    if (
        isinstance(data, dict)
        and "detail" in data
        and not isinstance(exc, exceptions.ValidationError)
    ):
        detail, errors = data["detail"], None
    else:
        detail, errors = exc.default_detail, field_errors(data)
    response.data = problem(
        status=response.status_code, detail=detail, instance=request.path, errors=errors
    )
    # Problem details whatever was asked for: a failed ?format=csv gets JSON it can read.
    request.accepted_renderer = ProblemJSONRenderer()
    request.accepted_media_type = ProblemJSONRenderer.media_type
    return response


def bad_request(request, exception):
    """handler400, for requests refused before a view reads them (a body past
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields): problem details under /api/."""
    if not request.path.startswith(API_PATH_PREFIX):
        return defaults.bad_request(request, exception)
    body = problem(status=400, detail=exceptions.ParseError.default_detail, instance=request.path)
    return HttpResponse(
        ProblemJSONRenderer().render(body),
        status=400,
        content_type=ProblemJSONRenderer.media_type,
    )


def page_not_found(request, exception):
    """handler404: problem details under /api/, the site's page everywhere else."""
    if not request.path.startswith(API_PATH_PREFIX):
        return defaults.page_not_found(request, exception)
    body = problem(status=404, detail=exceptions.NotFound.default_detail, instance=request.path)
    return HttpResponse(
        ProblemJSONRenderer().render(body),
        status=404,
        content_type=ProblemJSONRenderer.media_type,
    )


def server_error(request):
    """handler500: problem details under /api/, the site's page everywhere else. Neither shows
    the error; both give the request ID that finds its traceback in the logs."""
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        # Raised by a middleware, such as the page cache looking up a signed-in user: a view's
        # is answered by policy.availability, and never gets here.
        return service_unavailable(request)
    request_id = getattr(request, "id", None)
    if not request.path.startswith(API_PATH_PREFIX):
        # Rendered without the request, as Django's own handler does: the error may come from
        # what the context processors need, the session or the database.
        return HttpResponseServerError(
            loader.render_to_string("500.html", {"request_id": request_id})
        )
    body = problem(status=500, detail=exceptions.APIException.default_detail, instance=request.path)
    body["request_id"] = request_id
    return HttpResponse(
        ProblemJSONRenderer().render(body),
        status=500,
        content_type=ProblemJSONRenderer.media_type,
    )


def service_unavailable(request):
    """503 while the database cannot serve: problem details under /api/, the site's page
    everywhere else, both with Retry-After and kept by no cache."""
    if request.path.startswith(API_PATH_PREFIX):
        body = problem(
            status=503,
            detail=_("The service is temporarily unavailable. Try again later."),
            instance=request.path,
        )
        response = HttpResponse(
            ProblemJSONRenderer().render(body),
            status=503,
            content_type=ProblemJSONRenderer.media_type,
        )
    else:
        # Without the request, as the 500 page: the context processors would ask the database.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    add_never_cache_headers(response)
    return response
