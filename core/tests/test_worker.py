import uuid

import pytest

from core.models import WorkerPing
from core.tasks import ping
from core.testing import celery_worker, wait_until


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_executes_task_and_writes_to_database():
    marker = uuid.uuid4().hex
    with celery_worker():
        ping.delay(marker)
        wait_until(lambda: WorkerPing.objects.filter(marker=marker).exists(), timeout=30)
    assert WorkerPing.objects.get(marker=marker).marker == marker
