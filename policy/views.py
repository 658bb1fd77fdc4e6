"""The public site, read through generic views: published records, or every one in preview."""

from django.contrib.auth.mixins import UserPassesTestMixin
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView
from django.views.generic.detail import SingleObjectMixin
from django_filters.views import FilterView

from policy import charts, preview, search, tiles
from policy.filters import ArticleFilterSet, CommitmentFilterSet
from policy.models import (
    Article,
    Authorship,
    Commitment,
    Country,
    FocusArea,
    Project,
    Publishable,
    SourceQuote,
    StatusUpdate,
)

HEADLINE_FIGURES = 6
LATEST_ARTICLES = 5


def with_commitment_count(queryset, commitments):
    """Annotate how many of `commitments` each record has, keeping the model's ordering."""
    return queryset.annotate(
        commitment_count=Count("commitments", filter=Q(commitments__in=commitments))
    ).order_by(*queryset.model._meta.ordering)


def authorships_with_people():
    return Prefetch("authorships", queryset=Authorship.objects.select_related("person"))


class PreviewMixin:
    """Shows what the public sees, twenty to a page; in a staff member's preview, every record.

    `policy.preview` decides which records a request sees, so no view repeats the rule.
    """

    paginate_by = 20

    def visible(self, model):
        return preview.visible(self.request, model)

    def prefetch_visible(self, lookup, model, *, to_attr):
        return Prefetch(lookup, queryset=self.visible(model), to_attr=to_attr)

    def get_queryset(self):
        return self.visible(self.model)

    def get_context_data(self, **kwargs):
        previewing = preview.previewing(self.request)
        record = getattr(self, "object", None)
        unpublished = isinstance(record, Publishable) and not record.is_published
        return super().get_context_data(
            previewing=previewing, preview_page=previewing or unpublished, **kwargs
        )

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        return preview.keep_private(response) if context["preview_page"] else response


class FilteredListView(PreviewMixin, FilterView):
    # An invalid filter gives an empty page that explains what to correct, never a 500.
    template_name_suffix = "_list"


class RecordDetailView(PreviewMixin, DetailView):
    """A record's own page, which its editors may open before the public can."""

    def get_queryset(self):
        return preview.openable(self.request, self.model)


class HomeView(PreviewMixin, TemplateView):
    template_name = "policy/home.html"

    def get_context_data(self, **kwargs):
        commitments = self.visible(Commitment)
        status_chart = charts.status_chart(commitments)
        # The chart and the cards share the one query of the focus areas.
        focus_areas = with_commitment_count(self.visible(FocusArea), commitments)
        return super().get_context_data(
            headline_commitments=commitments.headline_figures()[:HEADLINE_FIGURES],
            status_chart=status_chart,
            commitment_total=status_chart.total,
            money_chart=charts.money_chart(charts.money_by_currency(commitments)),
            focus_area_chart=charts.focus_area_chart(focus_areas),
            country_tiles=tiles.count_map(
                with_commitment_count(Country.objects.in_latin_america_and_caribbean(), commitments)
            ),
            focus_areas=focus_areas,
            latest_articles=self.visible(Article)
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


class ArticleDetailView(RecordDetailView):
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
                    queryset=self.visible(Commitment).distinct(),
                    to_attr="visible_commitments",
                ),
                # The body marks the sentences quoted for the commitments the page lists; whoever
                # opens the article may read all of its quotes.
                Prefetch(
                    "quotes",
                    queryset=SourceQuote.objects.filter(
                        commitment__in=self.visible(Commitment)
                    ).select_related("commitment"),
                    to_attr="visible_quotes",
                ),
            )
        )


class CommitmentListView(FilteredListView):
    model = Commitment
    filterset_class = CommitmentFilterSet


class CommitmentDetailView(RecordDetailView):
    model = Commitment

    def get_object(self, queryset=None):
        commitment = super().get_object(queryset)
        # The plan and the updates' articles come with the rows that name them, not by queries
        # of their own: those the request may not see are left out here.
        commitment.visible_plan = preview.shown(self.request, commitment.part_of)
        for update in commitment.status_updates.all():
            update.visible_source_article = preview.shown(self.request, update.source_article)
        return commitment

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            country_tiles=tiles.commitment_map(
                Country.objects.in_latin_america_and_caribbean(), self.object
            ),
            **kwargs,
        )

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("announced_at", "part_of")
            .prefetch_related(
                "parties",
                "countries",
                self.prefetch_visible("components", Commitment, to_attr="visible_components"),
                self.prefetch_visible("focus_areas", FocusArea, to_attr="visible_focus_areas"),
                # The page names the articles and links to them; it does not show their text.
                Prefetch(
                    "status_updates",
                    queryset=StatusUpdate.objects.select_related("source_article").defer(
                        "source_article__summary", "source_article__body"
                    ),
                ),
                Prefetch(
                    "quotes",
                    queryset=self.visible(SourceQuote)
                    .select_related("article__publisher")
                    .defer("article__summary", "article__body"),
                ),
            )
        )


class FocusAreaListView(PreviewMixin, ListView):
    model = FocusArea

    def get_queryset(self):
        return with_commitment_count(super().get_queryset(), self.visible(Commitment))


class RecordCommitmentsView(PreviewMixin, SingleObjectMixin, ListView):
    """A record's page, which lists its commitments twenty to a page, as the commitment list
    does: a focus area or a country has a thousand of them.

    `get_record_queryset` gives the record, `get_queryset` its commitments.
    """

    def get(self, request, *args, **kwargs):
        self.object = self.get_object(queryset=self.get_record_queryset())
        return super().get(request, *args, **kwargs)

    def get_template_names(self):
        return [f"policy/{self.object._meta.model_name}_detail.html"]


class FocusAreaDetailView(RecordCommitmentsView):
    def get_record_queryset(self):
        return preview.openable(self.request, FocusArea).prefetch_related(
            Prefetch("projects", queryset=Project.objects.select_related("country"))
        )

    def get_queryset(self):
        return self.visible(Commitment).filter(focus_areas=self.object)


class CountryListView(PreviewMixin, ListView):
    # Countries are reference data without a publication status of their own, all on one page.
    paginate_by = None

    def get_queryset(self):
        return with_commitment_count(Country.objects.all(), self.visible(Commitment))

    def get_context_data(self, **kwargs):
        return super().get_context_data(country_tiles=tiles.count_map(self.object_list), **kwargs)


class CountryDetailView(RecordCommitmentsView):
    def get_record_queryset(self):
        return Country.objects.all()

    def get_queryset(self):
        return self.visible(Commitment).filter(countries=self.object)


class SearchView(PreviewMixin, TemplateView):
    template_name = "policy/search.html"

    def get_context_data(self, **kwargs):
        query = search.Query.parse(self.request.GET.get("q", ""))
        return super().get_context_data(
            query=query,
            results=search.search(
                query,
                commitments=self.visible(Commitment),
                articles=self.visible(Article),
                focus_areas=self.visible(FocusArea),
                countries=Country.objects.all(),
                quotes=self.visible(SourceQuote),
            ),
            **kwargs,
        )


class PreviewView(UserPassesTestMixin, View):
    """Turns the session's preview mode on or off, then goes back to the page it was asked from."""

    http_method_names = ["post"]
    raise_exception = True

    def test_func(self):
        return preview.may_preview(self.request.user)

    def post(self, request):
        preview.switch(request, on=request.POST.get("preview") == "on")
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("policy:home")
        return HttpResponseRedirect(next_url)
