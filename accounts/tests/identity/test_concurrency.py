"""Parallel requests with real threads, each on its own database connection."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.identity import codes
from accounts.models import SignInCode, User
from accounts.tests.identity.factories import PhoneUserFactory, token_for

PHONE = "+79991234567"


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_tries_are_all_counted_and_stop_at_the_limit():
    issued = codes.issue_code(channel="sms", destination=PHONE)
    wrong = "1111" if issued.code != "1111" else "2222"

    answers = _in_threads(
        8,
        lambda i: APIClient().post(
            "/api/verify/", {"phone": PHONE, "token": wrong}, REMOTE_ADDR=f"10.1.0.{i}"
        ),
    )
    right = APIClient().post("/api/verify/", {"phone": PHONE, "token": issued.code})

    assert {a.status_code for a in answers} == {400}
    assert sorted(a.data["code"] for a in answers).count("code_invalid") == 4
    assert SignInCode.objects.get().attempts == 5
    assert right.data["code"] == "code_burned"
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_sign_ins_with_the_right_code_make_one_user_and_one_success():
    issued = codes.issue_code(channel="sms", destination=PHONE)

    answers = _in_threads(
        6,
        lambda i: APIClient().post(
            "/api/verify/", {"phone": PHONE, "token": issued.code}, REMOTE_ADDR=f"10.2.0.{i}"
        ),
    )

    assert sorted(a.status_code for a in answers) == [200] + [400] * 5
    assert User.objects.filter(phone=PHONE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_code_requests_issue_one_code(sms_outbox):
    answers = _in_threads(
        6,
        lambda i: APIClient().post("/api/login/", {"phone": PHONE}, REMOTE_ADDR=f"10.3.0.{i}"),
    )

    assert sorted(a.status_code for a in answers) == [200] + [429] * 5
    assert SignInCode.objects.count() == 1
    assert len(sms_outbox.messages(PHONE)) == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_activations_of_different_codes_keep_only_one():
    bob = PhoneUserFactory()
    inviters = PhoneUserFactory.create_batch(5)
    token = token_for(bob)

    def activate(i: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.patch("/api/profile/", {"foreign_invite_code": inviters[i].invite_code})

    answers = _in_threads(5, activate)

    assert sorted(a.status_code for a in answers) == [200] + [400] * 4
    bob.refresh_from_db()
    winner = next(a for a in answers if a.status_code == 200)
    assert bob.foreign_invite_code == winner.data["foreign_invite_code"]
    assert bob.invited_by.invite_code == bob.foreign_invite_code


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_with_one_token_succeed_once():
    from rest_framework_simplejwt.tokens import RefreshToken

    user = PhoneUserFactory()
    refresh = str(RefreshToken.for_user(user))

    answers = _in_threads(
        5,
        lambda i: APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}),
    )

    assert sorted(a.status_code for a in answers) == [200] + [401] * 4
