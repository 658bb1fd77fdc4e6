"""Request IDs and structured logs: every log record written while a request is served carries
its ID, the response echoes it in `X-Request-ID`, and each request ends with one log line.

A well-formed ID from the proxy in front (nginx's `$request_id`, Heroku's router) is kept, so
one ID follows the request through every layer; anything else is replaced by a new one.
"""

import logging
import logging.config
import re
import time
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter as BaseJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# Long enough for any tracing ID in use, and nothing that could forge a second log line.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Where the request's ID is kept in the WSGI environment, next to the request's headers.
REQUEST_ID_ENVIRON_KEY = "policy.request_id"

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

request_logger = logging.getLogger("policy.requests")


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        identify(request)
        response = self.get_response(request)
        log_request(request, response, started=started)
        return response


def identify(request):
    """Give the request its ID, for the records written while it is served.

    The ID stays in the WSGI environment: the page cache's front door (policy/wsgi.py) gives it
    before Django's handler, which reads the same environment again when the cache misses.
    """
    request_id = request.META.get(REQUEST_ID_ENVIRON_KEY) or incoming_request_id(request)
    request.id = request.META[REQUEST_ID_ENVIRON_KEY] = request_id or uuid.uuid4().hex
    # Reset when the request finishes, not on the way out of the middleware: Django logs 4xx
    # responses ("Not Found: /x") after the last middleware returns.
    current_request_id.set(request.id)


def log_request(request, response, *, started):
    """Echo the request's ID in the response, and write the request's line."""
    response[REQUEST_ID_HEADER] = request.id
    request_logger.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            # The path without the query string: queries are free text (searches) where a
            # visitor or a client may paste anything.
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": known_user_id(request),
        },
    )


def incoming_request_id(request):
    # META rather than request.headers, which would build a dict of every header for this one.
    request_id = request.META.get("HTTP_X_REQUEST_ID", "")
    return request_id if WELL_FORMED_REQUEST_ID.fullmatch(request_id) else None


def known_user_id(request):
    """The authenticated user's id, if the request already looked its user up: the request line
    never queries the database, which may be the reason the request failed."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


@receiver(request_finished)
def forget_request_id(**kwargs):
    current_request_id.set(None)


def configure_logging(config):
    """LOGGING_CONFIG: Django's dictConfig, with records that skip what no line of ours writes.

    Unless told not to, logging looks up for each record the file, line and function that wrote
    it and the names of its thread and process (Python's logging HOWTO, "Optimization"): a sixth
    of the time of the line each request writes. The process ID stays: Gunicorn's lines show it.
    """
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    logging.config.dictConfig(config)


class RequestIDFilter(logging.Filter):
    """Adds `request_id` to the records written while a request is served. On the handler, so
    that it sees the records of every logger, Django's and the libraries' included."""

    def filter(self, record):
        if request_id := current_request_id.get():
            record.request_id = request_id
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, the record's extras
    (request_id, the request line's fields, django.request's status_code) and, for an error,
    its traceback in `exc_info`."""

    def __init__(self, **kwargs):
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
            # django.request attaches the HttpRequest, whose text includes the query string.
            reserved_attrs=[*RESERVED_ATTRS, "request"],
            **kwargs,
        )
