"""Reference records that articles and commitments point to: places, actors, people, events."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from policy.validators import validate_country_code

from .base import (
    DatePrecision,
    Sourced,
    format_partial_date,
    record_url,
    truncate_to_precision,
)


class Region(models.TextChoices):
    """UN M49 sub-regions of the countries the tracker covers."""

    CARIBBEAN = "caribbean", _("Caribbean")
    CENTRAL_AMERICA = "central_america", _("Central America")
    SOUTH_AMERICA = "south_america", _("South America")
    EASTERN_ASIA = "eastern_asia", _("Eastern Asia")


LATIN_AMERICA_AND_CARIBBEAN = (Region.CARIBBEAN, Region.CENTRAL_AMERICA, Region.SOUTH_AMERICA)


class CountryQuerySet(models.QuerySet):
    def in_latin_america_and_caribbean(self):
        return self.filter(region__in=LATIN_AMERICA_AND_CARIBBEAN)


class Country(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    iso_code = models.CharField(
        _("ISO code"),
        max_length=2,
        unique=True,
        validators=[validate_country_code],
        help_text=_("ISO 3166-1 alpha-2 code, for example BR."),
    )
    region = models.CharField(_("region"), max_length=20, choices=Region.choices)

    objects = CountryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("policy:country_detail", self.slug)

    @property
    def is_in_latin_america_and_caribbean(self):
        return self.region in LATIN_AMERICA_AND_CARIBBEAN


class ActorKind(models.TextChoices):
    GOVERNMENT = "government", _("Government")
    REGIONAL_BODY = "regional_body", _("Regional body")
    FORUM = "forum", _("Intergovernmental forum")
    INTERNATIONAL_ORGANISATION = "international_organisation", _("International organisation")
    COMPANY = "company", _("Company")
    THINK_TANK = "think_tank", _("Think tank or research centre")
    BUSINESS_ASSOCIATION = "business_association", _("Business association")
    MEDIA = "media", _("Media outlet")


class Actor(Sourced):
    """A government, organisation or company that makes commitments, publishes or takes part."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=ActorKind.choices)
    country = models.ForeignKey(
        Country,
        verbose_name=_("country"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actors",
        help_text=_("Where it is based, if the source says so or it is a national government."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("actor")
        verbose_name_plural = _("actors")

    def __str__(self):
        return self.name


class Person(Sourced):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    role = models.CharField(
        _("role"),
        max_length=200,
        blank=True,
        help_text=_("The title the source gives, for example “Chilean President”."),
    )
    country = models.ForeignKey(
        Country,
        verbose_name=_("country"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self):
        return self.name


class Event(Sourced):
    """A meeting, summit or fair where commitments were made or discussed."""

    name = models.CharField(_("name"), max_length=250)
    slug = models.SlugField(_("slug"), max_length=250, unique=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    country = models.ForeignKey(
        Country,
        verbose_name=_("country"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    date = models.DateField(
        _("date"), null=True, blank=True, help_text=_("Leave empty if the source gives none.")
    )
    date_precision = models.CharField(
        _("date precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    description = models.TextField(_("description"), blank=True)
    participants = models.ManyToManyField(
        Person, verbose_name=_("participants"), blank=True, related_name="events"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        self.date = truncate_to_precision(self.date, self.date_precision)

    @property
    def date_display(self):
        return format_partial_date(self.date, self.date_precision)


class Keyword(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("keyword")
        verbose_name_plural = _("keywords")

    def __str__(self):
        return self.name
