import re
from pathlib import Path

import pytest
from django.core.cache import cache

from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in Redis (this suite's own DB); start every test from zero.
    cache.clear()
    yield
    cache.clear()


class SmsOutbox:
    """Reads what the `file` SMS backend wrote."""

    def __init__(self, path: Path):
        self.path = path

    def messages(self, phone: str | None = None) -> list[str]:
        texts = [p.read_text() for p in sorted(self.path.glob("*.txt"))]
        return [t for t in texts if phone is None or f"To: {phone}\n" in t]

    def last_code(self, phone: str) -> str:
        messages = self.messages(phone)
        assert messages, f"no SMS to {phone}"
        found = re.search(r"code: (\d{4})\b", messages[-1])
        assert found, messages[-1]
        return found.group(1)


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def sms_outbox(settings, tmp_path, eager_celery) -> SmsOutbox:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.SMS_SEND_DELAY_SECONDS = 0
    (tmp_path / "sms").mkdir()
    return SmsOutbox(tmp_path / "sms")


@pytest.fixture
def send_phone_code(api_client, django_capture_on_commit_callbacks, sms_outbox):
    """POST /api/login/ and run the after-commit send; returns the code from the SMS file."""

    def send(phone: str) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post("/api/login/", {"phone": phone}, format="json")
        assert response.status_code == 200, response.data
        return sms_outbox.last_code(response.data["phone"])

    return send


@pytest.fixture
def send_email_code(api_client, django_capture_on_commit_callbacks, mailoutbox, eager_celery):
    def send(email: str) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post("/api/v1/auth/email/", {"email": email}, format="json")
        assert response.status_code == 200, response.data
        mine = [m for m in mailoutbox if m.to == [email.lower()]]
        assert mine, f"no mail to {email}"
        found = re.search(r"code: (\d{6})\b", mine[-1].body)
        assert found, mine[-1].body
        return found.group(1)

    return send


@pytest.fixture
def low_throttle_rates(settings):
    def set_rates(ip: str = "1000/min", account: str = "1000/min") -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"signin_ip": ip, "signin_account": account},
        }

    return set_rates
