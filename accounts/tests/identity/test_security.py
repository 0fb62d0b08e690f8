"""Sign-in abuse and privilege boundaries: the client's address, daily caps per phone or
address, the admin login, throttles without Redis, who may change whose identifiers."""

import socket
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.utils import timezone

from accounts.identity import codes
from accounts.identity.errors import SignInThrottled
from accounts.models import SignInCode, SignInEvent, User
from accounts.tests.identity.factories import OperatorFactory, UserFactory

PHONE = "+79991234567"
STRONG = "correct-horse-battery-staple"


def _random_ip() -> str:
    n = uuid.uuid4().int
    return f"{n % 223 + 1}.{n // 256 % 256}.{n // 65536 % 256}.{n // 2**24 % 254 + 1}"


def _spoofing_headers() -> dict:
    """Every header a client might use to claim another address, random on each request."""
    ip = _random_ip()
    return {
        "HTTP_X_FORWARDED_FOR": ip,
        "HTTP_X_REAL_IP": ip,
        "HTTP_FORWARDED": f"for={ip}",
    }


def _wrong(code: str) -> str:
    return str(int(code) % 9000 + 1000) if code != "1000" else "1001"


# --- 1. the client's address ----------------------------------------------------------------


@pytest.mark.django_db
class TestClientAddress:
    def test_no_proxy_is_trusted_by_default(self, settings):
        assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/api/verify/", lambda i: {"phone": f"+7999000{i:04d}", "token": "1234"}),
            ("/api/v1/auth/email/", lambda i: {"email": f"u{i}@example.com"}),
        ],
    )
    def test_a_random_forwarded_for_per_request_still_gets_429(
        self, api_client, eager_celery, mailoutbox, low_throttle_rates, path, body
    ):
        low_throttle_rates(ip="5/min")
        answers = [
            api_client.post(
                path, body(i), format="json", REMOTE_ADDR="10.1.1.1", **_spoofing_headers()
            )
            for i in range(7)
        ]

        assert [a.status_code for a in answers][5:] == [429, 429]
        assert all(a.status_code != 429 for a in answers[:5])
        assert int(answers[-1]["Retry-After"]) > 0

    def test_behind_one_proxy_the_last_forwarded_address_is_the_client(
        self, api_client, low_throttle_rates, settings
    ):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        low_throttle_rates(ip="2/min")

        def verify(forwarded_for: str):
            return api_client.post(
                "/api/verify/",
                {"phone": PHONE, "token": "1234"},
                format="json",
                REMOTE_ADDR="127.0.0.1",  # the proxy
                HTTP_X_FORWARDED_FOR=forwarded_for,
            )

        # The client prepends anything it likes; the proxy appends the address it saw.
        spoofed = [verify(f"{_random_ip()}, 198.51.100.7") for _ in range(3)]
        other_client = verify("198.51.100.8")

        assert [a.status_code for a in spoofed] == [400, 400, 429]
        assert other_client.status_code == 400


# --- 2. sign-in codes per phone number / e-mail address ----------------------------------------


@pytest.fixture
def now():
    return timezone.now()


@pytest.mark.django_db
class TestDailyCapsService:
    def test_wrong_codes_across_codes_lock_the_phone_for_a_day(self, now, settings):
        settings.SIGNIN_WRONG_CODES_PER_DAY = 10
        settings.SIGNIN_CODE_MAX_ATTEMPTS = 5
        settings.SIGNIN_CODE_RESEND_SECONDS = 60
        clock = now
        for _ in range(2):  # two codes, each burned by 5 wrong tries: the old loophole
            issued = codes.issue_code(channel="sms", destination=PHONE, now=clock)
            for _ in range(5):
                codes.consume_code(
                    channel="sms", destination=PHONE, code=_wrong(issued.code), now=clock
                )
            clock += timedelta(seconds=61)

        with pytest.raises(SignInThrottled) as new_code:
            codes.issue_code(channel="sms", destination=PHONE, now=clock)
        with pytest.raises(SignInThrottled) as right_code:
            codes.consume_code(channel="sms", destination=PHONE, code=issued.code, now=clock)

        assert new_code.value.code == "signin_locked"
        assert right_code.value.code == "signin_locked"
        # Locked until the first wrong try is 24 hours old.
        assert right_code.value.retry_after == pytest.approx(86400 - 122, abs=1)
        assert SignInEvent.objects.filter(kind="wrong_code").count() == 10

    def test_the_lock_ends_when_the_window_passes(self, now, settings):
        settings.SIGNIN_WRONG_CODES_PER_DAY = 2
        issued = codes.issue_code(channel="email", destination="a@example.com", now=now)
        for _ in range(2):
            codes.consume_code(
                channel="email", destination="a@example.com", code=_wrong(issued.code), now=now
            )

        with pytest.raises(SignInThrottled):
            codes.issue_code(
                channel="email", destination="a@example.com", now=now + timedelta(hours=23)
            )
        later = codes.issue_code(
            channel="email", destination="a@example.com", now=now + timedelta(hours=24)
        )
        result = codes.consume_code(
            channel="email",
            destination="a@example.com",
            code=later.code,
            now=now + timedelta(hours=24),
        )

        assert result is None

    def test_codes_per_day_are_capped(self, now, settings):
        settings.SIGNIN_CODES_PER_DAY = 3
        settings.SIGNIN_CODE_RESEND_SECONDS = 60
        for n in range(3):
            codes.issue_code(channel="sms", destination=PHONE, now=now + timedelta(minutes=n))

        with pytest.raises(SignInThrottled) as refused:
            codes.issue_code(channel="sms", destination=PHONE, now=now + timedelta(minutes=3))
        codes.issue_code(channel="sms", destination=PHONE, now=now + timedelta(days=1, seconds=1))

        assert refused.value.code == "too_many_codes"
        assert refused.value.retry_after == pytest.approx(86400 - 180, abs=1)

    def test_other_destinations_are_not_affected(self, now, settings):
        settings.SIGNIN_CODES_PER_DAY = 1
        codes.issue_code(channel="sms", destination=PHONE, now=now)

        codes.issue_code(channel="sms", destination="+79990000000", now=now)
        codes.issue_code(channel="email", destination=PHONE, now=now)

        assert SignInCode.objects.count() == 3

    def test_purge_drops_events_older_than_a_day(self, now):
        codes.issue_code(channel="sms", destination=PHONE, now=now - timedelta(days=2))
        codes.issue_code(channel="sms", destination="+79990000000", now=now)

        codes.purge_stale_codes(now=now)

        assert list(SignInEvent.objects.values_list("destination", flat=True)) == ["+79990000000"]


@pytest.mark.django_db
class TestDailyCapsApi:
    def test_past_the_wrong_code_limit_even_the_right_code_is_429(
        self, api_client, send_phone_code, settings, low_throttle_rates
    ):
        low_throttle_rates()
        settings.SIGNIN_WRONG_CODES_PER_DAY = 3
        code = send_phone_code(PHONE)
        wrong = [
            api_client.post("/api/verify/", {"phone": PHONE, "token": _wrong(code)})
            for _ in range(3)
        ]

        right = api_client.post("/api/verify/", {"phone": PHONE, "token": code})
        new_code = api_client.post("/api/login/", {"phone": PHONE})

        assert [a.status_code for a in wrong] == [400, 400, 400]
        assert (right.status_code, right.data["code"]) == (429, "signin_locked")
        assert 86000 < int(right["Retry-After"]) <= 86400
        assert (new_code.status_code, new_code.data["code"]) == (429, "signin_locked")
        assert not User.objects.filter(phone=PHONE).exists()

    def test_codes_sent_to_one_address_are_capped_per_day(
        self, api_client, send_email_code, settings, low_throttle_rates
    ):
        low_throttle_rates()
        settings.SIGNIN_CODES_PER_DAY = 2
        settings.SIGNIN_CODE_RESEND_SECONDS = 0
        send_email_code("a@example.com")
        send_email_code("A@example.com")

        third = api_client.post("/api/v1/auth/email/", {"email": "a@example.com"})

        assert (third.status_code, third.data["code"]) == (429, "too_many_codes")
        assert int(third["Retry-After"]) > 86000


# --- 3. /admin/login/ -----------------------------------------------------------------------


def _admin_login(client: Client, username: str, password: str, ip: str = "10.2.2.2"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


@pytest.mark.django_db
class TestAdminLogin:
    def test_right_password_after_25_wrong_ones_does_not_sign_in(self):
        UserFactory(username="root", password=STRONG, is_staff=True, is_superuser=True)
        client = Client()
        wrong = [_admin_login(client, "root", f"guess-{n}") for n in range(25)]

        right = _admin_login(client, "root", STRONG)

        assert wrong[0].status_code == 200  # the form again, with an error
        assert wrong[-1].status_code == 429
        assert right.status_code == 429
        assert int(right["Retry-After"]) > 0
        assert right.json()["code"] == "throttled"
        assert "_auth_user_id" not in client.session
        assert client.get("/admin/").status_code == 302  # still sent to the login page

    def test_per_username_across_ips(self, low_throttle_rates):
        low_throttle_rates(account="3/min")
        UserFactory(username="root", password=STRONG, is_staff=True)
        client = Client()
        for n in range(3):
            _admin_login(client, "root", "wrong", ip=f"10.3.3.{n}")

        right = _admin_login(client, "Root", STRONG, ip="10.3.3.99")

        assert right.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_per_ip_across_usernames(self, low_throttle_rates):
        low_throttle_rates(ip="3/min")
        UserFactory(username="root", password=STRONG, is_staff=True)
        client = Client()
        for n in range(3):
            _admin_login(client, f"nobody{n}", "wrong", ip="10.4.4.4")

        right = _admin_login(client, "root", STRONG, ip="10.4.4.4")

        assert right.status_code == 429

    def test_a_right_password_within_the_limits_signs_in(self):
        UserFactory(username="root", password=STRONG, is_staff=True)
        client = Client()

        response = _admin_login(client, "root", STRONG)

        assert response.status_code == 302
        assert "_auth_user_id" in client.session


# --- 4. throttles without Redis -------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_away():
    # Not the `settings` fixture: the real cache must be back before `_fresh_throttles` clears it.
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=dead):
        yield


@pytest.mark.django_db
class TestRedisAway:
    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/api/login/", {"phone": PHONE}),
            ("/api/verify/", {"phone": PHONE, "token": "1234"}),
            ("/api/v1/auth/email/", {"email": "a@example.com"}),
            ("/auth/login/", {"username": "root", "password": STRONG}),
            ("/auth/registration/", {"username": "new", "password1": STRONG, "password2": STRONG}),
        ],
    )
    def test_sign_in_answers_503_json_and_changes_nothing(self, redis_away, path, body):
        UserFactory(username="root", password=STRONG)
        client = Client(raise_request_exception=False)

        response = client.post(path, body, content_type="application/json")

        assert response.status_code == 503
        assert response.json()["code"] == "throttle_unavailable"
        assert response.json()["detail"]
        assert not SignInCode.objects.exists()
        assert not User.objects.filter(username="new").exists()

    def test_admin_login_answers_503_json_and_does_not_sign_in(self, redis_away):
        UserFactory(username="root", password=STRONG, is_staff=True)
        client = Client(raise_request_exception=False)

        response = _admin_login(client, "root", STRONG)

        assert response.status_code == 503
        assert response.json()["code"] == "throttle_unavailable"
        assert "_auth_user_id" not in client.session


# --- 5. privilege boundaries ----------------------------------------------------------------


@pytest.mark.django_db
class TestIdentifierChanges:
    @pytest.mark.parametrize(
        "change",
        [{"email": "staff@example.com"}, {"username": "taken-over"}],
    )
    def test_staff_who_is_not_superuser_cannot_change_anothers_identifiers(
        self, change, client_for
    ):
        root = UserFactory(username="root", email="root@example.com", is_superuser=True)
        staff = OperatorFactory(is_superuser=False)

        response = client_for(staff).patch(f"/api/v1/users/{root.pk}/", change, format="json")

        assert response.status_code == 403
        assert response.data["code"] == "superuser_required"
        root.refresh_from_db()
        assert (root.username, root.email) == ("root", "root@example.com")

    def test_staff_cannot_change_another_staff_users_email_either(self, client_for):
        other = OperatorFactory(email="other@example.com", is_superuser=False)
        staff = OperatorFactory(is_superuser=False)

        response = client_for(staff).patch(
            f"/api/v1/users/{other.pk}/", {"email": "mine@example.com", "bio": "x"}, format="json"
        )

        assert response.status_code == 403
        other.refresh_from_db()
        assert (other.email, other.bio) == ("other@example.com", "")

    def test_staff_may_still_change_other_fields_and_their_own_identifiers(self, client_for):
        user = UserFactory(email="u@example.com")
        staff = OperatorFactory(is_superuser=False)
        client = client_for(staff)

        flags = client.patch(
            f"/api/v1/users/{user.pk}/",
            {"is_analyst": True, "email": "u@example.com"},  # unchanged e-mail: no change
            format="json",
        )
        own = client.patch(f"/api/v1/users/{staff.pk}/", {"email": "me@example.com"})

        assert (flags.status_code, own.status_code) == (200, 200)
        user.refresh_from_db()
        assert user.is_analyst

    def test_superuser_may_change_anothers_email(self, client_for):
        user = UserFactory(email="old@example.com")
        root = OperatorFactory(is_superuser=True)

        response = client_for(root).patch(
            f"/api/v1/users/{user.pk}/", {"email": "new@example.com"}, format="json"
        )

        assert response.status_code == 200
        user.refresh_from_db()
        assert user.email == "new@example.com"

    def test_admin_staff_sees_anothers_identifiers_read_only_and_no_password_form(self):
        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        staff = OperatorFactory(is_superuser=False)
        staff.user_permissions.add(*_user_admin_permissions())
        client = Client()
        client.force_login(staff)

        page = client.get(f"/admin/accounts/user/{root.pk}/change/")
        password = client.get(f"/admin/accounts/user/{root.pk}/password/")

        assert page.status_code == 200
        assert 'name="username"' not in page.content.decode()
        assert 'name="email"' not in page.content.decode()
        assert password.status_code == 403


def _user_admin_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(
        content_type__app_label="accounts", codename__in=["view_user", "change_user"]
    )


@pytest.mark.django_db
class TestUsernameCase:
    def test_patch_me_refuses_a_username_differing_only_in_case(self, client_for):
        UserFactory(username="operator")
        me = UserFactory(username="me")

        response = client_for(me).patch("/api/v1/users/me/", {"username": "Operator"})

        assert response.status_code == 400
        assert response.data["code"] == "unique"
        me.refresh_from_db()
        assert me.username == "me"

    def test_operator_patch_refuses_it_too(self, client_for):
        UserFactory(username="alice")
        bob = UserFactory(username="bob")
        root = OperatorFactory(is_superuser=True)

        response = client_for(root).patch(f"/api/v1/users/{bob.pk}/", {"username": "ALICE"})

        assert response.status_code == 400
        bob.refresh_from_db()
        assert bob.username == "bob"

    def test_changing_the_case_of_ones_own_username_is_fine(self, client_for):
        me = UserFactory(username="jane")

        response = client_for(me).patch("/api/v1/users/me/", {"username": "Jane"})

        assert response.status_code == 200
        me.refresh_from_db()
        assert me.username == "Jane"

    def test_the_database_refuses_it(self):
        UserFactory(username="alice")

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="ALICE")

    def test_createsuperuser_refuses_it(self, monkeypatch):
        UserFactory(username="alice")
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)

        with pytest.raises(CommandError, match="already taken"):
            call_command("createsuperuser", "--noinput", username="Alice", email="a@example.com")

        assert User.objects.filter(username__iexact="alice").count() == 1

    def test_admin_change_form_refuses_it(self):
        UserFactory(username="alice")
        bob = UserFactory(username="bob")
        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        client = Client()
        client.force_login(root)
        page = client.get(f"/admin/accounts/user/{bob.pk}/change/")
        form = page.context["adminform"].form
        data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
        data.update(
            username="Alice",
            date_joined_0=bob.date_joined.strftime("%Y-%m-%d"),
            date_joined_1=bob.date_joined.strftime("%H:%M:%S"),
        )
        data.pop("date_joined", None)
        data.pop("groups", None)
        data.pop("user_permissions", None)

        response = client.post(f"/admin/accounts/user/{bob.pk}/change/", data)

        assert response.status_code == 200  # the form again, with the error
        assert "already exists" in response.content.decode()
        bob.refresh_from_db()
        assert bob.username == "bob"

    def test_admin_add_form_refuses_it(self):
        UserFactory(username="alice")
        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        client = Client()
        client.force_login(root)

        response = client.post(
            "/admin/accounts/user/add/",
            {
                "username": "ALICE",
                "password1": STRONG,
                "password2": STRONG,
                "usable_password": "true",
            },
        )

        assert response.status_code == 200  # the form again, with the error
        assert User.objects.filter(username__iexact="alice").count() == 1

    def test_code_sign_in_picks_a_free_username_whatever_the_case(
        self, api_client, send_email_code
    ):
        UserFactory(username="Jane", email="")
        code = send_email_code("jane@example.com")

        response = api_client.post(
            "/api/v1/auth/token/", {"email": "jane@example.com", "confirmation_code": code}
        )

        assert response.status_code == 200
        assert User.objects.get(email="jane@example.com").username == "jane-2"


@pytest.mark.django_db
class TestProfileLengths:
    @pytest.mark.parametrize(
        "change",
        [
            {"bio": "x" * 2001},
            {"first_name": "x" * 151},
            {"last_name": "x" * 151},
            {"username": "x" * 151},
        ],
    )
    def test_too_long_free_text_is_400_and_changes_nothing(self, change, client_for):
        me = UserFactory(username="me")

        response = client_for(me).patch("/api/v1/users/me/", change, format="json")

        assert response.status_code == 400
        me.refresh_from_db()
        assert (me.username, me.bio, me.first_name) == ("me", "", "")

    def test_a_megabytes_long_bio_is_refused_before_it_is_read(self, client_for):
        me = UserFactory(username="me")

        response = client_for(me).patch("/api/v1/users/me/", {"bio": "x" * 2_400_000})

        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        me.refresh_from_db()
        assert me.bio == ""

    def test_a_bio_at_the_limit_is_fine(self, client_for):
        me = UserFactory()

        response = client_for(me).patch("/api/v1/users/me/", {"bio": "x" * 2000}, format="json")

        assert response.status_code == 200

    def test_the_database_refuses_a_longer_bio(self):
        me = UserFactory()

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=me.pk).update(bio="x" * 2001)


# --- 6. a freshly registered account reads no money data and no names ----------------------


@pytest.mark.django_db
def test_a_freshly_registered_user_reads_no_charges_runs_or_movement_usernames(
    api_client, client_for
):
    from stores.tests.factories import StoreFactory

    StoreFactory(store_id="abc111")
    root = OperatorFactory(is_superuser=True)
    client_for(root).post("/stores/abc111", {"operation": "supply", "item_id": "a", "quantity": 1})
    registered = api_client.post(
        "/auth/registration/", {"username": "newcomer", "password1": STRONG, "password2": STRONG}
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {registered.data['key']}")

    reads = [api_client.get(p) for p in ("/api/v1/charges/", "/api/v1/rent-runs/")]
    movements = api_client.get("/stores/abc111/movements").json()["results"]

    assert [r.status_code for r in reads] == [403, 403]
    assert [m["user"] for m in movements] == [None]
    assert client_for(root).get("/stores/abc111/movements").json()["results"][0]["user"] == (
        root.username
    )
