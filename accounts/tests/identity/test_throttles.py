"""Per-IP and per-account sign-in throttles answer 429 with Retry-After and change nothing."""

import pytest

from accounts.models import SignInCode, User
from accounts.tests.identity.factories import UserFactory


def _post(client, path: str, body: dict, ip: str = "10.0.0.1"):
    return client.post(path, body, format="json", REMOTE_ADDR=ip)


@pytest.mark.django_db
class TestPerIp:
    def test_login_is_limited_per_ip(self, api_client, sms_outbox, low_throttle_rates):
        low_throttle_rates(ip="3/min")
        answers = [_post(api_client, "/api/login/", {"phone": f"+7999000000{i}"}) for i in range(4)]

        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert 0 < int(answers[-1]["Retry-After"]) <= 60
        assert answers[-1].data["code"] == "throttled"
        assert SignInCode.objects.count() == 3

    def test_other_ips_are_not_affected(self, api_client, sms_outbox, low_throttle_rates):
        low_throttle_rates(ip="1/min")
        _post(api_client, "/api/login/", {"phone": "+79990000001"}, ip="10.0.0.1")

        response = _post(api_client, "/api/login/", {"phone": "+79990000002"}, ip="10.0.0.2")

        assert response.status_code == 200

    def test_each_endpoint_counts_separately(self, api_client, sms_outbox, low_throttle_rates):
        low_throttle_rates(ip="1/min")
        _post(api_client, "/api/login/", {"phone": "+79990000001"})

        response = _post(api_client, "/api/verify/", {"phone": "+79990000001", "token": "1234"})

        assert response.status_code == 400  # checked, not throttled

    def test_registration_is_limited_per_ip(self, api_client, low_throttle_rates):
        low_throttle_rates(ip="1/min")
        strong = "correct-horse-battery-staple"
        _post(
            api_client,
            "/auth/registration/",
            {"username": "one", "password1": strong, "password2": strong},
        )

        response = _post(
            api_client,
            "/auth/registration/",
            {"username": "two", "password1": strong, "password2": strong},
        )

        assert response.status_code == 429
        assert not User.objects.filter(username="two").exists()


@pytest.mark.django_db
class TestPerAccount:
    def test_verify_is_limited_per_phone_across_ips_and_spellings(
        self, api_client, send_phone_code, low_throttle_rates
    ):
        code = send_phone_code("+79991234567")
        low_throttle_rates(account="2/min")
        wrong = "1111" if code != "1111" else "2222"
        spellings = ["+79991234567", "89991234567", "+7 (999) 123-45-67"]
        answers = [
            _post(api_client, "/api/verify/", {"phone": p, "token": wrong}, ip=f"10.0.0.{i}")
            for i, p in enumerate(spellings)
        ]

        assert [a.status_code for a in answers] == [400, 400, 429]
        assert "Retry-After" in answers[-1]
        assert SignInCode.objects.get().attempts == 2  # the throttled try was not counted

    def test_password_login_is_limited_per_username(self, api_client, low_throttle_rates):
        UserFactory(username="victim", password="correct-horse-battery-staple")
        low_throttle_rates(account="3/min")
        answers = [
            _post(
                api_client,
                "/auth/login/",
                {"username": "Victim" if i % 2 else "victim", "password": f"guess{i}"},
                ip=f"10.0.1.{i}",
            )
            for i in range(4)
        ]

        right = _post(
            api_client,
            "/auth/login/",
            {"username": "victim", "password": "correct-horse-battery-staple"},
            ip="10.0.2.1",
        )

        assert [a.status_code for a in answers] == [400, 400, 400, 429]
        assert right.status_code == 429
        assert int(right["Retry-After"]) > 0

    def test_email_code_is_limited_per_address(self, api_client, eager_celery, low_throttle_rates):
        low_throttle_rates(account="1/min")
        _post(api_client, "/api/v1/auth/token/", {"email": "a@example.com", "confirmation_code": 1})

        response = _post(
            api_client,
            "/api/v1/auth/token/",
            {"email": "A@Example.com", "confirmation_code": "123456"},
            ip="10.9.9.9",
        )

        assert response.status_code == 429
