"""Answering while the database cannot serve: 503 Service Unavailable with Retry-After, not a
server error, so that visitors, API clients and crawlers know to come back.

Nothing is restarted when the database answers again: each worker checks its connection before
a request reuses it (CONN_HEALTH_CHECKS) and opens a new one if it is gone, and connect_timeout
bounds the wait for a server that does not answer (DATABASES in config/settings/base.py).
"""

import logging

from policy.api.errors import DATABASE_UNAVAILABLE, service_unavailable

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Answers 503 when a view cannot reach the database, with one warning in the log.

    An error raised by a middleware, such as the page cache looking up a signed-in user, never
    reaches a middleware's process_exception; handler500 answers it the same way.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        logger.warning(
            "The database cannot serve %s (%s: %s); answered 503.",
            request.path,
            type(exception).__name__,
            str(exception).strip(),
        )
        return service_unavailable(request)
