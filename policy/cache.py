"""The page cache: what anonymous visitors and API readers are sent, kept for every app server.

Only what every anonymous reader of a URL gets alike is kept: a 200 to a GET that sets no
cookie, holds no CSRF token and is not marked private. Signed-in users, staff previews, API
tokens and the admin always get a page rendered for them.

A kept answer is never served once it is out of date:
- Every kept answer holds the content generation it was rendered in, a token kept in the cache
  itself, so shared by all app servers. Once a change to any record of the `policy` app is
  committed, the generation is renewed, and every page is rendered anew. The generation and the
  answer are read together, in one round trip.
- Scheduled publication and expiry change what the public sees without a save, so an answer is
  served only until the next `publish_at` or `unpublish_at` to come, asked of the database once
  per generation. The time is `timezone.now()`, the clock `published()` reads.
- When the cache fails, pages are served from the database, and it is tried again after a few
  seconds, with one warning per outage. Edits made meanwhile could not renew the generation, so
  it is renewed once the cache answers again.

A cached API answer counts against the API's rate limits; the counts are raised in the same
round trip to Redis as the lookup. The fragment cache (`remembered`) keeps values that many pages
show alike, such as the filters' options, under the same rules as the pages.
"""

import dataclasses
import datetime
import hashlib
import logging
import math
import os
import secrets
import threading
import time
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.db import transaction
from django.db.models import Min, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import cc_delim_re, get_conditional_response
from django.utils.http import parse_http_date_safe
from django_redis.cache import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rest_framework.settings import api_settings

from policy.api.errors import API_PATH_PREFIX
from policy.models import PUBLISHABLE_MODELS

logger = logging.getLogger(__name__)

CACHE_ALIAS = "pages"
GENERATION_KEY = "page:generation"
# The time of the next scheduled publication or expiry, with the generation it was asked in.
SCHEDULE_KEY = "page:next-change"
# Part of every page's key, and changed with what a kept answer holds: a release never serves an
# answer that an older one kept (version 2 holds the security headers).
KEPT_ANSWER_VERSION = 2
RETRY_AFTER_ERROR = 5
QUIET_AFTER_REDIS_ERROR = 60
# The socket errors that django-redis does not wrap count as a failure of the cache too.
CACHE_ERRORS = (RedisError, OSError)
MESSAGES_COOKIE_NAME = CookieStorage.cookie_name
# What a kept answer may vary on: the key holds the Accept header and the language; the cookie
# and the authorization only change the answer for signed-in users, whose requests pass by.
KEYED_VARY_HEADERS = {"accept", "accept-language", "cookie", "authorization", "origin"}
PRIVATE_DIRECTIVES = {"private", "no-cache", "no-store"}
# The headers of a read that asks for the answer only if the reader's copy is out of date.
REVALIDATION_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
# What a 304 Not Modified repeats of the answer it stands for (RFC 9110, 15.4.5), as Django's
# conditional answers do.
NOT_MODIFIED_HEADERS = ("Cache-Control", "Content-Location", "Date", "ETag", "Expires")
NOT_MODIFIED_HEADERS += ("Last-Modified", "Vary")


class PageStore:
    """The generation and the kept answers, in the cache that every app server shares."""

    def __init__(self):
        self.retry_at = 0.0
        # An error was seen and the generation was not renewed since.
        self.failed = False
        self.connections = KeptConnections()

    @property
    def cache(self):
        return caches[CACHE_ALIAS]

    def lookup(self, key, *, counters=()):
        """The current generation, the answer kept under the key and the next scheduled change, or
        None while the cache fails.

        The rate-limit counters ({key in the default cache: timeout}) are raised by one in the same
        round trip when the default cache is the same Redis; `Found.counts` is None otherwise.
        """
        if self.failed and self.renew_generation() is None:
            return None
        read = self._attempt(self._read, [GENERATION_KEY, key, SCHEDULE_KEY], counters)
        if read is None:
            return None
        values, counts = read
        generation = values.get(GENERATION_KEY) or self._attempt(
            self.cache.get_or_set, GENERATION_KEY, new_generation, timeout=None
        )
        if generation is None:
            return None
        return Found(generation, values.get(key), values.get(SCHEDULE_KEY), counts)

    def _read(self, keys, counters):
        if not isinstance(self.cache, RedisCache):
            return self.cache.get_many(keys), None
        pages_client = self.cache.client
        commands = [("MGET", *(pages_client.make_key(key) for key in keys))]
        counters_cache = caches["default"]
        counted = bool(counters) and shares_redis(self.cache, counters_cache)
        if counted:
            for counter, timeout in counters.items():
                counter_key = counters_cache.client.make_key(counter)
                # What WindowCountThrottle.count does: the first of the window sets the count.
                commands += [("SET", counter_key, 0, "EX", timeout, "NX"), ("INCR", counter_key)]
        pool = pages_client.get_client(write=True).connection_pool
        values, *written = self.connections.send(pool, commands)
        found = {
            key: pages_client.decode(value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        }
        return found, dict(zip(counters, written[1::2], strict=True)) if counted else None

    def renew_generation(self):
        """Start a new generation: no answer kept so far is served again."""
        return self._attempt(self._renew_generation)

    def set(self, key, value, *, timeout):
        self._attempt(self.cache.set, key, value, timeout=timeout)

    def keep(self, key, value, *, found, started, seconds):
        """Keep a value computed from the content as of `started` (in the generation found by the
        lookup) for at most `seconds`, and never past the next scheduled change."""
        now = started.timestamp()
        next_change = found.next_change
        if next_change is None or next_change[0] != found.generation or next_change[1] <= now:
            # After the start of the work: a change while it ran ends the value at once.
            next_change = (found.generation, next_scheduled_change(after=started))
            self.set(SCHEDULE_KEY, next_change, timeout=seconds)
        fresh_until = min(now + seconds, next_change[1])
        self.set(
            key,
            {**value, "generation": found.generation, "fresh_until": fresh_until},
            timeout=math.ceil(fresh_until - now),
        )

    def _renew_generation(self):
        generation = new_generation()
        self.cache.set(GENERATION_KEY, generation, timeout=None)
        if self.failed:
            self.failed = False
            logger.warning("The page cache answers again; its pages start anew.")
        return generation

    def _attempt(self, operation, *args, **kwargs):
        if time.monotonic() < self.retry_at:
            return None
        try:
            return operation(*args, **kwargs)
        except CACHE_ERRORS as error:
            self.retry_at = time.monotonic() + RETRY_AFTER_ERROR
            if not self.failed:
                self.failed = True
                logger.warning(
                    "The page cache fails (%s: %s); pages are served from the database, and "
                    "the cache is tried again every %s seconds.",
                    type(error).__name__,
                    error,
                    RETRY_AFTER_ERROR,
                )
            return None


class KeptConnections:
    """Each thread's own connection from a Redis pool, on which a lookup sends its commands.

    For every command, redis-py takes a connection out of its pool, checks that nothing is left
    to read on it, and puts it back: more than half the CPU time of a lookup, a hit's one round
    trip. A thread serves one request at a time, so it keeps one connection instead.
    """

    def __init__(self):
        self.local = threading.local()

    def send(self, pool, commands):
        """The replies to the commands, sent in one write; an error reply raises."""
        connection, kept = self._connection(pool)
        try:
            try:
                return send_together(connection, commands)
            except RedisConnectionError:
                if not kept:
                    raise
                # Redis closes a connection kept since an earlier request when it restarts or
                # the connection stays idle too long: the commands are sent again on a new one.
                connection.disconnect()
                return send_together(connection, commands)
        except BaseException:
            # A reply left unread would be read as the answer to the next lookup.
            connection.disconnect()
            raise

    def _connection(self, pool):
        """The thread's connection from the pool, and whether it was kept from before."""
        local, pid = self.local, os.getpid()
        # A forked process must not share its parent's socket: it takes a connection anew.
        if getattr(local, "pid", None) == pid:
            if local.pool is pool:
                return local.connection, True
            local.pool.release(local.connection)
        local.pool, local.pid, local.connection = pool, pid, pool.get_connection()
        return local.connection, False


def send_together(connection, commands):
    connection.send_packed_command(connection.pack_commands(commands))
    return [connection.read_response() for _ in commands]


@dataclasses.dataclass(frozen=True)
class Found:
    generation: str
    kept: dict | None
    next_change: tuple | None
    # The rate-limit counts, if they were raised with the lookup.
    counts: dict | None


def shares_redis(cache, other):
    return (
        isinstance(cache, RedisCache)
        and isinstance(other, RedisCache)
        and cache._server == other._server
    )


def new_generation():
    # Random, so that a generation lost with the cache's memory can never come back.
    return secrets.token_hex(8)


pages = PageStore()


class PageCacheMiddleware:
    """Answers anonymous reads from the page cache, and keeps the answers that may be shared.

    It comes before every middleware but the health checks, the request ID and the dropping of
    tracking parameters, so that a hit costs little more than one round trip to the cache: it
    tells an anonymous reader by the absence of a session cookie and of credentials, and finds the
    language as the locale middleware does. The answer it keeps is the one all the middleware
    below gave, with their headers (the security headers among them), so that none of them runs
    again for a hit.

    Under the app server, the front door of the WSGI application (policy/wsgi.py) answers the hits
    before Django's handler, and leaves the lookup of a miss here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.PAGE_CACHE_SECONDS or not is_anonymous_read(request):
            return self.get_response(request)
        if PAGE_LOOKUP_ENVIRON_KEY in request.META:
            # The front door (policy/wsgi.py) looked the request up before Django's handler.
            lookup = request.META.pop(PAGE_LOOKUP_ENVIRON_KEY)
        else:
            lookup = PageLookup.of(request)
        if lookup is None:
            return self.get_response(request)
        # For the view's throttles, which would otherwise count a request that the lookup counted.
        request.rate_limit_counts = lookup.counts
        if (hit := lookup.hit(request)) is not None:
            return hit
        # The view gives the whole answer even to a reader who only revalidates its copy, so that
        # it can be kept: else an expired answer would not be kept again while every reader only
        # revalidated. The reader still gets 304 Not Modified if its copy is current.
        revalidation = {
            header: request.META.pop(header)
            for header in REVALIDATION_HEADERS
            if header in request.META
        }
        response = self.get_response(request)
        request.META.update(revalidation)
        if is_shareable(request, response):
            pages.keep(
                lookup.key,
                kept_answer(response),
                found=lookup.found,
                started=lookup.started,
                seconds=settings.PAGE_CACHE_SECONDS,
            )
        if revalidation:
            response = not_modified_if_current(request, response)
        response["X-Cache"] = "miss"
        return response


# Where the front door leaves its lookup for the middleware, in the WSGI environment.
PAGE_LOOKUP_ENVIRON_KEY = "policy.page_lookup"


@dataclasses.dataclass(frozen=True)
class PageLookup:
    """What the page cache holds for an anonymous read, and whether the reader may be served it."""

    key: str
    found: Found
    # When the answer is judged current, and when the view's answer, on a miss, is rendered.
    started: datetime.datetime
    # The request's counts against the API's rate limits, by the key of each count.
    counts: dict
    within_limits: bool

    @classmethod
    def of(cls, request):
        """The lookup of the request, or None while the cache fails."""
        key = page_key(request)
        limits = rate_limits(request)
        found = pages.lookup(
            key, counters={counter: limit.counter_timeout for counter, limit in limits.items()}
        )
        if found is None:
            return None
        counts = found.counts
        if counts is None:
            # The default cache is not the pages' Redis: the limits count the request now.
            counts = {counter: limit.count(counter) for counter, limit in limits.items()}
        return cls(
            key=key,
            found=found,
            started=timezone.now(),
            counts=counts,
            # Every limit records the request, as in DRF's own check: none is skipped.
            within_limits=all(limit.allows(counts[counter]) for counter, limit in limits.items()),
        )

    def hit(self, request):
        """The kept answer, or 304 Not Modified, if it is current and the reader within the
        limits; else None."""
        kept = self.found.kept
        if self.within_limits and is_current(
            kept, generation=self.found.generation, now=self.started.timestamp()
        ):
            return cached_response(request, kept)
        return None


def is_current(kept, *, generation, now):
    return kept is not None and kept["generation"] == generation and now < kept["fresh_until"]


def is_anonymous_read(request):
    # The headers are read from META: request.headers would build a dict of all of them, which a
    # hit never needs.
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith(admin_path())
        # WhiteNoise, below, serves them from memory.
        and not request.path.startswith(static_path())
        # The API checks tokens in the view; a request that brings one is the view's to answer.
        and "HTTP_AUTHORIZATION" not in request.META
        # A precondition on a read is the view's to judge, as a 412 in the API's format.
        and "HTTP_IF_MATCH" not in request.META
        and "HTTP_IF_UNMODIFIED_SINCE" not in request.META
        # Signed-in users have a session; a visitor's messages wait in a cookie, to be shown.
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and MESSAGES_COOKIE_NAME not in request.COOKIES
    )


@lru_cache(maxsize=1)
def admin_path():
    return reverse("admin:index")


@lru_cache(maxsize=1)
def static_path():
    return urlsplit(settings.STATIC_URL).path


def page_key(request):
    """The key of the answer: the URL with host and query, the headers the answer varies on, and
    the language, found as LocaleMiddleware finds it (from the URL's prefix, else the language
    cookie and Accept-Language)."""
    variant = "\n".join(
        [
            request.build_absolute_uri(),
            request.META.get("HTTP_ACCEPT", ""),
            # CORS headers answer the origin.
            request.META.get("HTTP_ORIGIN", ""),
            translation.get_language_from_request(request, check_path=True),
        ]
    )
    return f"page:v{KEPT_ANSWER_VERSION}:{hashlib.sha256(variant.encode()).hexdigest()}"


def is_shareable(request, response):
    """Whether the answer is the same for any anonymous reader of the URL, and may be kept."""
    return (
        request.method == "GET"
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not header_values(response, "Cache-Control") & PRIVATE_DIRECTIVES
        and header_values(response, "Vary") <= KEYED_VARY_HEADERS
        # The page holds a CSRF token, which is the visitor's own.
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not request.session.modified
    )


def header_values(response, header):
    """The lower-case names in a comma-separated header, without their arguments."""
    values = cc_delim_re.split(response.get(header, ""))
    return {value.split("=", 1)[0].strip().lower() for value in values if value.strip()}


def kept_answer(response):
    return {
        "status": response.status_code,
        # The view's and those of every middleware below: the request ID, above, is the
        # request's own.
        "headers": list(response.items()),
        "content": response.content,
    }


def cached_response(request, kept):
    """The kept answer, or 304 Not Modified if the reader's copy is the same."""
    if any(header in request.META for header in REVALIDATION_HEADERS):
        headers = {header.lower(): value for header, value in kept["headers"]}
        not_modified = not_modified_response(request, headers)
        if not_modified is not None:
            return not_modified
    response = HttpResponse(kept["content"], status=kept["status"])
    for header, value in kept["headers"]:
        response[header] = value
    response["X-Cache"] = "hit"
    return response


def not_modified_response(request, headers):
    """304 Not Modified with the headers it repeats, if the reader's copy has the validators of
    a kept answer with these headers (by lower-case name); else None.

    Django's conditional check is given no answer to copy them from: the full answer, with all
    its headers, would be built for nothing.
    """
    response = get_conditional_response(
        request,
        etag=headers.get("etag"),
        last_modified=parse_http_date_safe(headers.get("last-modified")),
    )
    if response is None:
        return None
    for header in NOT_MODIFIED_HEADERS:
        if (value := headers.get(header.lower())) is not None:
            response[header] = value
    response["X-Cache"] = "hit"
    return response


def not_modified_if_current(request, response):
    """304 Not Modified if the reader's copy has the answer's validators, else the answer."""
    return get_conditional_response(
        request,
        etag=response.get("ETag"),
        last_modified=parse_http_date_safe(response.get("Last-Modified")),
        response=response,
    )


def remembered(name, compute):
    """What `compute()` returns, kept in the fragment cache until the content changes.

    For what the public is shown alike on many pages and must otherwise be read from the
    database on each, such as the options of the filters. It is kept as the page cache keeps a
    page: in the same generation, and never past the next scheduled publication or expiry. The
    name must say all that the value depends on but the content and the language.
    """
    seconds = settings.FRAGMENT_CACHE_SECONDS
    key = f"fragment:{name}:{translation.get_language()}"
    started = timezone.now()
    found = pages.lookup(key) if seconds else None
    if found is None:
        return compute()
    if is_current(found.kept, generation=found.generation, now=started.timestamp()):
        return found.kept["value"]
    value = compute()
    pages.keep(key, {"value": value}, found=found, started=started, seconds=seconds)
    return value


def rate_limits(request):
    """The API's rate limits on the request, by the key of their count: a cached API answer counts
    against them, as the view's own would.

    Otherwise the limit would not hold for any URL read twice within the cache's time.
    """
    if not request.path.startswith(API_PATH_PREFIX):
        return {}
    # The throttles key an anonymous reader by address; authentication has not run yet.
    request.user = AnonymousUser()
    limits = {}
    for throttle_class in api_settings.DEFAULT_THROTTLE_CLASSES:
        throttle = throttle_class()
        if (counter := throttle.counter(request, None)) is not None:
            limits[counter] = throttle
    return limits


def next_scheduled_change(*, after):
    """The timestamp of the first publication or expiry after the moment, or infinity.

    The times of unpublished records count too: at worst an answer is renewed for nothing.
    """
    moments = []
    for model in PUBLISHABLE_MODELS:
        moments += model.objects.aggregate(
            publication=Min("publish_at", filter=Q(publish_at__gt=after)),
            expiry=Min("unpublish_at", filter=Q(unpublish_at__gt=after)),
        ).values()
    return min((moment.timestamp() for moment in moments if moment), default=math.inf)


class RepeatedRedisErrorFilter(logging.Filter):
    """Logs the first of the errors that django-redis ignores in one line, then none for a while.

    django-redis logs each failed call with its traceback: during an outage, several for every
    API request (the throttles), which would bury every other record.
    """

    def __init__(self):
        super().__init__()
        self.quiet_until = 0.0

    def filter(self, record):
        now = time.monotonic()
        if now < self.quiet_until:
            return False
        self.quiet_until = now + QUIET_AFTER_REDIS_ERROR
        error = record.exc_info[1] if record.exc_info else None
        # django-redis wraps the client's error in its ConnectionInterrupted.
        error = getattr(error, "__cause__", None) or error
        record.msg = (
            "Redis fails (%s: %s); what uses the default cache goes on without it. Its errors "
            "are not logged again for %s seconds."
        )
        record.args = (type(error).__name__, error, QUIET_AFTER_REDIS_ERROR)
        record.exc_info = record.exc_text = None
        return True


def quiet_repeated_redis_errors():
    logger_name = getattr(settings, "DJANGO_REDIS_LOGGER", "django_redis.cache")
    logging.getLogger(logger_name).addFilter(RepeatedRedisErrorFilter())


class GenerationRenewal:
    """One renewal of the generation for all the changes committed together, however many.

    Each change still waits for the commit on its own, so a change undone by the rollback of a
    savepoint renews nothing, while the others of the transaction do.
    """

    def __init__(self):
        self.done = False

    def __call__(self):
        if not self.done:
            self.done = True
            pages.renew_generation()


def renew_generation_on_commit(sender, using, **kwargs):
    """A page rendered before the change is committed, from the old rows, is never served."""
    connection = transaction.get_connection(using)
    renewal = getattr(connection, "page_generation_renewal", None)
    if renewal is None or renewal.done:
        renewal = connection.page_generation_renewal = GenerationRenewal()
    transaction.on_commit(renewal, using=using)


def renew_generation_on_relation_commit(sender, action, using, **kwargs):
    if action.startswith("post_"):
        renew_generation_on_commit(sender, using=using)


def invalidate_on_changes_to(models):
    """Renew the generation on every save, deletion and change of relations of the models.

    Saves include the raw ones of a revert from history or a fixture; the import saves each
    record too. The through models of the relations send the changes of many-to-many fields.
    """
    for model in models:
        post_save.connect(renew_generation_on_commit, sender=model)
        post_delete.connect(renew_generation_on_commit, sender=model)
        m2m_changed.connect(renew_generation_on_relation_commit, sender=model)
