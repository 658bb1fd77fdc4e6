"""One FilterSet per listed model, shared by the HTML lists and the API.

Choices that name records offer only those the request may see, so no draft leaks through a form.
They are built per request: what is published depends on the time, and on preview mode.
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from policy import preview
from policy.models import (
    Actor,
    Article,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    Country,
    FocusArea,
    Keyword,
    Person,
)


class CommitmentFilterSet(django_filters.FilterSet):
    focus_area = django_filters.ModelChoiceFilter(
        label=_("Focus area"),
        field_name="focus_areas",
        to_field_name="slug",
        queryset=lambda request: preview.visible(request, FocusArea),
    )
    country = django_filters.ModelChoiceFilter(
        label=_("Country"),
        field_name="countries",
        to_field_name="iso_code",
        queryset=Country.objects.all(),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CommitmentStatus.choices, method="filter_status"
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=CommitmentKind.choices)
    party = django_filters.ModelChoiceFilter(
        label=_("Party"),
        field_name="parties",
        to_field_name="slug",
        queryset=lambda request: Actor.objects.filter(
            commitments__in=preview.visible(request, Commitment)
        ).distinct(),
    )
    year = django_filters.NumberFilter(
        label=_("Year"), method="filter_year", min_value=1900, max_value=2200
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        choices=[
            ("title", _("Title")),
            ("recent", _("Recently updated")),
            ("deadline", _("Deadline, soonest first")),
            ("status", _("Status")),
        ],
        method="sort_by",
        empty_label=None,
    )

    class Meta:
        model = Commitment
        fields = ["focus_area", "country", "status", "kind", "party", "year", "sort"]

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value)

    def filter_year(self, queryset, name, value):
        return queryset.active_in_year(int(value))

    def sort_by(self, queryset, name, value):
        return queryset.sorted_by(value)


class ArticleFilterSet(django_filters.FilterSet):
    keyword = django_filters.ModelChoiceFilter(
        label=_("Keyword"),
        field_name="keywords",
        to_field_name="slug",
        queryset=lambda request: Keyword.objects.filter(
            articles__in=preview.visible(request, Article)
        ).distinct(),
    )
    author = django_filters.ModelChoiceFilter(
        label=_("Author"),
        field_name="authors",
        to_field_name="slug",
        queryset=lambda request: Person.objects.filter(
            articles__in=preview.visible(request, Article)
        ).distinct(),
    )
    year = django_filters.NumberFilter(
        label=_("Year"), field_name="publication_date__year", min_value=1900, max_value=2200
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"), choices=Article._meta.get_field("language").choices
    )

    class Meta:
        model = Article
        fields = ["keyword", "author", "year", "language"]
