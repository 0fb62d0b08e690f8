"""Phone + SMS code sign-in, the code rules, and the security tests around them."""

import re
from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token

from accounts.identity import codes
from accounts.models import SignInCode, User
from accounts.tests.identity.factories import PhoneUserFactory

PHONE = "+79991234567"


def _code_row(phone: str = PHONE) -> SignInCode:
    return SignInCode.objects.get(channel="sms", destination=phone)


def _age_code(*, phone: str = PHONE, seconds: int) -> None:
    """Pretend the current code was issued `seconds` ago (expiry moves with it)."""
    row = _code_row(phone)
    delta = timedelta(seconds=seconds)
    SignInCode.objects.filter(pk=row.pk).update(
        issued_at=row.issued_at - delta, expires_at=row.expires_at - delta
    )


def _wrong(code: str) -> str:
    return "1111" if code != "1111" else "2222"


@pytest.mark.django_db
class TestLogin:
    def test_sends_four_digit_code_to_the_phone_in_international_format(
        self, api_client, send_phone_code, sms_outbox
    ):
        code = send_phone_code("8 (999) 123-45-67")

        assert re.fullmatch(r"[1-9]\d{3}", code)
        [message] = sms_outbox.messages()
        assert message.startswith(f"To: {PHONE}\n")
        assert code in message

    def test_answers_the_normalised_phone_and_the_code_lifetime(
        self, api_client, django_capture_on_commit_callbacks, sms_outbox
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post("/api/login", {"phone": "+7 999 123 45 67"})

        assert response.status_code == 200
        assert response.data == {"phone": PHONE, "detail": "Code sent.", "expires_in": 300}

    def test_sms_is_sent_only_after_commit(
        self, api_client, django_capture_on_commit_callbacks, sms_outbox
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = api_client.post("/api/login/", {"phone": PHONE})

        assert response.status_code == 200
        assert len(callbacks) == 1
        assert sms_outbox.messages() == []

    @pytest.mark.parametrize("phone", ["", "12", "+7999", "hello", "+1 000 000 0000"])
    def test_bad_phone_is_refused_and_no_code_is_made(self, api_client, sms_outbox, phone):
        response = api_client.post("/api/login/", {"phone": phone}, format="json")

        assert response.status_code == 400
        assert "phone" in response.data
        assert not SignInCode.objects.exists()

    def test_bad_phone_says_why(self, api_client):
        response = api_client.post("/api/login/", {"phone": "+7999"}, format="json")

        assert response.data["code"] == "invalid_phone"
        assert response.data["detail"].startswith("phone: ")

    def test_malformed_json_is_bad_input_not_a_crash(self, api_client):
        response = api_client.post("/api/login/", data="{not json", content_type="application/json")

        assert response.status_code == 400
        assert response.data["code"] == "parse_error"
        assert not SignInCode.objects.exists()

    def test_missing_phone_is_refused(self, api_client):
        response = api_client.post("/api/login/", {}, format="json")

        assert response.status_code == 400
        assert response.data["code"] == "required"

    def test_new_code_within_a_minute_is_throttled_with_retry_after(
        self, api_client, send_phone_code
    ):
        send_phone_code(PHONE)
        before = _code_row().code_hash

        response = api_client.post("/api/login/", {"phone": PHONE})

        assert response.status_code == 429
        assert response.data["code"] == "code_resend_too_soon"
        assert 0 < int(response["Retry-After"]) <= 60
        assert _code_row().code_hash == before

    def test_new_code_after_a_minute_is_sent(self, send_phone_code, sms_outbox):
        send_phone_code(PHONE)
        _age_code(seconds=61)

        send_phone_code(PHONE)

        assert len(sms_outbox.messages(PHONE)) == 2


@pytest.mark.django_db
class TestVerify:
    def test_first_sign_in_creates_user_with_invite_code_and_answers_token(
        self, api_client, send_phone_code
    ):
        code = send_phone_code(PHONE)

        response = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert response.status_code == 200
        user = User.objects.get(phone=PHONE)
        assert set(response.data) == {"token"}
        assert user.auth_token.key == response.data["token"]
        assert re.fullmatch(r"[A-Z0-9]{6}", user.invite_code)
        assert not user.has_usable_password()

    def test_token_works_on_the_profile(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)
        token = api_client.post("/api/verify/", {"phone": PHONE, "token": code}).data["token"]

        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api_client.get("/api/profile/")

        assert response.status_code == 200
        assert response.data["phone"] == PHONE

    def test_code_as_json_number_is_accepted(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)

        response = api_client.post(
            "/api/verify/", {"phone": PHONE, "token": int(code)}, format="json"
        )

        assert response.status_code == 200

    def test_form_encoded_request_works(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)

        response = api_client.post(
            "/api/verify/", {"phone": PHONE, "token": code}, format="multipart"
        )

        assert response.status_code == 200

    def test_signing_in_again_keeps_the_user_and_the_invite_code(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)
        first = api_client.post("/api/verify/", {"phone": PHONE, "token": code}).data["token"]
        invite_code = User.objects.get(phone=PHONE).invite_code
        _age_code(seconds=61)

        code = send_phone_code("89991234567")
        second = api_client.post("/api/verify/", {"phone": "89991234567", "token": code})

        assert second.status_code == 200
        assert second.data["token"] == first
        assert User.objects.filter(phone=PHONE).count() == 1
        assert User.objects.get(phone=PHONE).invite_code == invite_code

    def test_existing_user_with_that_phone_signs_in_to_their_account(
        self, api_client, send_phone_code
    ):
        user = PhoneUserFactory(phone=PHONE)
        code = send_phone_code(PHONE)

        response = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert response.status_code == 200
        assert User.objects.get(auth_token__key=response.data["token"]) == user
        assert User.objects.count() == 1

    def test_code_works_only_once(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)
        api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        response = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert response.status_code == 400
        assert response.data["code"] == "code_not_requested"

    def test_code_never_requested_is_refused(self, api_client):
        response = api_client.post("/api/verify/", {"phone": PHONE, "token": "1234"})

        assert response.status_code == 400
        assert response.data["code"] == "code_not_requested"
        assert not User.objects.exists()

    @pytest.mark.parametrize("token", ["12", "12345", "abcd", True, None, 12.5, ["1234"]])
    def test_malformed_code_is_refused_without_counting_a_try(
        self, api_client, send_phone_code, token
    ):
        send_phone_code(PHONE)

        response = api_client.post("/api/verify/", {"phone": PHONE, "token": token}, format="json")

        assert response.status_code == 400
        assert "token" in response.data
        assert _code_row().attempts == 0


@pytest.mark.django_db
class TestCodeSecurity:
    def test_brute_force_stops_after_five_wrong_tries(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)
        answers = [
            api_client.post("/api/verify/", {"phone": PHONE, "token": _wrong(code)})
            for _ in range(5)
        ]

        right = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert [a.status_code for a in answers] == [400] * 5
        assert [a.data["code"] for a in answers] == ["code_invalid"] * 4 + ["code_burned"]
        assert answers[0].data["detail"] == "token: Wrong code; 4 tries left."
        assert right.status_code == 400
        assert right.data["code"] == "code_burned"
        assert _code_row().attempts == 5
        assert not User.objects.exists()

    def test_old_code_fails_after_a_new_one_is_sent(self, api_client, send_phone_code):
        old = send_phone_code(PHONE)
        _age_code(seconds=61)
        new = send_phone_code(PHONE)
        if new == old:  # one chance in 9000: the rule can only be seen with different codes
            _age_code(seconds=61)
            new = send_phone_code(PHONE)

        refused = api_client.post("/api/verify/", {"phone": PHONE, "token": old})
        accepted = api_client.post("/api/verify/", {"phone": PHONE, "token": new})

        assert refused.status_code == 400
        assert refused.data["code"] == "code_invalid"
        assert accepted.status_code == 200

    def test_new_code_resets_the_tries(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)
        for _ in range(5):
            api_client.post("/api/verify/", {"phone": PHONE, "token": _wrong(code)})
        _age_code(seconds=61)

        code = send_phone_code(PHONE)
        response = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert response.status_code == 200

    def test_expired_code_fails(self, api_client, send_phone_code):
        code = send_phone_code(PHONE)
        _age_code(seconds=301)

        response = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert response.status_code == 400
        assert response.data["code"] == "code_expired"
        assert not User.objects.exists()
        assert _code_row().used_at is None

    def test_code_of_another_phone_fails(self, api_client, send_phone_code, monkeypatch):
        # Two different codes, so that a success could only mean a code crossed phones.
        issued = iter(["4821", "7390"])
        monkeypatch.setattr(codes, "generate_code", lambda length: next(issued))
        code = send_phone_code(PHONE)
        other_phone_code = send_phone_code("+79990001122")
        assert (code, other_phone_code) == ("4821", "7390")

        response = api_client.post("/api/verify/", {"phone": "+79990001122", "token": code})
        mine = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert response.status_code == 400
        assert response.data["code"] == "code_invalid"
        assert _code_row("+79990001122").used_at is None
        assert not User.objects.filter(phone="+79990001122").exists()
        assert mine.status_code == 200

    def test_codes_are_stored_only_as_a_keyed_hash(self, send_phone_code):
        code = send_phone_code(PHONE)

        row = _code_row()

        assert code not in row.code_hash
        assert len(row.code_hash) == 64

    def test_disabled_account_cannot_sign_in(self, api_client, send_phone_code):
        PhoneUserFactory(phone=PHONE, is_active=False)
        code = send_phone_code(PHONE)

        response = api_client.post("/api/verify/", {"phone": PHONE, "token": code})

        assert response.status_code == 403
        assert response.data["code"] == "account_disabled"
        assert not Token.objects.filter(user__phone=PHONE).exists()
