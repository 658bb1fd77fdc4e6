from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from policy.importing import ArticleFormatError, decode, parse_article
from policy.models import ContentLanguage
from policy.services import import_article

MAX_FILE_SIZE = 5 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Import an article from a plain-text file in the seed format (headline, date line, "
        "byline, body paragraphs, “From <publisher>, <date>”, “Keyword …”). "
        "Importing the same headline again updates the article instead of duplicating it."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The article's text file, UTF-8.")
        parser.add_argument(
            "--language",
            choices=ContentLanguage.values,
            default=ContentLanguage.ENGLISH,
            help="The language the article is written in (default: en).",
        )

    def handle(self, *args, path, language, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > MAX_FILE_SIZE:
            raise CommandError(
                f"{path}: the file is larger than {MAX_FILE_SIZE // 1024 // 1024} MB"
            )
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: the file cannot be read ({error.strerror})") from None
        try:
            parsed = parse_article(decode(data))
            article, created = import_article(parsed=parsed, language=language)
        except ArticleFormatError as error:
            raise CommandError(f"{path}: {error}") from None
        except ValidationError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise CommandError(f"{path}: {problems}") from None
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} article “{article}” ({article.slug})."))
