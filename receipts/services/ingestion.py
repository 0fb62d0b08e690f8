"""The producer side: accept receipts once, journal every one, hand new ones to the stream."""

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from receipts import journal, sql
from receipts.models import DeadLetter, Receipt
from receipts.services.consumption import consume_events
from receipts.transports import publish
from receipts.validation import (
    COMPACT_JSON,
    CleanReceipt,
    ReceiptInvalid,
    fingerprint,
    transaction_id_of,
    validate_receipt,
)

logger = logging.getLogger(__name__)

MAX_BULK = 1000


class Outcome:
    CREATED = "created"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"


@dataclass
class IngestResult:
    index: int
    transaction_id: str
    outcome: str
    receipt_id: int | None = None
    errors: dict | None = None
    clean: CleanReceipt | None = field(default=None, repr=False)
    canonical: dict | None = field(default=None, repr=False)
    fingerprint: str = ""

    def validated(self) -> tuple[CleanReceipt, dict[str, Any]]:
        """The clean receipt and its canonical form: set on every receipt that passed
        validation (created, duplicate or conflict), never on an invalid or forbidden one."""
        if self.clean is None or self.canonical is None:
            raise ValueError(f"Receipt {self.transaction_id!r} did not pass validation.")
        return self.clean, self.canonical


def _receipt_row(result: IngestResult) -> tuple[object, ...]:
    clean, canonical = result.validated()
    return (
        clean.transaction_id,
        clean.timestamp,
        clean.place_id,
        clean.place_name,
        clean.payment_method,
        clean.total_amount,
        clean.nds_amount,
        clean.tips_amount,
        COMPACT_JSON.encode(canonical["items"]),
        result.fingerprint,
    )


def _insert_receipts(
    accepted: list[IngestResult], *, caller_id: int | None, channel: str
) -> dict[str, int]:
    """Insert new receipts, skipping known ids; return {transaction_id: id} of the rows written.

    (receipts.sql: one statement on PostgreSQL.)
    """
    if not accepted:
        return {}
    rows = [
        _receipt_row(result)
        # In one order for everyone: two requests sharing ids then never deadlock on them.
        for result in sorted(accepted, key=lambda result: result.transaction_id)
    ]
    return sql.insert_receipts(rows, channel=channel, caller_id=caller_id, now=timezone.now())


def ingest_receipts(
    *,
    payloads: list,
    caller=None,
    channel: str,
    count_now: bool = False,
    allowed_places: frozenset[str] | None = None,
):
    """Validate and store receipts; return one `IngestResult` per payload, in order.

    A `transaction_id` is accepted once: the same content again is a `duplicate` (nothing is
    counted again), other content a `conflict`. A receipt for a place outside `allowed_places`
    (None: any place) is `forbidden` and stored nowhere but the dead letters. Invalid,
    forbidden and conflicting receipts go to the dead-letter table; every receipt gets a
    journal line. New receipts are published to the stream after commit, or, with `count_now`
    (the consumer's direct entry point), counted in the same transaction.
    """
    results, accepted = _validate_all(payloads, allowed_places)
    caller_id = caller.pk if caller is not None and caller.is_authenticated else None
    with transaction.atomic():
        written = _insert_receipts(list(accepted.values()), caller_id=caller_id, channel=channel)
        _compare_with_stored(results, accepted, written)
        _dead_letters(results, payloads, caller_id=caller_id, channel=channel)
        fresh = [r.validated()[1] for r in results if r.outcome == Outcome.CREATED]
        if count_now:
            # Counting is idempotent, so a duplicate that the stream has not counted yet is
            # counted here rather than waited for.
            again = [r.validated()[1] for r in results if r.outcome == Outcome.DUPLICATE]
            consume_events(events=fresh + again, channel=channel)
        elif fresh:
            transaction.on_commit(lambda: _publish_safely(fresh))
    journal.write(
        [
            journal.journal_record(
                event="receipt",
                outcome=r.outcome,
                caller=caller,
                channel=channel,
                transaction_id=r.transaction_id,
                **({"errors": r.errors} if r.errors else {}),
                receipt=payloads[r.index],
            )
            for r in results
        ]
    )
    return results


def _validate_all(
    payloads: list, allowed_places: frozenset[str] | None = None
) -> tuple[list[IngestResult], dict[str, IngestResult]]:
    """Results in request order, and the first valid receipt of each transaction_id."""
    results: list[IngestResult] = []
    accepted: dict[str, IngestResult] = {}
    for index, payload in enumerate(payloads):
        try:
            clean = validate_receipt(payload)
        except ReceiptInvalid as exc:
            results.append(
                IngestResult(index, transaction_id_of(payload), Outcome.INVALID, errors=exc.errors)
            )
            continue
        if allowed_places is not None and clean.place_id not in allowed_places:
            # Checked before anything is stored: such a receipt renames and counts nothing.
            problem = f"This point of sale is not assigned to place {clean.place_id!r}."
            results.append(
                IngestResult(
                    index,
                    clean.transaction_id,
                    Outcome.FORBIDDEN,
                    errors={"place_id": [problem]},
                )
            )
            continue
        canonical = clean.canonical()
        result = IngestResult(
            index,
            clean.transaction_id,
            Outcome.CREATED,
            clean=clean,
            canonical=canonical,
            fingerprint=fingerprint(canonical),
        )
        first = accepted.get(clean.transaction_id)
        if first is None:
            accepted[clean.transaction_id] = result
        else:  # the same id twice in one request: judged against the first
            _judge(result, first.fingerprint)
        results.append(result)
    return results, accepted


def _judge(result: IngestResult, stored_fingerprint: str) -> None:
    if stored_fingerprint == result.fingerprint:
        result.outcome, result.errors = Outcome.DUPLICATE, None
    else:
        result.outcome = Outcome.CONFLICT
        result.errors = {
            "transaction_id": [
                f"A receipt with transaction_id {result.transaction_id!r} was already "
                "accepted with different content."
            ]
        }


def _compare_with_stored(results, accepted, written: dict[str, int]) -> None:
    """Set ids and outcomes: written now, or judged against the receipt stored earlier."""
    stored = Receipt.objects.filter(
        transaction_id__in=[tid for tid in accepted if tid not in written]
    ).values_list("transaction_id", "id", "fingerprint")
    earlier = {tid: (pk, fp) for tid, pk, fp in stored}
    for result in results:
        tid = result.transaction_id
        if result.outcome in (Outcome.INVALID, Outcome.FORBIDDEN):
            continue
        if tid in written:
            result.receipt_id = written[tid]
        elif tid in earlier:
            result.receipt_id, stored_fingerprint = earlier[tid]
            _judge(result, stored_fingerprint)


def _dead_letters(results, payloads, *, caller_id: int | None, channel: str) -> None:
    reasons = {
        Outcome.INVALID: DeadLetter.Reason.INVALID,
        Outcome.FORBIDDEN: DeadLetter.Reason.FORBIDDEN,
        Outcome.CONFLICT: DeadLetter.Reason.CONFLICT,
    }
    refused = [r for r in results if r.outcome in reasons]
    DeadLetter.objects.bulk_create(
        DeadLetter(
            channel=channel,
            reason=reasons[r.outcome],
            transaction_id=r.transaction_id,
            caller_id=caller_id,
            errors=r.errors or {},
            payload=payloads[r.index],
        )
        for r in refused
    )


def _publish_safely(events: list[dict]) -> None:
    # The receipt is committed by now: a broker outage must not turn the answer into a 500.
    # `republish_stranded` (run by the hourly job) sends whatever never got counted.

    try:
        publish(events)
    except Exception:
        logger.exception("Could not publish %d receipt event(s); the sweeper will", len(events))


def journal_refused_request(*, request, outcome: str, channel: str, detail: str) -> None:
    """Journal a request refused before its body was read (not signed in, not allowed)."""
    journal.write(
        [
            journal.journal_record(
                event="receipt",
                outcome=outcome,
                caller=getattr(request, "user", None),
                channel=channel,
                detail=detail,
            )
        ]
    )


def record_malformed_request(*, caller, channel: str, errors: dict, payload) -> None:
    """A request whose body is not a receipt (or list of them) at all: dead letter + journal."""
    caller_id = caller.pk if caller is not None and caller.is_authenticated else None
    DeadLetter.objects.create(
        channel=channel,
        reason=DeadLetter.Reason.MALFORMED,
        caller_id=caller_id,
        errors=errors,
        payload=payload if isinstance(payload, dict | list) else None,
    )
    journal.write(
        [
            journal.journal_record(
                event="receipt",
                outcome=Outcome.INVALID,
                caller=caller,
                channel=channel,
                errors=errors,
                receipt=payload,
            )
        ]
    )
