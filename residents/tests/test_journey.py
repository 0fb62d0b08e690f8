"""The resident's journey through the real processes: a Celery worker sends the sign-in SMS,
executes the rent run and sends the rent notice through the file SMS backend."""

import re

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from billing.models import RentRun
from core.testing import celery_worker, wait_until
from housing.tests.factories import global_tariffs, house_with_flats
from residents.models import Notification
from residents.tests.factories import funded_account

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = "+79995550101"


def messages(outbox, marker: str) -> list[str]:
    texts = [p.read_text() for p in sorted(outbox.glob("*.txt"))]
    return [t for t in texts if marker in t]


def test_sign_in_redeem_submit_run_notify_pay_and_operator_sees_it_paid(tmp_path):
    outbox = tmp_path / "sms"
    today = timezone.localdate()
    year, month = today.year, today.month
    global_tariffs()
    house = house_with_flats(flats=3, months=[(2020, 1)])
    flat = house.flats.get(number=2)
    operator = APIClient()
    operator.force_authenticate(User.objects.create_user(username="op", is_staff=True))
    collection = funded_account(User.objects.create_user(username="collector"), "0")
    window = "1-31"  # today is always inside: the worker gets the same variable
    env = {
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(outbox),
        "SMS_SEND_DELAY_SECONDS": "0",
        "READINGS_WINDOW_DAYS": window,
        "RENT_BATCH_SIZE": "2",
    }
    with (
        override_settings(READINGS_WINDOW_DAYS=window),
        celery_worker(queues="celery", **env),
    ):
        # 1. Sign in by phone: the worker writes the SMS with the code.
        anonymous = APIClient()
        assert anonymous.post("/api/login/", {"phone": PHONE}).status_code == 200
        [sms] = wait_until(lambda: messages(outbox, "code:"), timeout=30)
        code = re.search(r"code: (\d{4})\b", sms).group(1)
        token = anonymous.post("/api/verify/", {"phone": PHONE, "token": code}).json()["token"]
        resident = APIClient()
        resident.credentials(HTTP_AUTHORIZATION=f"Token {token}")

        # 2. Redeem the flat code the operator handed out.
        flat_code = operator.post("/api/v1/flat-codes/", {"flat": flat.pk}).json()["code"]
        redeemed = resident.post("/api/v1/me/flats/redeem/", {"code": flat_code})
        assert redeemed.status_code == 201, redeemed.content
        [meter] = redeemed.json()["meters"]

        # 3. Submit this month's reading inside the window.
        reading = resident.post("/api/v1/me/readings/", {"meter": meter["id"], "value": "12.5"})
        assert reading.status_code == 201, reading.content

        # 4. The operator runs the rent; the worker executes it, then notifies after commit.
        started = operator.post(
            "/api/v1/rent-runs/", {"house": house.pk, "year": year, "month": month}
        )
        assert started.status_code == 201, started.content
        run_id = started.json()["id"]
        wait_until(
            lambda: RentRun.objects.get(pk=run_id).status == RentRun.Status.COMPLETED,
            timeout=60,
        )
        # Readings of the month are closed now.
        closed = resident.patch(f"/api/v1/me/readings/{reading.json()['id']}/", {"value": "13"})
        assert closed.status_code == 409
        assert closed.json()["code"] == "rent_started"

        # 5. The resident is notified: one SMS with the flat's total and due date.
        [notice] = wait_until(lambda: messages(outbox, "Rent for flat"), timeout=60)
    user = User.objects.get(phone=PHONE)
    [charge] = resident.get(f"/api/v1/me/charges/?year={year}&month={month}").json()["results"]
    assert notice.startswith(f"To: {PHONE}\n")
    assert charge["total"] in notice
    assert f"flat {flat.number}" in notice
    assert Notification.objects.get(user=user).status == Notification.Status.SENT

    # 6. Pay from the balance into the house's collection account.
    assert (
        operator.put(
            f"/api/v1/houses/{house.pk}/collection-account/",
            {"account": collection.pk},
            format="json",
        ).status_code
        == 200
    )
    account = resident.post("/api/v1/accounts/", {}, format="json").json()
    deposit = resident.post("/api/v1/actions/", {"account": account["id"], "amount": "50000"})
    assert deposit.status_code == 201, deposit.content
    paid = resident.post(
        f"/api/v1/me/charges/{charge['id']}/pay/", {}, format="json", HTTP_IDEMPOTENCY_KEY="j1"
    )
    assert paid.status_code == 201, paid.content

    # 7. The operator sees the flat paid.
    report = operator.get(f"/api/v1/houses/{house.pk}/payments/?year={year}&month={month}").json()
    assert report["paid"] == 1
    assert flat.number not in [d["flat_number"] for d in report["debtors"]]
    assert len(report["debtors"]) == 2
