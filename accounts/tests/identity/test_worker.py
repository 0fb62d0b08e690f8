"""End to end with a real Celery worker process: the SMS leaves off the request path."""

import re

import pytest
from rest_framework.test import APIClient

from accounts.models import SignInCode, User
from core.testing import celery_worker, wait_until

PHONE = "+79991234567"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_writes_the_sms_file_and_the_code_signs_in(tmp_path):
    outbox = tmp_path / "sms"
    client = APIClient()
    with celery_worker(
        queues="celery", SMS_BACKEND="file", SMS_FILE_PATH=str(outbox), SMS_SEND_DELAY_SECONDS="1"
    ):
        response = client.post("/api/login/", {"phone": "8 999 123 45 67"})
        # The answer came before the worker's imitated 1 s gateway delay was over.
        assert response.status_code == 200
        assert not outbox.exists() or not list(outbox.glob("*.txt"))

        [message] = wait_until(lambda: list(outbox.glob("*.txt")), timeout=30)

    text = message.read_text()
    assert text.startswith(f"To: {PHONE}\n")
    code = re.search(r"code: (\d{4})\b", text).group(1)
    assert SignInCode.objects.get().sent_at is not None
    verify = client.post("/api/verify/", {"phone": PHONE, "token": code})
    assert verify.status_code == 200
    assert User.objects.get(phone=PHONE).auth_token.key == verify.data["token"]
