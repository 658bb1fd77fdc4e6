import dataclasses
import time

from django.core.management.base import BaseCommand, CommandError

from policy.synthetic import DatasetRefused, DatasetSize, generate_dataset


class Command(BaseCommand):
    help = (
        "Generate a large synthetic dataset for benchmarks, the same for the same seed. Every "
        "record is marked synthetic (slugs begin with “synthetic-”). A database with real "
        "content is refused unless --alongside-real-content is given; nothing is written "
        "when anything fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=42, help="Same seed, same dataset (default: 42)."
        )
        for field in dataclasses.fields(DatasetSize):
            parser.add_argument(
                f"--{field.name.replace('_', '-')}",
                type=int,
                default=field.default,
                help=f"How many {field.name.replace('_', ' ')} (default: {field.default}).",
            )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the synthetic records already there first, and only those.",
        )
        parser.add_argument(
            "--alongside-real-content",
            action="store_true",
            help="Write into a database that holds real content too.",
        )

    def handle(self, *args, seed, replace, alongside_real_content, **options):
        size = DatasetSize(
            **{field.name: options[field.name] for field in dataclasses.fields(DatasetSize)}
        )
        started = time.monotonic()
        try:
            counts = generate_dataset(
                seed=seed,
                size=size,
                replace=replace,
                alongside_real_content=alongside_real_content,
            )
        except DatasetRefused as error:
            raise CommandError(str(error)) from None
        listed = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated the synthetic dataset of seed {seed} in "
                f"{time.monotonic() - started:.1f} s: {listed}."
            )
        )
