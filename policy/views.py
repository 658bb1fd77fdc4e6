"""The public site: published records only, read through generic views."""

from django.db.models import Count, Prefetch, Q
from django.views.generic import DetailView, ListView, TemplateView
from django_filters.views import FilterView

from policy.filters import ArticleFilterSet, CommitmentFilterSet
from policy.models import (
    Article,
    Authorship,
    Commitment,
    Country,
    FocusArea,
    Project,
    SourceQuote,
    StatusUpdate,
)

HEADLINE_FIGURES = 6
LATEST_ARTICLES = 5


def with_published_commitment_count(queryset):
    """Annotate `commitment_count`, keeping the model's ordering that aggregation would drop."""
    return queryset.annotate(
        commitment_count=Count(
            "commitments", filter=Q(commitments__in=Commitment.objects.published())
        )
    ).order_by(*queryset.model._meta.ordering)


def prefetch_published(lookup, model, *, to_attr):
    """Prefetch a relation keeping only the related records that the public may see."""
    return Prefetch(lookup, queryset=model.objects.published(), to_attr=to_attr)


def authorships_with_people():
    return Prefetch("authorships", queryset=Authorship.objects.select_related("person"))


class PublishedViewMixin:
    """Shows only what the model's `published()` lets the public see, twenty to a page."""

    paginate_by = 20

    def get_queryset(self):
        return self.model.objects.published()


class FilteredListView(PublishedViewMixin, FilterView):
    # An invalid filter gives an empty page that explains what to correct, never a 500.
    template_name_suffix = "_list"


class HomeView(TemplateView):
    template_name = "policy/home.html"

    def get_context_data(self, **kwargs):
        commitments = Commitment.objects.published()
        totals = commitments.status_totals()
        return super().get_context_data(
            headline_commitments=commitments.with_figures()[:HEADLINE_FIGURES],
            status_totals=[{"status": status, "total": total} for status, total in totals.items()],
            commitment_total=sum(totals.values()),
            focus_areas=with_published_commitment_count(FocusArea.objects.published()),
            latest_articles=Article.objects.published()
            .select_related("publisher")
            .prefetch_related(authorships_with_people())[:LATEST_ARTICLES],
            **kwargs,
        )


class ArticleListView(FilteredListView):
    model = Article
    filterset_class = ArticleFilterSet

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("publisher")
            .prefetch_related(authorships_with_people())
        )


class ArticleDetailView(PublishedViewMixin, DetailView):
    model = Article

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("publisher")
            .prefetch_related(
                authorships_with_people(),
                "keywords",
                # Several quotes of one article may back the same commitment.
                Prefetch(
                    "commitments",
                    queryset=Commitment.objects.published().distinct(),
                    to_attr="published_commitments",
                ),
            )
        )


class CommitmentListView(FilteredListView):
    model = Commitment
    filterset_class = CommitmentFilterSet


class CommitmentDetailView(PublishedViewMixin, DetailView):
    model = Commitment

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("announced_at")
            .prefetch_related(
                "parties",
                "countries",
                prefetch_published("part_of", Commitment, to_attr="published_plan"),
                prefetch_published("components", Commitment, to_attr="published_components"),
                prefetch_published("focus_areas", FocusArea, to_attr="published_focus_areas"),
                Prefetch(
                    "status_updates",
                    queryset=StatusUpdate.objects.prefetch_related(
                        Prefetch(
                            "source_article",
                            queryset=Article.objects.published(),
                            to_attr="published_source_article",
                        )
                    ),
                ),
                Prefetch(
                    "quotes",
                    queryset=SourceQuote.objects.published().select_related("article__publisher"),
                ),
            )
        )


class FocusAreaListView(PublishedViewMixin, ListView):
    model = FocusArea

    def get_queryset(self):
        return with_published_commitment_count(super().get_queryset())


class FocusAreaDetailView(PublishedViewMixin, DetailView):
    model = FocusArea

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .prefetch_related(
                prefetch_published("commitments", Commitment, to_attr="published_commitments"),
                Prefetch("projects", queryset=Project.objects.select_related("country")),
            )
        )


class CountryListView(ListView):
    # Countries are reference data without a publication status of their own.
    queryset = with_published_commitment_count(Country.objects.all())


class CountryDetailView(DetailView):
    queryset = Country.objects.prefetch_related(
        prefetch_published("commitments", Commitment, to_attr="published_commitments")
    )
