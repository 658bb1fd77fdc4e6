"""List filters of the commitment admin that need the domain's querysets."""

from django.contrib import admin
from django.db.models import Max, Min
from django.utils.translation import gettext_lazy as _

from policy.models import CommitmentStatus


class CurrentStatusFilter(admin.SimpleListFilter):
    title = _("current status")
    parameter_name = "current_status"

    def lookups(self, request, model_admin):
        return CommitmentStatus.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.with_status(self.value())


class ActiveYearFilter(admin.SimpleListFilter):
    """The years a commitment covers, as the public year filter reads them."""

    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        bounds = model_admin.get_queryset(request).aggregate(
            first=Min("period_start__year"),
            last_start=Max("period_start__year"),
            last_end=Max("period_end__year"),
            first_stated=Min("quotes__article__publication_date__year"),
            last_stated=Max("quotes__article__publication_date__year"),
        )
        firsts = [bounds[key] for key in ("first", "first_stated") if bounds[key]]
        lasts = [bounds[key] for key in ("last_start", "last_end", "last_stated") if bounds[key]]
        if not firsts or not lasts:
            return []
        return [(str(year), str(year)) for year in range(max(lasts), min(firsts) - 1, -1)]

    def queryset(self, request, queryset):
        if self.value() is None or not self.value().isdigit():
            return queryset
        return queryset.active_in_year(int(self.value()))
