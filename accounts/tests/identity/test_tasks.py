"""Delivering sign-in codes: idempotent, never a stale code, retried on gateway errors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.identity import codes
from accounts.identity.tasks import send_signin_code
from accounts.models import SignInCode
from accounts.tests.identity.test_sms import _Gateway

PHONE = "+79991234567"


@pytest.fixture
def issued(sms_outbox) -> codes.IssuedCode:
    return codes.issue_code(channel="sms", destination=PHONE)


@pytest.mark.django_db
class TestDeliverCode:
    def test_sends_once_even_when_run_twice(self, issued, sms_outbox):
        first = send_signin_code.apply(args=[issued.code_id, issued.code]).get()
        second = send_signin_code.apply(args=[issued.code_id, issued.code]).get()

        assert (first, second) == (True, False)
        assert len(sms_outbox.messages(PHONE)) == 1
        assert SignInCode.objects.get().sent_at is not None

    def test_replaced_code_is_not_sent(self, issued, sms_outbox):
        newer = issued
        while newer.code == issued.code:  # a new code may repeat the old one by chance
            SignInCode.objects.update(issued_at=timezone.now() - timedelta(minutes=2))
            newer = codes.issue_code(channel="sms", destination=PHONE)

        stale = codes.deliver_code(code_id=issued.code_id, code=issued.code)
        fresh = codes.deliver_code(code_id=newer.code_id, code=newer.code)

        assert (stale, fresh) == (False, True)
        assert len(sms_outbox.messages()) == 1
        assert sms_outbox.last_code(PHONE) == newer.code

    def test_expired_code_is_not_sent(self, issued, sms_outbox):
        SignInCode.objects.update(
            issued_at=timezone.now() - timedelta(minutes=10),
            expires_at=timezone.now() - timedelta(minutes=5),
        )

        assert codes.deliver_code(code_id=issued.code_id, code=issued.code) is False
        assert sms_outbox.messages() == []

    def test_unknown_row_is_ignored(self, sms_outbox):
        assert codes.deliver_code(code_id=987654, code="1234") is False

    def test_gateway_failure_releases_the_claim_and_the_task_retries(self, issued, settings):
        gateway = _Gateway([500, 200])
        try:
            settings.SMS_BACKEND = "http"
            settings.SMS_HTTP_URL = gateway.url

            result = send_signin_code.apply(args=[issued.code_id, issued.code])

            assert result.get() is True
            assert len(gateway.requests) == 2  # one refusal, then the retry went through
            assert f"code: {issued.code}" in gateway.requests[-1]["json"]["text"]
            assert SignInCode.objects.get().sent_at is not None
        finally:
            gateway.close()

    def test_email_code_goes_through_django_mail(self, mailoutbox, eager_celery):
        issued = codes.issue_code(channel="email", destination="a@example.com")

        codes.deliver_code(code_id=issued.code_id, code=issued.code)

        assert mailoutbox[0].to == ["a@example.com"]
        assert issued.code in mailoutbox[0].body


@pytest.mark.django_db
def test_purge_drops_only_codes_expired_more_than_a_day_ago(sms_outbox):
    from accounts.identity.tasks import purge_signin_codes

    codes.issue_code(channel="sms", destination="+79990000001")
    codes.issue_code(channel="sms", destination="+79990000002")
    long_ago = timezone.now() - timedelta(days=2)
    SignInCode.objects.filter(destination="+79990000001").update(
        issued_at=long_ago - timedelta(minutes=5), expires_at=long_ago
    )

    assert purge_signin_codes.apply().get() == 1
    assert list(SignInCode.objects.values_list("destination", flat=True)) == ["+79990000002"]
