"""API tokens, with a pause for an address that keeps sending wrong ones.

After LOGIN_FAILURE_LIMIT wrong tokens from one address within LOGIN_COOLOFF_MINUTES, every
request from it that carries a token answers 429 until the pause ends, a right token included:
were right tokens let through, the answers during the pause would still tell a guess that hits
from one that misses. Requests without a token go on as before. Each refusal is logged with the
address and the reason, never with the token.
"""

import logging
import math
import time

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from policy.security import client_ip, printable

logger = logging.getLogger(__name__)


class WrongTokensPaused(exceptions.Throttled):
    default_detail = _("Too many wrong tokens came from your address.")


class WrongTokenCount:
    """Wrong tokens from one address in the cache, shared by the app servers with Redis."""

    def __init__(self, address):
        self.count_key = f"wrong-tokens:{address}"
        self.paused_key = f"wrong-tokens-paused:{address}"
        self.seconds = int(get_cool_off().total_seconds())

    def seconds_paused(self):
        """Seconds until the address may try tokens again; 0 when it may now."""
        paused_until = cache.get(self.paused_key)
        return max(0, math.ceil(paused_until - time.time())) if paused_until else 0

    def add(self):
        cache.add(self.count_key, 0, timeout=self.seconds)
        try:
            count = cache.incr(self.count_key)
        except ValueError:  # the window ended between the two calls
            count = 1
            cache.set(self.count_key, count, timeout=self.seconds)
        # No count while Redis is unreachable: tokens are checked as usual meanwhile.
        if count and count >= settings.AXES_FAILURE_LIMIT:
            cache.set(self.paused_key, time.time() + self.seconds, timeout=self.seconds)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        address = client_ip(request)
        wrong_tokens = WrongTokenCount(address)
        if wait := wrong_tokens.seconds_paused():
            raise WrongTokensPaused(wait=wait)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as failure:
            wrong_tokens.add()
            logger.warning(
                "API token refused from %s: %s %s: %s",
                address,
                request.method,
                printable(request.path),
                failure.detail,
                extra={"client_ip": address, "reason": str(failure.detail)},
            )
            raise
