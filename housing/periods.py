"""Billing months as (year, month) pairs: bounds, neighbours and the 'not in the future' rule."""

import calendar
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

MIN_YEAR = 2000
MAX_YEAR = 2100


def month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def previous_month(year: int, month: int) -> tuple[int, int]:
    """January's previous month is December of the year before."""
    return (year - 1, 12) if month == 1 else (year, month - 1)


def period_index(year: int, month: int) -> int:
    return year * 12 + month


def current_month() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, today.month


def validate_month(year: int, month: int, *, allow_future: bool = False) -> None:
    """Refuse month 13, absurd years and (unless allowed) months that have not begun yet."""
    errors = {}
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors["year"] = [
            _("Year must be between %(min)s and %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}
        ]
    if not 1 <= month <= 12:
        errors["month"] = [_("Month must be between 1 and 12.")]
    if (
        not errors
        and not allow_future
        and period_index(year, month) > period_index(*current_month())
    ):
        errors["month"] = [_("%(period)s is in the future.") % {"period": f"{year}-{month:02d}"}]
    if errors:
        raise ValidationError(errors)
