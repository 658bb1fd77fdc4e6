"""The seed states nothing its source does not: every quote is verbatim, every figure is quoted."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from policy.importing import decode, parse_article
from policy.models import (
    Actor,
    Article,
    Commitment,
    Event,
    FocusArea,
    Person,
    Project,
    SourceQuote,
    StatusUpdate,
)

SOURCE_FILE = Path(settings.BASE_DIR) / "fixtures" / "sources" / "000_f211d30f5c747425.txt"
SEED_FILE = Path(settings.BASE_DIR) / "fixtures" / "seed.json"
SCALES = {10**12: "trillion", 10**9: "billion", 10**6: "million"}

pytestmark = pytest.mark.usefixtures("seed")


def spellings(value):
    """The ways an article may write a figure: 3500, 3,500, 66 billion, 9.23 billion."""
    value = value.normalize()
    forms = {f"{value:f}", f"{value:,f}"}
    for scale, word in SCALES.items():
        if value >= scale:
            forms.add(f"{(value / scale).normalize():f} {word}")
    return forms


def quoted_text(commitment):
    return " ".join(quote.text for quote in commitment.quotes.all())


def test_the_seed_article_body_is_the_shipped_source_text():
    parsed = parse_article(decode(SOURCE_FILE.read_bytes()))
    article = Article.objects.get()
    assert article.body == parsed.body
    assert len(article.paragraphs) == 18


def test_every_source_quote_is_a_verbatim_part_of_its_article():
    quotes = SourceQuote.objects.select_related("article")
    assert quotes.count() >= 8
    for quote in quotes:
        assert quote.text in quote.article.body, quote.text


@pytest.mark.parametrize("model", [Actor, Person, Event, FocusArea, Project])
def test_every_named_record_quotes_its_article_verbatim(model):
    records = model.objects.exclude(source_quote="")
    assert records.exists()
    for record in records:
        assert record.source_quote in record.source_article.body, record


def test_every_status_update_quotes_its_source_verbatim():
    updates = StatusUpdate.objects.all()
    assert updates.exists()
    for update in updates:
        assert update.source_quote in update.source_article.body, update


def test_every_commitment_is_backed_by_at_least_one_quote():
    assert Commitment.objects.filter(quotes__isnull=True).count() == 0


def test_every_figure_of_a_commitment_appears_in_its_quotes():
    for commitment in Commitment.objects.all():
        text = quoted_text(commitment)
        for field in ("target_value", "amount", "usd_equivalent"):
            value = getattr(commitment, field)
            if value is not None:
                assert any(form in text for form in spellings(value)), (commitment.slug, field)
        for field in ("period_start", "period_end"):
            value = getattr(commitment, field)
            if value is not None:
                assert str(value.year) in text, (commitment.slug, field)


def test_every_target_unit_is_the_articles_own_wording():
    for commitment in Commitment.objects.exclude(target_unit=""):
        assert commitment.target_unit in quoted_text(commitment), commitment.slug


def test_focus_areas_are_the_five_the_article_names_in_its_order():
    article = Article.objects.get()
    assert "six areas deserve immediate focus" in article.body
    names = list(FocusArea.objects.values_list("name", flat=True))
    assert len(names) == 5
    body = article.body.lower()
    positions = [body.index(f"{name.lower()}:") for name in names]
    assert positions == sorted(positions)


def test_money_is_stored_exactly_in_the_fixture_file():
    credit_line = next(
        record
        for record in json.loads(SEED_FILE.read_text())
        if record["model"] == "policy.commitment" and record["fields"]["kind"] == "credit_line"
    )
    assert credit_line["fields"]["amount"] == "66000000000.00"
    assert credit_line["fields"]["currency"] == "CNY"
    assert credit_line["fields"]["usd_equivalent"] == "9230000000.00"
    assert Commitment.objects.get(kind="credit_line").amount == Decimal("66000000000")


def test_the_seed_holds_every_commitment_the_article_reports():
    kinds = set(Commitment.objects.values_list("kind", flat=True))
    assert {
        "project_portfolio",
        "credit_line",
        "visa_policy",
        "scholarships",
        "training",
        "exchanges",
        "trade_policy",
    } <= kinds
    visa = Commitment.objects.get(kind="visa_policy")
    assert sorted(visa.countries.values_list("iso_code", flat=True)) == [
        "AR",
        "BR",
        "CL",
        "PE",
        "UY",
    ]


def test_no_fixture_text_contains_a_placeholder():
    assert not re.search(r"lorem|TODO|TBD|example\.(com|org)", SEED_FILE.read_text(), re.I)
