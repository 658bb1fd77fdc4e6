from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policy.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Load an archive written by `manage.py backup` into this database and media storage. "
        "The database must be migrated to the backup's migrations and hold no content yet; the "
        "archive is checked first, and a restore that fails is undone entirely."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The archive, a .tar.gz file.")

    def handle(self, *args, path, **options):
        try:
            summary = restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {summary} from {path}."))
