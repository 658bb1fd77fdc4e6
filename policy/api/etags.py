"""The entity tag of a versioned record, and the If-Match check of the writes that change it.

The tag is strong and names the record's version: "commitment-12-3" is version 3 of commitment 12.
The version counts the saves of the record, and of its quotes and status updates, so every write
through the admin, the import or the API gives it a new tag. Reference records have no version,
and so no tag.
"""

from django.utils.http import parse_etags
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from policy.models import Publishable


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The record has changed since the given version.")
    default_code = "precondition_failed"


def record_etag(record):
    """The strong ETag of the record's current version, or None for a record without versions."""
    if not isinstance(record, Publishable):
        return None
    return f'"{record._meta.model_name}-{record.pk}-{record.version}"'


def with_body_digest(version_tag, digest):
    """A read's tag: the version, then a digest of the body, which moves when related records
    change what the response shows. If-Match compares the version part only."""
    return f'{version_tag[:-1]}.{digest}"'


def _version_part(tag):
    return tag.strip('"').split(".", 1)[0]


def check_if_match(request, record):
    """Refuse with 412 a write whose If-Match names no current version of the record.

    Without If-Match the write proceeds; `*` matches any record. Tags compare strongly
    (RFC 9110, 13.1.1), so a weak tag never matches.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = parse_etags(header)
    if "*" in tags:
        return
    current = record_etag(record)
    # A record without versions has no tag that a client could name.
    if current is None or _version_part(current) not in {_version_part(tag) for tag in tags}:
        raise PreconditionFailed()
