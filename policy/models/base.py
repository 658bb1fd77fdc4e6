"""Building blocks shared by the content models: publishing, provenance and partial dates."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class PublishableQuerySet(models.QuerySet):
    def published(self):
        """The one place that decides what the public may see."""
        return self.filter(publication_status=PublicationStatus.PUBLISHED)


class Publishable(models.Model):
    publication_status = models.CharField(
        _("publication status"),
        max_length=20,
        choices=PublicationStatus.choices,
        default=PublicationStatus.DRAFT,
        db_index=True,
        help_text=_("Only published records appear on the public site and in the API."),
    )
    first_published_at = models.DateTimeField(
        _("first published at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.is_published and self.first_published_at is None:
            self.first_published_at = timezone.now()
        super().save(*args, **kwargs)

    @property
    def is_published(self):
        return self.publication_status == PublicationStatus.PUBLISHED


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
