import logging

from celery import shared_task

from core.idempotency import purge_expired_keys

logger = logging.getLogger(__name__)


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    deleted = purge_expired_keys()
    logger.info("Purged %s expired idempotency keys", deleted)
    return deleted


@shared_task(name="core.ping")
def ping(marker: str) -> str:
    """Writes a marker row; lets tests and operators see that a worker really executes tasks."""
    from core.models import WorkerPing

    WorkerPing.objects.create(marker=marker)
    return marker
