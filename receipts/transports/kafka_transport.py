"""Kafka transport (confluent-kafka): one message per receipt, keyed by `transaction_id`.

The consumer commits offsets by hand, only after a batch is counted and committed in the
database. A consumer that dies in between leaves the offsets where they were, so the next one
in the group gets the same events again and counts nothing twice (counting is idempotent).
"""

import json
import logging
import os
import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings
from django.db import close_old_connections

from receipts import journal
from receipts.models import Channel, DeadLetter
from receipts.services.consumption import ConsumeResult, consume_events

logger = logging.getLogger(__name__)

# How long a request waits for the broker after its commit. Beyond it the answer goes out
# anyway: librdkafka keeps retrying, and the hourly sweeper resends what never got counted.
FLUSH_TIMEOUT_SECONDS = 2
SESSION_TIMEOUT_MS = 6000  # the first group join waits about this long on a fresh group
RETRY_BACKOFF_SECONDS = 2

_producer: Producer | None = None
_producer_key: tuple | None = None
_producer_lock = threading.Lock()


def get_producer() -> Producer:
    """One producer per process (and per bootstrap setting); recreated after a fork."""
    global _producer, _producer_key
    key = (os.getpid(), settings.KAFKA_BOOTSTRAP_SERVERS)
    with _producer_lock:
        if _producer is None or _producer_key != key:
            _producer = Producer(
                {
                    "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
                    "client.id": f"receipts-producer-{os.getpid()}",
                    "acks": "all",
                    "linger.ms": 5,
                    "message.timeout.ms": 30000,
                }
            )
            _producer_key = key
        return _producer


def close_producer() -> None:
    """Deliver what is queued and drop the process' producer (tests, shutdown)."""
    global _producer, _producer_key
    with _producer_lock:
        if _producer is not None and _producer.flush(FLUSH_TIMEOUT_SECONDS):
            # Undeliverable now (broker down): drop them, the hourly sweeper resends.
            _producer.purge()
            _producer.flush(0)
        _producer, _producer_key = None, None


def ensure_topic(*, bootstrap_servers: str, topic: str, partitions: int = 3) -> bool:
    """Create the topic if the broker lacks it; True if it was created."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    if topic in admin.list_topics(timeout=10).topics:
        return False
    future = admin.create_topics([NewTopic(topic, num_partitions=partitions)])[topic]
    try:
        future.result(15)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
        return False
    return True


def publish(events: list[dict]) -> None:
    producer = get_producer()
    failures: list[KafkaError] = []

    def delivered(err, _msg) -> None:
        if err is not None:
            failures.append(err)

    for event in events:
        value = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        while True:
            try:
                producer.produce(
                    settings.KAFKA_RECEIPTS_TOPIC,
                    key=event["transaction_id"].encode(),
                    value=value,
                    on_delivery=delivered,
                )
                break
            except BufferError:  # local queue full: let deliveries drain, then retry
                producer.poll(0.1)
    remaining = producer.flush(FLUSH_TIMEOUT_SECONDS)
    if failures or remaining:
        raise KafkaException(
            f"{len(failures)} receipt event(s) failed and {remaining} are still queued: "
            f"{failures[:1]}"
        )


def decode(message: Message) -> dict | None:
    value = message.value()
    if value is None:  # a tombstone: no receipt in it
        return None
    try:
        event = json.loads(value)
    except (TypeError, ValueError):
        return None
    return event if isinstance(event, dict) else None


class ReceiptStreamConsumer:
    """A member of KAFKA_CONSUMER_GROUP reading KAFKA_RECEIPTS_TOPIC in batches."""

    def __init__(
        self,
        *,
        bootstrap_servers: str | None = None,
        topic: str | None = None,
        group: str | None = None,
        batch_size: int = 500,
        session_timeout_ms: int = SESSION_TIMEOUT_MS,
    ):
        self.topic = topic or settings.KAFKA_RECEIPTS_TOPIC
        self.batch_size = batch_size
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers or settings.KAFKA_BOOTSTRAP_SERVERS,
                "group.id": group or settings.KAFKA_CONSUMER_GROUP,
                "client.id": f"receipts-consumer-{os.getpid()}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": session_timeout_ms,
                "heartbeat.interval.ms": max(500, session_timeout_ms // 3),
            }
        )
        self.consumer.subscribe([self.topic])

    def poll_batch(self, timeout: float = 1.0) -> list[Message]:
        messages = self.consumer.consume(num_messages=self.batch_size, timeout=timeout)
        good = []
        for message in messages:
            error = message.error()
            if error is None:
                good.append(message)
            elif error.code() != KafkaError._PARTITION_EOF:
                logger.error("Kafka consumer error: %s", error)
        return good

    def handle(self, messages: list[Message]) -> ConsumeResult:
        """Count the events of a batch (idempotent); undecodable messages go to dead letters."""
        events, malformed = [], []
        for message in messages:
            event = decode(message)
            if event is None:
                malformed.append(message)
            else:
                events.append(event)
        if malformed:
            _dead_letter_malformed(malformed)
        return consume_events(events=events, channel=Channel.STREAM)

    def commit(self) -> None:
        """Commit the offsets past everything handled so far (synchronously)."""
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:
                raise

    def rewind(self, messages: list[Message]) -> None:
        """Seek back to the first message of each partition so the batch is read again."""
        first: dict[tuple[str, int], int] = {}
        for message in messages:
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            if topic is None or partition is None or offset is None:
                continue  # only error events have no position, and poll_batch drops those
            key = (topic, partition)
            first[key] = min(first.get(key, offset), offset)
        for (topic, partition), offset in first.items():
            self.consumer.seek(TopicPartition(topic, partition, offset))

    def run(self, *, should_stop: Callable[[], bool], on_batch=None) -> None:
        while not should_stop():
            messages = self.poll_batch()
            if not messages:
                continue
            close_old_connections()
            try:
                result = self.handle(messages)
            except Exception:
                # Nothing was committed: read the batch again after a pause (DB restart, ...).
                logger.exception("Could not count %d receipt event(s); retrying", len(messages))
                self.rewind(messages)
                time.sleep(RETRY_BACKOFF_SECONDS)
                continue
            self.commit()
            if on_batch is not None:
                on_batch(result)

    def close(self) -> None:
        self.consumer.close()


def _dead_letter_malformed(messages: list[Message]) -> None:
    letters = []
    for message in messages:
        raw = message.value() or b""
        letters.append(
            DeadLetter(
                channel=Channel.STREAM,
                reason=DeadLetter.Reason.MALFORMED,
                errors={
                    "non_field_errors": ["The message is not a JSON object."],
                    "kafka": [f"{message.topic()}[{message.partition()}]@{message.offset()}"],
                },
                payload={"raw": raw[:10000].decode("utf-8", errors="replace")},
            )
        )
    DeadLetter.objects.bulk_create(letters)
    journal.write(
        [
            journal.journal_record(
                event="stream", outcome=DeadLetter.Reason.MALFORMED, channel=Channel.STREAM
            )
            for _ in letters
        ]
    )
