"""Commitments, the verbatim quotes that back them, and the dated history of their status."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from policy.validators import validate_currency_code

from .base import (
    DatePrecision,
    Publishable,
    PublishableQuerySet,
    format_partial_date,
    record_url,
    truncate_to_precision,
)
from .content import Article, FocusArea
from .reference import Actor, Country, Event


class CommitmentKind(models.TextChoices):
    CREDIT_LINE = "credit_line", _("Credit line")
    VISA_POLICY = "visa_policy", _("Visa policy")
    SCHOLARSHIPS = "scholarships", _("Scholarships")
    TRAINING = "training", _("Training")
    EXCHANGES = "exchanges", _("Exchanges")
    PROJECT_PORTFOLIO = "project_portfolio", _("Project portfolio")
    TRADE_POLICY = "trade_policy", _("Trade policy")
    DECLARATION = "declaration", _("Joint declaration")
    POLICY_PLEDGE = "policy_pledge", _("Policy pledge")


class CommitmentStatus(models.TextChoices):
    """Ratings in the manner of PolitiFact's promise meters."""

    NOT_YET_RATED = "not_yet_rated", _("Not yet rated")
    IN_THE_WORKS = "in_the_works", _("In the works")
    STALLED = "stalled", _("Stalled")
    COMPROMISE = "compromise", _("Compromise")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


class GeographicScope(models.TextChoices):
    COUNTRIES = "countries", _("Named countries")
    REGIONAL = "regional", _("Latin America and the Caribbean as a region")
    GLOBAL = "global", _("Global")


class FigureQualifier(models.TextChoices):
    AS_STATED = "as_stated", _("as stated")
    MORE_THAN = "more_than", _("more than")
    UP_TO = "up_to", _("up to")
    ABOUT = "about", _("about")


def choice_label(choices, value):
    """The label of `value` among `choices`, as `get_FOO_display()` gives it."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def position_in(field, choices):
    """Orders by the place of the field's value in its vocabulary, not alphabetically."""
    return Case(
        *(When(**{field: choice}, then=Value(place)) for place, choice in enumerate(choices)),
        output_field=models.IntegerField(),
    )


class CommitmentQuerySet(PublishableQuerySet):
    def refresh_current_status(self):
        """Store the status of each commitment's latest update, in one UPDATE.

        An update of the rows, not a save: the commitments keep their version, `updated_at`
        and history, as their own content did not change.
        """
        latest = StatusUpdate.objects.filter(commitment=OuterRef("pk")).order_by("-date", "-pk")
        return self.update(
            current_status=Coalesce(
                Subquery(latest.values("status")[:1]), Value(CommitmentStatus.NOT_YET_RATED)
            )
        )

    def with_status(self, status):
        return self.filter(current_status=status)

    def sorted_by(self, key):
        """The orders visitors can choose; every one ends with the title, so pages are stable."""
        orders = {
            "title": ["title"],
            "recent": [F("updated_at").desc(), "title"],
            "deadline": [F("period_end").asc(nulls_last=True), "title"],
            "status": [position_in("current_status", CommitmentStatus), "title"],
        }
        return self.order_by(*orders[key])

    def headline_figures(self):
        """Commitments with a figure, money first, then people, then projects: the kinds' order."""
        return self.filter(Q(amount__isnull=False) | Q(target_value__isnull=False)).order_by(
            position_in("kind", CommitmentKind), "title"
        )

    def status_totals(self):
        """How many commitments have each status, every status listed, in the meter's order."""
        counted = dict(self.order_by().values_list("current_status").annotate(Count("pk")))
        return {status: counted.get(status.value, 0) for status in CommitmentStatus}

    def active_in_year(self, year):
        """Commitments whose period covers the year, or without a period, stated that year."""
        in_period = (
            (Q(period_start__isnull=False) | Q(period_end__isnull=False))
            & (Q(period_start__isnull=True) | Q(period_start__year__lte=year))
            & (Q(period_end__isnull=True) | Q(period_end__year__gte=year))
        )
        stated_then = Q(period_start__isnull=True, period_end__isnull=True) & Exists(
            SourceQuote.objects.filter(
                commitment=OuterRef("pk"), article__publication_date__year=year
            )
        )
        return self.filter(in_period | stated_then)


class Commitment(Publishable):
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=CommitmentKind.choices)
    parties = models.ManyToManyField(
        Actor,
        verbose_name=_("parties"),
        blank=True,
        related_name="commitments",
        help_text=_("Who made the commitment, as the source names them."),
    )
    focus_areas = models.ManyToManyField(
        FocusArea, verbose_name=_("focus areas"), blank=True, related_name="commitments"
    )
    geographic_scope = models.CharField(
        _("geographic scope"),
        max_length=20,
        choices=GeographicScope.choices,
        default=GeographicScope.COUNTRIES,
    )
    countries = models.ManyToManyField(
        Country,
        verbose_name=_("countries"),
        blank=True,
        related_name="commitments",
        help_text=_("The countries the source names as concerned."),
    )
    announced_at = models.ForeignKey(
        Event,
        verbose_name=_("announced at"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments",
    )
    part_of = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components",
        help_text=_("The wider plan this commitment belongs to, if any."),
    )
    sources = models.ManyToManyField(
        Article, verbose_name=_("sources"), through="SourceQuote", related_name="commitments"
    )

    target_qualifier = models.CharField(
        _("target qualifier"),
        max_length=10,
        choices=FigureQualifier.choices,
        default=FigureQualifier.AS_STATED,
        help_text=_(
            "How the source qualifies the number: “more than 3,500” is “more than”; "
            "a bare “3,500” is “as stated”."
        ),
    )
    target_value = models.DecimalField(
        _("target"),
        max_digits=20,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("The number promised, for example 3500."),
    )
    target_unit = models.CharField(
        _("target unit"),
        max_length=100,
        blank=True,
        help_text=_("What the target counts, in the source's words, for example “scholarships”."),
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=20,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("The money pledged, in full units: 66 billion is 66000000000."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        validators=[validate_currency_code],
        help_text=_("ISO 4217 code of the amount, for example CNY."),
    )
    usd_equivalent = models.DecimalField(
        _("stated USD equivalent"),
        max_digits=20,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Only when the source states it; the tracker never converts currencies itself."
        ),
    )

    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_start_precision = models.CharField(
        _("period start precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.YEAR,
    )
    period_end = models.DateField(
        _("period end or deadline"), null=True, blank=True, help_text=_("Empty when open-ended.")
    )
    period_end_precision = models.CharField(
        _("period end precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.YEAR,
    )
    # The status of the latest update, stored for lists to filter, sort and count by; the
    # signals in policy/signals.py keep it in step with the updates, however they change.
    current_status = models.CharField(
        _("current status"),
        max_length=20,
        choices=CommitmentStatus.choices,
        default=CommitmentStatus.NOT_YET_RATED,
        editable=False,
    )

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        permissions = [("publish_commitment", _("Can publish, unpublish, schedule and archive"))]
        indexes = [
            models.Index(fields=["current_status"], name="policy_commitment_status"),
            # The list's filters by kind, alone or with the status.
            models.Index(fields=["kind", "current_status"], name="policy_commitment_kind_status"),
            # The lists' default order: a page is read in order instead of sorting them all.
            models.Index(fields=["title"], name="policy_commitment_title"),
            # Which commitments the public sees, and their statuses, read from this index alone
            # by the home page's counts (by status, focus area and country): PostgreSQL need not
            # read the table. The id is a key column because SQLite takes no INCLUDE.
            models.Index(
                fields=["publication_status", "publish_at", "unpublish_at", "current_status", "id"],
                name="policy_commitment_published",
            ),
        ]
        constraints = [
            *Publishable.Meta.constraints,
            models.CheckConstraint(
                condition=Q(target_value__isnull=True) | Q(target_value__gte=0),
                name="commitment_target_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="commitment_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(usd_equivalent__isnull=True) | Q(usd_equivalent__gte=0),
                name="commitment_usd_equivalent_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True, currency="")
                | (Q(amount__isnull=False) & ~Q(currency="")),
                name="commitment_amount_has_currency",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="commitment_period_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return record_url("policy:commitment_detail", self.slug)

    def clean(self):
        super().clean()
        errors = {}
        if self.amount is not None and not self.currency:
            errors["currency"] = _("Give the currency of the amount.")
        if self.amount is None and self.currency:
            errors["amount"] = _("Give the amount, or clear the currency.")
        if self.target_value is None and self.target_unit:
            errors["target_value"] = _("Give the target number, or clear its unit.")
        if self.target_value is not None and not self.target_unit:
            errors["target_unit"] = _("Say what the target counts, for example “scholarships”.")
        self.period_start = truncate_to_precision(self.period_start, self.period_start_precision)
        self.period_end = truncate_to_precision(self.period_end, self.period_end_precision)
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = _("The period cannot end before it starts.")
        if self.part_of_id is not None and self.part_of_id == self.pk:
            errors["part_of"] = _("A commitment cannot be part of itself.")
        if errors:
            raise ValidationError(errors)

    # Django's get_FOO_display() translates every label of the field to return one: lists call
    # these for each of their commitments.
    def get_kind_display(self):
        return choice_label(CommitmentKind, self.kind)

    def get_current_status_display(self):
        return choice_label(CommitmentStatus, self.current_status)

    @property
    def target_display(self):
        if self.target_value is None:
            return ""
        number = number_format(self.target_value.normalize(), force_grouping=True)
        if self.target_qualifier == FigureQualifier.AS_STATED:
            return f"{number} {self.target_unit}"
        return f"{self.get_target_qualifier_display()} {number} {self.target_unit}"

    @property
    def amount_display(self):
        if self.amount is None:
            return ""
        return f"{number_format(self.amount.normalize(), force_grouping=True)} {self.currency}"

    @property
    def period_display(self):
        start = format_partial_date(self.period_start, self.period_start_precision)
        end = format_partial_date(self.period_end, self.period_end_precision)
        if start and end:
            return f"{start}–{end}"
        if start:
            return _("from %(start)s") % {"start": start}
        if end:
            return _("by %(end)s") % {"end": end}
        return ""


class SourceQuoteQuerySet(models.QuerySet):
    def published(self):
        """Quotes the public may read: those of published articles."""
        return self.filter(article__in=Article.objects.published())


class SourceQuote(models.Model):
    """A sentence of an article, copied verbatim, that states a commitment."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="quotes")
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.PROTECT, related_name="quotes"
    )
    text = models.TextField(
        _("quote"), help_text=_("The sentence exactly as the article writes it.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = SourceQuoteQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("source quote")
        verbose_name_plural = _("source quotes")
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="source_quote_not_empty"),
        ]

    def __str__(self):
        return f"“{self.text[:80]}”"

    def get_absolute_url(self):
        """The quoted sentence in its article, where the article page marks it."""
        return f"{self.article.get_absolute_url()}#{self.anchor}"

    @property
    def anchor(self):
        return f"quote-{self.pk}"

    def clean(self):
        super().clean()
        if self.article_id is not None:
            self.article.validate_quote(self.text, field="text")


class StatusUpdate(models.Model):
    """A dated change of a commitment's status, with the evidence for it."""

    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="status_updates"
    )
    date = models.DateField(_("date"), help_text=_("When the evidence shows the new status."))
    status = models.CharField(_("status"), max_length=20, choices=CommitmentStatus.choices)
    note = models.TextField(_("note"), help_text=_("Why the status is what it is."))
    source_article = models.ForeignKey(
        Article,
        verbose_name=_("source article"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status_updates",
    )
    source_url = models.URLField(_("source URL"), max_length=500, blank=True)
    source_quote = models.TextField(
        _("source quote"),
        blank=True,
        help_text=_("The sentence of the source article that shows the status, copied verbatim."),
    )

    class Meta:
        ordering = ["date", "pk"]
        get_latest_by = ["date", "pk"]
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        constraints = [
            models.CheckConstraint(
                condition=Q(source_article__isnull=False) | ~Q(source_url=""),
                name="status_update_has_source",
            ),
        ]

    def __str__(self):
        return f"{self.get_status_display()} ({self.date})"

    def get_absolute_url(self):
        """The update in its commitment's timeline."""
        return f"{self.commitment.get_absolute_url()}#{self.anchor}"

    @property
    def anchor(self):
        return f"status-update-{self.pk}"

    def clean(self):
        super().clean()
        if self.source_article_id is None and not self.source_url:
            raise ValidationError(
                _("Give the source of this update: an article in the tracker, a URL, or both.")
            )
        if self.source_quote:
            if self.source_article_id is None:
                raise ValidationError(
                    {"source_article": _("Choose the article the quote comes from.")}
                )
            self.source_article.validate_quote(self.source_quote, field="source_quote")
