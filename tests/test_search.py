import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from policy.models import PublicationStatus
from policy.search import MAX_QUERY_LENGTH, RESULTS_PER_GROUP, Query
from tests.factories import (
    ArticleFactory,
    CommitmentFactory,
    CountryFactory,
    FocusAreaFactory,
    SourceQuoteFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationStatus.DRAFT
SEARCH_URL = reverse("policy:search")


def search(client, query):
    return client.get(SEARCH_URL, {"q": query})


def found(response):
    """The titles of the records found, by group, as the page lists them."""
    return {
        group.key: [str(hit.record) for hit in group.hits]
        for group in response.context["results"].groups
        if group.hits
    }


# The seed content


def test_search_finds_the_seed_credit_line_by_its_amount(client, seed):
    response = search(client, "66 billion")

    assert "66 billion yuan credit line for regional development" in found(response)["commitment"]


def test_search_finds_the_seed_article_by_a_word_of_its_body(client, seed):
    response = search(client, "Chancay")

    assert found(response)["article"] == [
        "Wang Huiyao: China and Latin America: Partners in a shared new era"
    ]
    assert "<mark>Chancay</mark> Megaport" in response.text


def test_search_finds_a_seed_focus_area_by_its_description(client, seed):
    response = search(client, "hydrogen")

    assert found(response)["focusarea"] == ["The green transition"]


def test_search_finds_a_country_by_its_name(client):
    CountryFactory(name="Uruguay", iso_code="UY")

    assert found(search(client, "uruguay")) == {"country": ["Uruguay"]}


def test_search_finds_a_commitment_by_the_words_of_its_quote(client):
    article = ArticleFactory(body="The bank opens a window for zinc mining.")
    SourceQuoteFactory(
        article=article,
        commitment=CommitmentFactory(title="Mining window"),
        text="The bank opens a window for zinc mining.",
    )

    response = search(client, "zinc")

    assert found(response)["commitment"] == ["Mining window"]
    assert "for <mark>zinc</mark> mining." in response.text


# Matching and marking


def test_every_term_must_match(client):
    CommitmentFactory(title="Solar park", description="Built in Chile.")
    CommitmentFactory(title="Solar farm", description="Built in Peru.")

    response = search(client, "solar chile")

    assert found(response) == {"commitment": ["Solar park"]}


def test_terms_may_match_in_different_fields_and_in_any_case(client):
    CommitmentFactory(title="SOLAR park", description="Built in chile.")

    assert found(search(client, "Solar CHILE")) == {"commitment": ["SOLAR park"]}


def test_matched_terms_are_marked_in_titles_and_snippets_and_the_rest_is_escaped(client):
    CommitmentFactory(
        title="Solar <b>pledge</b>", description="A <script>alert(1)</script> solar plan."
    )

    page = search(client, "solar").text

    assert "<mark>Solar</mark> &lt;b&gt;pledge&lt;/b&gt;" in page
    assert "A &lt;script&gt;alert(1)&lt;/script&gt; <mark>solar</mark> plan." in page
    assert "<script>alert" not in page
    assert "<b>pledge" not in page


def test_snippet_is_the_passage_around_the_match_cut_between_words(client):
    filler = "word " * 200
    ArticleFactory(title="Long read", body=f"{filler}The Chancay port opens. {filler}")

    [hit] = search(client, "chancay").context["results"].groups[1].hits

    assert hit.snippet.startswith("…word ")
    assert hit.snippet.endswith("word…")
    assert "The <mark>Chancay</mark> port opens." in hit.snippet
    assert len(hit.snippet) < 300


def test_results_are_grouped_by_kind_with_counts(client):
    CommitmentFactory.create_batch(2, title="Energy pledge")
    ArticleFactory(title="Energy report")
    FocusAreaFactory(name="Energy")

    response = search(client, "energy")

    assert [(group.key, group.count) for group in response.context["results"].groups] == [
        ("commitment", 2),
        ("article", 1),
        ("focusarea", 1),
        ("country", 0),
    ]
    assert "4 results for “energy”" in response.text
    assert 'href="#commitment-results">Commitments (2)</a>' in response.text
    assert '<h3 id="focusarea-results-heading">Focus areas (1)</h3>' in response.text


def test_each_group_shows_a_limited_number_and_says_how_many_match(client):
    CommitmentFactory.create_batch(RESULTS_PER_GROUP + 2, title="Energy pledge")

    response = search(client, "energy")

    assert len(found(response)["commitment"]) == RESULTS_PER_GROUP
    assert f"The first {RESULTS_PER_GROUP} of {RESULTS_PER_GROUP + 2} are shown." in (response.text)


def test_a_search_without_matches_says_so(client):
    CommitmentFactory(title="Solar park")

    response = search(client, "geothermal")

    assert "0 results for “geothermal”" in response.text
    assert "Nothing matches every word." in response.text


# What the public never sees


@pytest.mark.parametrize(
    "unpublished",
    [
        {"publication_status": DRAFT},
        {"publish_at": timezone.now() + datetime.timedelta(days=1)},
        {"unpublish_at": timezone.now() - datetime.timedelta(days=1)},
    ],
    ids=["draft", "scheduled", "expired"],
)
def test_unpublished_records_are_never_found_by_the_public(client, unpublished):
    CommitmentFactory(title="Zebra pledge")
    CommitmentFactory(title="Zebra secret pledge", **unpublished)
    ArticleFactory(title="Zebra secret article", **unpublished)
    FocusAreaFactory(name="Zebra secret area", **unpublished)

    response = search(client, "zebra")

    assert found(response) == {"commitment": ["Zebra pledge"]}
    assert "secret" not in response.text.lower()


def test_a_quote_from_an_unpublished_article_neither_finds_nor_shows_its_commitment(client):
    draft = ArticleFactory(body="A xylophone factory.", publication_status=DRAFT)
    SourceQuoteFactory(article=draft, text="A xylophone factory.")

    response = search(client, "xylophone")

    assert found(response) == {}
    assert "xylophone factory" not in response.text


def test_staff_previewing_find_drafts_marked_as_such(editor_client):
    editor_client.post(reverse("policy:preview"), {"preview": "on", "next": "/"})
    CommitmentFactory(title="Zebra pledge", publication_status=DRAFT)

    response = search(editor_client, "zebra")

    assert found(response) == {"commitment": ["Zebra pledge"]}
    assert '<span class="publication-state">Draft</span>' in response.text


# Queries that find nothing to search for


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type a word or a figure to search the whole tracker."),
        ("   ", "Type a word or a figure to search the whole tracker."),
        ("a", "Search for a word of at least two letters or digits."),
        ("%_'\"<>", "Search for a word of at least two letters or digits."),
        ("%", "Search for a word of at least two letters or digits."),
    ],
)
def test_a_query_without_words_to_search_explains_itself(client, query, message):
    CommitmentFactory(title="Anything at all")

    response = search(client, query)

    assert response.status_code == 200
    assert message in response.text
    assert found(response) == {}


def test_the_search_page_opens_without_a_query(client):
    response = client.get(SEARCH_URL)

    assert response.status_code == 200
    assert "Type a word or a figure to search the whole tracker." in response.text


def test_a_very_long_query_is_shortened_with_a_notice(client):
    response = search(client, "pledge " * 150)

    assert response.status_code == 200
    assert (
        f"Your search was too long: only its first {MAX_QUERY_LENGTH} characters were used."
        in response.text
    )
    assert response.context["query"].text == ("pledge " * 150)[:MAX_QUERY_LENGTH].strip()


def test_a_thousand_character_word_gives_a_page_that_explains_itself(client):
    response = search(client, "x" * 1000)

    assert response.status_code == 200
    assert "only its first 200 characters were used" in response.text
    assert "0 results" in response.text


def test_only_the_first_words_of_a_wordy_query_are_used(client):
    query = Query.parse(" ".join(f"word{number}" for number in range(20)))

    assert query.terms == tuple(f"word{number}" for number in range(8))
    assert query.notice == "Only the first 8 words of your search were used."


def test_special_characters_are_neither_wildcards_nor_markup(client):
    CommitmentFactory(title="Fifty percent")
    CommitmentFactory(title="Rate of 50% on 10_000 units")

    response = search(client, "50% <b>10_000</b>")

    assert found(response) == {"commitment": ["Rate of 50% on 10_000 units"]}
    assert 'value="50% &lt;b&gt;10_000&lt;/b&gt;"' in response.text
    assert "<b>10_000</b>" not in response.text


def test_quotes_in_the_query_are_harmless(client):
    CommitmentFactory(title="China's pledge")

    response = search(client, "China's \"pledge\" ' OR 1=1 --")

    assert response.status_code == 200
    assert found(response) == {}


# The search form


def test_every_page_has_a_labelled_search_form_that_works_without_javascript(client):
    page = client.get(reverse("policy:home")).text

    assert f'<form class="site-search" method="get" action="{SEARCH_URL}" role="search">' in page
    assert '<label class="visually-hidden" for="site-search-query">' in page
    assert '<input type="search" id="site-search-query" name="q">' in page


def test_the_search_page_keeps_the_query_in_its_labelled_field(client):
    page = search(client, "solar chile").text

    assert '<label for="search-query">' in page
    assert 'id="search-query" name="q" value="solar chile"' in page
    assert '<meta name="robots" content="noindex">' in page


# Query counts

# ATOMIC_REQUESTS adds two statements; then a count and a page of each of the four groups, and
# the quotes of the commitments found.
SEARCH_QUERIES = 2 + 4 * 2 + 1


def fill_matches(count):
    for number in range(count):
        commitment = CommitmentFactory(title=f"Energy pledge {number}")
        SourceQuoteFactory(commitment=commitment)
        ArticleFactory(title=f"Energy report {number}")
        FocusAreaFactory(name=f"Energy area {number}")
        CountryFactory(name=f"Energyland {number}", iso_code=f"Z{chr(ord('A') + number)}")


@pytest.mark.parametrize("rows", [3, 30])
def test_search_query_count_does_not_grow_with_the_matches(client, django_assert_num_queries, rows):
    fill_matches(rows)

    with django_assert_num_queries(SEARCH_QUERIES):
        response = search(client, "energy")

    assert response.context["results"].total == 4 * rows
