import datetime
from decimal import Decimal

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.forms.renderers import DjangoTemplates, Jinja2
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from policy.filters import ArticleFilterSet, CommitmentFilterSet
from policy.models import (
    Article,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    FocusArea,
    PublicationStatus,
)
from policy.widgets import Select
from tests.factories import (
    ActorFactory,
    ArticleFactory,
    AuthorshipFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    KeywordFactory,
    PersonFactory,
    ProjectFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationStatus.DRAFT


def titles(response):
    return [str(record) for record in response.context["object_list"]]


def commitment_with_everything():
    """A commitment that touches every relation the detail page shows."""
    commitment = CommitmentFactory(
        title="Credit line for cooperation projects",
        description="A credit line for infrastructure.",
        kind=CommitmentKind.CREDIT_LINE,
        amount=Decimal("66000000000"),
        currency="CNY",
        usd_equivalent=Decimal("9200000000"),
        target_value=Decimal("3500"),
        target_unit="scholarships",
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2027, 1, 1),
        announced_at=EventFactory(name="Fourth Ministerial Meeting", place="Beijing"),
        part_of=CommitmentFactory(title="Joint Action Plan 2025–2027"),
    )
    commitment.parties.add(ActorFactory(name="Government of China"))
    commitment.countries.add(CountryFactory(name="Brazil", iso_code="BR"))
    commitment.focus_areas.add(FocusAreaFactory(name="Infrastructure"))
    CommitmentFactory(title="Port component", part_of=commitment)
    return commitment


# Pages that anyone may see


@pytest.mark.parametrize(
    "url_name",
    [
        "policy:home",
        "policy:article_list",
        "policy:commitment_list",
        "policy:focusarea_list",
        "policy:country_list",
    ],
)
def test_index_pages_load_when_empty(client, url_name):
    assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize(
    "factory",
    [ArticleFactory, CommitmentFactory, FocusAreaFactory, CountryFactory],
)
def test_published_record_has_a_public_page(client, factory):
    record = factory()

    assert client.get(record.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("factory", [ArticleFactory, CommitmentFactory, FocusAreaFactory])
def test_draft_record_page_is_not_found(client, factory):
    record = factory(publication_status=DRAFT)

    response = client.get(record.get_absolute_url())

    assert response.status_code == 404
    assert "Page not found" in response.text


def test_layout_has_skip_link_language_landmarks_and_current_section(client):
    response = client.get(reverse("policy:commitment_list"))

    assert '<html lang="en">' in response.text
    assert 'href="#main"' in response.text
    assert '<main id="main"' in response.text
    assert '<nav class="site-nav" aria-label="Main">' in response.text
    assert 'href="/en/commitments/" aria-current="page"' in response.text


def test_detail_page_marks_its_section_in_the_navigation(client):
    response = client.get(CommitmentFactory().get_absolute_url())

    assert 'href="/en/commitments/" aria-current="true"' in response.text


# Drafts stay out of sight


def test_draft_commitment_is_not_listed_for_anonymous_visitors(client):
    CommitmentFactory(title="Published pledge")
    CommitmentFactory(title="Draft pledge", publication_status=DRAFT)

    response = client.get(reverse("policy:commitment_list"))

    assert titles(response) == ["Published pledge"]
    assert "Draft pledge" not in response.text


def test_draft_article_is_not_listed_for_anonymous_visitors(client):
    ArticleFactory(title="Published article")
    ArticleFactory(title="Draft article", publication_status=DRAFT)

    response = client.get(reverse("policy:article_list"))

    assert titles(response) == ["Published article"]
    assert "Draft article" not in response.text


def test_draft_focus_area_is_not_listed_and_draft_commitments_are_not_counted(client):
    focus_area = FocusAreaFactory(name="Energy")
    focus_area.commitments.add(CommitmentFactory(), CommitmentFactory(publication_status=DRAFT))
    FocusAreaFactory(name="Draft area", publication_status=DRAFT)

    response = client.get(reverse("policy:focusarea_list"))

    assert titles(response) == ["Energy"]
    assert response.context["object_list"][0].commitment_count == 1
    assert "Draft area" not in response.text


def test_country_list_counts_only_published_commitments(client):
    country = CountryFactory(name="Peru", iso_code="PE")
    country.commitments.add(CommitmentFactory(), CommitmentFactory(publication_status=DRAFT))

    response = client.get(reverse("policy:country_list"))

    assert [(c.name, c.commitment_count) for c in response.context["object_list"]] == [("Peru", 1)]


def test_focus_areas_and_countries_count_only_what_the_public_sees_now(client):
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    focus_area = FocusAreaFactory(name="Energy")
    country = CountryFactory(name="Peru", iso_code="PE")
    unseen = [
        CommitmentFactory(publication_status=status)
        for status in (DRAFT, PublicationStatus.IN_REVIEW, PublicationStatus.ARCHIVED)
    ]
    unseen += [
        CommitmentFactory(publish_at=now + hour),
        CommitmentFactory(publish_at=now - hour, unpublish_at=now - hour / 2),
    ]
    seen = [CommitmentFactory(), CommitmentFactory(publish_at=now - hour, unpublish_at=now + hour)]
    for record in (focus_area, country):
        record.commitments.add(*unseen, *seen)

    for url_name in ("policy:focusarea_list", "policy:country_list"):
        response = client.get(reverse(url_name))
        assert [record.commitment_count for record in response.context["object_list"]] == [2]
    home = client.get(reverse("policy:home")).context
    assert [area.commitment_count for area in home["focus_areas"]] == [2]
    labels = [tile.label for tile in home["country_tiles"].tiles if tile.country == country]
    assert labels == ["Peru (PE): 2 commitments"]


def test_home_page_leaves_out_drafts(client):
    FocusAreaFactory(name="Draft area", publication_status=DRAFT)
    ArticleFactory(title="Draft article", publication_status=DRAFT)
    draft = CommitmentFactory(
        title="Draft pledge", amount=Decimal(5), currency="USD", publication_status=DRAFT
    )
    StatusUpdateFactory(commitment=draft, status=CommitmentStatus.KEPT)

    response = client.get(reverse("policy:home"))

    for text in ("Draft area", "Draft article", "Draft pledge"):
        assert text not in response.text
    assert response.context["commitment_total"] == 0
    assert all(bar.datum.value == 0 for bar in response.context["status_chart"].bars)


def test_commitment_page_hides_draft_plan_components_focus_areas_and_sources(client):
    commitment = CommitmentFactory(
        part_of=CommitmentFactory(title="Draft plan", publication_status=DRAFT)
    )
    CommitmentFactory(title="Draft component", part_of=commitment, publication_status=DRAFT)
    commitment.focus_areas.add(FocusAreaFactory(name="Draft area", publication_status=DRAFT))
    draft_article = ArticleFactory(title="Draft article", publication_status=DRAFT)
    SourceQuoteFactory(commitment=commitment, article=draft_article, text="A draft sentence.")
    StatusUpdateFactory(
        commitment=commitment,
        source_article=draft_article,
        source_quote="First paragraph with a pledge of 500 scholarships.",
    )

    response = client.get(commitment.get_absolute_url())

    for text in ("Draft plan", "Draft component", "Draft area", "Draft article"):
        assert text not in response.text
    assert "A draft sentence." not in response.text
    assert draft_article.get_absolute_url() not in response.text
    assert "First paragraph with a pledge" not in response.text


def test_article_page_lists_only_published_commitments_it_backs(client):
    article = ArticleFactory()
    SourceQuoteFactory(article=article, commitment=CommitmentFactory(title="Published pledge"))
    SourceQuoteFactory(
        article=article,
        commitment=CommitmentFactory(title="Draft pledge", publication_status=DRAFT),
    )

    response = client.get(article.get_absolute_url())

    assert "Published pledge" in response.text
    assert "Draft pledge" not in response.text


def test_article_page_lists_a_commitment_once_however_many_quotes_back_it(client):
    article = ArticleFactory()
    commitment = CommitmentFactory(title="Published pledge")
    SourceQuoteFactory.create_batch(2, article=article, commitment=commitment)

    response = client.get(article.get_absolute_url())

    assert response.context["article"].visible_commitments == [commitment]


@pytest.mark.parametrize("factory", [FocusAreaFactory, CountryFactory])
def test_focus_area_and_country_pages_list_only_published_commitments(client, factory):
    record = factory()
    record.commitments.add(
        CommitmentFactory(title="Published pledge"),
        CommitmentFactory(title="Draft pledge", publication_status=DRAFT),
    )

    response = client.get(record.get_absolute_url())

    assert "Published pledge" in response.text
    assert "Draft pledge" not in response.text


# What each page shows


def test_home_page_shows_figures_status_totals_focus_areas_and_latest_articles(client):
    pledge = CommitmentFactory(
        title="Scholarships", target_value=Decimal("3500"), target_unit="scholarships"
    )
    StatusUpdateFactory(commitment=pledge, status=CommitmentStatus.KEPT)
    CommitmentFactory(title="Credit line", amount=Decimal("66000000000"), currency="CNY")
    CommitmentFactory(title="Declaration without figures")
    FocusAreaFactory(name="Second", order=2)
    FocusAreaFactory(name="First", order=1)
    ArticleFactory(title="Older", publication_date=datetime.date(2024, 1, 1))
    ArticleFactory(title="Newer", publication_date=datetime.date(2025, 1, 1))

    response = client.get(reverse("policy:home"))

    assert "3,500 scholarships" in response.text
    assert "66,000,000,000 CNY" in response.text
    assert [str(c) for c in response.context["headline_commitments"]] == [
        "Credit line",
        "Scholarships",
    ]
    totals = {bar.datum.key: bar.datum.value for bar in response.context["status_chart"].bars}
    assert totals[CommitmentStatus.KEPT] == 1
    assert totals[CommitmentStatus.NOT_YET_RATED] == 2
    assert list(totals) == list(CommitmentStatus)
    assert [str(f) for f in response.context["focus_areas"]] == ["First", "Second"]
    assert [str(a) for a in response.context["latest_articles"]] == ["Newer", "Older"]


def test_commitment_list_shows_kind_current_status_and_figures(client):
    commitment = CommitmentFactory(
        kind=CommitmentKind.CREDIT_LINE, amount=Decimal("1000000"), currency="USD"
    )
    StatusUpdateFactory(commitment=commitment, status=CommitmentStatus.STALLED)

    response = client.get(reverse("policy:commitment_list"))

    assert "Credit line" in response.text
    assert "Stalled" in response.text
    assert "1,000,000 USD" in response.text


def test_commitment_list_filter_form_labels_every_field(client):
    response = client.get(reverse("policy:commitment_list"))

    for field in response.context["filter"].form:
        assert f'<label for="{field.id_for_label}">' in response.text


def test_commitment_page_shows_figures_parties_places_event_and_plan(client):
    commitment = commitment_with_everything()

    response = client.get(commitment.get_absolute_url())

    for text in (
        "A credit line for infrastructure.",
        "Credit line",
        "Not yet rated",
        "66,000,000,000 CNY",
        "3,500 scholarships",
        "9,200,000,000 USD",
        "2025–2027",
        "Government of China",
        "Brazil",
        "Infrastructure",
        "Fourth Ministerial Meeting",
        "Beijing",
        "Joint Action Plan 2025–2027",
        "Port component",
    ):
        assert text in response.text


def test_commitment_page_shows_the_dated_status_timeline_in_order(client):
    commitment = CommitmentFactory()
    source = ArticleFactory(title="Progress report")
    StatusUpdateFactory(
        commitment=commitment,
        date=datetime.date(2025, 6, 1),
        status=CommitmentStatus.KEPT,
        note="All scholarships awarded.",
        source_article=source,
        source_url="",
    )
    StatusUpdateFactory(
        commitment=commitment,
        date=datetime.date(2025, 1, 1),
        status=CommitmentStatus.IN_THE_WORKS,
        note="Applications opened.",
        source_url="https://example.org/applications",
    )

    response = client.get(commitment.get_absolute_url())
    text = response.text

    assert text.index("Applications opened.") < text.index("All scholarships awarded.")
    assert 'datetime="2025-01-01"' in text
    assert "https://example.org/applications" in text
    assert f'href="{source.get_absolute_url()}"' in text
    assert response.context["commitment"].get_current_status_display() == "Kept"


def test_commitment_page_shows_verbatim_quotes_linked_to_their_articles(client):
    article = ArticleFactory(title="Partners in a shared new era")
    quote = SourceQuoteFactory(article=article)

    response = client.get(quote.commitment.get_absolute_url())

    assert "<p>First paragraph with a pledge of 500 scholarships.</p>" in response.text
    assert f'<a href="{article.get_absolute_url()}" lang="en">Partners in a shared new era</a>' in (
        response.text
    )


def test_article_page_shows_byline_publisher_keywords_paragraphs_and_source(client):
    article = ArticleFactory(
        title="Partners in a shared new era",
        publisher=ActorFactory(name="China Daily"),
        source_url="https://example.org/original",
    )
    AuthorshipFactory(
        article=article,
        person=PersonFactory(name="Wang Huiyao"),
        affiliation="Founder of the Center for China and Globalization",
    )
    article.keywords.add(KeywordFactory(name="CELAC", slug="celac"))

    response = client.get(article.get_absolute_url())
    text = response.text

    assert "Wang Huiyao" in text
    assert "Founder of the Center for China and Globalization" in text
    assert "China Daily" in text
    assert 'datetime="2025-11-05"' in text
    assert '?keyword=celac">CELAC</a>' in text
    assert "<p>First paragraph with a pledge of 500 scholarships.</p>" in text
    assert "<p>Second paragraph.</p>" in text
    assert 'href="https://example.org/original"' in text


@pytest.mark.parametrize("factory", [FocusAreaFactory, CountryFactory])
def test_focus_area_and_country_pages_list_their_commitments_twenty_to_a_page(client, factory):
    record = factory()
    record.commitments.add(
        *(CommitmentFactory(title=f"Pledge {number:02}") for number in range(1, 26))
    )
    url = record.get_absolute_url()

    first, second = client.get(url), client.get(url, {"page": 2})

    assert [str(c) for c in first.context["page_obj"]] == [f"Pledge {n:02}" for n in range(1, 21)]
    assert [str(c) for c in second.context["page_obj"]] == [f"Pledge {n:02}" for n in range(21, 26)]
    assert 'href="?page=2" rel="next"' in first.text
    assert "Page 2 of 2" in second.text
    assert record.name in second.text
    assert client.get(url, {"page": 3}).status_code == 404


def test_focus_area_page_shows_its_projects(client):
    focus_area = FocusAreaFactory()
    project = ProjectFactory(name="Chancay port", place="Chancay")
    project.focus_areas.add(focus_area)

    response = client.get(focus_area.get_absolute_url())

    assert "Chancay port" in response.text


# Filters


@pytest.fixture
def two_commitments():
    """One commitment matching every filter below, one matching none of them."""
    focus_area = FocusAreaFactory(slug="energy")
    country = CountryFactory(iso_code="BR")
    party = ActorFactory(slug="celac")
    match = CommitmentFactory(
        title="Match",
        kind=CommitmentKind.TRAINING,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2027, 1, 1),
    )
    match.focus_areas.add(focus_area)
    match.countries.add(country)
    match.parties.add(party)
    StatusUpdateFactory(commitment=match, status=CommitmentStatus.KEPT)
    other = CommitmentFactory(
        title="Other",
        kind=CommitmentKind.CREDIT_LINE,
        period_start=datetime.date(2010, 1, 1),
        period_end=datetime.date(2012, 1, 1),
    )
    other.focus_areas.add(FocusAreaFactory())
    other.countries.add(CountryFactory(iso_code="AR"))
    other.parties.add(ActorFactory())
    return match, other


@pytest.mark.parametrize(
    "query",
    [
        "focus_area=energy",
        "country=BR",
        "status=kept",
        "kind=training",
        "party=celac",
        "year=2026",
        "country=BR&status=kept&year=2025",
    ],
)
def test_commitment_list_filters_narrow_the_list(client, two_commitments, query):
    response = client.get(f"{reverse('policy:commitment_list')}?{query}")

    assert response.status_code == 200
    assert titles(response) == ["Match"]


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "country=XX",
        "year=abc",
        "year=1200",
        "kind=nonsense",
        "focus_area=no-such-area",
        "party=no-such-party",
        "country=BR&status=bogus",
    ],
)
def test_invalid_commitment_filter_explains_itself_instead_of_failing(
    client, two_commitments, query
):
    response = client.get(f"{reverse('policy:commitment_list')}?{query}")

    assert response.status_code == 200
    assert "Some filters could not be applied" in response.text
    assert 'aria-invalid="true"' in response.text
    assert titles(response) == []


def test_filter_on_a_draft_focus_area_is_refused(client):
    area = FocusAreaFactory(slug="hidden", publication_status=DRAFT)
    area.commitments.add(CommitmentFactory())

    response = client.get(f"{reverse('policy:commitment_list')}?focus_area=hidden")

    assert "Some filters could not be applied" in response.text
    assert titles(response) == []


def test_filter_offers_a_scheduled_focus_area_once_its_time_has_come(client, monkeypatch):
    publish_at = timezone.now() + datetime.timedelta(hours=1)
    area = FocusAreaFactory(slug="soon", publish_at=publish_at)
    area.commitments.add(CommitmentFactory(title="Pledge"))
    url = f"{reverse('policy:commitment_list')}?focus_area=soon"
    # The choices must be built per request, not once when the filters are first loaded.
    assert titles(client.get(url)) == []
    monkeypatch.setattr(timezone, "now", lambda: publish_at + datetime.timedelta(minutes=1))

    assert titles(client.get(url)) == ["Pledge"]


@pytest.mark.parametrize(
    "query", ["keyword=trade", "author=wang-huiyao", "year=2024", "language=es"]
)
def test_article_list_filters_narrow_the_list(client, query):
    match = ArticleFactory(title="Match", publication_date=datetime.date(2024, 3, 1), language="es")
    match.keywords.add(KeywordFactory(slug="trade"))
    AuthorshipFactory(article=match, person=PersonFactory(slug="wang-huiyao"))
    other = ArticleFactory(title="Other")
    other.keywords.add(KeywordFactory())
    AuthorshipFactory(article=other)

    response = client.get(f"{reverse('policy:article_list')}?{query}")

    assert titles(response) == ["Match"]


@pytest.mark.parametrize("query", ["year=abc", "language=xx"])
def test_invalid_article_filter_explains_itself_instead_of_failing(client, query):
    ArticleFactory()

    response = client.get(f"{reverse('policy:article_list')}?{query}")

    assert response.status_code == 200
    assert "Some filters could not be applied" in response.text
    assert titles(response) == []


# Pagination


def test_commitment_list_is_paginated_by_twenty_and_keeps_the_filters(client):
    CommitmentFactory.create_batch(25, kind=CommitmentKind.TRAINING)
    url = reverse("policy:commitment_list")

    first = client.get(f"{url}?kind=training")
    second = client.get(f"{url}?kind=training&page=2")

    assert len(first.context["object_list"]) == 20
    assert 'href="?kind=training&amp;page=2"' in first.text
    assert len(second.context["object_list"]) == 5
    assert 'href="?kind=training&amp;page=1"' in second.text


def test_article_list_is_paginated_by_twenty(client):
    ArticleFactory.create_batch(21)

    response = client.get(f"{reverse('policy:article_list')}?page=2")

    assert len(response.context["object_list"]) == 1


def test_page_beyond_the_last_is_not_found(client):
    CommitmentFactory()

    assert client.get(f"{reverse('policy:commitment_list')}?page=3").status_code == 404


# Query counts


def fill_commitments(count):
    for _ in range(count):
        commitment = CommitmentFactory(amount=Decimal(100), currency="CNY")
        StatusUpdateFactory(commitment=commitment)
        SourceQuoteFactory(commitment=commitment)


def fill_articles(count):
    for _ in range(count):
        AuthorshipFactory(article=ArticleFactory(publisher=ActorFactory()))


# A read runs in no transaction (policy/transactions.py): no statement but the page's own.
# Count, page, and the choices of the focus area, country and party filters.
COMMITMENT_LIST_QUERIES = 5
# Count, page with publishers, authorships with people, and the keyword and author choices.
ARTICLE_LIST_QUERIES = 5


@pytest.mark.parametrize("rows", [3, 30])
def test_commitment_list_query_count_does_not_grow_with_rows(
    client, django_assert_num_queries, rows
):
    fill_commitments(rows)

    with django_assert_num_queries(COMMITMENT_LIST_QUERIES):
        client.get(reverse("policy:commitment_list"))


@pytest.mark.parametrize("rows", [3, 30])
def test_article_list_query_count_does_not_grow_with_rows(client, django_assert_num_queries, rows):
    fill_articles(rows)

    with django_assert_num_queries(ARTICLE_LIST_QUERIES):
        client.get(reverse("policy:article_list"))


@pytest.mark.parametrize(
    ("url_name", "fill"),
    [
        ("policy:home", fill_commitments),
        ("policy:home", fill_articles),
        ("policy:focusarea_list", lambda n: FocusAreaFactory.create_batch(n)),
        ("policy:country_list", lambda n: CountryFactory.create_batch(n)),
    ],
)
def test_other_index_pages_keep_a_constant_query_count(client, url_name, fill):
    url = reverse(url_name)
    fill(3)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    fill(27)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


# Seed content


def test_every_published_seed_page_loads(client, seed):
    records = [
        *Article.objects.published(),
        *Commitment.objects.published(),
        *FocusArea.objects.published(),
    ]

    assert records
    for record in records:
        assert client.get(record.get_absolute_url()).status_code == 200, record


def test_a_party_with_only_draft_commitments_is_not_offered_as_a_filter(client):
    shown, hidden = ActorFactory(name="Visible Party"), ActorFactory(name="Secret Party")
    CommitmentFactory().parties.add(shown)
    CommitmentFactory(publication_status=PublicationStatus.DRAFT).parties.add(hidden)
    page = client.get(reverse("policy:commitment_list")).content.decode()
    assert "Visible Party" in page
    assert "Secret Party" not in page


def test_each_party_is_offered_once_however_many_commitments_name_it(client):
    party = ActorFactory(name="Busy Party")
    for commitment in CommitmentFactory.create_batch(3):
        commitment.parties.add(party)
    page = client.get(reverse("policy:commitment_list")).content.decode()
    assert page.count(">Busy Party</option>") == 1


def test_keywords_and_authors_only_of_drafts_are_not_offered_as_filters(client):
    draft = ArticleFactory(publication_status=DRAFT)
    draft.keywords.add(KeywordFactory(name="Secret keyword"))
    AuthorshipFactory(article=draft, person=PersonFactory(name="Secret Author"))
    shown_keyword = KeywordFactory(name="Open keyword")
    shown_author = PersonFactory(name="Open Author")
    for article in ArticleFactory.create_batch(2):
        article.keywords.add(shown_keyword)
        AuthorshipFactory(article=article, person=shown_author)
    page = client.get(reverse("policy:article_list")).content.decode()
    assert page.count(">Open keyword</option>") == page.count(">Open Author</option>") == 1
    assert "Secret keyword" not in page
    assert "Secret Author" not in page


@pytest.mark.parametrize("value", [None, "", "b", "c"])
def test_filter_selects_write_the_html_of_djangos_select_template(value):
    choices = [
        ("", "Any"),
        ("Group <1>", [("a", "A & B"), ("b", gettext_lazy("Kept"))]),
        ("c", mark_safe("<b>C</b>")),
        ("d", 'Say "d"'),
    ]
    attrs = {"id": "id_x", "required": True, "disabled": False, "data-note": "<&>"}
    djangos = forms.Select(choices=choices).render("x", value, attrs)

    assert Select(choices=choices).render("x", value, attrs) == djangos


@pytest.mark.parametrize(
    ("filterset_class", "query"),
    [
        (CommitmentFilterSet, "country=BR&status=bogus&year=1800&sort=recent"),
        (CommitmentFilterSet, ""),
        (ArticleFilterSet, "language=es&year=x&keyword=none"),
    ],
)
def test_filter_fields_write_the_html_of_djangos_templates(rf, filterset_class, query):
    CountryFactory(name="Brazil", iso_code="BR")
    request = rf.get(f"/en/?{query}")
    request.user, request.session = AnonymousUser(), {}

    def rendered(renderer=None):
        form = filterset_class(request.GET, request=request).form
        form.is_valid()
        if renderer is not None:
            form.renderer = renderer
        return [field.as_field_group() for field in form]

    assert isinstance(filterset_class(request=request).form.renderer, Jinja2)
    assert rendered() == rendered(DjangoTemplates())


def test_filter_choices_read_any_rather_than_dashes(client):
    page = client.get(reverse("policy:commitment_list")).content.decode()
    assert "---------" not in page
    assert ">Any</option>" in page


def test_commitment_list_sorts_by_deadline_and_rejects_an_unknown_sort(client):
    CommitmentFactory(title="Later", period_end=datetime.date(2030, 1, 1))
    CommitmentFactory(title="Sooner", period_end=datetime.date(2026, 1, 1))
    url = reverse("policy:commitment_list")
    page = client.get(url, {"sort": "deadline"}).content.decode()
    assert page.index("Sooner") < page.index("Later")
    bad = client.get(url, {"sort": "drop table"})
    assert bad.status_code == 200
    assert "Some filters could not be applied" in bad.content.decode()
