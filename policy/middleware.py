"""Request guards that hold for the whole site."""

import re
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext as _

from policy.api.errors import API_PATH_PREFIX, ProblemJSONRenderer, problem

# Parameters that say where a visitor came from, not what the page shows, besides those that start
# with utm_: the click identifiers of Facebook, Google, Microsoft, X, TikTok, LinkedIn, Instagram
# and Yandex, Mailchimp's campaign and member, and Google Analytics' cross-domain linker.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "_gl",
    }
)

# A NUL in JSON: the escape \u0000, unless an odd run of backslashes before it makes it the text
# "\u0000", or the byte itself.
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")


class RejectNullCharactersMiddleware:
    """A NUL byte in the path, the query or a JSON body answers 400: PostgreSQL cannot store or
    compare one, so letting it reach a query would turn a typo or a probe into a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            "\x00" in request.path
            or any("\x00" in key or "\x00" in value for key, value in request.GET.items())
            or (request.content_type == "application/json" and JSON_NUL.search(request.body))
        ):
            return self.bad_request(request)
        return self.get_response(request)

    def bad_request(self, request):
        detail = _("The request contains a NUL character, which no field accepts.")
        if request.path.startswith(API_PATH_PREFIX):
            body = problem(status=400, detail=detail, instance=request.path)
            return HttpResponse(
                ProblemJSONRenderer().render(body),
                status=400,
                content_type=ProblemJSONRenderer.media_type,
            )
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")


def is_tracking_parameter(name):
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


class DropTrackingParametersMiddleware:
    """Takes the tracking parameters out of a read's query string, before the page cache and the
    views see it.

    A link shared on a social network or in a newsletter carries them, and some are new for each
    click (fbclid, gclid). Left in, every visitor who follows a trending link would miss the page
    cache and have the page rendered for them, and the page's own links would pass the
    parameters on. The rest of the query string is kept as it came.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        drop_tracking_parameters(request)
        return self.get_response(request)


def drop_tracking_parameters(request):
    query = request.META.get("QUERY_STRING", "")
    if query and request.method in ("GET", "HEAD"):
        parts = query.split("&")
        kept = [
            part
            for part in parts
            if not is_tracking_parameter(unquote_plus(part.partition("=")[0]))
        ]
        if len(kept) < len(parts):
            request.META["QUERY_STRING"] = "&".join(kept)
            # A cached property: the request reads its GET again, from the new query string.
            request.__dict__.pop("GET", None)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware, with the message storage built when a view or a template first
    adds or reads a message.

    Only the admin does: building the storage for every other request (a signer for its cookie
    among others) took 15 µs, a fifteenth of a trivial view's time. A storage never built has
    nothing to save.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's Content-Security-Policy, with images allowed from where media is served.

    Object storage serves media from its own domain, which only the storage backend knows:
    django-storages builds the URL from the bucket, the endpoint, the region or a custom domain.

    Nearly every answer carries the site's policy unchanged, so that one is built once: django-csp
    builds it anew for each answer, a tenth of a trivial view's time. An answer whose policy is
    its own (a view's decorator, a nonce, a report-only policy) takes django-csp's way.
    """

    def process_response(self, request, response):
        if has_own_policy(request, response):
            return super().process_response(request, response)
        if HEADER not in response and not getattr(response, "_csp_exempt", False):
            response[HEADER] = site_policy(media_origin(storages["default"]))
        # As django-csp does: a nonce asked for after the header is written could not be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if origin := media_origin(storages["default"]):
            update = parts.update or {}
            parts.update = {**update, "img-src": [*update.get("img-src", []), origin]}
        return parts


# What django-csp's decorators set on a response that changes its policy.
VIEW_POLICY_ATTRIBUTES = [
    f"_csp_{kind}{variant}" for kind in ("config", "update", "replace") for variant in ("", "_ro")
]


def has_own_policy(request, response):
    return (
        getattr(request, "_csp_nonce", None) is not None
        or any(hasattr(response, attribute) for attribute in VIEW_POLICY_ATTRIBUTES)
        or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        or settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES")
        # django-csp leaves Django's debug pages without a policy.
        or settings.DEBUG
    )


@lru_cache(maxsize=4)
def site_policy(media_origin):
    update = {"img-src": [media_origin]} if media_origin else None
    return build_policy(update=update)


@receiver(setting_changed)
def forget_site_policy(setting, **kwargs):
    if setting == "CONTENT_SECURITY_POLICY":
        site_policy.cache_clear()


# Once per storage: django-storages takes a fifth of a millisecond to build an S3 URL.
@lru_cache(maxsize=1)
def media_origin(storage):
    """The scheme and host `storage` serves files from, or None when this site serves them."""
    url = urlsplit(storage.url("media"))
    return f"{url.scheme}://{url.netloc}" if url.netloc else None
