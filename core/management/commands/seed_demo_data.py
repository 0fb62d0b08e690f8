from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from core.demo import demo_seeders


class Command(BaseCommand):
    help = "Load demo data for every domain (idempotent: running it again changes nothing)."

    def handle(self, *args, **options):
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
