"""Representations of the tracker's records, as read and as written.

Field names are part of the public contract of /api/v1/: add fields, never rename them.
Decimals are strings, so money keeps its exact value.

Writes take the shape the reads give: a related record is given by its slug (a country by its
ISO code, a keyword by its name) or as the object the read output shows; figures are nested as
they are read, and `null` clears a target or an amount. Read-only fields are ignored on writes.
"""

from functools import cached_property
from urllib.parse import quote

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.http import RFC3986_SUBDELIMS
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.fields import get_error_detail
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from policy import preview
from policy.models import (
    Actor,
    Article,
    Authorship,
    Commitment,
    CommitmentStatus,
    Country,
    DatePrecision,
    Event,
    FigureQualifier,
    FocusArea,
    Keyword,
    Person,
    Project,
    Publishable,
    SourceQuote,
    StatusUpdate,
)

from .permissions import sees_unpublished

# The editorial state of a versioned record, shown to editors only.
WORKFLOW_FIELDS = ["publication_status", "publish_at", "unpublish_at", "version"]


class SlugURLs:
    """The URLs of records that differ by their slug alone, built from the URL of one.

    Reversing a URL costs more than all the other fields of a record together; a list reverses
    one per request, and puts each record's slug in it as Django's reverse() would.
    """

    PLACEHOLDER = "slug"

    def __init__(self, url_for_slug):
        # The last occurrence: only the path's end and the query string come after the slug.
        self.prefix, _, self.suffix = url_for_slug(self.PLACEHOLDER).rpartition(self.PLACEHOLDER)

    def url(self, slug):
        return f"{self.prefix}{quote(slug, safe=RFC3986_SUBDELIMS + '/~:@')}{self.suffix}"


def api_urls(view_name, *, request, format):
    """The URLs of records in the API."""
    return SlugURLs(
        lambda slug: reverse(view_name, kwargs={"slug": slug}, request=request, format=format)
    )


def page_urls(model, *, request):
    """The absolute URLs of records' pages on the public site."""
    return SlugURLs(lambda slug: request.build_absolute_uri(model(slug=slug).get_absolute_url()))


class RecordURLField(serializers.HyperlinkedIdentityField):
    """The record's URL in the API, by its slug."""

    def __init__(self, view_name, **kwargs):
        super().__init__(view_name=view_name, lookup_field="slug", **kwargs)
        self.slug_urls = {}

    def get_url(self, obj, view_name, request, format):
        if obj.pk is None:
            return None
        if (view_name, format) not in self.slug_urls:
            self.slug_urls[view_name, format] = api_urls(view_name, request=request, format=format)
        return self.slug_urls[view_name, format].url(obj.slug)


class PublicPageField(serializers.ReadOnlyField):
    """The absolute URL of the record's page on the public site."""

    def __init__(self, **kwargs):
        super().__init__(source="get_absolute_url", **kwargs)
        self.slug_urls = None

    def get_attribute(self, instance):
        return instance

    def to_representation(self, record):
        if self.slug_urls is None:
            self.slug_urls = page_urls(type(record), request=self.context["request"])
        return self.slug_urls.url(record.slug)


class PublishedSlugField(serializers.SlugRelatedField):
    """The slug of a related record, or null while the request may not see that record."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def get_attribute(self, instance):
        related = super().get_attribute(instance)
        if related is None or related.is_published:
            return related
        return related if sees_unpublished(self.context["request"], type(related)) else None


class SummaryRelatedField(serializers.SlugRelatedField):
    """A related record shown as its summary, and given by its slug or by that summary."""

    def __init__(self, *, summary, slug_field="slug", **kwargs):
        self.summary = summary
        super().__init__(slug_field=slug_field, **kwargs)

    @cached_property
    def summary_serializer(self):
        # One for all the records the field shows: building a serializer costs more than using it.
        return self.summary(context=self.context)

    def to_representation(self, value):
        return self.summary_serializer.to_representation(value)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = data.get(self.slug_field)
        return super().to_internal_value(data)


class SummaryRelatedFieldSchema(OpenApiSerializerFieldExtension):
    """The summary object in responses, the slug (or that object) in requests."""

    target_class = SummaryRelatedField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return auto_schema.resolve_serializer(self.target.summary, direction).ref
        return {
            "type": "string",
            "description": f"The {self.target.slug_field}, or the object a read shows.",
        }


def commitment_slugs(*, help_text):
    """The slugs of related commitments that the request may see, which the view adds
    (VisibleRecordsMixin.add_commitment_slugs)."""
    return serializers.ListField(
        child=serializers.CharField(),
        source="commitment_slugs",
        read_only=True,
        help_text=help_text,
    )


# The base of the serializers that write: the workflow fields for editors only, and the model's
# errors under the fields that take them. (A comment, not a docstring: the schema would show it.)
class RecordSerializer(serializers.ModelSerializer):
    # Where a model field the API takes under another name answers its errors.
    model_error_paths = {}

    def get_fields(self):
        fields = super().get_fields()
        if not self.shows_workflow:
            for name in WORKFLOW_FIELDS:
                fields.pop(name, None)
        return fields

    @cached_property
    def shows_workflow(self):
        request = self.context.get("request")
        model = self.Meta.model
        return (
            request is None
            or not issubclass(model, Publishable)
            or preview.may_preview(request.user, model)
        )

    def model_errors(self, error):
        """The messages of the model's ValidationError, each under the field that takes it."""
        detail = get_error_detail(error)
        if not isinstance(detail, dict):
            detail = {NON_FIELD_ERRORS: detail}
        errors = {}
        for name, messages in detail.items():
            default = api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name
            *parents, field = self.model_error_paths.get(name, (default,))
            node = errors
            for parent in parents:
                node = node.setdefault(parent, {})
            node.setdefault(field, []).extend(messages)
        return errors


class ActorSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Actor
        fields = ["name", "slug"]
        read_only_fields = fields


class AuthorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name", read_only=True)
    slug = serializers.CharField(source="person.slug", read_only=True)

    class Meta:
        model = Authorship
        fields = ["name", "slug", "affiliation"]
        read_only_fields = fields


class CountrySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["iso_code", "name", "slug"]
        read_only_fields = fields


class FocusAreaSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = FocusArea
        fields = ["slug", "name"]
        read_only_fields = fields


class EventSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["name", "slug"]
        read_only_fields = fields


def country_field(**kwargs):
    return SummaryRelatedField(
        summary=CountrySummarySerializer,
        slug_field="iso_code",
        queryset=Country.objects.all(),
        help_text="Given by its ISO 3166-1 alpha-2 code, such as BR.",
        **kwargs,
    )


class ArticleSerializer(RecordSerializer):
    url = RecordURLField("api:article-detail")
    html_url = PublicPageField()
    authors = AuthorSerializer(source="prefetched_authorships", many=True, read_only=True)
    publisher = SummaryRelatedField(
        summary=ActorSummarySerializer,
        queryset=Actor.objects.all(),
        allow_null=True,
        required=False,
    )
    paragraphs = serializers.ListField(child=serializers.CharField(), read_only=True)
    keywords = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Keyword.objects.all(), required=False
    )
    commitments = commitment_slugs(
        help_text="Slugs of the published commitments the article states."
    )

    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "url",
            "html_url",
            "authors",
            "publisher",
            "publication_date",
            "source_url",
            "summary",
            "body",
            "paragraphs",
            "keywords",
            "language",
            "commitments",
            "first_published_at",
            "updated_at",
            *WORKFLOW_FIELDS,
        ]


class TargetSerializer(serializers.Serializer):
    """The number a commitment promises, such as “more than 3,500 scholarships”."""

    value = serializers.DecimalField(source="target_value", max_digits=20, decimal_places=2)
    unit = serializers.CharField(source="target_unit")
    qualifier = serializers.ChoiceField(
        source="target_qualifier", choices=FigureQualifier.choices, required=False
    )

    def get_attribute(self, instance):
        return instance if instance.target_value is not None else None

    def to_internal_value(self, data):
        if data is None:
            return {
                "target_value": None,
                "target_unit": "",
                "target_qualifier": FigureQualifier.AS_STATED,
            }
        return super().to_internal_value(data)


class AmountSerializer(serializers.Serializer):
    """The money pledged, in full units of an ISO 4217 currency."""

    value = serializers.DecimalField(source="amount", max_digits=20, decimal_places=2)
    currency = serializers.CharField()
    usd_equivalent = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        allow_null=True,
        required=False,
        help_text="Only when the source states it; never converted by the tracker.",
    )

    def get_attribute(self, instance):
        return instance if instance.amount is not None else None

    def to_internal_value(self, data):
        if data is None:
            return {"amount": None, "currency": "", "usd_equivalent": None}
        return super().to_internal_value(data)


class PeriodSerializer(serializers.Serializer):
    """Partial dates: a date with year precision stands for its whole year."""

    start = serializers.DateField(source="period_start", allow_null=True, required=False)
    start_precision = serializers.ChoiceField(
        source="period_start_precision", choices=DatePrecision.choices, required=False
    )
    end = serializers.DateField(source="period_end", allow_null=True, required=False)
    end_precision = serializers.ChoiceField(
        source="period_end_precision", choices=DatePrecision.choices, required=False
    )
    display = serializers.CharField(source="period_display", read_only=True)


class FiguresSerializer(serializers.Serializer):
    target = TargetSerializer(source="*", allow_null=True, required=False)
    amount = AmountSerializer(source="*", allow_null=True, required=False)
    period = PeriodSerializer(source="*", required=False)


class SourceQuoteSerializer(serializers.ModelSerializer):
    article = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = SourceQuote
        fields = ["article", "text"]
        read_only_fields = fields


class CommitmentQuoteSerializer(RecordSerializer):
    """A quote of a commitment, with the id that deletes it."""

    article = serializers.SlugRelatedField(slug_field="slug", queryset=Article.objects.all())

    class Meta:
        model = SourceQuote
        fields = ["id", "article", "text", "order"]


class StatusUpdateSerializer(RecordSerializer):
    source_article = PublishedSlugField(
        queryset=Article.objects.all(), allow_null=True, required=False
    )
    source_quote = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text="Empty while the source article is a draft.",
    )

    class Meta:
        model = StatusUpdate
        fields = ["date", "status", "note", "source_article", "source_url", "source_quote"]

    def to_representation(self, update):
        data = super().to_representation(update)
        # The quote shows with its article only.
        if data["source_article"] is None:
            data["source_quote"] = ""
        return data


# Fields whose formats the hand-written representations use, unbound.
AS_DECIMAL = serializers.DecimalField(max_digits=20, decimal_places=2)
AS_DATE = serializers.DateField()
AS_DATETIME = serializers.DateTimeField()


def formatted(field, value):
    """The value as the field writes it; null stays null, as DRF leaves it."""
    return None if value is None else field.to_representation(value)


def visible_slug(record, sees_unpublished):
    """What PublishedSlugField gives."""
    if record is None or not (sees_unpublished or record.is_published):
        return None
    return record.slug


def status_update_data(row):
    """What StatusUpdateSerializer gives, from a row of it."""
    return {
        **row,
        "date": formatted(AS_DATE, row["date"]),
        # The quote shows with its article only.
        "source_quote": row["source_quote"] if row["source_article"] is not None else "",
    }


def figures_data(commitment):
    """What FiguresSerializer gives."""
    target = commitment.target_value
    amount = commitment.amount
    return {
        "target": None
        if target is None
        else {
            "value": formatted(AS_DECIMAL, target),
            "unit": commitment.target_unit,
            "qualifier": commitment.target_qualifier,
        },
        "amount": None
        if amount is None
        else {
            "value": formatted(AS_DECIMAL, amount),
            "currency": commitment.currency,
            "usd_equivalent": formatted(AS_DECIMAL, commitment.usd_equivalent),
        },
        "period": {
            "start": formatted(AS_DATE, commitment.period_start),
            "start_precision": commitment.period_start_precision,
            "end": formatted(AS_DATE, commitment.period_end),
            "end_precision": commitment.period_end_precision,
            "display": str(commitment.period_display),
        },
    }


class CommitmentSerializer(RecordSerializer):
    url = RecordURLField("api:commitment-detail")
    html_url = PublicPageField()
    status = serializers.ChoiceField(
        source="current_status",
        choices=CommitmentStatus.choices,
        read_only=True,
        help_text="The status of the latest update; add one at status-updates/.",
    )
    figures = FiguresSerializer(source="*", required=False)
    parties = SummaryRelatedField(
        summary=ActorSummarySerializer,
        many=True,
        queryset=Actor.objects.all(),
        required=False,
    )
    countries = country_field(many=True, required=False)
    focus_areas = SummaryRelatedField(
        summary=FocusAreaSummarySerializer,
        many=True,
        queryset=FocusArea.objects.all(),
        required=False,
    )
    announced_at = SummaryRelatedField(
        summary=EventSummarySerializer,
        queryset=Event.objects.all(),
        allow_null=True,
        required=False,
    )
    part_of = PublishedSlugField(queryset=Commitment.objects.all(), allow_null=True, required=False)
    quotes = SourceQuoteSerializer(
        many=True, read_only=True, help_text="Add and delete them at quotes/."
    )
    status_history = StatusUpdateSerializer(many=True, read_only=True)

    model_error_paths = {
        "target_value": ("figures", "target", "value"),
        "target_unit": ("figures", "target", "unit"),
        "target_qualifier": ("figures", "target", "qualifier"),
        "amount": ("figures", "amount", "value"),
        "currency": ("figures", "amount", "currency"),
        "usd_equivalent": ("figures", "amount", "usd_equivalent"),
        "period_start": ("figures", "period", "start"),
        "period_start_precision": ("figures", "period", "start_precision"),
        "period_end": ("figures", "period", "end"),
        "period_end_precision": ("figures", "period", "end_precision"),
    }

    class Meta:
        model = Commitment
        fields = [
            "title",
            "slug",
            "url",
            "html_url",
            "description",
            "kind",
            "status",
            "figures",
            "geographic_scope",
            "parties",
            "countries",
            "focus_areas",
            "announced_at",
            "part_of",
            "quotes",
            "status_history",
            "updated_at",
            *WORKFLOW_FIELDS,
        ]

    def to_representation(self, commitment):
        # The fields above give the schema and take the writes; the reads are written out here,
        # from the rows of related records that the viewset adds (add_relations): DRF's way,
        # field by field over model instances, cost a list more than all its queries.
        slug = commitment.slug
        event = commitment.announced_at
        data = {
            "title": commitment.title,
            "slug": slug,
            "url": self.api_urls.url(slug),
            "html_url": self.page_urls.url(slug),
            "description": commitment.description,
            "kind": commitment.kind,
            "status": commitment.current_status,
            "figures": figures_data(commitment),
            "geographic_scope": commitment.geographic_scope,
            "parties": commitment.party_rows,
            "countries": commitment.country_rows,
            "focus_areas": commitment.focus_area_rows,
            "announced_at": None if event is None else {"name": event.name, "slug": event.slug},
            "part_of": visible_slug(commitment.part_of, self.sees_draft_commitments),
            "quotes": commitment.quote_rows,
            "status_history": [status_update_data(row) for row in commitment.status_update_rows],
            "updated_at": formatted(AS_DATETIME, commitment.updated_at),
        }
        if self.shows_workflow:
            data["publication_status"] = commitment.publication_status
            data["publish_at"] = formatted(AS_DATETIME, commitment.publish_at)
            data["unpublish_at"] = formatted(AS_DATETIME, commitment.unpublish_at)
            data["version"] = commitment.version
        return data

    @cached_property
    def api_urls(self):
        return api_urls(
            "api:commitment-detail",
            request=self.context["request"],
            format=self.context.get("format"),
        )

    @cached_property
    def page_urls(self):
        return page_urls(Commitment, request=self.context["request"])

    @cached_property
    def sees_draft_commitments(self):
        return sees_unpublished(self.context["request"], Commitment)


class FocusAreaSerializer(RecordSerializer):
    url = RecordURLField("api:focusarea-detail")
    html_url = PublicPageField()
    commitments = commitment_slugs(help_text="Slugs of its published commitments.")

    class Meta:
        model = FocusArea
        fields = [
            "name",
            "slug",
            "url",
            "html_url",
            "order",
            "description",
            "commitments",
            *WORKFLOW_FIELDS,
        ]


class CountrySerializer(RecordSerializer):
    url = RecordURLField("api:country-detail")
    html_url = PublicPageField()
    commitments = commitment_slugs(help_text="Slugs of its published commitments.")

    class Meta:
        model = Country
        fields = ["name", "slug", "url", "html_url", "iso_code", "region", "commitments"]


class ActorSerializer(RecordSerializer):
    url = RecordURLField("api:actor-detail")
    country = country_field(allow_null=True, required=False)

    class Meta:
        model = Actor
        fields = ["name", "slug", "url", "kind", "country"]


class PersonSerializer(RecordSerializer):
    url = RecordURLField("api:person-detail")
    country = country_field(allow_null=True, required=False)

    class Meta:
        model = Person
        fields = ["name", "slug", "url", "role", "country"]


class EventSerializer(RecordSerializer):
    url = RecordURLField("api:event-detail")
    date_display = serializers.CharField(read_only=True)
    country = country_field(allow_null=True, required=False)
    participants = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        queryset=Person.objects.all(),
        required=False,
        help_text="Slugs of the people who took part.",
    )

    class Meta:
        model = Event
        fields = [
            "name",
            "slug",
            "url",
            "date",
            "date_precision",
            "date_display",
            "place",
            "country",
            "description",
            "participants",
        ]


class ProjectSerializer(RecordSerializer):
    url = RecordURLField("api:project-detail")
    country = country_field(allow_null=True, required=False)
    actors = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Actor.objects.all(), required=False
    )
    focus_areas = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=FocusArea.objects.all(), required=False
    )

    class Meta:
        model = Project
        fields = [
            "name",
            "slug",
            "url",
            "country",
            "place",
            "actors",
            "focus_areas",
            "description",
        ]


class KeywordSerializer(RecordSerializer):
    url = RecordURLField("api:keyword-detail")

    class Meta:
        model = Keyword
        fields = ["name", "slug", "url"]
