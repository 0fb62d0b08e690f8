"""Money helpers: Decimal everywhere, rounded half-up to kopecks in one place."""

from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def round_money(value: Decimal | int | str) -> Decimal:
    """Round a monetary amount half-up to whole kopecks."""
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)
