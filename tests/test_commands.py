import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from reversion.models import Version

from policy.models import Actor, Article, Commitment, FocusArea, Keyword, Person, PublicationStatus

SOURCE_FILE = Path(settings.BASE_DIR) / "fixtures" / "sources" / "000_f211d30f5c747425.txt"
SEED_FILE = Path(settings.BASE_DIR) / "fixtures" / "seed.json"

WELL_FORMED = """Ana Pérez and Li Wei: Ports and rails

March 3 , 2026

By Ana Pérez and Li Wei | Researchers at a university

First paragraph about ports.

Second paragraph about rails.

From Example Wire, 2026-3-3
Keyword ports, rails
"""

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def write(tmp_path, content, name="article.txt"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def snapshot(article):
    return {
        "title": article.title,
        "slug": article.slug,
        "publication_date": article.publication_date.isoformat(),
        "body": article.body,
        "language": article.language,
        "publisher": article.publisher.name,
        "authors": [(a.person.name, a.affiliation) for a in article.authorships.all()],
        "keywords": sorted(article.keywords.values_list("name", flat=True)),
    }


def seed_article_snapshot():
    records = json.loads(SEED_FILE.read_text())
    by_key = {(r["model"], r["pk"]): r["fields"] for r in records}
    pk, article = next((r["pk"], r["fields"]) for r in records if r["model"] == "policy.article")
    authorships = sorted(
        (r["fields"] for r in records if r["model"] == "policy.authorship"),
        key=lambda fields: fields["order"],
    )
    return {
        "title": article["title"],
        "slug": article["slug"],
        "publication_date": article["publication_date"],
        "body": article["body"],
        "language": article["language"],
        "publisher": by_key["policy.actor", article["publisher"]]["name"],
        "authors": [
            (by_key["policy.person", a["person"]]["name"], a["affiliation"])
            for a in authorships
            if a["article"] == pk
        ],
        "keywords": sorted(by_key["policy.keyword", k]["name"] for k in article["keywords"]),
    }


class TestImportArticle:
    def test_importing_the_shipped_source_gives_the_article_of_the_fixtures(self):
        output = run("import_article", str(SOURCE_FILE))
        assert "Created article" in output
        assert snapshot(Article.objects.get()) == seed_article_snapshot()

    def test_importing_over_the_seed_updates_it_without_duplicating(self, seed):
        before = snapshot(Article.objects.get())
        output = run("import_article", str(SOURCE_FILE))
        assert "Updated article" in output
        assert Article.objects.count() == 1
        assert Person.objects.filter(name="Wang Huiyao").count() == 1
        assert Keyword.objects.count() == 1
        assert snapshot(Article.objects.get()) == before

    def test_a_second_import_keeps_the_publication_status(self, tmp_path):
        path = write(tmp_path, WELL_FORMED)
        run("import_article", str(path))
        Article.objects.update(publication_status=PublicationStatus.PUBLISHED)
        run("import_article", str(path))
        assert Article.objects.get().publication_status == PublicationStatus.PUBLISHED

    def test_a_new_import_is_a_draft(self, tmp_path):
        run("import_article", str(write(tmp_path, WELL_FORMED)))
        assert Article.objects.get().publication_status == PublicationStatus.DRAFT

    def test_another_article_in_the_same_format_is_imported_with_all_its_parts(self, tmp_path):
        run("import_article", str(write(tmp_path, WELL_FORMED)), "--language", "es")
        article = Article.objects.get()
        assert snapshot(article) == {
            "title": "Ana Pérez and Li Wei: Ports and rails",
            "slug": "ana-perez-and-li-wei-ports-and-rails",
            "publication_date": "2026-03-03",
            "body": "First paragraph about ports.\n\nSecond paragraph about rails.",
            "language": "es",
            "publisher": "Example Wire",
            "authors": [
                ("Ana Pérez", "Researchers at a university"),
                ("Li Wei", "Researchers at a university"),
            ],
            "keywords": ["ports", "rails"],
        }

    def test_a_headline_in_chinese_gets_a_stable_slug(self, tmp_path):
        content = WELL_FORMED.replace("Ana Pérez and Li Wei: Ports and rails", "中国与拉美")
        path = write(tmp_path, content)
        run("import_article", str(path))
        run("import_article", str(path))
        article = Article.objects.get()
        assert article.title == "中国与拉美"
        assert article.slug

    @pytest.mark.parametrize(
        ("content", "problem"),
        [
            ("", "empty"),
            ("   \n\n  \n", "empty"),
            (b"\xff\xfe\x00H\x00i", "binary"),
            (
                "Headline\nMarch 3 , 2026\nBy A | B\nBody\nFrom X, 2026-3-3\n".encode("utf-16"),
                "binary",
            ),
            (WELL_FORMED.encode("latin-1"), "not UTF-8"),
            ("Headline\nBy A\nBody\n", "too short"),
            (WELL_FORMED.replace("March 3 , 2026", "Someday 2026"), "expected the date"),
            (WELL_FORMED.replace("March 3 , 2026", "February 30 , 2026"), "day is out of range"),
            (WELL_FORMED.replace("By Ana Pérez and Li Wei |", "Ana Pérez and Li Wei |"), "byline"),
            (WELL_FORMED.replace("From Example Wire, 2026-3-3", "Example Wire"), "“From"),
            (WELL_FORMED.replace("Keyword ports, rails", "ports, rails"), "Keyword"),
            (WELL_FORMED.replace("2026-3-3", "2026-3-4"), "dates it 2026-03-03"),
            (WELL_FORMED.replace("Ports and rails", "P" * 400), "title"),
        ],
    )
    def test_a_malformed_file_is_refused_naming_the_problem_and_writes_nothing(
        self, tmp_path, content, problem
    ):
        path = write(tmp_path, content)
        with pytest.raises(CommandError) as caught:
            run("import_article", str(path))
        assert problem in str(caught.value)
        assert str(path) in str(caught.value)
        assert not Article.objects.exists()
        assert not Actor.objects.exists()
        assert not Person.objects.exists()
        assert not Keyword.objects.exists()

    def test_a_missing_file_is_refused(self, tmp_path):
        with pytest.raises(CommandError, match="no such file"):
            run("import_article", str(tmp_path / "missing.txt"))

    def test_a_directory_is_refused(self, tmp_path):
        with pytest.raises(CommandError, match="no such file"):
            run("import_article", str(tmp_path))

    def test_the_command_exits_non_zero_on_bad_input(self, tmp_path):
        result = subprocess.run(
            [sys.executable, "manage.py", "import_article", str(write(tmp_path, ""))],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": ""},
            check=False,
        )
        assert result.returncode != 0
        assert "the file is empty" in result.stderr


class TestLoadSeed:
    def test_loads_the_seed_into_an_empty_database(self):
        output = run("load_seed")
        assert "Loaded the seed" in output
        assert Article.objects.published().count() == 1
        assert FocusArea.objects.published().count() == 5
        assert Commitment.objects.published().count() == Commitment.objects.count() > 0

    def test_running_it_twice_neither_fails_nor_duplicates(self):
        run("load_seed")
        counts = Article.objects.count(), Commitment.objects.count(), Person.objects.count()
        output = run("load_seed")
        assert "already has content" in output
        assert (Article.objects.count(), Commitment.objects.count(), Person.objects.count()) == (
            counts
        )

    def test_every_seed_record_starts_its_history(self):
        run("load_seed")
        for record in [*Article.objects.all(), *Commitment.objects.all(), *FocusArea.objects.all()]:
            assert Version.objects.get_for_object(record).get().revision.get_comment() == (
                "Loaded from the seed"
            )

    def test_editors_changes_survive_a_second_run(self):
        run("load_seed")
        Commitment.objects.filter(kind="credit_line").update(title="Edited by an editor")
        run("load_seed")
        assert Commitment.objects.get(kind="credit_line").title == "Edited by an editor"


class TestEnsureLocalEditor:
    @pytest.fixture(autouse=True)
    def local_checkout(self, settings, tmp_path):
        settings.DEBUG = True
        settings.BASE_DIR = tmp_path
        return tmp_path

    def test_creates_the_editor_and_prints_a_generated_password(self, local_checkout):
        output = run("ensure_local_editor")
        password = (local_checkout / ".local-editor-password").read_text()
        assert len(password) >= 16
        assert password in output
        user = get_user_model().objects.get(username="editor")
        assert user.is_staff
        assert user.check_password(password)

    def test_a_second_run_keeps_the_account_and_its_password(self, local_checkout):
        first = run("ensure_local_editor")
        second = run("ensure_local_editor")
        assert first == second
        assert get_user_model().objects.count() == 1

    def test_a_changed_password_is_not_printed(self, local_checkout):
        run("ensure_local_editor")
        user = get_user_model().objects.get(username="editor")
        user.set_password("a-new-secret-the-owner-chose")
        user.save()
        output = run("ensure_local_editor")
        assert "changepassword editor" in output
        assert "a-new-secret" not in output

    def test_refuses_to_run_without_debug(self, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError, match="DEBUG"):
            run("ensure_local_editor")
        assert not get_user_model().objects.exists()
