"""Building blocks shared by the content models: publishing, provenance, partial dates and the
addresses of their pages."""

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from policy.images import ValidatedImageField, image_upload_to, validate_image_file


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class PublishableQuerySet(models.QuerySet):
    def published(self):
        """The one place that decides what the public may see, at this moment.

        Scheduled publishing and expiry need no worker: a record shows from `publish_at`
        and disappears at `unpublish_at` because every public query asks the time.
        """
        now = timezone.now()
        return self.filter(
            Q(publish_at__isnull=True) | Q(publish_at__lte=now),
            Q(unpublish_at__isnull=True) | Q(unpublish_at__gt=now),
            publication_status=PublicationStatus.PUBLISHED,
        )

    def awaiting_review(self):
        return self.filter(publication_status=PublicationStatus.IN_REVIEW)

    def scheduled(self):
        """Published records whose publication or expiry is still to come."""
        now = timezone.now()
        return self.filter(
            Q(publish_at__gt=now) | Q(unpublish_at__gt=now),
            publication_status=PublicationStatus.PUBLISHED,
        )


class Publishable(models.Model):
    """A record that goes through the editorial workflow: draft, review, publication, archive."""

    publication_status = models.CharField(
        _("publication status"),
        max_length=20,
        choices=PublicationStatus.choices,
        default=PublicationStatus.DRAFT,
        db_index=True,
        help_text=_("Only published records appear on the public site and in the API."),
    )
    publish_at = models.DateTimeField(
        _("publish at"),
        null=True,
        blank=True,
        help_text=_("Leave empty to publish at once; a future time schedules the publication."),
    )
    unpublish_at = models.DateTimeField(
        _("unpublish at"),
        null=True,
        blank=True,
        help_text=_("The record leaves the public site at this time. Leave empty to keep it."),
    )
    first_published_at = models.DateTimeField(
        _("first published at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        help_text=_("Counts saves, so that an edit based on an older version is refused."),
    )

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(publish_at__isnull=True)
                | Q(unpublish_at__isnull=True)
                | Q(unpublish_at__gt=models.F("publish_at")),
                name="%(app_label)s_%(class)s_unpublish_after_publish",
            ),
        ]

    def save(self, *args, **kwargs):
        if self.publication_status == PublicationStatus.PUBLISHED and not self.first_published_at:
            self.first_published_at = self.publish_at or timezone.now()
        if self.pk is not None and not self._state.adding:
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.publish_at and self.unpublish_at and self.unpublish_at <= self.publish_at:
            raise ValidationError(
                {"unpublish_at": _("The record must be unpublished after it is published.")}
            )

    @property
    def is_published(self):
        """Whether the public sees it now: the rule of `PublishableQuerySet.published`."""
        now = timezone.now()
        return (
            self.publication_status == PublicationStatus.PUBLISHED
            and (self.publish_at is None or self.publish_at <= now)
            and (self.unpublish_at is None or self.unpublish_at > now)
        )

    @property
    def unpublished_state(self):
        """Why the public does not see the record, as a label for editors; empty when it does."""
        if self.is_published:
            return ""
        if self.publication_status != PublicationStatus.PUBLISHED:
            return self.get_publication_status_display()
        if self.publish_at and self.publish_at > timezone.now():
            return _("Scheduled")
        return _("Expired")

    @classmethod
    def publish_permission(cls):
        return f"{cls._meta.app_label}.publish_{cls._meta.model_name}"


@receiver(pre_save)
def count_raw_saves_forward(sender, instance, raw, **kwargs):
    """A revert from history or a fixture reload writes raw; its version still counts up."""
    if raw and isinstance(instance, Publishable) and instance.pk is not None:
        stored = sender.objects.filter(pk=instance.pk).values_list("version", flat=True).first()
        if stored is not None:
            instance.version = stored + 1


class Illustrated(models.Model):
    """A record with an optional image, which always comes with its text alternative."""

    image = ValidatedImageField(
        _("image"),
        upload_to=image_upload_to,
        blank=True,
        width_field="image_width",
        height_field="image_height",
        validators=[validate_image_file],
        help_text=_("JPEG, PNG or WebP, at most 10 MB and 24 megapixels."),
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_alt = models.CharField(
        _("image alt text"),
        max_length=300,
        blank=True,
        help_text=_("Describe the image for people who cannot see it. Required with an image."),
    )

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(image="") | ~Q(image_alt=""),
                name="%(app_label)s_%(class)s_image_has_alt_text",
            ),
        ]

    def clean(self):
        super().clean()
        if self.image and not self.image_alt.strip():
            raise ValidationError({"image_alt": _("Describe the image for screen readers.")})


class Sourced(models.Model):
    """A record whose existence is stated by a sentence of an article in the system."""

    source_article = models.ForeignKey(
        "policy.Article",
        verbose_name=_("source article"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="%(class)s_mentions",
        help_text=_("The article that names this record."),
    )
    source_quote = models.TextField(
        _("source quote"),
        blank=True,
        help_text=_("The sentence of the source article that names it, copied verbatim."),
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.source_quote and self.source_article_id is None:
            raise ValidationError(
                {"source_article": _("Choose the article this quote comes from.")}
            )
        if self.source_article_id is not None:
            self.source_article.validate_quote(self.source_quote, field="source_quote")


class DatePrecision(models.TextChoices):
    YEAR = "year", _("Year")
    MONTH = "month", _("Month")
    DAY = "day", _("Day")


def truncate_to_precision(value, precision):
    """The first day of the year or month that a partial date stands for."""
    if value is None:
        return None
    if precision == DatePrecision.YEAR:
        return value.replace(month=1, day=1)
    if precision == DatePrecision.MONTH:
        return value.replace(day=1)
    return value


def format_partial_date(value, precision):
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return str(value.year)
    if precision == DatePrecision.MONTH:
        return date_format(value, "YEAR_MONTH_FORMAT")
    return date_format(value, "DATE_FORMAT")


# Enough for every page of the synthetic dataset's busiest kind in one language; a worker keeps
# a few megabytes of them at most.
RECORD_URLS_KEPT = 10_000


@lru_cache(maxsize=RECORD_URLS_KEPT)
def _reversed_record_url(view_name, slug, language, script_prefix, urlconf):
    return reverse(view_name, kwargs={"slug": slug})


def record_url(view_name, slug):
    """`reverse(view_name, kwargs={"slug": slug})`, kept once reversed.

    A record's address depends only on these, the language, the path prefix and the URLconf, so
    it is reversed once per worker: a page links to dozens of records (a tile map alone to 33
    countries), and each reverse() costs some 30 µs.
    """
    return _reversed_record_url(view_name, slug, get_language(), get_script_prefix(), get_urlconf())


@receiver(setting_changed)
def forget_record_urls(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _reversed_record_url.cache_clear()
