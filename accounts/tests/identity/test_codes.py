"""The code rules at the service level, with explicit clocks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.identity import codes
from accounts.identity.errors import SignInThrottled
from accounts.models import SignInCode

PHONE = "+79991234567"


@pytest.fixture
def now():
    return timezone.now()


@pytest.mark.django_db
class TestIssue:
    def test_sms_code_has_four_digits_and_email_code_six(self, now):
        sms = codes.issue_code(channel="sms", destination=PHONE, now=now)
        mail = codes.issue_code(channel="email", destination="a@example.com", now=now)

        assert (len(sms.code), len(mail.code)) == (4, 6)
        assert sms.code[0] != "0"
        assert mail.code[0] != "0"

    def test_resend_is_refused_until_the_interval_passes(self, now, settings):
        settings.SIGNIN_CODE_RESEND_SECONDS = 60
        codes.issue_code(channel="sms", destination=PHONE, now=now)

        with pytest.raises(SignInThrottled) as refused:
            codes.issue_code(channel="sms", destination=PHONE, now=now + timedelta(seconds=45))
        codes.issue_code(channel="sms", destination=PHONE, now=now + timedelta(seconds=60))

        assert refused.value.retry_after == 15
        assert SignInCode.objects.get().issued_at == now + timedelta(seconds=60)

    def test_channels_do_not_share_a_row(self, now):
        codes.issue_code(channel="sms", destination="x", now=now)
        codes.issue_code(channel="email", destination="x", now=now)

        assert SignInCode.objects.count() == 2


@pytest.mark.django_db
class TestConsume:
    def test_code_is_valid_until_just_before_expiry(self, now, settings):
        settings.SIGNIN_CODE_TTL_SECONDS = 300
        issued = codes.issue_code(channel="sms", destination=PHONE, now=now)

        late = codes.consume_code(
            channel="sms", destination=PHONE, code=issued.code, now=now + timedelta(seconds=300)
        )
        in_time = codes.consume_code(
            channel="sms", destination=PHONE, code=issued.code, now=now + timedelta(seconds=299)
        )

        assert late.code == "code_expired"
        assert in_time is None

    def test_attempt_limit_comes_from_settings(self, now, settings):
        settings.SIGNIN_CODE_MAX_ATTEMPTS = 2
        issued = codes.issue_code(channel="sms", destination=PHONE, now=now)
        wrong = "1111" if issued.code != "1111" else "2222"

        results = [
            codes.consume_code(channel="sms", destination=PHONE, code=c, now=now)
            for c in (wrong, wrong, issued.code)
        ]

        assert [r.code for r in results] == ["code_invalid", "code_burned", "code_burned"]

    def test_code_is_bound_to_its_destination(self, now):
        issued = codes.issue_code(channel="sms", destination=PHONE, now=now)
        other = SignInCode.objects.create(
            channel="sms",
            destination="+79990000000",
            code_hash=SignInCode.objects.get().code_hash,  # same digest copied to another row
            issued_at=now,
            expires_at=now + timedelta(minutes=5),
        )

        result = codes.consume_code(
            channel="sms", destination=other.destination, code=issued.code, now=now
        )

        assert result.code == "code_invalid"
