"""Read-only representations of the published records.

Field names are part of the public contract of /api/v1/: add fields, never rename them.
Decimals are strings, so money keeps its exact value.
"""

from rest_framework import serializers

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
    SourceQuote,
    StatusUpdate,
)


class PublicPageField(serializers.ReadOnlyField):
    """The absolute URL of the record's page on the public site."""

    def __init__(self, **kwargs):
        super().__init__(source="get_absolute_url", **kwargs)

    def to_representation(self, value):
        return self.context["request"].build_absolute_uri(value)


class PublishedSlugField(serializers.SlugRelatedField):
    """The slug of a related record, or null while that record is a draft."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", read_only=True, **kwargs)

    def get_attribute(self, instance):
        related = super().get_attribute(instance)
        return related if related is not None and related.is_published else None


def commitment_slugs(*, help_text):
    """The slugs of related commitments; the view prefetches only the published ones."""
    return serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True, help_text=help_text
    )


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


class ArticleSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:article-detail", lookup_field="slug")
    html_url = PublicPageField()
    authors = AuthorSerializer(source="authorships", many=True, read_only=True)
    publisher = ActorSummarySerializer(read_only=True, allow_null=True)
    paragraphs = serializers.ListField(child=serializers.CharField(), read_only=True)
    keywords = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
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
        ]
        read_only_fields = fields


class TargetSerializer(serializers.Serializer):
    """The number a commitment promises, such as “more than 3,500 scholarships”."""

    value = serializers.DecimalField(
        source="target_value", max_digits=20, decimal_places=2, read_only=True
    )
    unit = serializers.CharField(source="target_unit", read_only=True)
    qualifier = serializers.ChoiceField(
        source="target_qualifier", choices=FigureQualifier.choices, read_only=True
    )

    def get_attribute(self, instance):
        return instance if instance.target_value is not None else None


class AmountSerializer(serializers.Serializer):
    """The money pledged, in full units of an ISO 4217 currency."""

    value = serializers.DecimalField(
        source="amount", max_digits=20, decimal_places=2, read_only=True
    )
    currency = serializers.CharField(read_only=True)
    usd_equivalent = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Only when the source states it; never converted by the tracker.",
    )

    def get_attribute(self, instance):
        return instance if instance.amount is not None else None


class PeriodSerializer(serializers.Serializer):
    """Partial dates: a date with year precision stands for its whole year."""

    start = serializers.DateField(source="period_start", read_only=True, allow_null=True)
    start_precision = serializers.ChoiceField(
        source="period_start_precision", choices=DatePrecision.choices, read_only=True
    )
    end = serializers.DateField(source="period_end", read_only=True, allow_null=True)
    end_precision = serializers.ChoiceField(
        source="period_end_precision", choices=DatePrecision.choices, read_only=True
    )
    display = serializers.CharField(source="period_display", read_only=True)


class FiguresSerializer(serializers.Serializer):
    target = TargetSerializer(source="*", read_only=True, allow_null=True)
    amount = AmountSerializer(source="*", read_only=True, allow_null=True)
    period = PeriodSerializer(source="*", read_only=True)


class SourceQuoteSerializer(serializers.ModelSerializer):
    article = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = SourceQuote
        fields = ["article", "text"]
        read_only_fields = fields


class StatusUpdateSerializer(serializers.ModelSerializer):
    source_article = PublishedSlugField(allow_null=True)
    source_quote = serializers.SerializerMethodField(
        help_text="Empty while the source article is a draft."
    )

    class Meta:
        model = StatusUpdate
        fields = ["date", "status", "note", "source_article", "source_url", "source_quote"]
        read_only_fields = fields

    def get_source_quote(self, update):
        article = update.source_article
        return update.source_quote if article is not None and article.is_published else ""


class CommitmentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:commitment-detail", lookup_field="slug"
    )
    html_url = PublicPageField()
    status = serializers.ChoiceField(
        source="current_status",
        choices=CommitmentStatus.choices,
        read_only=True,
        help_text="The status of the latest update.",
    )
    figures = FiguresSerializer(source="*", read_only=True)
    parties = ActorSummarySerializer(many=True, read_only=True)
    countries = CountrySummarySerializer(many=True, read_only=True)
    focus_areas = FocusAreaSummarySerializer(many=True, read_only=True)
    announced_at = EventSummarySerializer(read_only=True, allow_null=True)
    part_of = PublishedSlugField(allow_null=True)
    quotes = SourceQuoteSerializer(many=True, read_only=True)
    status_history = StatusUpdateSerializer(source="status_updates", many=True, read_only=True)

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
        ]
        read_only_fields = fields


class FocusAreaSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:focusarea-detail", lookup_field="slug"
    )
    html_url = PublicPageField()
    commitments = commitment_slugs(help_text="Slugs of its published commitments.")

    class Meta:
        model = FocusArea
        fields = ["name", "slug", "url", "html_url", "order", "description", "commitments"]
        read_only_fields = fields


class CountrySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:country-detail", lookup_field="slug")
    html_url = PublicPageField()
    commitments = commitment_slugs(help_text="Slugs of its published commitments.")

    class Meta:
        model = Country
        fields = ["name", "slug", "url", "html_url", "iso_code", "region", "commitments"]
        read_only_fields = fields
