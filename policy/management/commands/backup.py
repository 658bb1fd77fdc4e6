from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from policy.backup import BackupError, backup, default_archive_path


class Command(BaseCommand):
    help = (
        "Write the whole site to one .tar.gz archive: every record with its history, the users, "
        "groups and API tokens, the admin log, and every media file. `manage.py restore` loads "
        "it into an empty database. The archive holds password hashes and tokens: keep it safe."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="Where to write the archive (default: backups/puente-<UTC time>.tar.gz).",
        )

    def handle(self, *args, output, **options):
        path = output or default_archive_path()
        try:
            summary = backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {summary} to {path} ({filesizeformat(path.stat().st_size)})."
            )
        )
