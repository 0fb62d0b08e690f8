import json
import multiprocessing

import pytest

from receipts.journal import Journal
from receipts.tests.factories import receipt_payload


@pytest.mark.django_db
def test_every_request_gets_a_journal_line_with_time_caller_and_outcome(
    pos_client, pos, read_journal
):
    pos_client.post("/api/checks/", receipt_payload("a"), format="json")
    pos_client.post("/api/checks/", receipt_payload("a"), format="json")
    pos_client.post("/api/checks/", receipt_payload("a", place_id="012"), format="json")
    pos_client.post("/api/checks/", receipt_payload("b", items=[]), format="json")
    pos_client.post("/api/add_checks/", receipt_payload("c"), format="json")

    lines = read_journal()

    assert [(line["transaction_id"], line["outcome"], line["channel"]) for line in lines] == [
        ("a", "created", "checks"),
        ("a", "duplicate", "checks"),
        ("a", "conflict", "checks"),
        ("b", "invalid", "checks"),
        ("c", "created", "add_checks"),
    ]
    assert all(line["caller"] == f"{pos.pk}:{pos.username}" for line in lines)
    assert all(line["time"].endswith("+00:00") for line in lines)
    assert lines[0]["receipt"] == receipt_payload("a")
    assert lines[3]["errors"] == {"items": ["A receipt needs at least one item."]}


def test_journal_rotates_by_size_and_keeps_the_given_number_of_files(tmp_path):
    path = tmp_path / "receipts.jsonl"
    journal = Journal(path, max_bytes=1000, backups=3)

    for n in range(100):
        journal.write([{"n": n, "pad": "x" * 80}])

    files = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock"))
    assert files == ["receipts.jsonl", "receipts.jsonl.1", "receipts.jsonl.2", "receipts.jsonl.3"]
    newest = [json.loads(line)["n"] for line in path.read_text().splitlines()]
    assert newest[-1] == 99
    previous = [
        json.loads(line)["n"] for line in (tmp_path / "receipts.jsonl.1").read_text().splitlines()
    ]
    assert previous[-1] + 1 == newest[0]  # no line lost across a rotation


def _write_many(path, worker: int) -> None:
    journal = Journal(path, max_bytes=20_000, backups=50)
    for n in range(300):
        journal.write([{"worker": worker, "n": n, "pad": "y" * 50}])


def test_processes_writing_at_once_lose_and_mangle_no_line(tmp_path):
    path = tmp_path / "receipts.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(path, w)) for w in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    lines = []
    for file in tmp_path.glob("receipts.jsonl*"):
        if not file.name.endswith(".lock"):
            lines += [json.loads(line) for line in file.read_text().splitlines()]
    assert sorted((line["worker"], line["n"]) for line in lines) == [
        (w, n) for w in range(3) for n in range(300)
    ]
