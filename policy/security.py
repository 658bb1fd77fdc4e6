"""Who is knocking: the client's address, the logs of logins and refusals, and the page of a
login that django-axes has paused.

The logs name the user, the address and the path, never a password or a token. Text that a
client chose (a username, a path) is cut short and stripped of control characters, so that it
cannot forge a second line in a text log.
"""

import ipaddress
import logging

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# As long as the longest username Django accepts.
LOGGED_TEXT_LIMIT = 150


def client_ip(request):
    """The address of the client, as the proxies in front of the app servers saw it.

    Each of the TRUSTED_PROXY_COUNT proxies appends the address it was reached from to
    X-Forwarded-For, so the client is that many entries from the end; whatever the client wrote
    there itself comes before, and is ignored. Without proxies, the address of the connection.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addresses = forwarded.split(",")
        if len(addresses) >= proxies:
            try:
                return str(ipaddress.ip_address(addresses[-proxies].strip()))
            except ValueError:
                pass  # not written by a proxy of ours: the connection's address is safer
    return request.META.get("REMOTE_ADDR")


def printable(text):
    """A client's text, short and on one line, to be logged."""
    kept = "".join(character for character in str(text) if character.isprintable())
    return kept[:LOGGED_TEXT_LIMIT]


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    """Runs after django-axes has counted the failure, so it knows whether logins are paused."""
    username = printable(credentials.get("username", ""))
    address = client_ip(request) if request is not None else None
    if getattr(request, "axes_locked_out", False):
        logger.warning(
            "Login refused for %r from %s: too many failures, paused for %s",
            username,
            address,
            get_cool_off(request),
            extra={"username": username, "client_ip": address, "locked_out": True},
        )
    else:
        logger.warning(
            "Login failed for %r from %s",
            username,
            address,
            extra={"username": username, "client_ip": address, "locked_out": False},
        )


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    address = client_ip(request) if request is not None else None
    logger.info(
        "Login by user %s from %s",
        user.pk,
        address,
        extra={"user_id": user.pk, "client_ip": address},
    )


class PermissionDeniedLogMiddleware:
    """Logs every 403 with who asked for what: the admin's and the API's refusals alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            # The API's token user too: DRF sets it on the request it wraps.
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
            path = printable(request.path)
            logger.warning(
                "Permission denied to user %s: %s %s",
                user_id,
                request.method,
                path,
                extra={
                    "user_id": user_id,
                    "method": request.method,
                    "path": path,
                    "client_ip": client_ip(request),
                },
            )
        return response


def lockout_response(request, original_response, credentials):
    """The admin's page for a paused login: 429, with the wait in Retry-After."""
    cool_off = get_cool_off(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Too many failed logins"),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": round(cool_off.total_seconds() / 60),
    }
    response = render(request, "admin/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
