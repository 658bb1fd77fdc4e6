"""Validators and caching headers on reads; 304 Not Modified while the client's copy is current."""

import hashlib

from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from rest_framework import status

from .etags import PreconditionFailed, with_body_digest

READ_METHODS = ("GET", "HEAD")
# Long enough to absorb bursts of anonymous readers, short enough for edits to show soon.
ANONYMOUS_MAX_AGE = 60


class ConditionalGetMixin:
    """ETag, Last-Modified and Cache-Control on successful reads of a viewset.

    The ETag is a hash of the body, so it changes with anything the response shows; it is weak
    because another encoding of the same data would do as well. An ETag the view set itself,
    such as a writable detail's version tag that If-Match checks, is kept.

    Last-Modified is the latest `updated_at` of the records shown, where the model has one.
    It does not move when a record leaves a list, so clients should revalidate with
    If-None-Match, which takes precedence over If-Modified-Since.
    """

    shown_records = ()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.shown_records = page or ()
        return page

    def get_object(self):
        record = super().get_object()
        self.shown_records = [record]
        return record

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in READ_METHODS or response.status_code != status.HTTP_200_OK:
            return response
        patch_vary_headers(response, ["Accept", "Authorization", "Cookie"])
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        else:
            patch_cache_control(response, public=True, max_age=ANONYMOUS_MAX_AGE)
        if response.streaming:
            return response
        response.render()
        digest = hashlib.sha256(response.content).hexdigest()
        if response.has_header("ETag"):
            response["ETag"] = with_body_digest(response["ETag"], digest[:16])
        else:
            response["ETag"] = f'W/"{digest[:32]}"'
        last_modified = self.last_modified()
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        conditional = get_conditional_response(
            request, etag=response["ETag"], last_modified=last_modified, response=response
        )
        if conditional.status_code == status.HTTP_412_PRECONDITION_FAILED:
            # Django's 412 has no body; answer with problem details like any other error.
            failed = self.handle_exception(PreconditionFailed())
            return super().finalize_response(request, failed, *args, **kwargs)
        return conditional

    def last_modified(self):
        """The latest `updated_at` of the records shown, as a timestamp, or None."""
        stamps = [
            record.updated_at
            for record in self.shown_records
            if getattr(record, "updated_at", None) is not None
        ]
        return int(max(stamps).timestamp()) if stamps else None
