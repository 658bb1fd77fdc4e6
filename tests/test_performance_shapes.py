"""What keeps the site fast as its content grows: no query count grows with the page size or with
the number of records shown, CSV exports stream in flat memory, and production compiles each
template once."""

import gc
import weakref

import pytest
from django.contrib.messages.storage import default_storage
from django.db import connection, transaction
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policy.api.export import CSVExportMixin
from policy.models import Commitment, Keyword, PublicationStatus
from policy.sitemaps import TranslatedSitemap
from tests.processes import manage, production_environment

from .factories import (
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

FEW, MANY = 3, 25


def query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


def related_commitment(**kwargs):
    """A commitment with a record in every relation that its pages and the API show."""
    commitment = CommitmentFactory(
        announced_at=EventFactory(), part_of=CommitmentFactory(), **kwargs
    )
    commitment.parties.add(ActorFactory(), ActorFactory())
    commitment.countries.add(CountryFactory(), CountryFactory())
    commitment.focus_areas.add(FocusAreaFactory())
    commitment.components.add(CommitmentFactory(), CommitmentFactory())
    source = ArticleFactory()
    SourceQuoteFactory(commitment=commitment, article=source)
    StatusUpdateFactory(commitment=commitment, source_article=source)
    StatusUpdateFactory(commitment=commitment, source_article=ArticleFactory())
    return commitment


def related_article():
    article = ArticleFactory(publisher=ActorFactory())
    AuthorshipFactory(article=article, person=PersonFactory(country=CountryFactory()))
    article.keywords.add(KeywordFactory(), KeywordFactory())
    SourceQuoteFactory(article=article, commitment=CommitmentFactory())
    return article


@pytest.fixture
def content():
    """Enough records of every kind to fill more than one page of two."""
    for _ in range(MANY):
        related_commitment()
        related_article()
    for _ in range(5):
        event = EventFactory(country=CountryFactory())
        event.participants.add(PersonFactory(), PersonFactory())
        project = ProjectFactory(country=CountryFactory())
        project.actors.add(ActorFactory())
        project.focus_areas.add(FocusAreaFactory())
        FocusAreaFactory().commitments.add(*Commitment.objects.all()[:4])


# The API


API_LISTS = [
    "commitments",
    "articles",
    "focus-areas",
    "countries",
    "actors",
    "people",
    "events",
    "projects",
    "keywords",
]


@pytest.mark.parametrize("name", API_LISTS)
def test_api_list_queries_do_not_grow_with_the_page_size(client, content, name):
    url = f"/api/v1/{name}/"

    assert query_count(client, f"{url}?page_size=2") == query_count(client, f"{url}?page_size=20")


@pytest.mark.parametrize("name", ["commitments", "articles", "focus-areas"])
def test_api_list_of_an_editor_with_drafts_keeps_its_queries_too(admin_client, content, name):
    CommitmentFactory.create_batch(3, publication_status=PublicationStatus.DRAFT)
    url = f"/api/v1/{name}/?include_unpublished=true"

    assert query_count(admin_client, f"{url}&page_size=2") == query_count(
        admin_client, f"{url}&page_size=20"
    )


@pytest.mark.parametrize("part", ["status-updates", "quotes"])
def test_api_parts_of_a_commitment_keep_their_queries_however_many(client, part):
    commitment = related_commitment()
    url = f"/api/v1/commitments/{commitment.slug}/{part}/"
    few = query_count(client, url)
    for _ in range(MANY):
        SourceQuoteFactory(commitment=commitment)
        StatusUpdateFactory(commitment=commitment, source_article=ArticleFactory())

    assert query_count(client, url) == few


def test_api_details_keep_their_queries_however_many_related_records(client):
    commitment = related_commitment()
    article = related_article()
    urls = [f"/api/v1/commitments/{commitment.slug}/", f"/api/v1/articles/{article.slug}/"]
    few = [query_count(client, url) for url in urls]
    for _ in range(MANY):
        commitment.parties.add(ActorFactory())
        SourceQuoteFactory(commitment=commitment, article=article)
        StatusUpdateFactory(commitment=commitment, source_article=ArticleFactory())
        AuthorshipFactory(article=article)

    assert [query_count(client, url) for url in urls] == few


@pytest.mark.parametrize("name", API_LISTS)
def test_csv_exports_keep_their_queries_however_many_records(client, name, monkeypatch):
    monkeypatch.setattr(CSVExportMixin, "csv_chunk_size", 1000)
    url = f"/api/v1/{name}/?format=csv"
    related_commitment()
    related_article()
    few = query_count(client, url)
    for _ in range(MANY):
        related_commitment()
        related_article()

    assert query_count(client, url) == few


def test_csv_export_frees_each_chunk_of_records_without_the_garbage_collector(client, monkeypatch):
    # Quotes and status updates refer back to their commitment: without care, a cycle per
    # record, freed only by the collector's rare full passes, with many chunks held meanwhile.
    chunk = 5
    monkeypatch.setattr(CSVExportMixin, "csv_chunk_size", chunk)
    for _ in range(4 * chunk):
        related_commitment()
    loaded = []

    def keep_track(instance, **kwargs):
        loaded.append(weakref.ref(instance))

    post_init.connect(keep_track, sender=Commitment)
    gc.disable()
    try:
        response = client.get("/api/v1/commitments/", {"format": "csv"})
        most_in_memory = lines = 0
        for _ in response.streaming_content:
            lines += 1
            most_in_memory = max(most_in_memory, sum(ref() is not None for ref in loaded))
    finally:
        gc.enable()
        post_init.disconnect(keep_track, sender=Commitment)

    assert lines == 1 + Commitment.objects.published().count()
    # The chunk being written, and the next one as it is read.
    assert 0 < most_in_memory <= 2 * chunk


# The public site


def commitments_of_each_page(records):
    for record in records:
        for _ in range(MANY // len(records)):
            record.commitments.add(CommitmentFactory())


@pytest.mark.parametrize("factory", [FocusAreaFactory, CountryFactory])
def test_focus_area_and_country_pages_keep_their_queries_however_many_commitments(client, factory):
    record = factory()
    record.commitments.add(*CommitmentFactory.create_batch(FEW))
    url = record.get_absolute_url()
    few = query_count(client, url)
    record.commitments.add(*CommitmentFactory.create_batch(MANY))

    assert query_count(client, url) == few
    assert query_count(client, f"{url}?page=2") == few


def test_commitment_and_article_pages_keep_their_queries_however_many_related_records(client):
    commitment = related_commitment()
    article = related_article()
    urls = [commitment.get_absolute_url(), article.get_absolute_url()]
    few = [query_count(client, url) for url in urls]
    for _ in range(MANY):
        commitment.parties.add(ActorFactory())
        commitment.components.add(CommitmentFactory())
        SourceQuoteFactory(commitment=commitment, article=article)
        StatusUpdateFactory(commitment=commitment, source_article=ArticleFactory())
        AuthorshipFactory(article=article)

    assert [query_count(client, url) for url in urls] == few


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's parameter limit")
def test_postgresql_splits_a_query_within_the_parameters_it_binds():
    keyword = KeywordFactory()
    # One query for all these ids would bind 70,001 parameters, over the 65,535 PostgreSQL takes.
    ids = [keyword.pk, *range(-70_000, 0)]

    assert Keyword.objects.in_bulk(ids) == {keyword.pk: keyword}
    # A deletion of many related rows is split the same way: a parameter for each row's id.
    assert connection.ops.bulk_batch_size(["id"], ids) == 65_535


@pytest.mark.django_db(transaction=True)
def test_the_home_page_counts_published_commitments_from_their_index_alone(client):
    statuses = ["kept", "broken", "in_the_works"]
    drafts = PublicationStatus.DRAFT, PublicationStatus.ARCHIVED
    commitments = Commitment.objects.bulk_create(
        CommitmentFactory.build(
            current_status=statuses[number % 3],
            publication_status=drafts[number % 2]
            if number % 10 == 0
            else PublicationStatus.PUBLISHED,
        )
        for number in range(600)
    )
    country, focus_area = CountryFactory(), FocusAreaFactory()
    country.commitments.add(*commitments[::2])
    focus_area.commitments.add(*commitments[::3])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Committed, so that the visibility map lets a scan skip the table.
            cursor.execute("VACUUM ANALYZE policy_commitment")

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("policy:home")).status_code == 200
    # By status, by focus area and by country.
    counts = [query["sql"] for query in queries if "COUNT(" in query["sql"]]
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A table this small is read whole, whatever its indexes.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        for sql in counts:
            explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
            cursor.execute(f"{explain} {sql}")
            plans.append(" ".join(str(column) for row in cursor.fetchall() for column in row))

    assert len(plans) == 3
    for plan in plans:
        if connection.vendor == "postgresql":
            assert "Index Only Scan using policy_commitment_published" in plan, plan
        else:
            assert "USING COVERING INDEX policy_commitment_published" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_postgresql_plans_the_queries_a_page_repeats_once_per_connection(client):
    commitment = related_commitment()
    for _ in range(6):
        assert client.get(commitment.get_absolute_url()).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]

    assert any('FROM "policy_statusupdate"' in statement for statement in prepared), prepared
    assert any('"policy_commitment_parties"' in statement for statement in prepared), prepared


@pytest.mark.parametrize(
    "url_name",
    [
        "policy:article_feed_rss",
        "policy:article_feed_atom",
        "policy:status_change_feed_rss",
        "policy:status_change_feed_atom",
    ],
)
def test_feeds_keep_their_queries_however_many_items(client, url_name):
    url = reverse(url_name)
    related_commitment()
    related_article()
    few = query_count(client, url)
    for _ in range(MANY):
        related_commitment()
        related_article()

    assert query_count(client, url) == few


@pytest.mark.parametrize("section", ["articles", "commitments", "focus-areas", "countries"])
def test_sitemap_pages_keep_their_queries_however_long_the_section(client, monkeypatch, section):
    monkeypatch.setattr(TranslatedSitemap, "limit", 8)
    related_commitment()
    related_article()
    first = reverse("sitemap-section", kwargs={"section": section})
    few = [query_count(client, reverse("sitemap")), query_count(client, first)]
    for _ in range(MANY):
        related_commitment()
        related_article()

    assert [query_count(client, reverse("sitemap")), query_count(client, first)] == few
    assert query_count(client, f"{first}?p=2") == few[1]


def test_production_compiles_each_template_once_with_the_cached_loader(tmp_path):
    loaders = manage(
        "shell",
        "--no-imports",
        "--command",
        "from django.template import engines; "
        "print([type(loader).__module__ for loader in engines['django'].engine.template_loaders])",
        env=production_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
    )

    assert loaders.strip() == "['django.template.loaders.cached']"


@pytest.mark.django_db
def test_pages_that_show_no_message_never_build_the_message_storage(client, monkeypatch):
    built = []

    def counted_storage(request):
        built.append(request.path)
        return default_storage(request)

    monkeypatch.setattr("policy.middleware.default_storage", counted_storage)
    for url in (reverse("policy:commitment_list"), "/api/v1/commitments/", "/admin/login/"):
        assert client.get(url).status_code == 200
    # The admin's login page shows messages: it reads the storage, so builds it.
    assert built == ["/admin/login/"]
