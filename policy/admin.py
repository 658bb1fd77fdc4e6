"""The editorial admin: every record of the tracker can be found and changed here."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from policy.models import (
    Actor,
    Article,
    Authorship,
    Commitment,
    CommitmentStatus,
    Country,
    Event,
    FocusArea,
    Keyword,
    Person,
    Project,
    SourceQuote,
    StatusUpdate,
)

admin.site.site_header = _("Puente")
admin.site.site_title = _("Puente editorial admin")

# The timestamps are set by the models; editors see them but cannot change them.
PUBLICATION_READONLY_FIELDS = ["first_published_at", "created_at", "updated_at"]
PUBLICATION_FIELDSET = (
    _("Publication"),
    {"fields": ["publication_status", *PUBLICATION_READONLY_FIELDS]},
)
SOURCE_FIELDSET = (_("Source"), {"fields": ["source_article", "source_quote"]})
# Editors paste bare domains; read them as https, Django 6's default.
HTTPS_URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


# Reference records


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name", "iso_code", "region"]
    list_filter = ["region"]
    search_fields = ["name", "iso_code", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Actor)
class ActorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country"]
    list_filter = ["kind", ("country", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["country", "source_article"]
    fieldsets = [(None, {"fields": ["name", "slug", "kind", "country"]}), SOURCE_FIELDSET]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "country"]
    list_filter = [("country", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["country"]
    search_fields = ["name", "slug", "role"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["country", "source_article"]
    fieldsets = [(None, {"fields": ["name", "slug", "role", "country"]}), SOURCE_FIELDSET]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "partial_date", "place", "country"]
    list_filter = [("country", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["country"]
    date_hierarchy = "date"
    search_fields = ["name", "slug", "place"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["country", "participants", "source_article"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description"]}),
        (_("When and where"), {"fields": [("date", "date_precision"), "place", "country"]}),
        (_("Who"), {"fields": ["participants"]}),
        SOURCE_FIELDSET,
    ]

    @admin.display(description=_("date"), ordering="date")
    def partial_date(self, event):
        return event.date_display


# Published content


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    autocomplete_fields = ["person"]
    extra = 1


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = [
        "title",
        "author_names",
        "publisher",
        "publication_date",
        "language",
        "publication_status",
    ]
    list_filter = [
        "publication_status",
        "language",
        ("publisher", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["publisher"]
    date_hierarchy = "publication_date"
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["publisher", "keywords"]
    readonly_fields = PUBLICATION_READONLY_FIELDS
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "publisher",
                    "publication_date",
                    "language",
                    "source_url",
                    "keywords",
                ]
            },
        ),
        (_("Text"), {"fields": ["summary", "body"]}),
        (_("Lead image"), {"fields": ["image", "image_alt"]}),
        PUBLICATION_FIELDSET,
    ]
    inlines = [AuthorshipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("authorships__person")

    @admin.display(description=_("authors"))
    def author_names(self, article):
        return ", ".join(authorship.person.name for authorship in article.authorships.all())


@admin.register(FocusArea)
class FocusAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "publication_status", "updated_at"]
    list_filter = ["publication_status"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["source_article"]
    readonly_fields = PUBLICATION_READONLY_FIELDS
    fieldsets = [
        (None, {"fields": ["name", "slug", "order", "description"]}),
        (_("Image"), {"fields": ["image", "image_alt"]}),
        SOURCE_FIELDSET,
        PUBLICATION_FIELDSET,
    ]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "place"]
    list_filter = [("country", admin.RelatedOnlyFieldListFilter), "focus_areas"]
    list_select_related = ["country"]
    search_fields = ["name", "slug", "place", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["country", "actors", "focus_areas", "source_article"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description"]}),
        (_("Who and where"), {"fields": ["actors", "country", "place", "focus_areas"]}),
        SOURCE_FIELDSET,
    ]


# Commitments


class CurrentStatusFilter(admin.SimpleListFilter):
    title = _("current status")
    parameter_name = "current_status"

    def lookups(self, request, model_admin):
        return CommitmentStatus.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.with_status(self.value())


class SourceQuoteInline(admin.TabularInline):
    model = SourceQuote
    autocomplete_fields = ["article"]
    extra = 1


class StatusUpdateInline(admin.StackedInline):
    model = StatusUpdate
    formfield_overrides = HTTPS_URL_FIELDS
    autocomplete_fields = ["source_article"]
    extra = 0


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "current_status", "publication_status", "updated_at"]
    list_filter = [
        "publication_status",
        "kind",
        CurrentStatusFilter,
        "focus_areas",
        ("countries", admin.RelatedOnlyFieldListFilter),
        ("parties", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "description", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["focus_areas", "part_of", "parties", "countries", "announced_at"]
    readonly_fields = PUBLICATION_READONLY_FIELDS
    fieldsets = [
        (
            _("What"),
            {"fields": ["title", "slug", "kind", "description", "focus_areas", "part_of"]},
        ),
        (
            _("Who and where"),
            {"fields": ["parties", "geographic_scope", "countries", "announced_at"]},
        ),
        (
            _("Figures"),
            {
                "fields": [
                    ("target_qualifier", "target_value", "target_unit"),
                    ("amount", "currency"),
                    "usd_equivalent",
                ]
            },
        ),
        (
            _("Period"),
            {
                "description": _(
                    "Dates are kept to their precision: a date with year precision "
                    "is saved as 1 January of that year."
                ),
                "fields": [
                    ("period_start", "period_start_precision"),
                    ("period_end", "period_end_precision"),
                ],
            },
        ),
        PUBLICATION_FIELDSET,
    ]
    inlines = [SourceQuoteInline, StatusUpdateInline]

    @admin.display(description=_("current status"), ordering="current_status")
    def current_status(self, commitment):
        return commitment.get_current_status_display()
