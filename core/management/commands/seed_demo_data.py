from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from core.demo import demo_seeders


class Command(BaseCommand):
    help = "Load demo data for every domain (idempotent: running it again changes nothing)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load it even with DEBUG off (it creates accounts with known passwords).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo accounts have published passwords: never on a production instance by accident.
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to load demo data with DEBUG off: it creates accounts with known "
                "passwords. For a demo run `DEBUG=true python manage.py seed_demo_data`, or pass "
                "--force."
            )
        seeders = list(demo_seeders())
        notes: list[str] = []
        with tqdm(seeders, desc="demo data", unit="app", file=self.stderr._out) as bar:
            for app_label, seed in bar:
                bar.set_postfix_str(app_label)
                with transaction.atomic():
                    notes.extend(seed(stdout=self.stdout) or [])
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        for line in notes:
            self.stdout.write(line)
