import datetime
import json
from decimal import Decimal

import pytest
import reversion
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import clear_script_prefix, set_script_prefix
from django.utils import translation
from reversion.models import Version

from policy.models import (
    Article,
    Commitment,
    CommitmentStatus,
    Country,
    DatePrecision,
    FigureQualifier,
    PublicationStatus,
    SourceQuote,
    StatusUpdate,
)
from tests.factories import (
    ArticleFactory,
    CommitmentFactory,
    CountryFactory,
    FocusAreaFactory,
    PersonFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
    image_upload,
)

pytestmark = pytest.mark.django_db


def stored_status(commitment):
    return Commitment.objects.values_list("current_status", flat=True).get(pk=commitment.pk)


def error_fields(record):
    with pytest.raises(ValidationError) as caught:
        record.full_clean()
    return set(caught.value.message_dict)


class TestPublishing:
    def test_published_excludes_drafts(self):
        published = ArticleFactory()
        ArticleFactory(publication_status=PublicationStatus.DRAFT)
        assert list(Article.objects.published()) == [published]

    def test_first_publication_time_is_set_once(self):
        article = ArticleFactory(publication_status=PublicationStatus.DRAFT)
        assert article.first_published_at is None
        article.publication_status = PublicationStatus.PUBLISHED
        article.save()
        first = article.first_published_at
        assert first is not None
        article.title = "Edited"
        article.save()
        assert article.first_published_at == first

    def test_every_content_model_has_the_same_published_rule(self):
        FocusAreaFactory(publication_status=PublicationStatus.DRAFT)
        CommitmentFactory(publication_status=PublicationStatus.DRAFT)
        shown = FocusAreaFactory(), CommitmentFactory()
        assert [type(r).objects.published().get() for r in shown] == list(shown)


class TestCommitmentValidation:
    def test_negative_target_is_refused_by_validation_and_database(self):
        commitment = CommitmentFactory.build(target_value=Decimal(-1), target_unit="scholarships")
        assert "target_value" in error_fields(commitment)
        with pytest.raises(IntegrityError), transaction.atomic():
            commitment.save()

    def test_amount_needs_a_currency(self):
        commitment = CommitmentFactory.build(amount=Decimal(10))
        assert "currency" in error_fields(commitment)
        with pytest.raises(IntegrityError), transaction.atomic():
            commitment.save()

    @pytest.mark.parametrize("code", ["XYZ", "cny", "YUAN", "US"])
    def test_currency_must_be_an_iso_4217_code(self, code):
        commitment = CommitmentFactory.build(amount=Decimal(10), currency=code)
        assert "currency" in error_fields(commitment)

    def test_valid_money_passes_and_is_kept_exactly(self):
        commitment = CommitmentFactory(
            amount=Decimal("66000000000.01"), currency="CNY", usd_equivalent=Decimal("9.23")
        )
        commitment.full_clean()
        stored = Commitment.objects.get(pk=commitment.pk)
        assert stored.amount == Decimal("66000000000.01")
        assert isinstance(stored.amount, Decimal)

    def test_target_needs_a_unit_and_a_unit_needs_a_target(self):
        assert "target_unit" in error_fields(CommitmentFactory.build(target_value=Decimal(5)))
        assert "target_value" in error_fields(CommitmentFactory.build(target_unit="projects"))

    def test_period_cannot_end_before_it_starts(self):
        commitment = CommitmentFactory.build(
            period_start=datetime.date(2027, 1, 1), period_end=datetime.date(2025, 1, 1)
        )
        assert "period_end" in error_fields(commitment)
        with pytest.raises(IntegrityError), transaction.atomic():
            commitment.save()

    def test_slug_is_unique(self):
        CommitmentFactory(slug="same")
        with pytest.raises(IntegrityError), transaction.atomic():
            CommitmentFactory(slug="same")

    def test_partial_dates_are_stored_as_the_first_day_of_their_precision(self):
        commitment = CommitmentFactory.build(
            period_start=datetime.date(2025, 6, 17),
            period_start_precision=DatePrecision.MONTH,
            period_end=datetime.date(2027, 9, 3),
            period_end_precision=DatePrecision.YEAR,
        )
        commitment.full_clean()
        assert commitment.period_start == datetime.date(2025, 6, 1)
        assert commitment.period_end == datetime.date(2027, 1, 1)
        assert commitment.period_display == "June 2025–2027"

    def test_a_commitment_cannot_be_part_of_itself(self):
        commitment = CommitmentFactory()
        commitment.part_of = commitment
        assert "part_of" in error_fields(commitment)


class TestCommitmentDisplay:
    def test_target_shows_its_qualifier_and_grouping(self):
        commitment = CommitmentFactory.build(
            target_value=Decimal("3500.00"),
            target_unit="scholarships",
            target_qualifier=FigureQualifier.MORE_THAN,
        )
        assert commitment.target_display == "more than 3,500 scholarships"

    def test_amount_shows_grouping_and_currency(self):
        commitment = CommitmentFactory.build(amount=Decimal("66000000000.00"), currency="CNY")
        assert commitment.amount_display == "66,000,000,000 CNY"

    def test_open_ended_period_reads_from(self):
        commitment = CommitmentFactory.build(
            period_start=datetime.date(2025, 6, 1), period_start_precision=DatePrecision.MONTH
        )
        assert commitment.period_display == "from June 2025"


class TestCurrentStatus:
    def test_a_commitment_without_updates_is_not_yet_rated(self):
        commitment = CommitmentFactory()
        assert Commitment.objects.get(pk=commitment.pk).current_status == "not_yet_rated"
        assert commitment.current_status == "not_yet_rated"

    def test_the_latest_update_by_date_decides_the_status(self):
        commitment = CommitmentFactory()
        StatusUpdateFactory(commitment=commitment, date=datetime.date(2026, 1, 1), status="kept")
        StatusUpdateFactory(
            commitment=commitment, date=datetime.date(2025, 1, 1), status="in_the_works"
        )
        fetched = Commitment.objects.get(pk=commitment.pk)
        assert fetched.current_status == CommitmentStatus.KEPT
        assert fetched.get_current_status_display() == "Kept"

    def test_updates_on_the_same_day_are_ordered_by_entry(self):
        commitment = CommitmentFactory()
        StatusUpdateFactory(commitment=commitment, status="in_the_works")
        StatusUpdateFactory(commitment=commitment, status="stalled")
        assert Commitment.objects.get(pk=commitment.pk).current_status == "stalled"

    def test_moving_an_update_to_a_later_date_makes_its_status_current(self):
        commitment = CommitmentFactory()
        earlier = StatusUpdateFactory(
            commitment=commitment, date=datetime.date(2025, 1, 1), status="stalled"
        )
        StatusUpdateFactory(commitment=commitment, date=datetime.date(2025, 6, 1), status="kept")
        earlier.date = datetime.date(2026, 1, 1)
        earlier.save()
        assert stored_status(commitment) == "stalled"

    def test_deleting_updates_falls_back_to_the_previous_one_then_to_not_yet_rated(self):
        commitment = CommitmentFactory()
        StatusUpdateFactory(commitment=commitment, date=datetime.date(2025, 1, 1), status="kept")
        latest = StatusUpdateFactory(
            commitment=commitment, date=datetime.date(2025, 6, 1), status="broken"
        )
        latest.delete()
        assert stored_status(commitment) == "kept"
        StatusUpdate.objects.filter(commitment=commitment).delete()
        assert stored_status(commitment) == "not_yet_rated"

    def test_a_commitment_is_deleted_with_its_updates(self):
        commitment = CommitmentFactory()
        StatusUpdateFactory(commitment=commitment)
        commitment.delete()
        assert not Commitment.objects.exists()
        assert not StatusUpdate.objects.exists()

    def test_the_commitment_in_memory_keeps_the_status_when_saved_again(self):
        commitment = CommitmentFactory()
        StatusUpdateFactory(commitment=commitment, status="kept")
        commitment.title = "Renamed"
        commitment.save()
        assert commitment.current_status == "kept"
        assert stored_status(commitment) == "kept"

    def test_a_new_status_changes_neither_version_nor_update_time_nor_history(self):
        commitment = CommitmentFactory()
        stored = Commitment.objects.get(pk=commitment.pk)
        with reversion.create_revision():
            StatusUpdateFactory(commitment=commitment, status="kept")
        after = Commitment.objects.get(pk=commitment.pk)
        assert after.current_status == "kept"
        assert (after.version, after.updated_at) == (stored.version, stored.updated_at)
        assert not Version.objects.get_for_object(commitment).exists()

    def test_loading_a_fixture_stores_the_status_of_its_updates(self):
        call_command("loaddata", "seed", verbosity=0)
        statuses = dict(Commitment.objects.values_list("slug", "current_status"))
        assert statuses["visa-free-travel-brazil-argentina-peru-chile-uruguay"] == "kept"
        assert statuses["china-celac-joint-action-plan-2025-2027"] == "in_the_works"
        assert set(statuses.values()) == {"kept", "in_the_works", "not_yet_rated"}

    def test_a_fixture_stores_every_status_in_one_update_after_its_last_record(
        self, tmp_path, django_assert_num_queries
    ):
        commitments = CommitmentFactory.create_batch(3)
        for commitment, status in zip(commitments, ["kept", "stalled", "broken"], strict=True):
            StatusUpdateFactory(commitment=commitment, date=datetime.date(2025, 1, 1))
            StatusUpdateFactory(
                commitment=commitment, date=datetime.date(2025, 6, 1), status=status
            )
        fixture = tmp_path / "statuses.json"
        fixture.write_text(
            serializers.serialize("json", [*commitments, *StatusUpdate.objects.all()])
        )
        Commitment.objects.update(current_status="not_yet_rated")

        with CaptureQueriesContext(connection) as loading:
            call_command("loaddata", fixture, verbosity=0)

        assert [stored_status(each) for each in commitments] == ["kept", "stalled", "broken"]
        # The status read from the latest update, as refresh_current_status writes it.
        status_refreshes = [
            query["sql"] for query in loading.captured_queries if "COALESCE" in query["sql"]
        ]
        assert len(status_refreshes) == 1

    def test_a_fixture_that_fails_to_load_stores_no_status(self, tmp_path):
        commitment = CommitmentFactory()
        update = StatusUpdateFactory(commitment=commitment, status="kept")
        records = json.loads(serializers.serialize("json", [update]))
        broken = {**records[0], "pk": None, "fields": {**records[0]["fields"], "date": "never"}}
        fixture = tmp_path / "broken.json"
        fixture.write_text(json.dumps([records[0], broken]))
        Commitment.objects.update(current_status="not_yet_rated")

        with pytest.raises(Exception, match="never"):
            call_command("loaddata", fixture, verbosity=0)

        assert stored_status(commitment) == "not_yet_rated"

    def test_reloading_a_commitment_without_its_updates_keeps_their_status(self, tmp_path):
        commitment = CommitmentFactory()
        fixture = tmp_path / "commitment.json"
        fixture.write_text(serializers.serialize("json", [commitment]))
        StatusUpdateFactory(commitment=commitment, status="kept")
        call_command("loaddata", fixture, verbosity=0)
        assert stored_status(commitment) == "kept"

    def test_a_revert_from_history_takes_the_status_of_the_updates_it_leaves(self):
        commitment = CommitmentFactory()
        StatusUpdateFactory(commitment=commitment, status="in_the_works")
        with reversion.create_revision():
            commitment.save()
        StatusUpdateFactory(commitment=commitment, date=datetime.date(2026, 1, 1), status="kept")
        first_revision = Version.objects.get_for_object(commitment).get().revision

        first_revision.revert()
        assert stored_status(commitment) == "kept"
        first_revision.revert(delete=True)
        assert stored_status(commitment) == "in_the_works"

    def test_filter_by_status(self):
        kept, stalled, unrated = CommitmentFactory(), CommitmentFactory(), CommitmentFactory()
        StatusUpdateFactory(commitment=kept, status="kept")
        StatusUpdateFactory(commitment=stalled, status="stalled")
        assert list(Commitment.objects.with_status("kept")) == [kept]
        assert list(Commitment.objects.with_status("not_yet_rated")) == [unrated]

    def test_a_status_update_needs_a_source(self):
        update = StatusUpdateFactory.build(commitment=CommitmentFactory(), source_url="")
        with pytest.raises(ValidationError):
            update.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            update.save()


class TestActiveInYear:
    def test_a_period_covers_every_year_it_spans(self):
        plan = CommitmentFactory(
            period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2027, 1, 1)
        )
        assert plan in Commitment.objects.active_in_year(2026)
        assert plan not in Commitment.objects.active_in_year(2028)
        assert plan not in Commitment.objects.active_in_year(2024)

    def test_an_open_ended_period_covers_later_years(self):
        visa = CommitmentFactory(period_start=datetime.date(2025, 6, 1))
        assert visa in Commitment.objects.active_in_year(2030)
        assert visa not in Commitment.objects.active_in_year(2024)

    def test_without_a_period_the_year_it_was_stated_counts(self):
        quote = SourceQuoteFactory(article__publication_date=datetime.date(2025, 11, 5))
        assert list(Commitment.objects.active_in_year(2025)) == [quote.commitment]
        assert not Commitment.objects.active_in_year(2026).exists()


class TestQuotes:
    def test_a_verbatim_quote_is_accepted(self):
        quote = SourceQuoteFactory.build(
            commitment=CommitmentFactory(), article=ArticleFactory(), text="Second paragraph."
        )
        quote.full_clean()

    def test_a_quote_not_in_the_article_is_refused(self):
        quote = SourceQuoteFactory.build(
            commitment=CommitmentFactory(), article=ArticleFactory(), text="A made-up pledge."
        )
        with pytest.raises(ValidationError) as caught:
            quote.full_clean()
        assert "not found verbatim" in str(caught.value.message_dict["text"])

    def test_a_quote_with_straightened_quotation_marks_gets_a_precise_message(self):
        article = ArticleFactory(body="China’s pledge – in full.")
        quote = SourceQuote(commitment=CommitmentFactory(), article=article, text="China's pledge")
        with pytest.raises(ValidationError) as caught:
            quote.full_clean()
        assert "quotation marks" in str(caught.value.message_dict["text"])

    def test_an_empty_quote_is_refused_by_the_database(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            SourceQuoteFactory(text="")

    def test_a_named_record_quote_must_be_in_its_article(self):
        person = PersonFactory.build(source_article=ArticleFactory(), source_quote="Invented.")
        assert "source_quote" in error_fields(person)

    def test_a_named_record_quote_needs_its_article(self):
        person = PersonFactory.build(source_quote="Second paragraph.")
        assert "source_article" in error_fields(person)


class TestArticle:
    def test_paragraphs_are_kept(self):
        article = ArticleFactory.build(body="One.\n\nTwo.\n   \nThree.")
        assert article.paragraphs == ["One.", "Two.", "Three."]

    def test_lead_is_the_summary_or_the_first_paragraph(self):
        assert ArticleFactory.build(body="One.\n\nTwo.").lead == "One."
        assert ArticleFactory.build(summary="Short.").lead == "Short."

    def test_a_lead_image_needs_alt_text(self):
        article = ArticleFactory.build(image=image_upload())
        assert "image_alt" in error_fields(article)
        with pytest.raises(IntegrityError), transaction.atomic():
            article.save()


class TestCountry:
    @pytest.mark.parametrize("code", ["XX", "br", "BRA"])
    def test_iso_code_is_validated(self, code):
        country = Country(name="Somewhere", slug="somewhere", iso_code=code, region="caribbean")
        assert "iso_code" in error_fields(country)

    def test_latin_america_membership_follows_the_region(self):
        assert CountryFactory.build(region="caribbean").is_in_latin_america_and_caribbean
        assert not CountryFactory.build(region="eastern_asia").is_in_latin_america_and_caribbean


def test_deleting_an_article_that_backs_a_commitment_is_refused():
    quote = SourceQuoteFactory()
    with pytest.raises(ProtectedError):
        quote.article.delete()
    assert Article.objects.filter(pk=quote.article_id).exists()


def test_headline_figures_put_money_first_then_people_then_projects():
    CommitmentFactory(title="A plan", kind="project_portfolio", target_value=100, target_unit="p")
    CommitmentFactory(title="B grants", kind="scholarships", target_value=5, target_unit="s")
    CommitmentFactory(title="C credit", kind="credit_line", amount=10, currency="CNY")
    CommitmentFactory(title="D declaration", kind="declaration")
    titles = [c.title for c in Commitment.objects.headline_figures()]
    assert titles == ["C credit", "B grants", "A plan"]


class TestSorting:
    @pytest.fixture
    def commitments(self):
        early = CommitmentFactory(title="B early", period_end=datetime.date(2026, 1, 1))
        late = CommitmentFactory(title="A late", period_end=datetime.date(2030, 1, 1))
        open_ended = CommitmentFactory(title="C open")
        StatusUpdateFactory(commitment=late, status="kept")
        StatusUpdateFactory(commitment=early, status="in_the_works")
        return early, late, open_ended

    @pytest.mark.parametrize(
        ("key", "expected"),
        [
            ("title", ["A late", "B early", "C open"]),
            ("deadline", ["B early", "A late", "C open"]),
            ("status", ["C open", "B early", "A late"]),
        ],
    )
    def test_commitments_sort_by_the_chosen_key(self, commitments, key, expected):
        assert [c.title for c in Commitment.objects.sorted_by(key)] == expected

    def test_recently_updated_comes_first(self, commitments):
        early, _late, _open = commitments
        early.description = "Touched"
        early.save()
        assert Commitment.objects.sorted_by("recent").first() == early


# Addresses of record pages


def test_a_record_address_follows_the_language_the_path_prefix_and_the_slug():
    country = CountryFactory(slug="brazil")

    with translation.override("en"):
        assert country.get_absolute_url() == "/en/countries/brazil/"
    with translation.override("es"):
        assert country.get_absolute_url() == "/es/countries/brazil/"
        set_script_prefix("/puente/")
        try:
            assert country.get_absolute_url() == "/puente/es/countries/brazil/"
        finally:
            clear_script_prefix()
        assert country.get_absolute_url() == "/es/countries/brazil/"
        country.slug = "brasil"
        assert country.get_absolute_url() == "/es/countries/brasil/"


def test_a_record_address_follows_a_new_urlconf():
    country = CountryFactory(slug="brazil")

    with translation.override("en"):
        assert country.get_absolute_url() == "/en/countries/brazil/"
        with override_settings(ROOT_URLCONF="tests.urls_moved"):
            assert country.get_absolute_url() == "/elsewhere/brazil/"
        assert country.get_absolute_url() == "/en/countries/brazil/"
