"""The lists' filtering by the FilterSets of policy/filters.py."""

from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, without the FilterSet when the request gives none of its filters.

    A filter without a value leaves the records as they are, and building the FilterSet, its form
    and the querysets of its choices took a tenth of a commitment list's time. A filter's form
    field reads the parameters whose names start with the filter's (a range filter's, `_min` and
    `_max` after it).
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(
            parameter.startswith(name)
            for parameter in request.query_params
            for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
