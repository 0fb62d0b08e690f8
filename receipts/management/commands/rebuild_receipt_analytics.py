from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from receipts.services.rollups import rebuild_rollups


def moment(value: str) -> datetime:
    parsed = parse_datetime(value if len(value) > 10 else f"{value}T00:00")
    if parsed is None:
        raise CommandError(f"Not an ISO 8601 date or datetime: {value!r}")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(BaseCommand):
    help = (
        "Recompute the hourly receipt analytics from the counted purchases for the hours in "
        "[--since, --until). Safe to rerun; dates without an offset are in TIME_ZONE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="ISO 8601 date or datetime")
        parser.add_argument("--until", help="ISO 8601 date or datetime (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = moment(options["since"])
        until = moment(options["until"]) if options["until"] else None
        if until is not None and until <= since:
            raise CommandError("--until must be later than --since")
        result = rebuild_rollups(since=since, until=until)
        self.stdout.write(
            f"Rebuilt {result.since.isoformat()} .. {result.until.isoformat()}: "
            f"{result.place_hours} place-hours, {result.category_hours} category-hours "
            f"in {result.seconds:.2f}s"
        )
