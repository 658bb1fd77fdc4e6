"""What a commitment reads as, field for field: CommitmentSerializer writes it out by hand, from
rows of its relations, so every field and format is pinned here, for each kind of reader."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from policy.models import (
    CommitmentStatus,
    DatePrecision,
    FigureQualifier,
    PublicationStatus,
)

from .factories import (
    ActorFactory,
    ArticleFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationStatus.DRAFT
UTC = datetime.UTC


@pytest.fixture
def commitment():
    """A published commitment with every field and relation, some of them drafts."""
    commitment = CommitmentFactory(
        title="Scholarships and a credit line",
        slug="full",
        description="More than 3,500 scholarships.",
        announced_at=EventFactory(name="Summit in Lima", slug="lima-summit"),
        part_of=CommitmentFactory(slug="plan", publication_status=DRAFT),
        target_value=Decimal("3500"),
        target_unit="scholarships",
        target_qualifier=FigureQualifier.MORE_THAN,
        amount=Decimal("66000000000.50"),
        currency="CNY",
        usd_equivalent=Decimal("9100000000"),
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2027, 6, 30),
        period_end_precision=DatePrecision.MONTH,
        publish_at=datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        unpublish_at=datetime.datetime(2099, 1, 1, tzinfo=UTC),
    )
    commitment.parties.add(
        ActorFactory(name="Government of Peru", slug="peru"),
        ActorFactory(name="China Development Bank", slug="cdb"),
    )
    commitment.countries.add(
        CountryFactory(iso_code="PE", name="Peru", slug="peru"),
        CountryFactory(iso_code="BR", name="Brazil", slug="brazil"),
    )
    commitment.focus_areas.add(
        FocusAreaFactory(name="Education", slug="education"),
        FocusAreaFactory(name="Secret", slug="secret", publication_status=DRAFT),
    )
    source = ArticleFactory(slug="source")
    draft_source = ArticleFactory(slug="draft-source", publication_status=DRAFT)
    SourceQuoteFactory(commitment=commitment, article=source)
    SourceQuoteFactory(commitment=commitment, article=draft_source, text="Unpublished.", order=1)
    StatusUpdateFactory(commitment=commitment, source_article=source, source_quote="Begun.")
    StatusUpdateFactory(
        commitment=commitment,
        date=datetime.date(2026, 2, 1),
        status=CommitmentStatus.STALLED,
        note="Paused.",
        source_article=draft_source,
        source_quote="A draft's words.",
    )
    StatusUpdateFactory(
        commitment=commitment,
        date=datetime.date(2026, 3, 1),
        status=CommitmentStatus.KEPT,
        note="Done.",
        source_quote="Without an article.",
    )
    commitment.refresh_from_db()
    return commitment


def public_representation(commitment):
    return {
        "title": "Scholarships and a credit line",
        "slug": "full",
        "url": "http://testserver/api/v1/commitments/full/",
        "html_url": f"http://testserver{commitment.get_absolute_url()}",
        "description": "More than 3,500 scholarships.",
        "kind": "scholarships",
        "status": "kept",
        "figures": {
            "target": {"value": "3500.00", "unit": "scholarships", "qualifier": "more_than"},
            "amount": {
                "value": "66000000000.50",
                "currency": "CNY",
                "usd_equivalent": "9100000000.00",
            },
            "period": {
                "start": "2025-01-01",
                "start_precision": "year",
                "end": "2027-06-30",
                "end_precision": "month",
                "display": "2025–June 2027",
            },
        },
        "geographic_scope": "countries",
        "parties": [
            {"name": "China Development Bank", "slug": "cdb"},
            {"name": "Government of Peru", "slug": "peru"},
        ],
        "countries": [
            {"iso_code": "BR", "name": "Brazil", "slug": "brazil"},
            {"iso_code": "PE", "name": "Peru", "slug": "peru"},
        ],
        "focus_areas": [{"slug": "education", "name": "Education"}],
        "announced_at": {"name": "Summit in Lima", "slug": "lima-summit"},
        "part_of": None,
        "quotes": [
            {"article": "source", "text": "First paragraph with a pledge of 500 scholarships."}
        ],
        "status_history": [
            {
                "date": "2025-11-05",
                "status": "in_the_works",
                "note": "Work has begun.",
                "source_article": "source",
                "source_url": "https://example.org/report",
                "source_quote": "Begun.",
            },
            {
                "date": "2026-02-01",
                "status": "stalled",
                "note": "Paused.",
                "source_article": None,
                "source_url": "https://example.org/report",
                "source_quote": "",
            },
            {
                "date": "2026-03-01",
                "status": "kept",
                "note": "Done.",
                "source_article": None,
                "source_url": "https://example.org/report",
                "source_quote": "",
            },
        ],
        "updated_at": commitment.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_commitment_reads_with_its_figures_relations_and_history(client, commitment):
    data = client.get("/api/v1/commitments/full/").json()

    assert data == public_representation(commitment)


def test_editor_reads_the_workflow_fields_but_no_drafts_unless_asked(editor_client, commitment):
    data = editor_client.get("/api/v1/commitments/full/").json()

    assert data == {
        **public_representation(commitment),
        "publication_status": "published",
        "publish_at": "2025-01-02T03:04:05.123456Z",
        "unpublish_at": "2099-01-01T00:00:00Z",
        "version": commitment.version,
    }


def test_editor_asking_for_drafts_reads_the_draft_relations(editor_client, commitment):
    data = editor_client.get("/api/v1/commitments/full/", {"include_unpublished": "true"}).json()

    assert data["part_of"] == "plan"
    assert data["focus_areas"] == [
        {"slug": "education", "name": "Education"},
        {"slug": "secret", "name": "Secret"},
    ]
    assert data["quotes"][1] == {"article": "draft-source", "text": "Unpublished."}
    assert data["status_history"][1]["source_article"] == "draft-source"
    assert data["status_history"][1]["source_quote"] == "A draft's words."
    assert data["status_history"][2]["source_quote"] == ""


def csv_rows(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


@pytest.mark.parametrize("reader", ["client", "editor_client"])
@pytest.mark.parametrize("drafts", [{}, {"include_unpublished": "true"}])
def test_list_entries_and_csv_rows_read_as_the_detail(request, commitment, reader, drafts):
    client = request.getfixturevalue(reader)
    detail = client.get("/api/v1/commitments/full/", drafts).json()
    [csv_detail] = csv_rows(client.get("/api/v1/commitments/full/", {**drafts, "format": "csv"}))

    listed = client.get("/api/v1/commitments/", drafts).json()["results"]
    exported = csv_rows(client.get("/api/v1/commitments/", {**drafts, "format": "csv"}))

    assert [entry for entry in listed if entry["slug"] == "full"] == [detail]
    assert [row for row in exported if row["slug"] == "full"] == [csv_detail]
