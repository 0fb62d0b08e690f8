import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Consume receipt events from Kafka (RECEIPTS_TRANSPORT=kafka): join KAFKA_CONSUMER_GROUP "
        "on KAFKA_RECEIPTS_TOPIC, count each batch, then commit its offsets. Stops on "
        "SIGTERM/SIGINT after the batch in hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bootstrap-servers", default=settings.KAFKA_BOOTSTRAP_SERVERS)
        parser.add_argument("--topic", default=settings.KAFKA_RECEIPTS_TOPIC)
        parser.add_argument("--group", default=settings.KAFKA_CONSUMER_GROUP)
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--no-create-topic",
            action="store_true",
            help="Do not create the topic when the broker lacks it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from receipts.transports.kafka_transport import ReceiptStreamConsumer, ensure_topic

        stopping = False

        def stop(signum: int, _frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        def report(result: Any) -> None:
            self.stdout.write(
                f"counted={len(result.counted)} duplicates={len(result.duplicates)} "
                f"refused={len(result.refused)}"
            )

        if not options["no_create_topic"] and ensure_topic(
            bootstrap_servers=options["bootstrap_servers"], topic=options["topic"]
        ):
            self.stdout.write(f"Created topic {options['topic']}")
        consumer = ReceiptStreamConsumer(
            bootstrap_servers=options["bootstrap_servers"],
            topic=options["topic"],
            group=options["group"],
            batch_size=options["batch_size"],
        )
        self.stdout.write(
            f"Consuming {options['topic']} as {options['group']} "
            f"from {options['bootstrap_servers']}"
        )
        self.stdout.flush()
        try:
            consumer.run(should_stop=lambda: stopping, on_batch=report)
        finally:
            consumer.close()
        self.stdout.write("Stopped.")
