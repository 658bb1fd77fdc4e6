"""The WSGI application: Django's, with the page cache's hits answered before its handler.

A hit needs nothing of what Django's handler does around the middleware: the signals at the start
and the end of a request (they close database connections and caches that a hit never opens, and
reset the URLconf that a hit never sets), and the layers of the middleware chain. Under Gunicorn,
skipping them took an eighth off a worker's CPU time per hit (490 to 430 µs for a commitment
page, 535 to 473 µs for a 304 of the API), and a worker answered 7% more of either a second.

The front door does for an anonymous read what the middleware before the page cache do
(MIDDLEWARE in config/settings/base.py): it leaves the health checks to Django, gives the request
its ID, drops the tracking parameters, and looks it up. It answers hits and 304s itself, with its
request line. Anything else goes on to Django's handler, which reads the same WSGI environment
again: the request keeps its ID, and the page cache's middleware takes the lookup from there
instead of looking up a second time, so that a miss costs no extra round trip to the cache and
counts once against the API's rate limits. Under ASGI and the test client, the middleware looks
the request up itself; what a hit is stays in one place, `PageLookup.hit`.
"""

import time

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.urls import set_script_prefix

from policy.cache import PAGE_LOOKUP_ENVIRON_KEY, PageLookup, is_anonymous_read
from policy.health import HEALTH_CHECKS
from policy.middleware import drop_tracking_parameters
from policy.observability import current_request_id, identify, log_request


class PageCacheFrontDoor:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if settings.PAGE_CACHE_SECONDS and (response := self.hit(environ)) is not None:
            start_response(f"{response.status_code} {response.reason_phrase}", [*response.items()])
            # Not the response itself: its close() would signal the end of a request whose
            # start was never signalled.
            return [response.content]
        return self.application(environ, start_response)

    def hit(self, environ):
        """The answer from the page cache, or None for Django's handler to answer."""
        started = time.perf_counter()
        # As Django's handler does first: reverse() reads it, is_anonymous_read among others.
        set_script_prefix(get_script_name(environ))
        request = WSGIRequest(environ)
        if request.path_info in HEALTH_CHECKS or not is_anonymous_read(request):
            return None
        identify(request)
        try:
            drop_tracking_parameters(request)
            try:
                lookup = PageLookup.of(request)
            except DisallowedHost:
                # Django's handler answers it: 400, and a line in the security log.
                return None
            environ[PAGE_LOOKUP_ENVIRON_KEY] = lookup
            if lookup is None or (response := lookup.hit(request)) is None:
                return None
            log_request(request, response, started=started)
            return response
        finally:
            current_request_id.set(None)
