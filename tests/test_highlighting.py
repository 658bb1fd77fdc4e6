import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policy.highlighting import mark_terms, paragraph_spans, render_quoted_paragraphs
from policy.models import Article, PublicationStatus, SourceQuote
from tests.factories import ArticleFactory, CommitmentFactory, SourceQuoteFactory

pytestmark = pytest.mark.django_db

DRAFT = PublicationStatus.DRAFT

MARK = re.compile(
    r'<mark(?P<attributes>[^>]*)>(?P<inside>.*?)</mark><sup class="quote-references">'
    r"(?P<references>.*?)</sup>",
    re.DOTALL,
)


def marks(page):
    """Each marked passage of a page: its text, the anchors it holds, the links after it."""
    return [
        {
            "text": html.unescape(re.sub(r"<[^>]+>", "", match["inside"])),
            "anchors": re.findall(r'id="([^"]+)"', match["attributes"] + match["inside"]),
            "links": re.findall(r'href="([^"]+)"', match["references"]),
            "html": match[0],
        }
        for match in MARK.finditer(page)
    ]


def article_with_quotes(body, *quotes):
    """A published article and, for each (text, commitment) given, a quote of it."""
    article = ArticleFactory(body=body)
    return article, [
        SourceQuoteFactory(article=article, text=text, commitment=commitment)
        for text, commitment in quotes
    ]


# The seed article


def test_seed_article_highlights_each_quoted_sentence_once_linked_to_its_commitments(client, seed):
    article = Article.objects.get()
    quotes = SourceQuote.objects.filter(article=article).select_related("commitment")

    found = marks(client.get(article.get_absolute_url()).text)

    assert len(found) == len({quote.text for quote in quotes})
    for quote in quotes:
        [mark] = [mark for mark in found if mark["text"] == quote.text]
        assert f"quote-{quote.pk}" in mark["anchors"]
        assert quote.commitment.get_absolute_url() in mark["links"]


def test_seed_article_gives_every_quote_exactly_one_anchor(client, seed):
    article = Article.objects.get()

    page = client.get(article.get_absolute_url()).text

    for quote in SourceQuote.objects.filter(article=article):
        assert page.count(f'id="quote-{quote.pk}"') == 1


# Overlaps and edges


def test_overlapping_quotes_make_one_mark_that_links_every_commitment(client):
    first, second = CommitmentFactory(title="A first"), CommitmentFactory(title="B second")
    article, (quote_a, quote_b) = article_with_quotes(
        "Alpha beta gamma delta. Epsilon zeta.",
        ("Alpha beta gamma", first),
        ("gamma delta.", second),
    )

    [mark] = marks(client.get(article.get_absolute_url()).text)

    assert mark["text"] == "Alpha beta gamma delta."
    assert mark["anchors"] == [f"quote-{quote_a.pk}", f"quote-{quote_b.pk}"]
    assert mark["links"] == [first.get_absolute_url(), second.get_absolute_url()]


def test_two_quotes_of_one_sentence_for_one_commitment_link_it_once(client):
    commitment = CommitmentFactory()
    sentence = "First paragraph with a pledge of 500 scholarships."
    article, _quotes = article_with_quotes(
        f"{sentence}\n\nSecond paragraph.", (sentence, commitment), (sentence, commitment)
    )

    [mark] = marks(client.get(article.get_absolute_url()).text)

    assert len(mark["anchors"]) == 2
    assert mark["links"] == [commitment.get_absolute_url()]


def test_reference_numbers_follow_the_list_of_commitments_below_the_article(client):
    later, earlier = CommitmentFactory(title="Zinc mine"), CommitmentFactory(title="Airport")
    article, _quotes = article_with_quotes(
        "The mine opens. The airport follows.",
        ("The mine opens.", later),
        ("The airport follows.", earlier),
    )

    response = client.get(article.get_absolute_url())
    mine, airport = marks(response.text)

    assert response.context["article"].visible_commitments == [earlier, later]
    assert "Commitment </span>2</a>" in mine["html"]
    assert "Commitment </span>1</a>" in airport["html"]
    assert '<ol class="stack references">' in response.text


def test_quote_across_a_paragraph_break_is_marked_in_each_paragraph_with_one_anchor():
    commitment = CommitmentFactory()
    body = "One two.\n\nThree four."
    quote = SourceQuote(pk=7, text="two.\n\nThree", commitment=commitment)

    paragraphs = render_quoted_paragraphs(body, [quote], [commitment])

    assert paragraphs[0].startswith('One <mark id="quote-7">two.</mark>')
    assert paragraphs[1].startswith("<mark>Three</mark>")
    assert paragraphs[1].endswith(" four.")


def test_quote_missing_from_the_body_is_left_out_without_failing(client):
    article, _quotes = article_with_quotes(
        "Nothing quoted here.", ("A sentence the body lacks.", CommitmentFactory())
    )

    response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert marks(response.text) == []


def test_paragraph_spans_cut_the_body_as_the_article_paragraphs_do():
    body = "  First line\nstill first.\n\n\n  Second.  \n \n\nThird\n"

    assert [body[start:end] for start, end in paragraph_spans(body)] == ArticleFactory.build(
        body=body
    ).paragraphs


# Drafts and preview


def test_quote_of_a_draft_commitment_is_not_highlighted_for_the_public(client):
    draft = CommitmentFactory(title="Secret pledge", publication_status=DRAFT)
    article, (quote,) = article_with_quotes(
        "A public sentence. A sentence of a draft.", ("A sentence of a draft.", draft)
    )

    response = client.get(article.get_absolute_url())

    assert marks(response.text) == []
    assert f"quote-{quote.pk}" not in response.text
    assert draft.get_absolute_url() not in response.text


def test_quote_of_a_draft_commitment_is_highlighted_and_marked_in_preview(
    editor_client, django_user_model
):
    editor_client.post("/en/preview/", {"preview": "on", "next": "/"})
    draft = CommitmentFactory(title="Secret pledge", publication_status=DRAFT)
    article, _quotes = article_with_quotes(
        "A public sentence. A sentence of a draft.", ("A sentence of a draft.", draft)
    )

    [mark] = marks(editor_client.get(article.get_absolute_url()).text)

    assert mark["links"] == [draft.get_absolute_url()]
    assert 'class="quote-mark--unpublished"' in mark["html"]
    assert '<span class="publication-state">Draft</span>' in mark["html"]


def test_staff_opening_a_draft_article_see_its_quotes_of_published_commitments(editor_client):
    commitment = CommitmentFactory()
    article, _quotes = article_with_quotes(
        "A quoted sentence. Another one.", ("A quoted sentence.", commitment)
    )
    article.publication_status = DRAFT
    article.save()

    [mark] = marks(editor_client.get(article.get_absolute_url()).text)

    assert mark["links"] == [commitment.get_absolute_url()]


# Escaping


def test_html_in_the_body_shows_as_text_inside_and_outside_the_marks(client):
    article, _quotes = article_with_quotes(
        "<script>alert('x')</script> It pledges <b>500</b> grants & more.",
        ("It pledges <b>500</b> grants & more.", CommitmentFactory()),
    )

    page = client.get(article.get_absolute_url()).text

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<b>500</b>" not in page
    [mark] = marks(page)
    assert "It pledges &lt;b&gt;500&lt;/b&gt; grants &amp; more." in mark["html"]


def test_marked_terms_ignore_case_and_accents_and_are_escaped():
    assert mark_terms("SÃO Paulo <i>sao</i>", ["sao"]) == (
        "<mark>SÃO</mark> Paulo &lt;i&gt;<mark>sao</mark>&lt;/i&gt;"
    )


# The commitment page links back


def test_commitment_page_links_each_quote_to_its_sentence_in_the_article(client):
    quote = SourceQuoteFactory()

    response = client.get(quote.commitment.get_absolute_url())

    assert f'href="{quote.article.get_absolute_url()}#quote-{quote.pk}">Read in context</a>' in (
        response.text
    )


# Query counts


@pytest.mark.parametrize("rows", [3, 30])
def test_article_page_query_count_does_not_grow_with_its_quotes(client, rows):
    def fill(article, count):
        for _ in range(count):
            SourceQuoteFactory(article=article)

    article = ArticleFactory()
    fill(article, 1)
    with CaptureQueriesContext(connection) as one:
        client.get(article.get_absolute_url())
    fill(article, rows)
    with CaptureQueriesContext(connection) as many:
        client.get(article.get_absolute_url())

    assert len(many) == len(one)
