import csv
import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models
from django.db.models.fields.files import FieldFile
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from policy import synthetic, tiles
from policy.models import (
    Actor,
    Article,
    Authorship,
    Commitment,
    ContentLanguage,
    Country,
    Event,
    FocusArea,
    Keyword,
    Person,
    Project,
    SourceQuote,
    StatusUpdate,
)

pytestmark = pytest.mark.django_db

SIZES = {
    "articles": 20,
    "commitments": 100,
    "focus_areas": 20,
    "actors": 15,
    "publishers": 3,
    "people": 25,
    "keywords": 10,
    "events": 8,
    "projects": 12,
}
MARKED_MODELS = (Keyword, Person, Actor, Article, FocusArea, Event, Project, Commitment)


def generate(*args, **sizes):
    """Run the command with small sizes, overridden by `sizes`; return what it printed."""
    options = []
    for name, count in (SIZES | sizes).items():
        options += [f"--{name.replace('_', '-')}", str(count)]
    out = io.StringIO()
    call_command("generate_dataset", *options, *args, stdout=out)
    return out.getvalue()


def synthetic_records(model):
    return model._base_manager.filter(slug__startswith=synthetic.SLUG_PREFIX)


def natural_key(value):
    if isinstance(value, Country):
        return value.iso_code
    if isinstance(value, models.Model):
        return value.slug
    if isinstance(value, FieldFile):
        return value.name
    return value


def snapshot():
    """Every synthetic record and link, with slugs for keys, as keys differ from run to run."""
    data = {}
    for model in MARKED_MODELS:
        rows = []
        for record in synthetic_records(model).order_by("slug"):
            row = {
                field.name: natural_key(getattr(record, field.name))
                for field in model._meta.concrete_fields
                if not field.primary_key
            }
            for field in model._meta.many_to_many:
                row[field.name] = sorted(map(natural_key, getattr(record, field.name).all()))
            rows.append(row)
        data[model.__name__] = rows
    data["quotes"] = sorted(
        (quote.commitment.slug, quote.order, quote.article.slug, quote.text)
        for quote in SourceQuote.objects.filter(
            commitment__in=synthetic_records(Commitment)
        ).select_related("commitment", "article")
    )
    data["status_updates"] = sorted(
        (
            update.commitment.slug,
            update.date,
            update.status,
            update.note,
            natural_key(update.source_article),
            update.source_url,
            update.source_quote,
        )
        for update in StatusUpdate.objects.filter(
            commitment__in=synthetic_records(Commitment)
        ).select_related("commitment", "source_article")
    )
    data["authorships"] = sorted(
        (each.article.slug, each.order, each.person.slug, each.affiliation)
        for each in Authorship.objects.filter(
            article__in=synthetic_records(Article)
        ).select_related("article", "person")
    )
    return data


def stored_counts():
    return {
        model: model._base_manager.count() for model in apps.get_app_config("policy").get_models()
    }


# Determinism


def test_the_same_seed_gives_the_same_records_and_another_seed_other_ones():
    generate("--seed", "7")
    first = snapshot()

    generate("--seed", "7", "--replace")
    again = snapshot()
    generate("--seed", "8", "--replace")
    other = snapshot()

    assert again == first
    assert other["Commitment"] != first["Commitment"]
    assert other["Article"] != first["Article"]


def test_real_content_alongside_does_not_change_the_synthetic_records():
    generate("--seed", "7")
    alone = snapshot()
    synthetic.delete_synthetic_records()
    Country.objects.all().delete()
    call_command("loaddata", "seed", verbosity=0)

    generate("--seed", "7", "--alongside-real-content")

    assert snapshot() == alone


# Shapes and invariants


def test_counts_match_the_arguments_and_are_printed():
    output = generate()

    assert synthetic_records(Article).count() == SIZES["articles"]
    assert synthetic_records(Commitment).count() == SIZES["commitments"]
    assert synthetic_records(FocusArea).count() == SIZES["focus_areas"]
    assert synthetic_records(Actor).count() == SIZES["actors"] + SIZES["publishers"]
    assert synthetic_records(Person).count() == SIZES["people"]
    assert synthetic_records(Keyword).count() == SIZES["keywords"]
    assert synthetic_records(Event).count() == SIZES["events"]
    assert synthetic_records(Project).count() == SIZES["projects"]
    assert "20 articles, 100 commitments" in output
    assert f"{SourceQuote.objects.count()} source quotes" in output
    assert f"{StatusUpdate.objects.count()} status updates" in output


def test_every_generated_record_passes_full_clean_unchanged():
    generate()

    checked = 0
    for model in apps.get_app_config("policy").get_models():
        for record in model._base_manager.all():
            before = {field.attname: getattr(record, field.attname) for field in model._meta.fields}
            record.full_clean()
            after = {field.attname: getattr(record, field.attname) for field in model._meta.fields}
            assert after == before, record
            checked += 1
    assert checked > SIZES["commitments"] * 3


def test_every_record_is_marked_as_synthetic():
    generate()

    for model in MARKED_MODELS:
        assert model._base_manager.count() == synthetic_records(model).count()
    names = [
        *Article.objects.values_list("title", flat=True),
        *Commitment.objects.values_list("title", flat=True),
        *FocusArea.objects.values_list("name", flat=True),
        *Actor.objects.values_list("name", flat=True),
        *Person.objects.values_list("name", flat=True),
        *Keyword.objects.values_list("name", flat=True),
        *Event.objects.values_list("name", flat=True),
        *Project.objects.values_list("name", flat=True),
    ]
    assert all(name.startswith("Synthetic") for name in names)
    assert all(
        article.publisher is None or article.publisher.name.startswith("Synthetic data: ")
        for article in Article.objects.select_related("publisher")
    )
    urls = [
        *Article.objects.exclude(source_url="").values_list("source_url", flat=True),
        *StatusUpdate.objects.exclude(source_url="").values_list("source_url", flat=True),
    ]
    assert urls
    assert all(url.startswith("https://example.org/synthetic-") for url in urls)


def test_quotes_are_sentences_of_one_paragraph_of_their_article():
    generate()

    for quote in SourceQuote.objects.select_related("article"):
        assert any(quote.text in paragraph for paragraph in quote.article.paragraphs)
    for commitment in Commitment.objects.prefetch_related("quotes"):
        articles = [quote.article_id for quote in commitment.quotes.all()]
        assert 1 <= len(articles) <= 3
        assert len(set(articles)) == len(articles)
    for update in StatusUpdate.objects.exclude(source_quote="").select_related("source_article"):
        assert update.source_quote in update.source_article.body
    for model in (FocusArea, Event, Project):
        for record in model._base_manager.select_related("source_article"):
            assert record.source_quote in record.source_article.body


def test_status_histories_have_one_to_six_updates_on_later_days_from_the_first_source():
    generate()

    for commitment in Commitment.objects.prefetch_related("status_updates", "quotes__article"):
        dates = [update.date for update in commitment.status_updates.all()]
        first_source = min(quote.article.publication_date for quote in commitment.quotes.all())
        assert 1 <= len(dates) <= 6
        assert dates == sorted(set(dates))
        assert first_source <= dates[0]
        assert dates[-1] <= synthetic.LAST_DAY
        for update in commitment.status_updates.all():
            assert update.source_article_id or update.source_url


def test_each_commitment_stores_the_status_of_its_latest_update():
    generate()

    for commitment in Commitment.objects.prefetch_related("status_updates"):
        assert commitment.current_status == list(commitment.status_updates.all())[-1].status


def test_every_country_of_latin_america_and_the_caribbean_exists_and_is_named():
    generate()

    region = Country.objects.in_latin_america_and_caribbean()
    assert sorted(region.values_list("iso_code", flat=True)) == sorted(tiles.POSITIONS)
    assert not region.filter(commitments__isnull=True).exists()


def test_articles_have_paragraphs_authors_keywords_and_mixed_languages():
    generate(articles=200, commitments=0)

    articles = Article.objects.prefetch_related("authorships", "keywords")
    languages = [article.language for article in articles]
    assert set(languages) == set(ContentLanguage.values)
    assert languages.count(ContentLanguage.ENGLISH) > len(languages) / 2
    assert all(len(article.paragraphs) >= 4 for article in articles)
    assert all(article.keywords.all() for article in articles)
    assert sum(bool(article.authorships.all()) for article in articles) > len(languages) * 0.8
    assert articles.filter(publisher__isnull=False).count() > len(languages) * 0.8


def test_published_querysets_return_all_but_the_unpublished_shares():
    generate()

    total = SIZES["commitments"]
    unpublished = sum(round(total * share) for share in synthetic.UNPUBLISHED_SHARES.values())
    assert Commitment.objects.published().count() == total - unpublished
    assert Commitment.objects.published().count() > total * 0.8
    assert Article.objects.published().count() > SIZES["articles"] * 0.8
    assert FocusArea.objects.published().count() > SIZES["focus_areas"] * 0.9
    scheduled = Commitment.objects.filter(publish_at__gt=timezone.now())
    assert scheduled.exists()
    assert all(record.publish_at.year >= 2100 for record in scheduled)
    expired = Commitment.objects.filter(unpublish_at__isnull=False)
    assert expired.exists()
    assert all(record.unpublish_at < timezone.now() for record in expired)


# Refusals


def test_a_database_with_real_content_is_refused_and_nothing_is_written(seed):
    before = stored_counts()

    with pytest.raises(CommandError, match=r"real content .*articles: 1.*--alongside-real-content"):
        generate()

    assert stored_counts() == before


def test_alongside_real_content_adds_synthetic_records_and_replace_deletes_only_those(seed):
    def real_records():
        return {
            model: set(model._base_manager.exclude(pk__in=synthetic_records(model)))
            for model in MARKED_MODELS
        }

    before = real_records()
    countries = Country.objects.count()

    generate("--alongside-real-content")
    generate("--alongside-real-content", "--replace", commitments=40)

    assert real_records() == before
    assert all(before.values())
    assert Country.objects.count() == countries
    assert synthetic_records(Commitment).count() == 40


def test_replace_is_refused_while_a_real_record_refers_to_a_synthetic_one(seed):
    generate("--alongside-real-content")
    article = synthetic_records(Article).first()
    real_commitment = Commitment.objects.exclude(pk__in=synthetic_records(Commitment)).first()
    SourceQuote.objects.create(
        commitment=real_commitment, article=article, text=article.paragraphs[0]
    )
    before = stored_counts()

    with pytest.raises(CommandError, match="Real records refer to synthetic ones"):
        generate("--alongside-real-content", "--replace")

    assert stored_counts() == before
    assert synthetic_records(Article).filter(pk=article.pk).exists()


def test_a_second_run_without_replace_is_refused():
    generate()
    before = stored_counts()

    with pytest.raises(CommandError, match="--replace"):
        generate()

    assert stored_counts() == before


def test_replace_deletes_the_previous_synthetic_records():
    generate(commitments=100)

    generate("--replace", commitments=30, articles=5)

    assert Commitment.objects.count() == 30
    assert Article.objects.count() == 5
    assert SourceQuote.objects.filter(commitment__in=Commitment.objects.all()).count() == (
        SourceQuote.objects.count()
    )


def test_a_failure_part_way_writes_nothing(monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(StatusUpdate.objects, "bulk_create", fail)

    with pytest.raises(DatabaseError):
        generate()

    assert all(count == 0 for count in stored_counts().values())


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"articles": 0}, "at least one article"),
        ({"commitments": -1}, "Commitments cannot be negative"),
    ],
)
def test_impossible_sizes_are_refused(sizes, message):
    with pytest.raises(CommandError, match=message):
        generate(**sizes)

    assert not Country.objects.exists()


# The site on the dataset


def published_example(model):
    return model.objects.published().order_by("slug").first()


def test_public_pages_feeds_and_the_api_serve_the_dataset(client):
    generate()
    article = published_example(Article)
    commitment = published_example(Commitment)
    focus_area = published_example(FocusArea)
    name = commitment.title.removeprefix("Synthetic: ").split()[0]

    pages = {
        reverse("policy:home"): "Synthetic: ",
        reverse("policy:article_list"): "Synthetic: ",
        article.get_absolute_url(): article.title,
        reverse("policy:commitment_list") + "?status=in_the_works&country=BR": "Synthetic: ",
        commitment.get_absolute_url(): commitment.title,
        focus_area.get_absolute_url(): focus_area.name,
        reverse("policy:search") + f"?q={name}": commitment.get_absolute_url(),
        reverse("policy:article_feed_rss"): "Synthetic: ",
        reverse("sitemap"): reverse("sitemap-section", args=["commitments"]),
        reverse("sitemap-section", args=["commitments"]): Commitment.objects.published()
        .order_by("pk")
        .first()
        .slug,
        "/api/v1/commitments/?page_size=20": commitment.slug,
        f"/api/v1/commitments/{commitment.slug}/": commitment.title,
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in response.content.decode(), url
    page = client.get("/api/v1/commitments/", {"page_size": 100}).json()
    assert page["count"] == Commitment.objects.published().count()
    assert len(page["results"]) == min(page["count"], 100)
    export = client.get("/api/v1/commitments/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) == Commitment.objects.published().count()


def test_cached_pages_show_the_dataset_at_once(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 300
    url = reverse("policy:commitment_list")
    client.get(url)
    assert client.get(url)["X-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        generate()

    response = client.get(url)
    first = Commitment.objects.published().order_by("title").first()
    assert response["X-Cache"] == "miss"
    assert first.title in response.content.decode()


@pytest.mark.parametrize("url", ["/en/commitments/", "/api/v1/commitments/?page_size=20"])
def test_list_query_counts_do_not_grow_with_the_dataset(client, url):
    counts = []
    for commitments in (30, 90):
        generate("--replace", commitments=commitments)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
