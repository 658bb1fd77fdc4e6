"""Published content: articles, the focus areas that group the tracker, and named projects."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import Illustrated, Publishable, Sourced, record_url
from .reference import Actor, Country, Keyword, Person

# Typographic variants that make a pasted quote look right but fail an exact match.
_QUOTE_LOOKALIKES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def _loosely(text):
    return re.sub(r"\s+", " ", text.translate(_QUOTE_LOOKALIKES)).strip()


# Paragraphs of an article body are separated by an empty line.
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


class ContentLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    PORTUGUESE = "pt", _("Portuguese")
    CHINESE = "zh", _("Chinese")


class Article(Publishable, Illustrated):
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    authors = models.ManyToManyField(
        Person,
        verbose_name=_("authors"),
        through="Authorship",
        related_name="articles",
        blank=True,
    )
    publisher = models.ForeignKey(
        Actor,
        verbose_name=_("publisher"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="published_articles",
    )
    publication_date = models.DateField(_("publication date"))
    source_url = models.URLField(
        _("source URL"), max_length=500, blank=True, help_text=_("Where the original is published.")
    )
    summary = models.TextField(
        _("summary"),
        blank=True,
        help_text=_(
            "One or two sentences for lists and search results. "
            "Leave empty to use the opening paragraph."
        ),
    )
    body = models.TextField(
        _("body"), help_text=_("The full text. Separate paragraphs with an empty line.")
    )
    keywords = models.ManyToManyField(
        Keyword, verbose_name=_("keywords"), blank=True, related_name="articles"
    )
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=ContentLanguage.choices,
        default=ContentLanguage.ENGLISH,
    )

    class Meta:
        ordering = ["-publication_date", "title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [*Publishable.Meta.constraints, *Illustrated.Meta.constraints]
        permissions = [("publish_article", _("Can publish, unpublish, schedule and archive"))]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return record_url("policy:article_detail", self.slug)

    @property
    def paragraphs(self):
        return [part.strip() for part in PARAGRAPH_BREAK.split(self.body) if part.strip()]

    @property
    def lead(self):
        """The summary, or the opening paragraph when no summary was written."""
        if self.summary:
            return self.summary
        paragraphs = self.paragraphs
        return paragraphs[0] if paragraphs else ""

    def validate_quote(self, quote, *, field):
        """Refuse a quote that is not a verbatim part of the body, saying why when it is close."""
        if not quote.strip():
            raise ValidationError({field: _("Copy the sentence from the article.")})
        if quote in self.body:
            return
        if _loosely(quote) in _loosely(self.body):
            message = _(
                "This quote differs from “%(article)s” only in quotation marks, dashes or spaces. "
                "Copy it exactly as the article writes it."
            )
        else:
            message = _("This quote is not found verbatim in “%(article)s”.")
        raise ValidationError({field: ValidationError(message, params={"article": self.title})})


class Authorship(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="authorships")
    person = models.ForeignKey(
        Person, verbose_name=_("author"), on_delete=models.PROTECT, related_name="authorships"
    )
    affiliation = models.CharField(
        _("affiliation"),
        max_length=300,
        blank=True,
        help_text=_("As printed in the byline of this article."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("authorship")
        verbose_name_plural = _("authorships")
        constraints = [
            models.UniqueConstraint(fields=["article", "person"], name="unique_author_per_article"),
        ]

    def __str__(self):
        return f"{self.person} – {self.article}"


class FocusArea(Publishable, Sourced, Illustrated):
    name = models.CharField(_("name"), max_length=150, unique=True)
    slug = models.SlugField(_("slug"), max_length=150, unique=True)
    order = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Lower numbers are listed first.")
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")
        constraints = [*Publishable.Meta.constraints, *Illustrated.Meta.constraints]
        permissions = [("publish_focusarea", _("Can publish, unpublish, schedule and archive"))]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("policy:focusarea_detail", self.slug)


class Project(Sourced):
    """A named undertaking on the ground: a port, a factory, a rail corridor."""

    name = models.CharField(_("name"), max_length=250)
    slug = models.SlugField(_("slug"), max_length=250, unique=True)
    country = models.ForeignKey(
        Country,
        verbose_name=_("country"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    actors = models.ManyToManyField(
        Actor, verbose_name=_("actors"), blank=True, related_name="projects"
    )
    focus_areas = models.ManyToManyField(
        FocusArea, verbose_name=_("focus areas"), blank=True, related_name="projects"
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self):
        return self.name
