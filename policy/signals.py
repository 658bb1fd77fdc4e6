"""Keep what is derived from records in step with them: image files and commitment statuses.

A new image gets its renditions; a replaced image, or the image of a deleted record, is deleted
with its renditions, so that the media folder does not grow without bound. An image that history
can still restore is kept until that history is deleted.

A commitment's stored current status is that of its latest status update. Signals, rather than
`save()` and `delete()`, catch every way an update changes: the admin and the API, deletion by
cascade, and the raw saves of fixtures, reverts from history and backup restores. A bulk load
stores every status once, at its end (`statuses_stored_once`).
"""

import contextlib
import contextvars
import logging

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from reversion.models import Version

from policy.images import delete_image_files, generate_renditions
from policy.models import Commitment, Illustrated, StatusUpdate

logger = logging.getLogger(__name__)

# Set while a bulk load leaves the statuses to one update at its end.
_statuses_deferred = contextvars.ContextVar("statuses_deferred", default=False)


@receiver(pre_save)
def remember_stored_image(sender, instance, raw, using, update_fields, **kwargs):
    """Note the image the record had, to tell after saving whether it changed."""
    if raw or not isinstance(instance, Illustrated):
        return
    if update_fields is not None and "image" not in update_fields:
        return
    stored = None
    if instance.pk is not None:
        stored = (
            sender._base_manager.using(using)
            .filter(pk=instance.pk)
            .values("image", "image_width", "image_height")
            .first()
        )
    instance._stored_image = stored or {"image": ""}
    if stored and stored["image"] == instance.image.name and stored["image_width"]:
        # The admin form assigns the unchanged file again, and Django then measures it anew,
        # ignoring the EXIF orientation that the stored size accounts for.
        instance.image_width, instance.image_height = stored["image_width"], stored["image_height"]


@receiver(post_save)
def prepare_new_image(sender, instance, using, **kwargs):
    """Render a new image and record its upright size; delete the image it replaces."""
    stored = instance.__dict__.pop("_stored_image", None)
    if stored is None or (instance.image.name or "") == stored["image"]:
        return
    if stored["image"]:
        _delete_when_unused(instance.image.storage, stored["image"], using=using)
    if not instance.image:
        return
    try:
        width, height = generate_renditions(instance.image)
    except OSError:
        # The record is saved either way: a missing or unreadable file must not undo an edit.
        logger.exception("No renditions could be made of %s.", instance.image.name)
        return
    if (width, height) != (instance.image_width, instance.image_height):
        # Django measured the file as stored, before its EXIF orientation turned it upright.
        sender._base_manager.using(using).filter(pk=instance.pk).update(
            image_width=width, image_height=height
        )
        instance.image_width, instance.image_height = width, height


@receiver(post_delete)
def delete_image_of_deleted_record(sender, instance, using, **kwargs):
    if isinstance(instance, Illustrated) and instance.image:
        _delete_when_unused(instance.image.storage, instance.image.name, using=using)


def _delete_when_unused(storage, name, *, using):
    """Delete an image and its renditions once the change is committed, unless still in use.

    Waiting for the commit keeps the files of a change that is rolled back. In use means by
    another record, as an import can point two at one file, or by a version in history, which
    a revert or the recovery of a deleted record would bring back.
    """

    def delete():
        illustrated_models = [
            model for model in apps.get_models() if issubclass(model, Illustrated)
        ]
        in_use = (
            any(
                model._base_manager.using(using).filter(image=name).exists()
                for model in illustrated_models
            )
            or Version.objects.using(using).filter(serialized_data__contains=name).exists()
        )
        if not in_use:
            delete_image_files(storage, name)

    transaction.on_commit(delete, using=using)


@contextlib.contextmanager
def statuses_stored_once(*, using):
    """Store the status of every commitment once, when the block ends, rather than at each save.

    A backup restore or a fixture loads thousands of status updates, and each would update its
    commitment on its own. If the block fails, nothing is stored: its transaction is undone.
    """
    token = _statuses_deferred.set(True)
    try:
        yield
    finally:
        _statuses_deferred.reset(token)
    Commitment.objects.using(using).refresh_current_status()


@receiver(post_save, sender=StatusUpdate)
@receiver(post_delete, sender=StatusUpdate)
def store_current_status(sender, instance, using, **kwargs):
    if _statuses_deferred.get():
        return
    Commitment.objects.using(using).filter(pk=instance.commitment_id).refresh_current_status()
    if StatusUpdate.commitment.is_cached(instance):
        # Else the commitment in memory keeps the old status, and writes it back if saved whole.
        instance.commitment.refresh_from_db(using=using, fields=["current_status"])


@receiver(post_save, sender=Commitment)
def store_current_status_of_restored_commitment(sender, instance, raw, using, **kwargs):
    """A raw save writes the commitment as it was stored, or as history left its status out."""
    if raw and not _statuses_deferred.get():
        Commitment.objects.using(using).filter(pk=instance.pk).refresh_current_status()
