"""Reading articles in the plain-text format of the seed source.

The format, line by line (blank lines are ignored between the parts):

    Headline
    Month DD , YYYY
    By Author Name[, Second Author | Affiliation]
    Body paragraph, one per line ...
    From Publisher, YYYY-M-D
    Keyword first keyword[, second keyword]
"""

import datetime
import re
from dataclasses import dataclass

MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
DATE_LINE = re.compile(r"^(?P<month>[A-Za-z]+)\s+(?P<day>\d{1,2})\s*,\s*(?P<year>\d{4})$")
BYLINE = re.compile(r"^By\s+(?P<names>[^|]+?)\s*(?:\|\s*(?P<affiliation>.*?))?$")
FROM_LINE = re.compile(
    r"^From\s+(?P<publisher>.+?),\s*(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$"
)
KEYWORD_LINE = re.compile(r"^Keywords?\s+(?P<keywords>.+)$")
AUTHOR_SEPARATOR = re.compile(r"\s*(?:,|\band\b|&)\s*")
# Far more than an article has: each name is looked up on its own, so a file of thousands of
# them would keep an import busy for minutes.
MAX_NAMES_PER_LINE = 100


class ArticleFormatError(ValueError):
    """The text does not follow the article format; the message names the problem."""


@dataclass(frozen=True)
class ParsedArticle:
    title: str
    publication_date: datetime.date
    author_names: tuple[str, ...]
    affiliation: str
    paragraphs: tuple[str, ...]
    publisher: str
    keywords: tuple[str, ...]

    def __post_init__(self):
        # PostgreSQL stores no NUL in any text. decode() refuses a file holding one as binary;
        # this refuses an article whose text came from elsewhere.
        parts = [self.title, self.affiliation, self.publisher, *self.author_names]
        if any("\x00" in part for part in [*parts, *self.paragraphs, *self.keywords]):
            raise ArticleFormatError("the text holds a NUL character")

    @property
    def body(self):
        return "\n\n".join(self.paragraphs)


def _date(year, month, day, *, line_number):
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError as error:
        raise ArticleFormatError(f"line {line_number}: {error}") from None


def _parse_date_line(line, line_number):
    match = DATE_LINE.match(line)
    month = MONTHS.get(match["month"].lower()) if match else None
    if month is None:
        raise ArticleFormatError(
            f"line {line_number}: expected the date, such as “November 05 , 2025”, found “{line}”"
        )
    return _date(match["year"], month, match["day"], line_number=line_number)


def _check_name_count(names, kind, *, line_number):
    if len(names) > MAX_NAMES_PER_LINE:
        raise ArticleFormatError(
            f"line {line_number}: {len(names)} {kind}, where an article has at most "
            f"{MAX_NAMES_PER_LINE}"
        )


def decode(data):
    """Text of an article file; the format is UTF-8 (a byte-order mark is allowed)."""
    if not data.strip():
        raise ArticleFormatError("the file is empty")
    if b"\x00" in data:
        raise ArticleFormatError("the file is binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArticleFormatError(
            f"the file is not UTF-8 text (byte {error.start} cannot be decoded)"
        ) from None


def parse_article(text):
    """Parse the text of an article file, or raise ArticleFormatError naming the problem."""
    lines = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not lines:
        raise ArticleFormatError("the file is empty")
    if len(lines) < 6:
        raise ArticleFormatError(
            "the file is too short: it needs a headline, a date line, a byline, "
            "at least one body paragraph, a “From” line and a “Keyword” line"
        )

    (_, title), (date_number, date_line), (byline_number, byline) = lines[:3]
    publication_date = _parse_date_line(date_line, date_number)

    byline_match = BYLINE.match(byline)
    if not byline_match:
        raise ArticleFormatError(
            f"line {byline_number}: expected the byline, such as “By Name | Affiliation”, "
            f"found “{byline}”"
        )
    author_names = tuple(
        name for name in AUTHOR_SEPARATOR.split(byline_match["names"]) if name.strip()
    )
    _check_name_count(author_names, "authors", line_number=byline_number)

    keyword_number, keyword_line = lines[-1]
    keyword_match = KEYWORD_LINE.match(keyword_line)
    if not keyword_match:
        raise ArticleFormatError(
            f"line {keyword_number}: expected the last line to be “Keyword …”, "
            f"found “{keyword_line}”"
        )
    keywords = tuple(
        keyword.strip() for keyword in keyword_match["keywords"].split(",") if keyword.strip()
    )
    _check_name_count(keywords, "keywords", line_number=keyword_number)

    from_number, from_line = lines[-2]
    from_match = FROM_LINE.match(from_line)
    if not from_match:
        raise ArticleFormatError(
            f"line {from_number}: expected “From <publisher>, <YYYY-M-D>” before the keywords, "
            f"found “{from_line}”"
        )
    from_date = _date(
        from_match["year"], from_match["month"], from_match["day"], line_number=from_number
    )
    if from_date != publication_date:
        raise ArticleFormatError(
            f"line {from_number}: the “From” line dates the article {from_date.isoformat()}, "
            f"but line {date_number} dates it {publication_date.isoformat()}"
        )

    paragraphs = tuple(line for _, line in lines[3:-2])

    return ParsedArticle(
        title=title,
        publication_date=publication_date,
        author_names=author_names,
        affiliation=(byline_match["affiliation"] or "").strip(),
        paragraphs=paragraphs,
        publisher=from_match["publisher"].strip(),
        keywords=keywords,
    )
