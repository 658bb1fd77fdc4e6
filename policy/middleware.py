"""Request guards that hold for the whole site."""

import re
from functools import lru_cache
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware
from django.core.files.storage import storages
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from policy.api.errors import API_PATH_PREFIX, ProblemJSONRenderer, problem

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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's Content-Security-Policy, with images allowed from where media is served.

    Object storage serves media from its own domain, which only the storage backend knows:
    django-storages builds the URL from the bucket, the endpoint, the region or a custom domain.
    """

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if origin := media_origin(storages["default"]):
            update = parts.update or {}
            parts.update = {**update, "img-src": [*update.get("img-src", []), origin]}
        return parts


# Once per storage: django-storages takes a fifth of a millisecond to build an S3 URL.
@lru_cache(maxsize=1)
def media_origin(storage):
    """The scheme and host `storage` serves files from, or None when this site serves them."""
    url = urlsplit(storage.url("media"))
    return f"{url.scheme}://{url.netloc}" if url.netloc else None
