"""The article importer under malformed input: it imports a file or refuses it, nothing between.

Hypothesis writes article files that are well formed, wrongly encoded, cut off, damaged byte by
byte, binary, or made of parts the database cannot hold, and feeds them to `manage.py
import_article`. Each either imports or fails with a CommandError that names the file and the
problem; a refused file leaves the database exactly as it was.
"""

import datetime
from io import StringIO
from pathlib import Path

import hypothesis
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils.text import slugify
from hypothesis import strategies as st

from policy.importing import MONTHS, ArticleFormatError, ParsedArticle, decode, parse_article
from policy.management.commands.import_article import MAX_FILE_SIZE
from policy.models import Actor, Article, Authorship, Keyword, Person
from policy.services import import_article

pytestmark = pytest.mark.django_db

FUZZ_SETTINGS = hypothesis.settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    # The database and the temporary folder are shared by the examples on purpose: imports
    # that succeed pile up, so that later examples update or collide with earlier ones.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
EXISTING_TITLE = "Ports and rails"
EXISTING = f"""{EXISTING_TITLE}
March 3 , 2026
By Ana Pérez and Li Wei | Researchers at a university
First paragraph about ports.
From Example Wire, 2026-3-3
Keyword ports, rails
"""
MONTH_NAMES = [name.capitalize() for name in MONTHS]

# Any text a UTF-8 file can hold on one line, with the names and keywords an import shares
# with earlier ones now and then, and lengths past the columns' limits.
line_text = st.text(
    st.characters(codec="utf-8", exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    min_size=1,
    max_size=40,
)
name = st.one_of(
    line_text,
    st.sampled_from(["Ana Pérez", "ana pérez", "Li-Wei", "Example Wire", "Example-Wire"]),
    st.integers(90, 320).map(lambda length: "N" * length),
)


@st.composite
def article_texts(draw):
    """The text of an article file in the format, its parts drawn at random."""
    date = draw(st.dates(datetime.date(1000, 1, 1)))
    from_date = draw(st.one_of(st.just(date), st.dates(datetime.date(1000, 1, 1))))
    authors = draw(st.lists(name, min_size=1, max_size=3))
    affiliation = draw(st.one_of(st.just(""), name))
    keywords = draw(st.lists(name, min_size=1, max_size=4))
    lines = [
        draw(st.one_of(line_text, st.just(EXISTING_TITLE), name)),
        f"{MONTH_NAMES[date.month - 1]} {date.day:02} , {date.year}",
        f"By {' and '.join(authors)}" + (f" | {affiliation}" if affiliation else ""),
        *draw(st.lists(line_text, min_size=1, max_size=3)),
        f"From {draw(name)}, {from_date.year}-{from_date.month}-{from_date.day}",
        f"Keyword {', '.join(keywords)}",
    ]
    return "\n".join(draw(st.permutations(lines)) if draw(st.booleans()) else lines) + "\n"


@st.composite
def damaged(draw, data):
    """The bytes with some changed, some left out, and cut off at one point, or not."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        if action == "replace":
            data[position] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[position]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def encoded(text):
    return st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-32"]).map(
        lambda encoding: text.encode(encoding, errors="replace")
    )


article_files = st.one_of(
    article_texts().map(str.encode),
    article_texts().flatmap(encoded),
    article_texts().map(str.encode).flatmap(damaged),
    st.binary(max_size=2000),
)


def database_state():
    """Every row an import writes, to compare before and after a refused one."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Article, Actor, Person, Keyword, Authorship, Article.keywords.through)
    }


@pytest.fixture
def article_file(tmp_path):
    """Writes one file per example; an article of the same headline exists already."""
    path = tmp_path / "article.txt"
    path.write_text(EXISTING)
    call_command("import_article", str(path), stdout=StringIO())

    def write(data):
        path.write_bytes(data)
        return path

    return write


def names_one_of(records, name):
    """Whether one of the records has the name, or its slug: "Example Wire", "example-wire"."""
    slug = slugify(name)
    return any(
        record.name == name
        or record.slug == slug[: record._meta.get_field("slug").max_length].strip("-") != ""
        for record in records
    )


def import_or_refuse(path):
    """Import the file, and return whether it was, or the CommandError that refused it."""
    before = database_state()
    try:
        call_command("import_article", str(path), stdout=StringIO())
    except CommandError as error:
        assert str(error).startswith(f"{path}: ")
        assert database_state() == before
        return error
    return None


@FUZZ_SETTINGS
@hypothesis.given(data=article_files)
def test_any_file_is_imported_whole_or_refused_with_a_message_and_no_write(article_file, data):
    path = article_file(data)
    error = import_or_refuse(path)
    hypothesis.event("refused" if error else "imported")
    if error is None:
        parsed = parse_article(decode(data))
        article = Article.objects.get(title=parsed.title)
        assert (article.publication_date, article.body) == (parsed.publication_date, parsed.body)
        assert names_one_of([article.publisher], parsed.publisher)
        authors = [authorship.person for authorship in article.authorships.all()]
        assert all(names_one_of(authors, name) for name in parsed.author_names)
        keywords = list(article.keywords.all())
        assert all(names_one_of(keywords, name) for name in parsed.keywords)


# Also control and invisible characters between names: NUL, an escape, a right-to-left override.
any_text = st.one_of(
    name,
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.tuples(name, st.sampled_from("\x00\x1b\x7f\u200b\u202e\ufeff"), name).map("".join),
)


@FUZZ_SETTINGS
@hypothesis.given(
    parts=st.fixed_dictionaries(
        {
            "title": any_text,
            "publication_date": st.dates(),
            "author_names": st.lists(any_text, max_size=3).map(tuple),
            "affiliation": any_text,
            "paragraphs": st.lists(any_text, max_size=3).map(tuple),
            "publisher": any_text,
            "keywords": st.lists(any_text, max_size=4).map(tuple),
        }
    )
)
def test_the_service_imports_any_parsed_article_whole_or_refuses_it_unwritten(article_file, parts):
    """Parts no file could produce: empty, blank, with NUL and other control characters."""
    before = database_state()
    try:
        import_article(parsed=ParsedArticle(**parts))
    except (ArticleFormatError, ValidationError) as error:
        hypothesis.event(f"refused: {type(error).__name__}")
        assert database_state() == before
    else:
        hypothesis.event("imported")


def importing(tmp_path, text):
    path = tmp_path / "article.txt"
    path.write_text(text)
    return import_or_refuse(path)


class TestNames:
    def test_names_that_differ_in_case_or_punctuation_name_one_record(self, article_file):
        text = (
            EXISTING.replace("Ports and rails", "Another headline")
            .replace("Example Wire", "example-wire")
            .replace("ports, rails", "Ports, PORTS, rails!")
        )
        assert import_or_refuse(article_file(text.encode())) is None
        article = Article.objects.get(title="Another headline")
        assert article.publisher.name == "Example Wire"
        assert sorted(article.keywords.values_list("name", flat=True)) == ["ports", "rails"]
        assert Actor.objects.count() == 1
        assert Keyword.objects.count() == 2

    @pytest.mark.parametrize(
        ("replaced", "replacement", "problem"),
        [
            ("Example Wire", "W" * 201, "publisher: Ensure this value has at most 200 characters"),
            ("Li Wei", "L" * 201, "author: Ensure this value has at most 200 characters"),
            ("rails", "R" * 101, "keyword: Ensure this value has at most 100 characters"),
            (
                "Researchers at a university",
                "U" * 301,
                "affiliation: Ensure this value has at most 300 characters",
            ),
        ],
    )
    def test_a_name_longer_than_its_column_is_refused_saying_whose(
        self, tmp_path, replaced, replacement, problem
    ):
        error = importing(tmp_path, EXISTING.replace(replaced, replacement))
        assert problem in str(error)
        assert not Article.objects.exists()

    @pytest.mark.parametrize(
        ("replaced", "replacement", "problem"),
        [
            ("Li Wei", ", ".join(f"Author {n}" for n in range(100)), "line 3: 101 authors"),
            ("rails", ", ".join(f"k{n}" for n in range(100)), "line 6: 101 keywords"),
        ],
    )
    def test_more_names_than_an_article_has_are_refused(
        self, tmp_path, replaced, replacement, problem
    ):
        error = importing(tmp_path, EXISTING.replace(replaced, replacement))
        assert f"{problem}, where an article has at most 100" in str(error)
        assert not Person.objects.exists()
        assert not Keyword.objects.exists()


class TestFiles:
    def test_a_file_past_the_size_limit_is_refused_unread(self, tmp_path, monkeypatch):
        path = tmp_path / "article.txt"
        path.write_bytes(EXISTING.encode().ljust(MAX_FILE_SIZE + 1, b"\n"))
        monkeypatch.setattr(Path, "read_bytes", pytest.fail)
        error = import_or_refuse(path)
        assert str(error) == f"{path}: the file is larger than 5 MB"

    def test_a_file_just_under_the_size_limit_imports_its_long_body(self, tmp_path):
        paragraph = "A long paragraph about ports. " * 100
        count = (MAX_FILE_SIZE - len(EXISTING.encode()) - 100) // (len(paragraph) + 1)
        text = EXISTING.replace("First paragraph about ports.", "\n".join([paragraph] * count))
        assert MAX_FILE_SIZE - 4000 < len(text.encode()) <= MAX_FILE_SIZE
        assert importing(tmp_path, text) is None
        assert Article.objects.get().body.count("\n\n") == count - 1

    def test_a_file_that_cannot_be_read_is_refused_saying_why(self, tmp_path, monkeypatch):
        path = tmp_path / "article.txt"
        path.write_text(EXISTING)

        def refuse(self):
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "read_bytes", refuse)
        error = import_or_refuse(path)
        assert str(error) == f"{path}: the file cannot be read (Permission denied)"
