"""Endpoints of the tracker's records, looked up by slug.

Querysets are built per request, in get_queryset: what is published depends on the time, and
on who asks. Anyone reads published records; editors with the view permission of a model also
read its drafts with `?include_unpublished=true`, and see the workflow fields of every record
(publication_status, publish_at, unpublish_at, version).

Writes take JSON (415 otherwise) and follow the admin's rules (permissions.py). They go through
policy/services.py, which keeps each one in the history with the user and "via API". A versioned
record's detail carries its ETag; a write with an If-Match that is not the current one answers
412 and writes nothing; without If-Match it proceeds.
"""

from contextlib import contextmanager
from functools import cached_property
from itertools import islice

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Prefetch, ProtectedError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, parsers, serializers, status, viewsets
from rest_framework.response import Response

from policy import services
from policy.filters import ArticleApiFilterSet, CommitmentApiFilterSet, FocusAreaApiFilterSet
from policy.models import (
    Actor,
    Article,
    Authorship,
    Commitment,
    Country,
    Event,
    FocusArea,
    Keyword,
    Person,
    Project,
    SourceQuote,
    StatusUpdate,
)
from policy.workflow import StaleEdit

from . import serializers as api_serializers
from .conditional import ConditionalGetMixin
from .etags import PreconditionFailed, check_if_match, record_etag
from .export import CSVExportMixin
from .permissions import INCLUDE_UNPUBLISHED, sees_unpublished

# How the history names the API as the source of a change.
VIA = "API"


class RecordInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Other records point to this one: change them first.")
    default_code = "record_in_use"


@contextmanager
def refusals_as_responses(serializer=None):
    """Answer a service's refusal: 412 for a stale edit, 400 by field, 409 for a record in use.

    A refusal of the workflow is a PermissionDenied, which DRF answers with 403 and its reason.
    """
    try:
        yield
    except StaleEdit as error:
        raise PreconditionFailed() from error
    except DjangoValidationError as error:
        raise serializers.ValidationError(serializer.model_errors(error)) from error
    except ProtectedError as error:
        raise RecordInUse() from error


class VisibleRecordsMixin:
    def visible(self, model):
        """The records of a versioned model this request may see."""
        if sees_unpublished(self.request, model):
            return model.objects.all()
        return model.objects.published()

    def add_commitment_slugs(self, records, relation, *, distinct=False):
        """Give each record the slugs of its commitments that this request may see, in
        `commitment_slugs`; `relation` is the commitments' field that names the records."""
        by_pk = {}
        for record in records:
            record.commitment_slugs = []
            by_pk[record.pk] = record
        links = self.visible(Commitment).filter(**{f"{relation}__in": list(by_pk)})
        links = links.values_list(relation, "slug")
        for pk, slug in links.distinct() if distinct else links:
            by_pk[pk].commitment_slugs.append(slug)


DRAFTS_PARAMETER = OpenApiParameter(
    INCLUDE_UNPUBLISHED,
    bool,
    description=(
        "`true`: staff with the view permission also get the records the public does not see "
        "yet (drafts, in review, scheduled, expired, archived). Ignored for anyone else."
    ),
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description=(
        "The ETag of the version the change is based on: 412 if the record has changed since. "
        "Without it, the write proceeds."
    ),
)


@extend_schema_view(
    list=extend_schema(parameters=[DRAFTS_PARAMETER]),
    retrieve=extend_schema(parameters=[DRAFTS_PARAMETER]),
    update=extend_schema(parameters=[IF_MATCH_PARAMETER]),
    partial_update=extend_schema(parameters=[IF_MATCH_PARAMETER]),
    destroy=extend_schema(parameters=[IF_MATCH_PARAMETER]),
)
class RecordViewSet(
    ConditionalGetMixin, CSVExportMixin, VisibleRecordsMixin, viewsets.ModelViewSet
):
    """List, read, create, change and delete records, by slug.

    `queryset` names the model, for the permissions and the schema; the records come from
    get_queryset, per request. Details and write responses carry the ETag of versioned records.
    """

    lookup_field = "slug"
    # Slugs only: anything else, a NUL byte included, is a 404 before the database is asked.
    lookup_value_regex = r"[-\w]+"
    parser_classes = [parsers.JSONParser]

    def retrieve(self, request, *args, **kwargs):
        return self.record_response(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.write(serializer, record=self.queryset.model())
        response = self.record_response(record, status_code=status.HTTP_201_CREATED)
        response["Location"] = response.data["url"]
        return response

    def update(self, request, *args, partial=False, **kwargs):
        record = self.get_object()
        check_if_match(request, record)
        serializer = self.get_serializer(record, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self.record_response(self.write(serializer, record=record))

    def destroy(self, request, *args, **kwargs):
        record = self.get_object()
        check_if_match(request, record)
        with refusals_as_responses():
            services.delete_record(record=record, user=request.user, via=VIA)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def write(self, serializer, *, record):
        with refusals_as_responses(serializer):
            record = services.save_record(
                record=record, changes=serializer.validated_data, user=self.request.user, via=VIA
            )
        # Read back as a detail is read, with the annotations and relations it shows.
        record = self.get_queryset().get(pk=record.pk)
        self.add_relations([record])
        return record

    # Wherever records are read to be shown, add_relations gives them their related records.

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.add_relations(page or [])
        return page

    def get_object(self):
        record = super().get_object()
        self.add_relations([record])
        return record

    def exported(self, queryset):
        records = super().exported(queryset)
        while chunk := list(islice(records, self.csv_chunk_size)):
            self.add_relations(chunk)
            yield from chunk

    def add_relations(self, records):
        """Give the records the related records that their representation reads as rows, where
        prefetching model instances would cost more than the rest of the request: a query per
        relation, as prefetch_related makes, whatever the number of records."""

    def record_response(self, record, status_code=status.HTTP_200_OK):
        response = Response(self.get_serializer(record).data, status=status_code)
        if etag := record_etag(record):
            response["ETag"] = etag
        return response


class ArticleViewSet(RecordViewSet):
    """Articles, newest first. Authors are read-only here: the admin and the import set them."""

    queryset = Article.objects.none()
    serializer_class = api_serializers.ArticleSerializer
    filterset_class = ArticleApiFilterSet
    ordering_fields = ["publication_date", "title", "updated_at"]

    def get_queryset(self):
        return (
            self.visible(Article)
            .select_related("publisher")
            .prefetch_related(
                Prefetch(
                    "authorships",
                    queryset=Authorship.objects.select_related("person"),
                    to_attr="prefetched_authorships",
                ),
                "keywords",
            )
        )

    def add_relations(self, articles):
        # An article that quotes a commitment twice still lists it once.
        self.add_commitment_slugs(articles, "sources", distinct=True)


class CommitmentViewSet(RecordViewSet):
    """Commitments with their figures, sources and status history.

    Quotes and status updates are added at quotes/ and status-updates/ under a commitment.
    """

    queryset = Commitment.objects.none()
    serializer_class = api_serializers.CommitmentSerializer
    filterset_class = CommitmentApiFilterSet
    search_fields = ["title", "description"]
    ordering_fields = ["title", "updated_at"]

    def get_queryset(self):
        return (
            self.visible(Commitment)
            .select_related("announced_at", "part_of")
            .defer(
                "announced_at__description", "announced_at__source_quote", "part_of__description"
            )
        )

    def add_relations(self, commitments):
        """The rows that CommitmentSerializer.to_representation shows, in the order of the
        related models, and only of the records this request may see."""
        by_pk = {}
        for commitment in commitments:
            commitment.party_rows = []
            commitment.country_rows = []
            commitment.focus_area_rows = []
            commitment.quote_rows = []
            commitment.status_update_rows = []
            by_pk[commitment.pk] = commitment
        pks = list(by_pk)
        parties = Actor.objects.filter(commitments__in=pks)
        for pk, name, slug in parties.values_list("commitments", "name", "slug"):
            by_pk[pk].party_rows.append({"name": name, "slug": slug})
        countries = Country.objects.filter(commitments__in=pks)
        for pk, iso_code, name, slug in countries.values_list(
            "commitments", "iso_code", "name", "slug"
        ):
            by_pk[pk].country_rows.append({"iso_code": iso_code, "name": name, "slug": slug})
        focus_areas = self.visible(FocusArea).filter(commitments__in=pks)
        for pk, slug, name in focus_areas.values_list("commitments", "slug", "name"):
            by_pk[pk].focus_area_rows.append({"slug": slug, "name": name})
        sees_draft_articles = sees_unpublished(self.request, Article)
        quotes = SourceQuote.objects.filter(commitment__in=pks)
        if not sees_draft_articles:
            quotes = quotes.published()
        for pk, article, text in quotes.values_list("commitment", "article__slug", "text"):
            by_pk[pk].quote_rows.append({"article": article, "text": text})
        updates = StatusUpdate.objects.filter(commitment__in=pks).annotate(
            source_article_published=Exists(
                Article.objects.published().filter(pk=OuterRef("source_article"))
            )
        )
        for update in updates.values(
            "commitment",
            "date",
            "status",
            "note",
            "source_article__slug",
            "source_article_published",
            "source_url",
            "source_quote",
        ):
            shown = update["source_article_published"] or sees_draft_articles
            by_pk[update["commitment"]].status_update_rows.append(
                {
                    "date": update["date"],
                    "status": update["status"],
                    "note": update["note"],
                    "source_article": update["source_article__slug"] if shown else None,
                    "source_url": update["source_url"],
                    "source_quote": update["source_quote"],
                }
            )


class FocusAreaViewSet(RecordViewSet):
    """Focus areas in their editorial order."""

    queryset = FocusArea.objects.none()
    serializer_class = api_serializers.FocusAreaSerializer
    filterset_class = FocusAreaApiFilterSet
    ordering_fields = ["order", "name"]

    def get_queryset(self):
        return self.visible(FocusArea)

    def add_relations(self, focus_areas):
        self.add_commitment_slugs(focus_areas, "focus_areas")


class CountryViewSet(RecordViewSet):
    """Every country the tracker knows; countries have no publication state."""

    queryset = Country.objects.none()
    serializer_class = api_serializers.CountrySerializer
    ordering_fields = ["name", "iso_code"]

    def get_queryset(self):
        return Country.objects.all()

    def add_relations(self, countries):
        self.add_commitment_slugs(countries, "countries")


class ActorViewSet(RecordViewSet):
    """Governments, organisations and companies that commit, publish or take part."""

    queryset = Actor.objects.none()
    serializer_class = api_serializers.ActorSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return Actor.objects.select_related("country")


class PersonViewSet(RecordViewSet):
    """People named by the sources: authors, officials, participants of events."""

    queryset = Person.objects.none()
    serializer_class = api_serializers.PersonSerializer
    search_fields = ["name", "role"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return Person.objects.select_related("country")


class EventViewSet(RecordViewSet):
    """Meetings, summits and fairs where commitments were made or discussed."""

    queryset = Event.objects.none()
    serializer_class = api_serializers.EventSerializer
    search_fields = ["name", "place"]
    ordering_fields = ["name", "date"]

    def get_queryset(self):
        return Event.objects.select_related("country").prefetch_related("participants")


class ProjectViewSet(RecordViewSet):
    """Named undertakings on the ground: ports, factories, rail corridors."""

    queryset = Project.objects.none()
    serializer_class = api_serializers.ProjectSerializer
    search_fields = ["name", "place"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return Project.objects.select_related("country").prefetch_related(
            "actors", Prefetch("focus_areas", queryset=self.visible(FocusArea))
        )


class KeywordViewSet(RecordViewSet):
    """The keywords of articles."""

    queryset = Keyword.objects.none()
    serializer_class = api_serializers.KeywordSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return Keyword.objects.all()


@extend_schema(
    parameters=[
        OpenApiParameter(
            "commitment_slug", str, OpenApiParameter.PATH, description="The commitment's slug."
        )
    ]
)
@extend_schema_view(list=extend_schema(parameters=[DRAFTS_PARAMETER]))
class CommitmentPartViewSet(
    ConditionalGetMixin,
    CSVExportMixin,
    VisibleRecordsMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """The quotes or status updates of one commitment.

    Adding or removing one is a change of the commitment: its version and ETag move on, so a
    change of the commitment based on the earlier ETag answers 412.
    """

    parser_classes = [parsers.JSONParser]

    @cached_property
    def commitment(self):
        return get_object_or_404(self.visible(Commitment), slug=self.kwargs["commitment_slug"])

    def created_response(self, part):
        return Response(self.get_serializer(part).data, status=status.HTTP_201_CREATED)


class StatusUpdateViewSet(CommitmentPartViewSet):
    """A commitment's status history. Editors may add to it even when it is published."""

    queryset = StatusUpdate.objects.none()
    serializer_class = api_serializers.StatusUpdateSerializer

    def get_queryset(self):
        return self.commitment.status_updates.select_related("source_article")

    def create(self, request, *args, **kwargs):
        commitment = self.commitment  # an unknown one answers 404 before the body is read
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with refusals_as_responses(serializer):
            update = services.add_status_update(
                commitment=commitment,
                fields=serializer.validated_data,
                user=request.user,
                via=VIA,
            )
        return self.created_response(update)


class SourceQuoteViewSet(CommitmentPartViewSet):
    """The verbatim quotes that state a commitment; read-only for Editors once it is published."""

    queryset = SourceQuote.objects.none()
    serializer_class = api_serializers.CommitmentQuoteSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        quotes = self.commitment.quotes.select_related("article")
        return quotes if sees_unpublished(self.request, Article) else quotes.published()

    def create(self, request, *args, **kwargs):
        self.check_object_permissions(request, self.commitment)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with refusals_as_responses(serializer):
            quote = services.add_source_quote(
                commitment=self.commitment,
                fields=serializer.validated_data,
                user=request.user,
                via=VIA,
            )
        return self.created_response(quote)

    def destroy(self, request, *args, **kwargs):
        quote = self.get_object()
        self.check_object_permissions(request, self.commitment)
        with refusals_as_responses():
            services.remove_source_quote(quote=quote, user=request.user, via=VIA)
        return Response(status=status.HTTP_204_NO_CONTENT)
