"""Who may move a record through the editorial workflow, and the guard against lost edits.

Every path that changes a record (the admin's forms and bulk actions, the CSV import, the API)
asks these functions, so the rules hold the same way everywhere.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from reversion.models import Version

from policy.models import PublicationStatus

# A record in these states is public or retired: changing it is a Publisher's decision.
PUBLISHER_STATES = {PublicationStatus.PUBLISHED, PublicationStatus.ARCHIVED}
SCHEDULE_FIELDS = ("publish_at", "unpublish_at")


class WorkflowPermissionDenied(PermissionDenied):
    """The user's role does not allow this publication change; the message says why."""


class StaleEdit(ValidationError):
    """The record was saved by someone else after this edit started."""


def can_publish(user, model):
    return user.has_perm(model.publish_permission())


def is_locked_for(user, instance):
    """Whether the stored record is published or archived and the user may not change it."""
    model = type(instance)
    if instance.pk is None or can_publish(user, model):
        return False
    stored = model.objects.filter(pk=instance.pk).values_list("publication_status", flat=True)
    return stored.first() in PUBLISHER_STATES


def check_publication_change(*, user, instance):
    """Refuse, with a reason, a change of publication state the user's role does not allow."""
    model = type(instance)
    if can_publish(user, model):
        return
    noun = model._meta.verbose_name
    previous = (
        model.objects.filter(pk=instance.pk).values("publication_status", *SCHEDULE_FIELDS).first()
        if instance.pk
        else None
    )
    if previous and previous["publication_status"] in PUBLISHER_STATES:
        raise WorkflowPermissionDenied(
            _("This %(noun)s is %(status)s: only a Publisher can change it.")
            % {"noun": noun, "status": PublicationStatus(previous["publication_status"]).label}
        )
    if instance.publication_status in PUBLISHER_STATES:
        raise WorkflowPermissionDenied(
            _(
                "Only a Publisher can publish or archive a %(noun)s. "
                "Save it as a draft or submit it for review."
            )
            % {"noun": noun}
        )
    for field in SCHEDULE_FIELDS:
        if getattr(instance, field) != (previous or {}).get(field):
            raise WorkflowPermissionDenied(
                _("Only a Publisher can schedule a %(noun)s's publication or expiry.")
                % {"noun": noun}
            )


def last_saved_by(instance):
    """Who saved the record last and when, from its history, as a phrase for messages."""
    version = Version.objects.get_for_object(instance).select_related("revision__user").first()
    if version is None:
        return _("someone else")
    when = date_format(localtime(version.revision.date_created), "DATETIME_FORMAT")
    who = version.revision.user or _("someone else")
    return _("%(who)s, at %(when)s,") % {"who": who, "when": when}


def check_not_stale(*, instance, loaded_version):
    """Refuse a save based on an older version than the one stored.

    The row is locked until the transaction ends, so of two concurrent saves of the same
    version exactly one passes and the other is refused.
    """
    model = type(instance)
    current = (
        model.objects.select_for_update()
        .filter(pk=instance.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current is not None and current != loaded_version:
        raise StaleEdit(
            _(
                "This %(noun)s was changed by %(who)s while you were editing it, so your "
                "changes were not saved. They are still in the form below: open the record "
                "again in a new tab to see the other changes, then apply yours and save."
            )
            % {"noun": model._meta.verbose_name, "who": last_saved_by(instance)},
            code="stale",
        )
