"""Search across what a request may see, with the matched words marked in each result.

`Query.parse` and `search` are the whole interface; the views do not know which database
answers. A record is found when each term is in one of its texts (its `Document`: title,
summary, body) or, for a commitment, in its quotes. Records with every term in their title come
first, then those with every term in their summary or description, each tier in the model's
own order.

On PostgreSQL, full-text search. Each term must begin a word, as typed or stemmed in the text
search configuration of the text's language: "commitments" finds "commitment", "coop" finds
"cooperation". A commitment's own texts and each of its quotes are searched apart. When nothing
matches as typed, the titles and names with each term nearly as typed (pg_trgm's strict word
similarity) are found instead, the closest first, so "cooperaton" still finds "cooperation".
GIN indexes on exactly the expressions queried, made by migrations 0003 and 0007 (the articles of
each language have their own), answer every condition; tests/test_search.py checks with EXPLAIN
that each is used. The tiers come from those indexes too, as `ts_rank` would build the document
of every match again: 1.3 s for a word in most of 10,000 commitments, against 30 ms.

Elsewhere (SQLite), the portable search: each term must occur, case-insensitively, in one of
the texts (`icontains`); the same tiers order the results.

Either way snippets are cut and marked in Python, ignoring case and accents.
"""

import re
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib.postgres.lookups import TrigramStrictWordSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchVector,
    TrigramStrictWordSimilarity,
)
from django.db import connections
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, Value, When, Window
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from policy.highlighting import find_terms, fold, mark_terms
from policy.models import ContentLanguage

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
MIN_TERM_LENGTH = 2
RESULTS_PER_GROUP = 10
SNIPPET_LENGTH = 240

# Letters and digits; anything else, the LIKE wildcards % and _ included, separates terms.
TERM = re.compile(r"[^\W_]+")

# PostgreSQL's text search configuration for each language of `Article.language`. Any other
# language, Chinese included, is split into words without stemming: PostgreSQL has no Chinese
# word segmentation.
TEXT_SEARCH_CONFIGS = {
    ContentLanguage.ENGLISH: "english",
    ContentLanguage.SPANISH: "spanish",
    ContentLanguage.PORTUGUESE: "portuguese",
}
UNSTEMMED = "simple"
# Texts without a language field are English.
ENGLISH = TEXT_SEARCH_CONFIGS[ContentLanguage.ENGLISH]

# Every term in the title outranks every term in the summary; both outrank either.
TITLE_RANK = 2
SUMMARY_RANK = 1


@dataclass(frozen=True)
class Document:
    """The texts of one kind of record that search reads, by the name of their fields."""

    title: str
    summary: str = ""
    body: str = ""
    language_field: str = ""

    @property
    def texts(self):
        return [field for field in (self.title, self.summary, self.body) if field]

    def vector(self, *fields, config=ENGLISH):
        """The `tsvector` of `fields`, all texts by default, in the text search configuration
        `config`, exactly as migrations 0003 and 0007 index it."""
        return SearchVector(*(fields or self.texts), config=config)


COMMITMENT = Document(title="title", summary="description")
ARTICLE = Document(title="title", summary="summary", body="body", language_field="language")
FOCUS_AREA = Document(title="name", summary="description")
COUNTRY = Document(title="name")


def _quote_vector(config):
    """A quote is in its article's language, which an index on quotes cannot read: its words
    are indexed as written, whatever `config`, and a term stemmed in that language finds them by
    their beginning."""
    return SearchVector("text", config=UNSTEMMED)


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple
    notice: str

    max_length = MAX_QUERY_LENGTH

    @classmethod
    def parse(cls, raw):
        """The terms to look for in what was typed, and a notice when some of it was not used."""
        text = " ".join(raw.split())
        notice = ""
        if len(text) > MAX_QUERY_LENGTH:
            text = text[:MAX_QUERY_LENGTH]
            notice = _("Your search was too long: only its first %(count)s characters were used.")
            notice %= {"count": MAX_QUERY_LENGTH}
        terms = tuple(
            dict.fromkeys(term for term in TERM.findall(text) if len(term) >= MIN_TERM_LENGTH)
        )
        if len(terms) > MAX_TERMS:
            terms = terms[:MAX_TERMS]
            notice = _("Only the first %(count)s words of your search were used.")
            notice %= {"count": MAX_TERMS}
        if not text:
            notice = _("Type a word or a figure to search the whole tracker.")
        elif not terms:
            notice = _("Search for a word of at least two letters or digits.")
        return cls(text=text, terms=terms, notice=notice)


@dataclass(frozen=True)
class Hit:
    record: object
    title: str
    snippet: str


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    count: int
    hits: list

    @property
    def has_more(self):
        return self.count > len(self.hits)


@dataclass(frozen=True)
class Results:
    groups: list

    @property
    def total(self):
        return sum(group.count for group in self.groups)


def search(query, *, commitments, articles, focus_areas, countries, quotes):
    """What matches `query` among the given records, grouped by kind, a few of each.

    The querysets say what the request may see; commitments are also found by the text of
    `quotes`, so give only quotes the request may read.
    """
    if not query.terms:
        return Results(groups=[])
    terms = query.terms
    searched_quotes = Prefetch("quotes", queryset=quotes, to_attr="searched_quotes")
    return Results(
        groups=[
            _group(
                _searches(commitments, terms, COMMITMENT, quotes=quotes),
                terms,
                title=COMMITMENT.title,
                texts=lambda commitment: [
                    commitment.description,
                    *(quote.text for quote in commitment.searched_quotes),
                ],
                related=[searched_quotes],
            ),
            _group(
                _searches(articles, terms, ARTICLE),
                terms,
                title=ARTICLE.title,
                texts=lambda article: [article.summary, article.body],
            ),
            _group(
                _searches(focus_areas, terms, FOCUS_AREA),
                terms,
                title=FOCUS_AREA.title,
                texts=lambda focus_area: [focus_area.description],
            ),
            _group(
                _searches(countries, terms, COUNTRY),
                terms,
                title=COUNTRY.title,
                texts=lambda _: [],
            ),
        ]
    )


def _searches(queryset, terms, document, *, quotes=None):
    """The searches to try in turn until one finds anything: the records with every term; on
    PostgreSQL then, so that a typo still finds something, those whose title has each term
    nearly as typed. Each is built only when the one before found nothing."""
    if connections[queryset.db].vendor != "postgresql":
        yield _portable_matches(queryset, terms, document, quotes=quotes)
        return
    yield _full_text_matches(queryset, terms, document, quotes=quotes)
    yield _near_matches(queryset, terms, document)


def _full_text_matches(queryset, terms, document, *, quotes):
    records = queryset.model._base_manager
    found_ids = _ids_with_every_term(
        records,
        lambda config: document.vector(config=config),
        terms,
        language_field=document.language_field,
    )
    if quotes is not None:
        # A union, not OR, for the same reason as languages: each part is a query its index
        # answers.
        found_ids = found_ids.union(
            _ids_with_every_term(
                quotes,
                _quote_vector,
                terms,
                language_field="article__language",
                id_field="commitment",
            )
        )
    return _in_tiers(
        # `queryset` keeps what the request may see.
        queryset.filter(pk__in=found_ids),
        document,
        holds_every_term=lambda field: Q(
            pk__in=_ids_with_every_term(
                records,
                lambda config: document.vector(field, config=config),
                terms,
                language_field=document.language_field,
            )
        ),
    )


def _ids_with_every_term(records, vector_in, terms, *, language_field, id_field="pk"):
    """The `id_field` of `records` whose vector has every term as the beginning of a word, as
    typed or stemmed in the language of the text, which `language_field` holds; without it,
    English. `vector_in(config)` is the vector of a text in the configuration of its language.

    Only in that language: stemmed in another, a word can lose its ending and begin others
    ("Chile" is "chil" in Spanish, which begins "children"). A query for each language, each
    answered by the index of that language's records (migration 0007); joined with OR in one
    query, PostgreSQL would compute the vector of every row found again to tell the languages
    apart.
    """
    if not language_field:
        return _matching_ids(
            records, vector_in(ENGLISH), _text_query(terms, ENGLISH), id_field=id_field
        )
    by_language = [
        _matching_ids(
            records.filter(**{language_field: language}),
            vector_in(config),
            _text_query(terms, config),
            id_field=id_field,
        )
        for language, config in TEXT_SEARCH_CONFIGS.items()
    ]
    unstemmed = _matching_ids(
        records.exclude(**{f"{language_field}__in": list(TEXT_SEARCH_CONFIGS)}),
        vector_in(UNSTEMMED),
        _text_query(terms, UNSTEMMED),
        id_field=id_field,
    )
    return unstemmed.union(*by_language)


def _matching_ids(records, vector, text_query, *, id_field):
    return records.alias(vector=vector).filter(vector=text_query).values(id_field).order_by()


def _text_query(terms, config):
    """Every term as the beginning of a word, as typed or stemmed in `config`."""
    # Terms are letters and digits only, never the operators of `to_tsquery`.
    every_term = " & ".join(f"{term}:*" for term in terms)
    return reduce(
        or_,
        (
            SearchQuery(every_term, config=each, search_type="raw")
            for each in dict.fromkeys([config, UNSTEMMED])
        ),
    )


def _near_matches(queryset, terms, document):
    """The records whose title has each term nearly as typed, the closest first."""
    title = F(document.title)
    near_ids = queryset.model._base_manager.filter(
        *(TrigramStrictWordSimilar(title, Value(term)) for term in terms)
    ).values("pk")
    return (
        queryset.filter(pk__in=near_ids)
        .annotate(rank=sum(TrigramStrictWordSimilarity(Value(term), title) for term in terms))
        .order_by(F("rank").desc(), *_model_order(queryset))
    )


def _portable_matches(queryset, terms, document, *, quotes):
    for term in terms:
        condition = Q(*[(f"{field}__icontains", term) for field in document.texts], _connector=Q.OR)
        if quotes is not None:
            condition |= Exists(quotes.filter(commitment=OuterRef("pk"), text__icontains=term))
        queryset = queryset.filter(condition)
    return _in_tiers(
        queryset,
        document,
        holds_every_term=lambda field: Q(*[(f"{field}__icontains", term) for term in terms]),
    )


def _in_tiers(matches, document, *, holds_every_term):
    """`matches` with every term in their title first, then in their summary; in the model's
    order within a tier."""
    rank = sum(
        Case(When(holds_every_term(field), then=Value(points)), default=Value(0))
        for field, points in [(document.title, TITLE_RANK), (document.summary, SUMMARY_RANK)]
        if field
    )
    return matches.annotate(rank=rank).order_by(F("rank").desc(), *_model_order(matches))


def _model_order(queryset):
    return [*queryset.model._meta.ordering, "pk"]


def _group(searches, terms, *, title, texts, related=()):
    """The hits of the first of `searches` that finds anything."""
    for matches in searches:
        # Each hit carries the count of all matches: the database finds them once, not once
        # for a count and again for the page.
        counted = matches.annotate(matches_found=Window(Count("*")))
        records = list(counted.prefetch_related(*related)[:RESULTS_PER_GROUP])
        if records:
            break
    model = matches.model
    return Group(
        key=model._meta.model_name,
        label=capfirst(model._meta.verbose_name_plural),
        count=records[0].matches_found if records else 0,
        hits=[
            Hit(
                record=record,
                title=mark_terms(getattr(record, title), terms),
                snippet=_snippet(texts(record), terms),
            )
            for record in records
        ],
    )


def _snippet(texts, terms):
    """The passage of `texts` with the most of `terms`, about `SNIPPET_LENGTH` long, marked."""
    text = max(texts, key=lambda each: _terms_found(each, terms), default="")
    found = find_terms(text, terms)
    if not found:
        return mark_terms(_cut(text, 0), terms)
    first = found[0][0]
    return mark_terms(_cut(text, max(0, first - SNIPPET_LENGTH // 4), keep=first), terms)


def _terms_found(text, terms):
    folded = fold(text)[0]
    return sum(1 for term in terms if fold(term)[0] in folded)


def _cut(text, start, *, keep=0):
    """`SNIPPET_LENGTH` characters of `text` from `start`, cut between words, with ellipses."""
    end = start + SNIPPET_LENGTH
    if start > 0:
        space = text.find(" ", start, keep)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", keep, end)
        end = space if space != -1 else end
    return "".join(
        ["…" if start > 0 else "", text[start:end].strip(), "…" if end < len(text) else ""]
    )
