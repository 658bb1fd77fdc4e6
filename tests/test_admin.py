import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policy.models import (
    Article,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    DatePrecision,
    FigureQualifier,
    FocusArea,
    GeographicScope,
    PublicationStatus,
    SourceQuote,
)
from tests.admin_forms import change_form_data
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

FACTORIES_OF_REGISTERED_MODELS = [
    ActorFactory,
    ArticleFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    KeywordFactory,
    PersonFactory,
    ProjectFactory,
]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def inline_models(model_admin):
    return {inline.model for inline in model_admin.inlines}


def test_every_policy_model_is_editable_in_the_admin_directly_or_inline():
    registry = admin.site._registry
    editable = set(registry).union(*(inline_models(registry[model]) for model in registry))

    assert set(apps.get_app_config("policy").get_models()) <= editable


def test_admin_names_the_site_puente():
    assert admin.site.site_header == "Puente"
    assert admin.site.site_title == "Puente editorial admin"


@pytest.mark.parametrize("factory", FACTORIES_OF_REGISTERED_MODELS)
def test_changelist_add_and_change_pages_open_for_a_superuser(admin_client, factory):
    record = factory()
    model = type(record)

    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "add"),
        admin_url(model, "change", record.pk),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    url = admin_url(Commitment, "changelist")

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next={url}"


def test_commitment_change_page_shows_its_quotes_and_status_history(admin_client):
    quote = SourceQuoteFactory()
    StatusUpdateFactory(commitment=quote.commitment, note="Ground was broken in March.")

    response = admin_client.get(admin_url(Commitment, "change", quote.commitment.pk))

    assert response.status_code == 200
    assert quote.text in response.content.decode()
    assert "Ground was broken in March." in response.content.decode()


def test_article_change_page_lists_authors_in_byline_order(admin_client):
    article = ArticleFactory()
    AuthorshipFactory(article=article, person=PersonFactory(name="Zhang Wei"), order=0)
    AuthorshipFactory(article=article, person=PersonFactory(name="Ana Costa"), order=1)

    response = admin_client.get(admin_url(Article, "change", article.pk))

    inline = response.context["inline_admin_formsets"][0].formset
    assert [form.instance.person.name for form in inline.initial_forms] == [
        "Zhang Wei",
        "Ana Costa",
    ]


# Current status


@pytest.fixture
def commitments_by_status():
    kept = CommitmentFactory(title="Kept promise")
    StatusUpdateFactory(commitment=kept, status=CommitmentStatus.IN_THE_WORKS)
    StatusUpdateFactory(
        commitment=kept, status=CommitmentStatus.KEPT, date=datetime.date(2026, 1, 10)
    )
    stalled = CommitmentFactory(title="Stalled promise")
    StatusUpdateFactory(commitment=stalled, status=CommitmentStatus.STALLED)
    unrated = CommitmentFactory(title="Unrated promise")
    return {"kept": kept, "stalled": stalled, "unrated": unrated}


def listed_titles(response):
    return [commitment.title for commitment in response.context["cl"].result_list]


@pytest.mark.parametrize(
    ("status", "expected_title"),
    [
        (CommitmentStatus.KEPT, "Kept promise"),
        (CommitmentStatus.STALLED, "Stalled promise"),
        (CommitmentStatus.NOT_YET_RATED, "Unrated promise"),
    ],
)
def test_commitment_changelist_filters_by_current_status(
    admin_client, commitments_by_status, status, expected_title
):
    response = admin_client.get(admin_url(Commitment, "changelist"), {"current_status": status})

    assert listed_titles(response) == [expected_title]


def test_commitment_changelist_shows_and_sorts_by_current_status_label(
    admin_client, commitments_by_status
):
    # Column 3: the action checkbox, title and kind come first.
    response = admin_client.get(admin_url(Commitment, "changelist"), {"o": "3"})

    assert listed_titles(response) == ["Kept promise", "Unrated promise", "Stalled promise"]
    assert "Not yet rated" in response.content.decode()


def test_commitment_changelist_counts_commitments_per_current_status(
    admin_client, commitments_by_status
):
    response = admin_client.get(admin_url(Commitment, "changelist"), {"_facets": "True"})

    assert response.status_code == 200
    assert "Kept (1)" in response.content.decode()


# Adding a commitment with its source quote


def commitment_form_data(*, article, quote):
    """What the add form posts: the commitment, one source quote and no status update."""
    return {
        "title": "500 scholarships for Latin American students",
        "slug": "500-scholarships",
        "kind": CommitmentKind.SCHOLARSHIPS,
        "geographic_scope": GeographicScope.REGIONAL,
        "target_qualifier": FigureQualifier.AS_STATED,
        "period_start_precision": DatePrecision.YEAR,
        "period_end_precision": DatePrecision.YEAR,
        "publication_status": PublicationStatus.DRAFT,
        "quotes-TOTAL_FORMS": "1",
        "quotes-INITIAL_FORMS": "0",
        "quotes-MIN_NUM_FORMS": "0",
        "quotes-MAX_NUM_FORMS": "1000",
        "quotes-0-article": str(article.pk),
        "quotes-0-text": quote,
        "quotes-0-order": "0",
        "status_updates-TOTAL_FORMS": "0",
        "status_updates-INITIAL_FORMS": "0",
        "status_updates-MIN_NUM_FORMS": "0",
        "status_updates-MAX_NUM_FORMS": "1000",
    }


def test_adding_a_commitment_with_a_quote_not_in_the_article_is_refused(admin_client):
    article = ArticleFactory(title="Scholarships announced")
    data = commitment_form_data(article=article, quote="A pledge of 5,000 scholarships.")

    response = admin_client.post(admin_url(Commitment, "add"), data)

    assert response.status_code == 200
    quote_form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert quote_form.errors["text"] == [
        "This quote is not found verbatim in “Scholarships announced”."
    ]
    assert "is not found verbatim in “Scholarships announced”" in response.content.decode()
    assert not Commitment.objects.exists()
    assert not SourceQuote.objects.exists()


def test_adding_a_commitment_with_a_verbatim_quote_saves_both(admin_client):
    article = ArticleFactory()
    quote = "First paragraph with a pledge of 500 scholarships."

    response = admin_client.post(
        admin_url(Commitment, "add"), commitment_form_data(article=article, quote=quote)
    )

    assert response.status_code == 302
    commitment = Commitment.objects.get(slug="500-scholarships")
    assert list(commitment.quotes.values_list("article", "text")) == [(article.pk, quote)]


# Query counts


def changelist_query_count(client, model):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


def create_commitment_with_relations():
    commitment = CommitmentFactory()
    commitment.parties.add(ActorFactory())
    commitment.focus_areas.add(FocusAreaFactory())
    commitment.countries.add(CountryFactory())
    StatusUpdateFactory(commitment=commitment)
    SourceQuoteFactory(commitment=commitment)


def create_article_with_relations():
    article = ArticleFactory(publisher=ActorFactory())
    article.keywords.add(KeywordFactory())
    AuthorshipFactory(article=article, order=0)
    AuthorshipFactory(article=article, order=1)


@pytest.mark.parametrize(
    ("model", "create_row"),
    [
        (Commitment, create_commitment_with_relations),
        (Article, create_article_with_relations),
    ],
)
def test_changelist_query_count_does_not_grow_with_its_rows(admin_client, model, create_row):
    for _ in range(3):
        create_row()
    queries_for_3_rows = changelist_query_count(admin_client, model)

    for _ in range(27):
        create_row()
    queries_for_30_rows = changelist_query_count(admin_client, model)

    assert model.objects.count() >= 30
    assert queries_for_30_rows == queries_for_3_rows


def test_commitment_changelist_filters_by_the_years_a_commitment_covers(admin_client):
    CommitmentFactory(
        title="Plan 2025-2027",
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2027, 1, 1),
    )
    CommitmentFactory(title="Pledge 2030", period_start=datetime.date(2030, 1, 1))
    url = admin_url(Commitment, "changelist")
    assert "?year=2026" in admin_client.get(url).content.decode()
    assert listed_titles(admin_client.get(url, {"year": "2026"})) == ["Plan 2025-2027"]
    assert listed_titles(admin_client.get(url, {"year": "2031"})) == ["Pledge 2030"]


@pytest.mark.parametrize("factory", [ArticleFactory, CommitmentFactory, FocusAreaFactory])
def test_a_change_form_sends_back_the_version_it_was_loaded_at(admin_client, factory):
    """Else every change would be refused as made over someone else's."""
    record = factory()
    page = admin_client.get(admin_url(type(record), "change", record.pk)).content.decode()

    assert f'<input type="hidden" name="loaded_version" value="{record.version}"' in page


def test_what_the_admin_saved_is_said_on_the_next_page_and_only_there(admin_client):
    record = FocusAreaFactory(name="Energy")
    url = admin_url(FocusArea, "change", record.pk)
    saved = admin_client.post(url, change_form_data(admin_client.get(url)))
    assert saved.status_code == 302

    # The message waits in a cookie for the page the admin sends the editor to.
    first = admin_client.get(saved["Location"])
    assert "was changed successfully" in first.content.decode()
    assert "was changed successfully" not in admin_client.get(saved["Location"]).content.decode()
