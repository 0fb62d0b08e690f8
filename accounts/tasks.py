"""The accounts app's Celery tasks, one module per part: Celery's autodiscovery imports this
module, which registers the tasks of identity (code delivery, clean-up) and of balances
(exchange rates, the nightly ledger check). Their schedule is CELERY_BEAT_SCHEDULE in
config/settings.py."""

from accounts.balances import tasks as balances
from accounts.identity import tasks as identity

__all__ = ["balances", "identity"]
