"""What bench/run.py measures: each target's URL, the server that answers it, and what it expects.

The servers, all started with config/gunicorn.conf.py and the same number of workers:
- `raw`: a bare WSGI callable (bench/raw.py);
- `django`: Django with no app and no middleware (bench/bare_settings.py);
- `app`: the production settings with the page cache off (PAGE_CACHE_SECONDS=0), so that every
  request is rendered, and the benchmark's own views under /bench/ (BENCH_VIEWS=1);
- `cached`: the same with the page cache on, for the repeated anonymous requests.

Records are chosen from the data, the same ones for the same dataset: the busiest of each kind
(the most status updates, quotes or commitments), so that a detail page is not an easy one.
"""

import dataclasses

from django.db.models import Count
from django.urls import reverse

from policy.models import Article, Commitment, FocusArea

SERVERS = ("raw", "django", "app", "cached")
# Query counts must not grow with the page size: each list is counted at both.
PAGE_SIZES = (20, 100)
# Two filters of the public list, which leave more than a page on the synthetic dataset.
COMMITMENT_FILTERS = "kind=credit_line&status=in_the_works"
SEARCH_TERM = "railway"


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    path: str
    server: str = "app"
    expect_status: int = 200
    # "Name: value" that every answer must carry, such as "X-Cache: hit".
    expect_header: str = ""
    # Ask once first, and keep the page cache's answer for the measured requests.
    primed: bool = False
    # Send If-None-Match with the ETag of a first answer: the client's copy is current.
    revalidate: bool = False
    # Add this parameter to each request, with a value of its own, as each click on a link
    # shared on a social network does (fbclid).
    unique_parameter: str = ""
    # An answer that takes seconds: one connection per worker, at least 30 s of load (Gunicorn's
    # timeout), no warm-up (the targets before it have warmed the workers, and the memory it
    # takes is what is measured), and its queries are counted on its first request.
    slow: bool = False
    # An answer that costs about as little as the baselines: the ratios of these sit near their
    # goals' lines and move most with the machine's load, so they are measured in more rounds
    # (bench/run.py, --fixed-cost-rounds), interleaved with the baselines.
    fixed_cost: bool = False


def resolve_targets():
    """Every target, with the URLs of records of the database."""

    def busiest(queryset, relation):
        return queryset.annotate(related=Count(relation)).order_by("-related", "slug").first().slug

    commitment = busiest(Commitment.objects.published(), "status_updates")
    article = busiest(Article.objects.published(), "quotes")
    focus_area = busiest(FocusArea.objects.published(), "commitments")
    api_list = reverse("api:commitment-list")
    api_detail = reverse("api:commitment-detail", kwargs={"slug": commitment})
    commitment_page = reverse("policy:commitment_detail", kwargs={"slug": commitment})
    return [
        Target("raw WSGI", "/bench/trivial/", server="raw", fixed_cost=True),
        Target("bare Django", "/bench/trivial/", server="django", fixed_cost=True),
        Target("trivial view, full middleware", reverse("bench-trivial"), fixed_cost=True),
        Target("layout only, no query", reverse("bench-layout")),
        Target(
            "handwritten API list (page size 20)",
            f"{reverse('bench-handwritten-commitments')}?page_size=20",
        ),
        *(
            Target(f"API list (page size {size})", f"{api_list}?page_size={size}")
            for size in PAGE_SIZES
        ),
        Target("API detail", api_detail),
        Target("home", reverse("policy:home")),
        Target("article list", reverse("policy:article_list")),
        Target("article detail", reverse("policy:article_detail", kwargs={"slug": article})),
        Target(
            "commitment list, two filters",
            f"{reverse('policy:commitment_list')}?{COMMITMENT_FILTERS}",
        ),
        Target("commitment detail", commitment_page),
        Target(
            "focus area detail", reverse("policy:focusarea_detail", kwargs={"slug": focus_area})
        ),
        Target("search", f"{reverse('policy:search')}?q={SEARCH_TERM}"),
        Target("sitemap index", reverse("sitemap")),
        Target(
            "sitemap page of commitments",
            reverse("sitemap-section", kwargs={"section": "commitments"}),
        ),
        Target("feed", reverse("policy:article_feed_rss")),
        Target(
            "cache hit: commitment detail",
            commitment_page,
            server="cached",
            expect_header="X-Cache: hit",
            primed=True,
            fixed_cost=True,
        ),
        Target(
            "cache hit: commitment detail, each request with its own fbclid",
            commitment_page,
            server="cached",
            expect_header="X-Cache: hit",
            primed=True,
            fixed_cost=True,
            unique_parameter="fbclid",
        ),
        Target(
            "304: API detail",
            api_detail,
            server="cached",
            expect_status=304,
            expect_header="X-Cache: hit",
            primed=True,
            fixed_cost=True,
            revalidate=True,
        ),
        Target("API CSV export, every commitment", f"{api_list}?format=csv", slow=True),
    ]


def page_size_pairs():
    """The lists whose query counts are compared at each page size, by name."""
    return {
        name: [f"{reverse(route)}?page_size={size}" for size in PAGE_SIZES]
        for name, route in {
            "API commitments": "api:commitment-list",
            "API articles": "api:article-list",
            "API focus areas": "api:focusarea-list",
        }.items()
    }
