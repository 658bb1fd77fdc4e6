"""Reference records: countries, keywords, actors, people, events and projects."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from policy.models import Actor, Country, Event, Keyword, Person, Project

from .common import SOURCE_FIELDSET


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
