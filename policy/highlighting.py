"""Marking passages of plain text: the quoted sentences of an article, the words of a search.

Texts here are plain, never HTML. Ranges are found in the raw text; each slice between them is
escaped on its own and the tags go between the slices, so no markup in a text reaches the page.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

from django.forms.utils import flatatt
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext as _

from policy.models.content import PARAGRAPH_BREAK
from policy.templatetags.preview import publication_state

# ASCII has neither accents nor folds beyond lower case: its runs are folded whole, which is
# most of a text in a Latin script, and the rest a character at a time.
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def fold(text):
    """`text` without case or accents, and for each of its characters the index it comes from."""
    folded, origins, start = [], [], 0
    for run in _NOT_ASCII.finditer(text):
        folded.append(text[start : run.start()].lower())
        origins += range(start, run.start())
        for index in range(*run.span()):
            part = _fold_character(text[index])
            folded.append(part)
            origins += [index] * len(part)
        start = run.end()
    folded.append(text[start:].lower())
    origins += range(start, len(text))
    return "".join(folded), origins


# Bounded, as the characters of search queries come from anyone.
@functools.lru_cache(maxsize=4096)
def _fold_character(char):
    decomposed = unicodedata.normalize("NFKD", char).casefold()
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def merge(ranges):
    """Overlapping (start, end, item) ranges joined: (start, end, [item, …]), in text order."""
    merged = []
    for start, end, item in sorted(ranges, key=lambda each: each[0]):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end), [*merged[-1][2], item])
        else:
            merged.append((start, end, [item]))
    return merged


def find_terms(text, terms):
    """Where `terms` occur in `text`, ignoring case and accents: merged (start, end) ranges."""
    folded, origins = fold(text)
    ranges = []
    for term in {fold(term)[0] for term in terms} - {""}:
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            ranges.append((origins[start], origins[end - 1] + 1, term))
            start = folded.find(term, end)
    return [(start, end) for start, end, _terms in merge(ranges)]


def mark_terms(text, terms):
    """`text`, escaped, with every occurrence of `terms` in <mark>."""
    pieces, cursor = [], 0
    for start, end in find_terms(text, terms):
        pieces += [escape(text[cursor:start]), format_html("<mark>{}</mark>", text[start:end])]
        cursor = end
    pieces.append(escape(text[cursor:]))
    return _join(pieces)


def _join(pieces):
    """Safe HTML of pieces that are each escaped or built with `format_html` already."""
    return format_html_join("", "{}", ((piece,) for piece in pieces))


# Quotes in the article they come from


def paragraph_spans(text):
    """(start, end) of each paragraph of `text`, stripped as `Article.paragraphs` strips them."""
    spans, start = [], 0
    for end, next_start in [
        *((match.start(), match.end()) for match in PARAGRAPH_BREAK.finditer(text)),
        (len(text), None),
    ]:
        part = text[start:end]
        if part.strip():
            lead = len(part) - len(part.lstrip())
            spans.append((start + lead, start + lead + len(part.strip())))
        start = next_start
    return spans


@dataclass(frozen=True)
class Passage:
    """A stretch of a paragraph that one quote, or several overlapping quotes, cover."""

    text: str
    quotes: tuple
    # (offset in `text`, quote) for each quote whose anchor goes here: where the quote begins.
    anchors: tuple

    @property
    def commitments(self):
        return list({quote.commitment_id: quote.commitment for quote in self.quotes}.values())


def quoted_paragraphs(body, quotes):
    """The paragraphs of `body`, each a list of plain strings and the `Passage`s of `quotes`.

    A quote is placed where its text first occurs; one whose text the body lacks is left out.
    Overlapping quotes make one passage; a quote across a paragraph break makes one in each.
    """
    starts = {quote.pk: body.find(quote.text) for quote in quotes}
    located = [
        (starts[quote.pk], starts[quote.pk] + len(quote.text), quote)
        for quote in quotes
        if starts[quote.pk] != -1
    ]
    anchored = set()
    paragraphs = []
    for paragraph_start, paragraph_end in paragraph_spans(body):
        pieces, cursor = [], paragraph_start
        clipped = [
            (max(start, paragraph_start), min(end, paragraph_end), quote)
            for start, end, quote in located
            if start < paragraph_end and end > paragraph_start
        ]
        for start, end, group in merge(clipped):
            anchors = []
            for quote in group:
                if quote.pk not in anchored:
                    anchored.add(quote.pk)
                    anchors.append((max(starts[quote.pk], start) - start, quote))
            if start > cursor:
                pieces.append(body[cursor:start])
            pieces.append(Passage(body[start:end], tuple(group), tuple(anchors)))
            cursor = end
        if cursor < paragraph_end:
            pieces.append(body[cursor:paragraph_end])
        paragraphs.append(pieces)
    return paragraphs


def render_quoted_paragraphs(body, quotes, commitments):
    """The HTML inside each paragraph: quotes in <mark>, each followed by numbered links to the
    commitments it supports, numbered as in `commitments`. Unpublished ones are marked."""
    numbers = {commitment.pk: number for number, commitment in enumerate(commitments, 1)}
    return [
        _join(
            escape(piece) if isinstance(piece, str) else _render_passage(piece, numbers)
            for piece in paragraph
        )
        for paragraph in quoted_paragraphs(body, quotes)
    ]


def _render_passage(passage, numbers):
    anchors = list(passage.anchors)
    # The mark carries the anchor of the quote it starts with; other quotes get an empty anchor.
    mark_id = anchors.pop(0)[1].anchor if anchors and anchors[0][0] == 0 else None
    inside, cursor = [], 0
    for offset, quote in anchors:
        inside += [
            escape(passage.text[cursor:offset]),
            format_html('<span id="{}"></span>', quote.anchor),
        ]
        cursor = offset
    inside.append(escape(passage.text[cursor:]))
    commitments = sorted(passage.commitments, key=lambda commitment: numbers[commitment.pk])
    unpublished = any(commitment.unpublished_state for commitment in commitments)
    attributes = {"id": mark_id, "class": "quote-mark--unpublished" if unpublished else None}
    mark = format_html("<mark{}>{}</mark>", flatatt(attributes), _join(inside))
    references = format_html_join(
        ", ",
        '<a href="{}" title="{}"><span class="visually-hidden">{} </span>{}</a>{}',
        (
            (
                commitment.get_absolute_url(),
                commitment.title,
                _("Commitment"),
                numbers[commitment.pk],
                publication_state(commitment),
            )
            for commitment in commitments
        ),
    )
    return format_html('{}<sup class="quote-references">{}</sup>', mark, references)
