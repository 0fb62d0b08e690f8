"""Receipt validation and its canonical form.

One validator serves every way a receipt comes in (`/api/checks/`, the bulk endpoint,
`/api/add_checks/`, stream events). It is plain Python rather than a DRF serializer because
the bulk endpoint validates up to 1,000 nested receipts per request and a nested serializer
costs ~10x more per receipt; the DRF serializers in `serializers.py` describe the same shape
for the OpenAPI schema. Errors come out shaped like DRF's (`{field: [message]}`, items as a
list with `{}` for the good ones), so the API's error format does not change.

The canonical form (amounts as 2-place strings, timestamp in UTC, unknown fields dropped) is
what the stream carries and what the fingerprint hashes: a retry that writes `10.99` instead
of `"10.990"` is the same receipt.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.money import KOPECK, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

# The API's example receipt: total_amount is the sum of the items (2 x 10.99 + 5.49 = 27.47); tips
# come on top and are not part of it.
TOTAL_TOLERANCE = Decimal("0.01")
MAX_ITEMS = 1000
MAX_QUANTITY = 1_000_000
STRING_LIMITS = {
    "transaction_id": 100,
    "payment_method": 32,
    "place_id": 64,
    "place_name": 255,
    "product_id": 100,
    "category": 100,
}
MONEY_LIMIT = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)
ZERO = Decimal("0.00")
# One encoder for all: json.dumps() with options builds a new encoder per call.
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
REQUIRED = "This field is required."
FINGERPRINT_FIELDS = (
    "transaction_id",
    "timestamp",
    "total_amount",
    "nds_amount",
    "tips_amount",
    "payment_method",
    "place_id",
    "place_name",
)


@dataclass(frozen=True, slots=True)
class CleanItem:
    product_id: str
    quantity: int
    price: Decimal
    category: str


@dataclass(frozen=True, slots=True)
class CleanReceipt:
    transaction_id: str
    timestamp: datetime
    items: tuple[CleanItem, ...]
    total_amount: Decimal
    nds_amount: Decimal
    tips_amount: Decimal
    payment_method: str
    place_id: str
    place_name: str

    def canonical(self) -> dict:
        """The JSON-safe form the stream carries and the fingerprint hashes."""
        return {
            "transaction_id": self.transaction_id,
            "timestamp": self.timestamp.astimezone(UTC).isoformat(),
            "items": [
                {
                    "product_id": item.product_id,
                    "quantity": item.quantity,
                    "price": str(item.price),
                    "category": item.category,
                }
                for item in self.items
            ],
            "total_amount": str(self.total_amount),
            "nds_amount": str(self.nds_amount),
            "tips_amount": str(self.tips_amount),
            "payment_method": self.payment_method,
            "place_id": self.place_id,
            "place_name": self.place_name,
        }

    def fingerprint(self) -> str:
        return fingerprint(self.canonical())

    def category_spend(self) -> dict[str, Decimal]:
        spend: dict[str, Decimal] = {}
        for item in self.items:
            spend[item.category] = spend.get(item.category, Decimal(0)) + item.quantity * item.price
        return spend


class ReceiptInvalid(Exception):
    """The receipt failed validation; `errors` is shaped like DRF's serializer errors."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


def fingerprint(canonical: dict) -> str:
    """sha256 of the canonical content (a flat JSON list: cheap, unambiguous, key-order free)."""
    flat = [canonical[name] for name in FINGERPRINT_FIELDS]
    flat.append(
        [
            [item["product_id"], item["quantity"], item["price"], item["category"]]
            for item in canonical["items"]
        ]
    )
    return hashlib.sha256(COMPACT_JSON.encode(flat).encode()).hexdigest()


def _missing(data: dict, name: str) -> str:
    return REQUIRED if name not in data else "This field may not be null."


def _string(data: dict, name: str, errors: dict) -> str:
    value = data.get(name)
    if value is None:
        errors[name] = [_missing(data, name)]
        return ""
    if not isinstance(value, str):
        errors[name] = ["Must be a string."]
        return ""
    value = value.strip()
    if not value:
        errors[name] = ["This field may not be blank."]
    elif "\x00" in value:  # PostgreSQL text cannot hold it
        errors[name] = ["Null characters are not allowed."]
    elif len(value) > STRING_LIMITS[name]:
        errors[name] = [f"Ensure this field has no more than {STRING_LIMITS[name]} characters."]
    return value


def _money(data: dict, name: str, errors: dict, *, required: bool = True) -> Decimal:
    if name not in data and not required:
        return ZERO
    value = data.get(name)
    if value is None:
        errors[name] = [_missing(data, name)]
        return ZERO
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors[name] = ["A valid number is required."]
        return ZERO
    try:
        # str() first: a JSON float 10.99 means the decimal 10.99, not its binary neighbour.
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        errors[name] = ["A valid number is required."]
        return ZERO
    if not number.is_finite():
        errors[name] = ["A valid number is required."]
        return ZERO
    # Only in range: quantize() of -1e30 to kopecks cannot be represented (InvalidOperation).
    rounded = number.quantize(KOPECK) if abs(number) < MONEY_LIMIT else number
    if number < 0:
        errors[name] = ["Ensure this value is greater than or equal to 0."]
    elif number >= MONEY_LIMIT:
        errors[name] = [f"Ensure this value is less than {MONEY_LIMIT}."]
    elif rounded != number:  # trailing zeros ("27.470") are fine
        errors[name] = [
            f"Ensure that there are no more than {MONEY_DECIMAL_PLACES} decimal places."
        ]
    else:
        return rounded
    return ZERO


def _timestamp(data: dict, errors: dict) -> datetime | None:
    value = data.get("timestamp")
    if value is None:
        errors["timestamp"] = [
            REQUIRED if "timestamp" not in data else "This field may not be null."
        ]
        return None
    parsed = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or len(value.strip()) < 16:  # a bare date is not a purchase time
        errors["timestamp"] = [
            "Datetime has wrong format. Use ISO 8601, e.g. 2024-02-07T12:34:56 or "
            "2024-02-07T12:34:56+03:00."
        ]
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # read in the configured time zone
    ahead = settings.RECEIPTS_MAX_FUTURE_SECONDS
    if parsed > timezone.now() + timedelta(seconds=ahead):
        # A receipt "from 2030" would keep naming its place until a newer one arrives.
        errors["timestamp"] = [f"May not be more than {ahead} seconds in the future."]
        return None
    return parsed


def _item(raw: object, errors: dict[str, Any]) -> CleanItem | None:
    if not isinstance(raw, dict):
        errors["non_field_errors"] = ["Each item must be an object."]
        return None
    product_id = _string(raw, "product_id", errors)
    category = _string(raw, "category", errors)
    quantity = raw.get("quantity")
    if quantity is None:
        errors["quantity"] = [_missing(raw, "quantity")]
    elif isinstance(quantity, bool) or not isinstance(quantity, int):
        errors["quantity"] = ["A valid integer is required."]
    elif quantity < 1:
        errors["quantity"] = ["Ensure this value is greater than or equal to 1."]
    elif quantity > MAX_QUANTITY:
        errors["quantity"] = [f"Ensure this value is less than or equal to {MAX_QUANTITY}."]
    price = _money(raw, "price", errors)
    if errors or quantity is None:  # (no quantity is always an error too)
        return None
    return CleanItem(product_id=product_id, quantity=quantity, price=price, category=category)


def validate_receipt(data: object) -> CleanReceipt:
    """Check one posted receipt; raise `ReceiptInvalid` saying which fields are wrong and why."""
    if not isinstance(data, dict):
        raise ReceiptInvalid({"non_field_errors": ["Expected a receipt object."]})
    errors: dict = {}
    transaction_id = _string(data, "transaction_id", errors)
    timestamp = _timestamp(data, errors)
    items: list[CleanItem] = []
    raw_items = data.get("items")
    if raw_items is None:
        errors["items"] = [_missing(data, "items")]
    elif not isinstance(raw_items, list):
        errors["items"] = ["Expected a list of items."]
    elif not raw_items:
        errors["items"] = ["A receipt needs at least one item."]
    elif len(raw_items) > MAX_ITEMS:
        errors["items"] = [f"Ensure this field has no more than {MAX_ITEMS} elements."]
    else:
        item_errors = []
        for raw in raw_items:
            one: dict = {}
            item = _item(raw, one)
            item_errors.append(one)
            if item is not None:
                items.append(item)
        if any(item_errors):
            errors["items"] = item_errors
    total_amount = _money(data, "total_amount", errors)
    nds_amount = _money(data, "nds_amount", errors)
    tips_amount = _money(data, "tips_amount", errors, required=False)
    payment_method = _string(data, "payment_method", errors)
    place_id = _string(data, "place_id", errors)
    place_name = _string(data, "place_name", errors)
    if not errors:
        items_sum = sum((item.quantity * item.price for item in items), Decimal("0.00"))
        if abs(items_sum - total_amount) > TOTAL_TOLERANCE:
            errors["total_amount"] = [
                f"total_amount {total_amount} does not match the sum of quantity x price "
                f"over the items, {items_sum} (tips are not part of total_amount)."
            ]
    if errors or timestamp is None:  # (no timestamp is always an error too)
        raise ReceiptInvalid(errors)
    return CleanReceipt(
        transaction_id=transaction_id,
        timestamp=timestamp,
        items=tuple(items),
        total_amount=total_amount,
        nds_amount=nds_amount,
        tips_amount=tips_amount,
        payment_method=payment_method,
        place_id=place_id,
        place_name=place_name,
    )


def transaction_id_of(data: object) -> str:
    """Best-effort transaction id of something that may not be a valid receipt."""
    if isinstance(data, dict) and isinstance(data.get("transaction_id"), str | int):
        return str(data["transaction_id"])[:255]
    return ""
