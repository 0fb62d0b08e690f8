"""The hour a moment falls in: the unit of the receipts' rollups and analytics."""

from datetime import datetime

from django.utils import timezone


def hour_of(moment: datetime) -> datetime:
    """Start of the hour `moment` falls in, in the configured time zone."""
    local = moment.astimezone(timezone.get_current_timezone())
    return local.replace(minute=0, second=0, microsecond=0)
