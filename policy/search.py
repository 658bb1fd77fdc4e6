"""Search across what a request may see, with the matched words marked in each result.

`Query.parse` and `search` are the whole interface. This version is portable: every term must
occur, case-insensitively, in one of a record's texts (`icontains`), and snippets ignore case
and accents. A PostgreSQL full-text search replaces `_matching` and `_snippet` and orders by
rank; the views and templates stay as they are.
"""

import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from policy.highlighting import find_terms, fold, mark_terms

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
MIN_TERM_LENGTH = 2
RESULTS_PER_GROUP = 10
SNIPPET_LENGTH = 240

# Letters and digits; anything else, the LIKE wildcards % and _ included, separates terms.
TERM = re.compile(r"[^\W_]+")


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
                _matching(commitments, terms, ["title", "description"], quotes=quotes),
                terms,
                title="title",
                texts=lambda commitment: [
                    commitment.description,
                    *(quote.text for quote in commitment.searched_quotes),
                ],
                related=[searched_quotes],
            ),
            _group(
                _matching(articles, terms, ["title", "summary", "body"]),
                terms,
                title="title",
                texts=lambda article: [article.summary, article.body],
            ),
            _group(
                _matching(focus_areas, terms, ["name", "description"]),
                terms,
                title="name",
                texts=lambda focus_area: [focus_area.description],
            ),
            _group(_matching(countries, terms, ["name"]), terms, title="name", texts=lambda _: []),
        ]
    )


def _matching(queryset, terms, fields, *, quotes=None):
    """The records with every term in one of `fields`, or of their `quotes`."""
    for term in terms:
        condition = Q(*[(f"{field}__icontains", term) for field in fields], _connector=Q.OR)
        if quotes is not None:
            condition |= Exists(quotes.filter(commitment=OuterRef("pk"), text__icontains=term))
        queryset = queryset.filter(condition)
    return queryset


def _group(matches, terms, *, title, texts, related=()):
    model = matches.model
    records = matches.prefetch_related(*related)[:RESULTS_PER_GROUP]
    return Group(
        key=model._meta.model_name,
        label=capfirst(model._meta.verbose_name_plural),
        count=matches.count(),
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
