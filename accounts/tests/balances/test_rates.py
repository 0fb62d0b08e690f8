"""The exchange-rates refresher against a fake CBR provider, including the provider down."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.balances import services
from accounts.balances.rates import RatesProviderError, parse_cbr_daily
from accounts.balances.tasks import refresh_exchange_rates
from accounts.models import ExchangeRate
from accounts.tests.balances.factories import ExchangeRateFactory
from accounts.tests.balances.fake_rates import closed_port_url, fake_rates_provider
from core.testing import celery_worker, wait_until


def rates_table() -> set:
    return set(ExchangeRate.objects.values_list("currency", "date", "rate"))


@pytest.mark.django_db
def test_refresh_stores_rates_per_unit_and_updates_the_same_day():
    with fake_rates_provider(usd="92,5058") as provider:
        assert services.refresh_exchange_rates(url=provider.url) == 3
        provider.body = provider.body.replace(b"92,5058", b"93,0000")
        assert services.refresh_exchange_rates(url=provider.url) == 3
    day = dt.date(2026, 11, 26)
    assert rates_table() == {
        ("USD", day, Decimal("93.00000000")),
        ("EUR", day, Decimal("100.31230000")),
        ("JPY", day, Decimal("0.61234500")),  # 100 yen = 61.2345 roubles
    }


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 503, 404])
def test_provider_errors_leave_stored_rates_untouched(status):
    ExchangeRateFactory(currency="USD", date=dt.date(2026, 1, 1), rate=Decimal("80"))
    before = rates_table()
    with fake_rates_provider() as provider:
        provider.status = status
        with pytest.raises(RatesProviderError):
            services.refresh_exchange_rates(url=provider.url)
    assert rates_table() == before


@pytest.mark.django_db
def test_provider_down_or_garbage_raises_and_keeps_rates():
    ExchangeRateFactory(currency="USD", date=dt.date(2026, 1, 1), rate=Decimal("80"))
    before = rates_table()
    with pytest.raises(RatesProviderError):
        services.refresh_exchange_rates(url=closed_port_url())
    with fake_rates_provider() as provider:
        provider.body = b"<html>maintenance</html>"
        with pytest.raises(RatesProviderError):
            services.refresh_exchange_rates(url=provider.url)
    assert rates_table() == before


def test_parser_skips_bad_rows_and_refuses_documents_without_rates():
    doc = (
        b'<ValCurs Date="01.02.2026"><Valute><CharCode>USD</CharCode><Nominal>1</Nominal>'
        b"<Value>oops</Value></Valute><Valute><CharCode>EUR</CharCode><Nominal>1</Nominal>"
        b"<Value>0</Value></Valute><Valute><CharCode>CNY</CharCode><Nominal>10</Nominal>"
        b"<Value>127,39</Value></Valute></ValCurs>"
    )
    assert [(r.currency, r.rate) for r in parse_cbr_daily(doc)] == [("CNY", Decimal("12.739"))]
    with pytest.raises(RatesProviderError):
        parse_cbr_daily(b'<ValCurs Date="01.02.2026"></ValCurs>')


@pytest.mark.django_db
def test_refresh_task_fails_for_a_retry_when_the_provider_is_down(settings):
    settings.EXCHANGE_RATES_URL = closed_port_url()
    assert RatesProviderError in refresh_exchange_rates.autoretry_for
    with pytest.raises(RatesProviderError):
        refresh_exchange_rates()
    assert ExchangeRate.objects.count() == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_beat_task_run_by_a_real_worker_stores_rates_from_the_provider():
    with fake_rates_provider() as provider, celery_worker(EXCHANGE_RATES_URL=provider.url):
        refresh_exchange_rates.delay()
        wait_until(lambda: ExchangeRate.objects.count() == 3, timeout=30)
    assert ExchangeRate.objects.get(currency="USD").rate == Decimal("92.50580000")
    assert provider.requests == 1
