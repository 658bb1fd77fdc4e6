import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from policy.models import Commitment, CommitmentKind, PublicationStatus

from .factories import (
    ActorFactory,
    ArticleFactory,
    AuthorshipFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    KeywordFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationStatus.DRAFT


def slugs(response):
    return [item["slug"] for item in response.json()["results"]]


def full_commitment(**kwargs):
    """A published commitment with every relation the API shows."""
    commitment = CommitmentFactory(
        announced_at=EventFactory(), part_of=CommitmentFactory(), **kwargs
    )
    commitment.parties.add(ActorFactory())
    commitment.countries.add(CountryFactory())
    commitment.focus_areas.add(FocusAreaFactory())
    SourceQuoteFactory(commitment=commitment)
    StatusUpdateFactory(commitment=commitment, source_article=ArticleFactory())
    return commitment


def full_article():
    article = ArticleFactory(publisher=ActorFactory())
    AuthorshipFactory(article=article)
    article.keywords.add(KeywordFactory())
    SourceQuoteFactory(article=article)
    return article


# Articles


def test_article_list_shows_published_articles_with_authors_and_publisher(client):
    article = full_article()
    ArticleFactory(publication_status=DRAFT)

    response = client.get("/api/v1/articles/")

    assert response.status_code == 200
    [item] = response.json()["results"]
    authorship = article.authorships.get()
    assert item["slug"] == article.slug
    assert item["authors"] == [
        {
            "name": authorship.person.name,
            "slug": authorship.person.slug,
            "affiliation": "Founder of a think tank",
        }
    ]
    assert item["publisher"] == {"name": article.publisher.name, "slug": article.publisher.slug}
    assert item["keywords"] == [article.keywords.get().name]


def test_article_detail_gives_text_and_links(client):
    article = ArticleFactory()

    data = client.get(f"/api/v1/articles/{article.slug}/").json()

    assert data["title"] == article.title
    assert data["url"] == f"http://testserver/api/v1/articles/{article.slug}/"
    assert data["html_url"] == f"http://testserver{article.get_absolute_url()}"
    assert data["publication_date"] == "2025-11-05"
    assert data["language"] == "en"
    assert data["body"] == article.body
    assert data["paragraphs"] == [
        "First paragraph with a pledge of 500 scholarships.",
        "Second paragraph.",
    ]
    assert data["publisher"] is None
    assert data["first_published_at"] is not None


def test_article_lists_each_published_commitment_it_states_once(client):
    article = ArticleFactory()
    backed = CommitmentFactory()
    SourceQuoteFactory(article=article, commitment=backed)
    SourceQuoteFactory(article=article, commitment=backed, order=1)
    SourceQuoteFactory(article=article, commitment=CommitmentFactory(publication_status=DRAFT))

    data = client.get(f"/api/v1/articles/{article.slug}/").json()

    assert data["commitments"] == [backed.slug]


def test_draft_article_detail_is_not_found(client):
    article = ArticleFactory(publication_status=DRAFT)

    assert client.get(f"/api/v1/articles/{article.slug}/").status_code == 404


def test_articles_filter_by_year_with_the_shared_filterset(client):
    ArticleFactory(slug="old", publication_date=datetime.date(2015, 1, 1))
    ArticleFactory(slug="new")

    assert slugs(client.get("/api/v1/articles/", {"year": 2025})) == ["new"]


def test_invalid_article_filter_answers_400_naming_the_field(client):
    response = client.get("/api/v1/articles/", {"language": "fr"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["language"]


@pytest.mark.parametrize("rows", [3, 30])
def test_article_list_query_count_does_not_grow_with_rows(client, django_assert_num_queries, rows):
    for _ in range(rows):
        full_article()

    # Count, articles, then one each for authors, keywords, commitments.
    with django_assert_num_queries(5):
        response = client.get("/api/v1/articles/", {"page_size": 100})

    assert len(response.json()["results"]) == rows


# Commitments


def test_commitment_list_hides_drafts(client):
    CommitmentFactory(slug="public")
    CommitmentFactory(slug="hidden", publication_status=DRAFT)

    assert slugs(client.get("/api/v1/commitments/")) == ["public"]


def test_draft_commitment_detail_is_not_found(client):
    commitment = CommitmentFactory(publication_status=DRAFT)

    assert client.get(f"/api/v1/commitments/{commitment.slug}/").status_code == 404


def test_commitment_detail_gives_relations_quotes_and_status_history(client):
    commitment = full_commitment(description="Scholarships for students.")
    update = commitment.status_updates.get()
    quote = commitment.quotes.get()

    data = client.get(f"/api/v1/commitments/{commitment.slug}/").json()

    assert data["url"] == f"http://testserver/api/v1/commitments/{commitment.slug}/"
    assert data["html_url"] == f"http://testserver{commitment.get_absolute_url()}"
    assert data["description"] == "Scholarships for students."
    assert data["kind"] == "scholarships"
    assert data["status"] == "in_the_works"
    assert data["geographic_scope"] == "countries"
    [party] = commitment.parties.all()
    assert data["parties"] == [{"name": party.name, "slug": party.slug}]
    [country] = commitment.countries.all()
    assert data["countries"] == [
        {"iso_code": country.iso_code, "name": country.name, "slug": country.slug}
    ]
    [focus_area] = commitment.focus_areas.all()
    assert data["focus_areas"] == [{"slug": focus_area.slug, "name": focus_area.name}]
    assert data["announced_at"] == {
        "name": commitment.announced_at.name,
        "slug": commitment.announced_at.slug,
    }
    assert data["part_of"] == commitment.part_of.slug
    assert data["quotes"] == [{"article": quote.article.slug, "text": quote.text}]
    assert data["status_history"] == [
        {
            "date": "2025-11-05",
            "status": "in_the_works",
            "note": "Work has begun.",
            "source_article": update.source_article.slug,
            "source_url": "https://example.org/report",
            "source_quote": "",
        }
    ]


def test_commitment_without_figures_has_null_target_and_amount(client):
    commitment = CommitmentFactory()

    figures = client.get(f"/api/v1/commitments/{commitment.slug}/").json()["figures"]

    assert figures == {
        "target": None,
        "amount": None,
        "period": {
            "start": None,
            "start_precision": "year",
            "end": None,
            "end_precision": "year",
            "display": "",
        },
    }


def test_commitment_money_is_an_exact_decimal_string(client):
    commitment = CommitmentFactory(
        kind=CommitmentKind.CREDIT_LINE,
        amount=Decimal("66000000000.00"),
        currency="CNY",
        usd_equivalent=Decimal("9200000000.10"),
    )

    figures = client.get(f"/api/v1/commitments/{commitment.slug}/").json()["figures"]

    assert figures["amount"] == {
        "value": "66000000000.00",
        "currency": "CNY",
        "usd_equivalent": "9200000000.10",
    }


def test_commitment_target_and_period_keep_qualifier_and_precision(client):
    commitment = CommitmentFactory(
        target_value=Decimal(3500),
        target_unit="scholarships",
        target_qualifier="more_than",
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2027, 1, 1),
    )

    figures = client.get(f"/api/v1/commitments/{commitment.slug}/").json()["figures"]

    assert figures["target"] == {
        "value": "3500.00",
        "unit": "scholarships",
        "qualifier": "more_than",
    }
    assert figures["period"] == {
        "start": "2025-01-01",
        "start_precision": "year",
        "end": "2027-01-01",
        "end_precision": "year",
        "display": "2025–2027",
    }


def test_commitment_hides_quotes_from_draft_articles(client):
    commitment = CommitmentFactory()
    published = SourceQuoteFactory(commitment=commitment)
    SourceQuoteFactory(commitment=commitment, article=ArticleFactory(publication_status=DRAFT))

    quotes = client.get(f"/api/v1/commitments/{commitment.slug}/").json()["quotes"]

    assert quotes == [{"article": published.article.slug, "text": published.text}]


def test_status_update_from_a_draft_article_hides_the_article_and_its_quote(client):
    commitment = CommitmentFactory()
    StatusUpdateFactory(
        commitment=commitment,
        source_article=ArticleFactory(publication_status=DRAFT),
        source_quote="First paragraph with a pledge of 500 scholarships.",
    )

    [update] = client.get(f"/api/v1/commitments/{commitment.slug}/").json()["status_history"]

    assert update["source_article"] is None
    assert update["source_quote"] == ""
    assert update["source_url"] == "https://example.org/report"


def test_commitment_hides_draft_relations(client):
    commitment = CommitmentFactory(part_of=CommitmentFactory(publication_status=DRAFT))
    commitment.focus_areas.add(FocusAreaFactory(publication_status=DRAFT))

    data = client.get(f"/api/v1/commitments/{commitment.slug}/").json()

    assert data["part_of"] is None
    assert data["focus_areas"] == []


def test_commitments_filter_by_focus_area(client):
    focus_area = FocusAreaFactory()
    CommitmentFactory(slug="in").focus_areas.add(focus_area)
    CommitmentFactory(slug="out")

    response = client.get("/api/v1/commitments/", {"focus_area": focus_area.slug})

    assert slugs(response) == ["in"]


def test_commitments_filter_by_country_iso_code(client):
    CommitmentFactory(slug="in").countries.add(CountryFactory(iso_code="BR"))
    CommitmentFactory(slug="out").countries.add(CountryFactory(iso_code="AR"))

    assert slugs(client.get("/api/v1/commitments/", {"country": "BR"})) == ["in"]


def test_commitments_filter_by_current_status_from_the_latest_update(client):
    now_kept = CommitmentFactory(slug="now-kept")
    StatusUpdateFactory(commitment=now_kept, status="stalled", date=datetime.date(2025, 1, 1))
    StatusUpdateFactory(commitment=now_kept, status="kept", date=datetime.date(2025, 6, 1))
    once_kept = CommitmentFactory(slug="once-kept")
    StatusUpdateFactory(commitment=once_kept, status="kept", date=datetime.date(2025, 1, 1))
    StatusUpdateFactory(commitment=once_kept, status="stalled", date=datetime.date(2025, 6, 1))
    CommitmentFactory(slug="unrated")

    assert slugs(client.get("/api/v1/commitments/", {"status": "kept"})) == ["now-kept"]
    assert slugs(client.get("/api/v1/commitments/", {"status": "not_yet_rated"})) == ["unrated"]


def test_commitments_filter_by_kind(client):
    CommitmentFactory(slug="credit", kind=CommitmentKind.CREDIT_LINE)
    CommitmentFactory(slug="visas", kind=CommitmentKind.VISA_POLICY)

    assert slugs(client.get("/api/v1/commitments/", {"kind": "credit_line"})) == ["credit"]


def test_commitments_filter_by_party(client):
    party = ActorFactory()
    CommitmentFactory(slug="in").parties.add(party)
    CommitmentFactory(slug="out").parties.add(ActorFactory())

    assert slugs(client.get("/api/v1/commitments/", {"party": party.slug})) == ["in"]


def test_commitments_filter_by_year_within_the_period(client):
    CommitmentFactory(
        slug="current",
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2027, 1, 1),
    )
    CommitmentFactory(slug="later", period_start=datetime.date(2030, 1, 1))

    assert slugs(client.get("/api/v1/commitments/", {"year": 2026})) == ["current"]


def test_commitments_search_title_and_description(client):
    CommitmentFactory(slug="by-title", title="Credit line for infrastructure")
    CommitmentFactory(slug="by-description", description="A credit line of 66 billion yuan.")
    CommitmentFactory(slug="neither", title="Visas")

    response = client.get("/api/v1/commitments/", {"search": "credit"})

    assert sorted(slugs(response)) == ["by-description", "by-title"]


def test_commitments_order_by_title_by_default_and_on_request(client):
    CommitmentFactory(slug="b", title="Beta")
    CommitmentFactory(slug="a", title="Alpha")

    assert slugs(client.get("/api/v1/commitments/")) == ["a", "b"]
    assert slugs(client.get("/api/v1/commitments/", {"ordering": "-title"})) == ["b", "a"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "promised"),
        ("kind", "loan"),
        ("year", "soon"),
        ("country", "ZZ"),
        ("focus_area", "no-such-area"),
        ("party", "nobody"),
    ],
)
def test_invalid_commitment_filter_answers_400_naming_the_field(client, field, value):
    response = client.get("/api/v1/commitments/", {field: value})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_draft_focus_area_is_not_a_valid_commitment_filter(client):
    focus_area = FocusAreaFactory(publication_status=DRAFT)

    response = client.get("/api/v1/commitments/", {"focus_area": focus_area.slug})

    assert response.status_code == 400


@pytest.mark.parametrize("rows", [3, 30])
def test_commitment_list_query_count_does_not_grow_with_rows(
    client, django_assert_num_queries, rows
):
    for _ in range(rows):
        full_commitment()

    # Count, commitments, then one each for parties, countries, focus areas, quotes and status
    # history.
    with django_assert_num_queries(7):
        response = client.get("/api/v1/commitments/", {"page_size": 100})

    assert response.json()["count"] == rows * 2  # each also has a published `part_of`


# Pagination


def test_list_is_paginated_with_count_and_links(client):
    CommitmentFactory.create_batch(3)

    data = client.get("/api/v1/commitments/", {"page_size": 2}).json()

    assert data["count"] == 3
    assert data["next"] == "http://testserver/api/v1/commitments/?page=2&page_size=2"
    assert data["previous"] is None
    assert len(data["results"]) == 2
    second = client.get(data["next"]).json()
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/commitments/?page_size=2"


def test_page_size_is_capped_at_100(client):
    CommitmentFactory.create_batch(101)

    data = client.get("/api/v1/commitments/", {"page_size": 1000}).json()

    assert data["count"] == 101
    assert len(data["results"]) == 100
    assert data["next"] is not None


# Focus areas and countries


def test_focus_area_list_and_detail_show_published_commitments_only(client):
    focus_area = FocusAreaFactory(description="Scholarships and training.")
    CommitmentFactory(slug="public").focus_areas.add(focus_area)
    CommitmentFactory(slug="hidden", publication_status=DRAFT).focus_areas.add(focus_area)
    FocusAreaFactory(publication_status=DRAFT)

    assert slugs(client.get("/api/v1/focus-areas/")) == [focus_area.slug]
    data = client.get(f"/api/v1/focus-areas/{focus_area.slug}/").json()
    assert data == {
        "name": focus_area.name,
        "slug": focus_area.slug,
        "url": f"http://testserver/api/v1/focus-areas/{focus_area.slug}/",
        "html_url": f"http://testserver{focus_area.get_absolute_url()}",
        "order": focus_area.order,
        "description": "Scholarships and training.",
        "commitments": ["public"],
    }


def test_draft_focus_area_detail_is_not_found(client):
    focus_area = FocusAreaFactory(publication_status=DRAFT)

    assert client.get(f"/api/v1/focus-areas/{focus_area.slug}/").status_code == 404


def test_country_list_and_detail_show_published_commitments_only(client):
    country = CountryFactory(name="Brazil", slug="brazil", iso_code="BR")
    CountryFactory(name="Argentina", slug="argentina", iso_code="AR")
    CommitmentFactory(slug="public").countries.add(country)
    CommitmentFactory(slug="hidden", publication_status=DRAFT).countries.add(country)

    assert slugs(client.get("/api/v1/countries/")) == ["argentina", "brazil"]
    data = client.get("/api/v1/countries/brazil/").json()
    assert data == {
        "name": "Brazil",
        "slug": "brazil",
        "url": "http://testserver/api/v1/countries/brazil/",
        "html_url": f"http://testserver{country.get_absolute_url()}",
        "iso_code": "BR",
        "region": "south_america",
        "commitments": ["public"],
    }


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("endpoint", ["/api/v1/focus-areas/", "/api/v1/countries/"])
def test_focus_area_and_country_list_query_count_does_not_grow_with_rows(
    client, django_assert_num_queries, endpoint, rows
):
    for _ in range(rows):
        commitment = CommitmentFactory()
        commitment.focus_areas.add(FocusAreaFactory())
        commitment.countries.add(CountryFactory())

    # Count, the records, their commitments.
    with django_assert_num_queries(3):
        client.get(endpoint, {"page_size": 100})


def test_browsable_api_root_is_absent_outside_debug(client):
    assert client.get("/api/v1/").status_code == 404


# Seed content


def test_seed_credit_line_amount_is_exact_through_the_api(client, seed):
    data = client.get("/api/v1/commitments/credit-line-66-billion-yuan/").json()

    assert data["figures"]["amount"]["value"] == "66000000000.00"
    assert data["figures"]["amount"]["currency"] == "CNY"


def test_a_scheduled_commitment_appears_and_expires_without_a_restart(client, monkeypatch):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    CommitmentFactory(
        slug="scheduled", publish_at=start, unpublish_at=start + datetime.timedelta(days=1)
    )

    def slugs_at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return [row["slug"] for row in client.get("/api/v1/commitments/").json()["results"]]

    assert slugs_at(start - datetime.timedelta(seconds=1)) == []
    assert slugs_at(start) == ["scheduled"]
    assert slugs_at(start + datetime.timedelta(days=1)) == []


def test_updated_since_returns_only_records_changed_since(client):
    old = CommitmentFactory(slug="old")
    CommitmentFactory(slug="new")
    Commitment.objects.filter(pk=old.pk).update(
        updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    rows = client.get("/api/v1/commitments/", {"updated_since": "2024-01-01T00:00:00Z"})
    assert [row["slug"] for row in rows.json()["results"]] == ["new"]


def test_amount_and_period_ranges_filter_commitments(client):
    CommitmentFactory(slug="small", amount=Decimal("10"), currency="CNY")
    CommitmentFactory(slug="large", amount=Decimal("66000000000"), currency="CNY")
    CommitmentFactory(slug="plan", period_start=datetime.date(2025, 1, 1))
    slugs = lambda **params: [  # noqa: E731
        row["slug"] for row in client.get("/api/v1/commitments/", params).json()["results"]
    ]
    assert slugs(amount_min="1000", currency="CNY") == ["large"]
    assert slugs(amount_max="1000") == ["small"]
    assert slugs(period_starts_after="2024-06-01") == ["plan"]


def test_articles_filter_by_publication_date_range(client):
    ArticleFactory(slug="2024", publication_date=datetime.date(2024, 3, 1))
    ArticleFactory(slug="2025", publication_date=datetime.date(2025, 11, 5))
    rows = client.get("/api/v1/articles/", {"published_after": "2025-01-01"}).json()["results"]
    assert [row["slug"] for row in rows] == ["2025"]
    bad = client.get("/api/v1/articles/", {"published_after": "not a date"})
    assert bad.status_code == 400
    assert "published_after" in bad.json()["errors"]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("0286-12-02T15:11:06+19:11", 200),
        ("0001-01-01T00:00:00+05:00", 400),
        ("not a time", 400),
    ],
)
def test_updated_since_with_an_unusual_or_bad_time_is_handled(client, moment, expected):
    response = client.get("/api/v1/commitments/", {"updated_since": moment})
    assert response.status_code == expected
    if expected == 400:
        assert "updated_since" in response.json()["errors"]
