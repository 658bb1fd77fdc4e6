from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from policy.models import PUBLISHABLE_MODELS, Article, Commitment, FocusArea


class Command(BaseCommand):
    help = (
        "Load the seed content (fixtures/seed.json) into an empty database. A database that "
        "already has content is left alone, so editors' changes are never overwritten."
    )

    def handle(self, *args, **options):
        if any(model.objects.exists() for model in PUBLISHABLE_MODELS):
            self.stdout.write(
                "The database already has content; the seed is not loaded again. "
                "To reload it over the existing records: manage.py loaddata seed"
            )
            return
        with transaction.atomic():
            call_command("loaddata", "seed", verbosity=0)
            # Start each record's history, so editors can always return to the seed's version.
            call_command(
                "createinitialrevisions", "policy", comment="Loaded from the seed", verbosity=0
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded the seed: {Article.objects.count()} article, "
                f"{FocusArea.objects.count()} focus areas, "
                f"{Commitment.objects.count()} commitments."
            )
        )
