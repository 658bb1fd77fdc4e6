"""Commitments with their quotes and status history."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from policy.models import Commitment, SourceQuote, StatusUpdate
from policy.resources import CommitmentResource

from .common import HTTPS_URL_FIELDS
from .filters import ActiveYearFilter, CurrentStatusFilter
from .importexport import EditorialImportExportMixin
from .workflow import PUBLICATION_FIELDSET, LockedWhenPublishedInline, PublishableAdmin


class SourceQuoteInline(LockedWhenPublishedInline, admin.TabularInline):
    model = SourceQuote
    autocomplete_fields = ["article"]
    extra = 1


class StatusUpdateInline(admin.StackedInline):
    model = StatusUpdate
    formfield_overrides = HTTPS_URL_FIELDS
    autocomplete_fields = ["source_article"]
    extra = 0


@admin.register(Commitment)
class CommitmentAdmin(EditorialImportExportMixin, PublishableAdmin):
    resource_classes = [CommitmentResource]
    list_display = ["title", "kind", "current_status", "publication_status", "updated_at"]
    list_filter = [
        "publication_status",
        "kind",
        CurrentStatusFilter,
        ActiveYearFilter,
        "focus_areas",
        ("countries", admin.RelatedOnlyFieldListFilter),
        ("parties", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "description", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["focus_areas", "part_of", "parties", "countries", "announced_at"]
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
