"""Periodic jobs of the ledger (scheduled in CELERY_BEAT_SCHEDULE, config/settings.py)."""

import logging

from celery import shared_task

from accounts.balances import selectors, services
from accounts.balances.rates import RatesProviderError

logger = logging.getLogger(__name__)


@shared_task(
    name="accounts.refresh_exchange_rates",
    autoretry_for=(RatesProviderError,),
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    max_retries=5,
)
def refresh_exchange_rates() -> int:
    """Upsert today's rates; a provider outage retries with backoff, old rates stay in use."""
    return services.refresh_exchange_rates()


@shared_task(name="accounts.verify_ledger")
def verify_ledger() -> int:
    """Log every account whose balance differs from its ledger sum; returns how many."""
    found = selectors.ledger_discrepancies()
    for item in found:
        logger.error(
            "Ledger mismatch on account %s: balance %s, movements sum %s",
            item.account_id,
            item.balance,
            item.ledger_sum,
        )
    if not found:
        logger.info("Ledger verified: every balance equals its movements")
    return len(found)
