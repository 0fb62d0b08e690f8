import logging
from io import BytesIO

import pytest
from openpyxl import load_workbook

from config.celery import app
from core.testing import celery_worker, wait_until
from stores import tasks, telegram
from stores.models import ReportDelivery
from stores.tests.factories import StockItemFactory, StoreFactory
from stores.tests.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token"
CHAT = "424242"


@pytest.fixture
def fake_telegram(settings):
    with FakeTelegram(TOKEN) as fake:
        settings.TELEGRAM_BOT_TOKEN = TOKEN
        settings.TELEGRAM_API_URL = fake.base_url
        settings.SPECIAL_USER = CHAT
        yield fake


@pytest.fixture
def stock(db):
    store = StoreFactory(store_id="abc111")
    StockItemFactory(store=store, item_id="apple", quantity=10)
    StockItemFactory(store=store, item_id="pear", quantity=3)
    StockItemFactory(store=store, item_id="gone", quantity=0)
    StoreFactory(store_id="xyz000")


def test_beat_schedule_calls_the_task_at_report_time():
    entry = app.conf.beat_schedule["stores-daily-telegram-report"]
    assert entry["task"] == tasks.send_stock_report.name == "stores.send_stock_report"
    assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_report_sent_as_message_to_special_user(fake_telegram, stock):
    assert tasks.send_stock_report.apply().get() == "message"
    [sent] = fake_telegram.sends()
    assert sent["method"] == "sendMessage"
    assert sent["token"] == TOKEN
    assert sent["fields"]["chat_id"] == CHAT
    text = sent["fields"]["text"]
    assert "Store abc111 (2 items, 13 units):\n  apple: 10\n  pear: 3" in text
    assert "gone" not in text
    assert "Store xyz000: empty" in text
    assert ReportDelivery.objects.get().chat_id == CHAT


@pytest.mark.django_db
def test_second_run_on_same_day_sends_nothing_unless_forced(fake_telegram, stock):
    assert telegram.send_stock_report() == "message"
    assert telegram.send_stock_report() == "already_sent"
    assert len(fake_telegram.sends()) == 1
    assert telegram.send_stock_report(force=True) == "message"
    assert len(fake_telegram.sends()) == 2
    assert ReportDelivery.objects.count() == 1


@pytest.mark.django_db
def test_report_too_long_for_a_message_goes_as_xlsx_document(fake_telegram):
    store = StoreFactory(store_id="big")
    for n in range(400):
        StockItemFactory(store=store, item_id=f"item-with-a-long-name-{n:04}", quantity=n + 1)
    assert telegram.send_stock_report() == "document"
    [sent] = fake_telegram.sends()
    assert sent["method"] == "sendDocument"
    assert sent["fields"]["chat_id"] == CHAT
    assert "see the attached file" in sent["fields"]["caption"]
    document = sent["fields"]["document"]
    assert document["filename"].endswith(".xlsx")
    sheet = load_workbook(BytesIO(document["content"]))["big"]
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert len(rows) == 400
    assert rows[0] == ("item-with-a-long-name-0000", 1)


@pytest.mark.django_db
def test_429_retry_after_is_respected_then_sent(fake_telegram, stock, monkeypatch):
    slept = []

    async def fake_sleep(seconds):  # record the wait instead of spending it
        slept.append(seconds)

    monkeypatch.setattr(telegram.asyncio, "sleep", fake_sleep)
    fake_telegram.script = [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        ),
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
    ]
    assert telegram.send_stock_report() == "message"
    assert slept == [7.0, 2.0]
    assert len(fake_telegram.sends()) == 3


@pytest.mark.django_db
def test_long_retry_after_leaves_retry_to_celery_and_records_nothing(fake_telegram, stock):
    fake_telegram.script = [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "x",
                "parameters": {"retry_after": 900},
            },
        )
    ]
    with pytest.raises(telegram.TelegramUnavailable) as unavailable:
        telegram.send_stock_report()
    assert unavailable.value.retry_in == 900
    assert not ReportDelivery.objects.exists()


@pytest.mark.django_db
def test_without_token_the_task_logs_disabled_and_sends_nothing(settings, stock, caplog):
    settings.TELEGRAM_BOT_TOKEN = ""
    with caplog.at_level(logging.INFO, logger="stores.telegram"):
        assert tasks.send_stock_report.apply().get() == "disabled"
    assert "disabled" in caplog.text
    assert not ReportDelivery.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_sends_report_to_fake_telegram():
    store = StoreFactory(store_id="abc111")
    StockItemFactory(store=store, item_id="apple", quantity=10)
    with FakeTelegram(TOKEN) as fake:
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.base_url,
            "SPECIAL_USER": CHAT,
        }
        with celery_worker(queues="celery", **env):
            tasks.send_stock_report.delay()
            wait_until(fake.sends, timeout=30, message="the worker sent nothing")
            wait_until(ReportDelivery.objects.exists, timeout=10)
    [sent] = fake.sends()
    assert "apple: 10" in sent["fields"]["text"]
