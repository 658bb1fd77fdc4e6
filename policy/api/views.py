"""Read-only endpoints of the published records, looked up by slug.

Querysets are built per request, in get_queryset: what is published depends on the time.
"""

from django.db.models import Prefetch
from rest_framework import viewsets

from policy.filters import ArticleFilterSet, CommitmentFilterSet
from policy.models import (
    Article,
    Authorship,
    Commitment,
    Country,
    FocusArea,
    SourceQuote,
    StatusUpdate,
)

from . import serializers


def published_commitments():
    return Prefetch("commitments", queryset=Commitment.objects.published())


class ArticleViewSet(viewsets.ReadOnlyModelViewSet):
    """Published articles, newest first."""

    serializer_class = serializers.ArticleSerializer
    lookup_field = "slug"
    filterset_class = ArticleFilterSet
    ordering_fields = ["publication_date", "title", "updated_at"]

    def get_queryset(self):
        return (
            Article.objects.published()
            .select_related("publisher")
            .prefetch_related(
                Prefetch("authorships", queryset=Authorship.objects.select_related("person")),
                "keywords",
                # An article that quotes a commitment twice still lists it once.
                Prefetch("commitments", queryset=Commitment.objects.published().distinct()),
            )
        )


class CommitmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Published commitments with their figures, sources and status history."""

    serializer_class = serializers.CommitmentSerializer
    lookup_field = "slug"
    filterset_class = CommitmentFilterSet
    search_fields = ["title", "description"]
    ordering_fields = ["title", "updated_at"]

    def get_queryset(self):
        return (
            Commitment.objects.published()
            .select_related("announced_at", "part_of")
            .prefetch_related(
                "parties",
                "countries",
                Prefetch("focus_areas", queryset=FocusArea.objects.published()),
                Prefetch(
                    "quotes",
                    queryset=SourceQuote.objects.published().select_related("article"),
                ),
                Prefetch(
                    "status_updates", queryset=StatusUpdate.objects.select_related("source_article")
                ),
            )
        )


class FocusAreaViewSet(viewsets.ReadOnlyModelViewSet):
    """Published focus areas in their editorial order."""

    serializer_class = serializers.FocusAreaSerializer
    lookup_field = "slug"
    ordering_fields = ["order", "name"]

    def get_queryset(self):
        return FocusArea.objects.published().prefetch_related(published_commitments())


class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    """Every country the tracker knows; countries have no publication state."""

    serializer_class = serializers.CountrySerializer
    lookup_field = "slug"
    ordering_fields = ["name", "iso_code"]

    def get_queryset(self):
        return Country.objects.prefetch_related(published_commitments())
