"""Health checks for load balancers and orchestrators.

`/healthz`: the process answers (liveness); it touches nothing else, so a database outage does
not get every app server restarted. `/readyz`: the database and the cache answer too
(readiness), so the load balancer sends no traffic to a server that cannot serve it.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


class CheckFailed(Exception):
    """A dependency that does not work; the message says how, without addresses or secrets."""


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        reason = f"the database did not answer a query ({type(error).__name__})"
        raise CheckFailed(reason) from error


def check_cache():
    """A full round trip: with django-redis ignoring exceptions, a dead Redis raises nothing and
    only fails to give back what was stored."""
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        answered = cache.get(key)
        cache.delete(key)
    except Exception as error:
        raise CheckFailed(f"the cache did not answer ({type(error).__name__})") from error
    if answered != value:
        raise CheckFailed("the cache did not give back the value just stored")


READINESS_CHECKS = {"database": check_database, "cache": check_cache}


@never_cache
@require_safe
def liveness(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readiness(request):
    checks = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except CheckFailed as failure:
            logger.warning(
                "Readiness check %s failed: %s", name, failure, exc_info=failure.__cause__
            )
            checks[name] = str(failure)
        else:
            checks[name] = "ok"
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


HEALTH_CHECKS = {"/healthz": liveness, "/readyz": readiness}


class HealthCheckMiddleware:
    """Answers the health checks ahead of every other middleware: load balancers call them with
    an IP address as Host, over plain HTTP behind TLS termination, and without a language prefix,
    so host validation, the HTTPS redirect, the locale redirect, the page cache and the request
    log (a line every few seconds per balancer) must not see them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if view := HEALTH_CHECKS.get(request.path_info):
            response = view(request)
            # SecurityMiddleware does not see these answers; they are JSON all the same.
            response["X-Content-Type-Options"] = "nosniff"
            return response
        return self.get_response(request)
