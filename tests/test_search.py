import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from policy.models import (
    Article,
    Commitment,
    ContentLanguage,
    Country,
    FocusArea,
    PublicationStatus,
    SourceQuote,
)
from policy.search import (
    ARTICLE,
    MAX_QUERY_LENGTH,
    RESULTS_PER_GROUP,
    TEXT_SEARCH_CONFIGS,
    UNSTEMMED,
    Query,
)
from tests.factories import (
    ArticleFactory,
    CommitmentFactory,
    CountryFactory,
    FocusAreaFactory,
    SourceQuoteFactory,
)

pytestmark = pytest.mark.django_db

# CI runs the suite on both databases, so each of these runs in one of its legs.
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's full-text search"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the portable search")

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


def test_the_beginning_of_a_word_finds_it(client):
    CommitmentFactory(title="Cooperation fund")

    response = search(client, "coop")

    assert found(response) == {"commitment": ["Cooperation fund"]}
    assert "<mark>Coop</mark>eration fund" in response.text


def test_a_word_beginning_with_a_term_is_found_though_stemming_changes_the_term(client):
    # English stemming makes "energy" "energi", which does not begin "energyland".
    CountryFactory(name="Energyland", iso_code="EL")

    assert found(search(client, "energy")) == {"country": ["Energyland"]}


# Ordering


def test_a_title_match_comes_before_a_summary_match_before_a_body_only_match(client):
    ArticleFactory(
        title="Mining report",
        body="The lithium triangle.",
        publication_date=datetime.date(2025, 3, 1),
    )
    ArticleFactory(
        title="Andean survey",
        summary="On lithium.",
        publication_date=datetime.date(2025, 2, 1),
    )
    ArticleFactory(title="Lithium deal", publication_date=datetime.date(2025, 1, 1))

    response = search(client, "lithium")

    assert found(response) == {"article": ["Lithium deal", "Andean survey", "Mining report"]}


def test_a_commitment_found_by_its_title_comes_before_one_found_by_its_description(client):
    CommitmentFactory(title="A port", description="For lithium exports.")
    CommitmentFactory(title="Lithium plant")

    assert found(search(client, "lithium")) == {"commitment": ["Lithium plant", "A port"]}


def test_a_commitment_found_by_its_own_text_comes_before_one_found_by_a_quote(client):
    quoted = CommitmentFactory(title="A quoted pledge")
    SourceQuoteFactory(
        commitment=quoted,
        article=ArticleFactory(body="Lithium for all."),
        text="Lithium for all.",
    )
    CommitmentFactory(title="Other pledge", description="Lithium for some.")

    assert found(search(client, "lithium"))["commitment"] == ["Other pledge", "A quoted pledge"]


def test_a_title_with_every_term_comes_before_terms_spread_over_the_texts(client):
    CommitmentFactory(title="Lithium plant", description="In Chile.")
    CommitmentFactory(title="Lithium in Chile")

    assert found(search(client, "lithium chile")) == {
        "commitment": ["Lithium in Chile", "Lithium plant"]
    }


def test_equally_good_matches_keep_the_usual_order(client):
    CommitmentFactory(title="Lithium plan B")
    CommitmentFactory(title="Lithium plan A")

    assert found(search(client, "lithium")) == {"commitment": ["Lithium plan A", "Lithium plan B"]}


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
    CommitmentFactory(title="China's pledge or promise")
    CommitmentFactory(title="Brazil's pledge or promise")

    response = search(client, "China's \"pledge\" ' OR 1=1 --")

    assert response.status_code == 200
    assert found(response) == {"commitment": ["China's pledge or promise"]}


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

# A page of each of the four groups, whose hits carry the count of all matches, and the quotes of
# the commitments found.
SEARCH_QUERIES = 4 + 1


def fill_matches(count):
    for number in range(count):
        commitment = CommitmentFactory(title=f"Energy pledge {number}")
        SourceQuoteFactory(commitment=commitment)
        ArticleFactory(title=f"Energy report {number}")
        FocusAreaFactory(name=f"Energy area {number}")
        CountryFactory(name=f"Energyland {number}", iso_code=f"Z{chr(ord('A') + number)}")


def fill_unrelated(count):
    """Records no search of these tests finds, so many that an index is worth reading."""
    Commitment.objects.bulk_create(CommitmentFactory.build_batch(count))
    Article.objects.bulk_create(ArticleFactory.build_batch(count))
    FocusArea.objects.bulk_create(FocusAreaFactory.build_batch(count))
    Country.objects.bulk_create(
        CountryFactory.build(
            iso_code=f"{chr(ord('A') + number // 26)}{chr(ord('A') + number % 26)}"
        )
        for number in range(count)
    )
    quote = SourceQuoteFactory()
    SourceQuote.objects.bulk_create(
        SourceQuote(commitment=quote.commitment, article=quote.article, text=f"Quote {number}.")
        for number in range(count)
    )


@pytest.mark.parametrize("rows", [3, 30])
def test_search_query_count_does_not_grow_with_the_matches(client, django_assert_num_queries, rows):
    fill_matches(rows)

    with django_assert_num_queries(SEARCH_QUERIES):
        response = search(client, "energy")

    assert response.context["results"].total == 4 * rows


# PostgreSQL: stemming, languages, typos and indexes


@postgresql_only
def test_another_form_of_a_word_finds_it(client):
    CommitmentFactory(title="Port", description="A commitment to build a port.")
    ArticleFactory(title="Report", body="Policies of the region.")

    assert found(search(client, "commitments")) == {"commitment": ["Port"]}
    assert found(search(client, "policy")) == {"article": ["Report"]}


@postgresql_only
def test_an_article_is_stemmed_in_its_own_language(client):
    body = "La política económica de la región."
    ArticleFactory(title="Informe", body=body, language=ContentLanguage.SPANISH)
    ArticleFactory(title="Report", body=body, language=ContentLanguage.ENGLISH)

    # Spanish stemming drops the accent; English stemming keeps the word as written.
    assert found(search(client, "politica")) == {"article": ["Informe"]}
    assert sorted(found(search(client, "políticas"))["article"]) == ["Informe", "Report"]


@postgresql_only
@pytest.mark.parametrize(
    ("language", "vector"),
    [
        (ContentLanguage.ENGLISH, "'política':1"),
        (ContentLanguage.SPANISH, "'polit':1"),
        (ContentLanguage.PORTUGUESE, "'polít':1"),
        # PostgreSQL has no Chinese stemming: the words stay as they are.
        (ContentLanguage.CHINESE, "'políticas':1"),
    ],
)
def test_an_article_is_indexed_with_the_stemming_of_its_language(language, vector):
    ArticleFactory(title="Políticas", body="", language=language)

    config = TEXT_SEARCH_CONFIGS.get(language, UNSTEMMED)

    assert Article.objects.annotate(vector=ARTICLE.vector(config=config)).get().vector == vector


@postgresql_only
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cooperaton", {"commitment": ["China–CELAC cooperation plan"]}),
        ("scholarshps", {"article": ["Government scholarships for Peru"]}),
        ("hydrogne", {"focusarea": ["Green hydrogen"]}),
        ("Urugay", {"country": ["Uruguay"]}),
        ("celac cooperaton", {"commitment": ["China–CELAC cooperation plan"]}),
    ],
)
def test_a_typo_still_finds_a_title_or_name(client, query, expected):
    CommitmentFactory(title="China–CELAC cooperation plan")
    CommitmentFactory(title="Corporate bonds")
    ArticleFactory(title="Government scholarships for Peru", body="Grants.")
    FocusAreaFactory(name="Green hydrogen")
    CountryFactory(name="Uruguay", iso_code="UY")

    assert found(search(client, query)) == expected


@postgresql_only
def test_a_typo_is_forgiven_in_titles_and_names_only(client):
    CommitmentFactory(title="Plan", description="A cooperation plan.")

    assert found(search(client, "cooperation")) == {"commitment": ["Plan"]}
    assert found(search(client, "cooperaton")) == {}


@postgresql_only
def test_a_typo_finds_no_unpublished_record(client):
    CommitmentFactory(title="Zebra pledge")
    CommitmentFactory(title="Zebra secret pledge", publication_status=DRAFT)

    assert found(search(client, "zebre")) == {"commitment": ["Zebra pledge"]}


@postgresql_only
def test_near_matches_come_only_when_nothing_matches_as_typed_the_closest_first(client):
    CommitmentFactory(title="Lithium plan")
    CommitmentFactory(title="Lithium plant")

    assert found(search(client, "plant")) == {"commitment": ["Lithium plant"]}
    assert found(search(client, "plantt")) == {"commitment": ["Lithium plant", "Lithium plan"]}


@postgresql_only
def test_the_searches_use_every_search_index(client):
    fill_matches(3)
    fill_unrelated(600)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE policy_commitment, policy_article, policy_focusarea, policy_country,"
            " policy_sourcequote"
        )
        # Tables this small are read whole, or through their primary key, whatever the
        # conditions; with bitmap scans only, the plans show the index that answers each.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    with CaptureQueriesContext(connection) as queries:
        search(client, "energy")
        # No title has this word: the search tries near matches.
        search(client, "energyy")
    plans = []
    with connection.cursor() as cursor:
        for query in queries:
            if "@@" in query["sql"] or "%>>" in query["sql"]:
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans += [row[0] for row in cursor.fetchall()]
    plan = "\n".join(plans)

    for index in [
        "policy_commitment_search",
        "policy_commitment_title_search",
        "policy_commitment_description_search",
        "policy_commitment_title_trgm",
        "policy_sourcequote_search",
        *(
            f"policy_article_{texts}_{language}"
            for texts in ("text", "title", "summary")
            for language in ("en", "es", "pt", "other")
        ),
        "policy_article_title_trgm",
        "policy_focusarea_search",
        "policy_focusarea_name_search",
        "policy_focusarea_description_search",
        "policy_focusarea_name_trgm",
        "policy_country_search",
        "policy_country_name_trgm",
    ]:
        assert f"Bitmap Index Scan on {index}" in plan


@postgresql_only
def test_a_word_in_every_article_is_found_without_computing_their_vectors_again(client):
    Article.objects.bulk_create(ArticleFactory.build_batch(1000, body="Energy and trade. " * 300))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE policy_article")
    with CaptureQueriesContext(connection) as queries:
        search(client, "energy")
    [page] = [
        query["sql"] for query in queries if query["sql"].startswith('SELECT "policy_article"."id"')
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {page}")
        plan = [row[0] for row in cursor.fetchall()]

    assert any("Bitmap Index Scan on policy_article_text_en" in line for line in plan)
    assert [line for line in plan if "Filter:" in line and "to_tsvector" in line] == []


# SQLite: the portable search


@sqlite_only
def test_a_term_inside_a_word_finds_it(client):
    ArticleFactory(title="Government scholarships")

    assert found(search(client, "ships")) == {"article": ["Government scholarships"]}
