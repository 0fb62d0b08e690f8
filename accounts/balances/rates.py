"""Exchange rates: fetching them from the provider and converting rouble balances.

The provider speaks the Central Bank of Russia's XML_daily format::

    <ValCurs Date="26.11.2026" name="Foreign Currency Market">
      <Valute ID="R01235"><NumCode>840</NumCode><CharCode>USD</CharCode>
        <Nominal>1</Nominal><Name>...</Name><Value>92,5058</Value></Valute>
      ...
"""

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

RATE_PLACES = Decimal("0.00000001")
FETCH_TIMEOUT_SECONDS = 10.0


class RatesProviderError(Exception):
    """The provider could not be reached or answered something we cannot read."""


@dataclass(frozen=True)
class QuotedRate:
    currency: str
    date: dt.date
    rate: Decimal  # roubles per one unit


def parse_cbr_daily(payload: bytes) -> list[QuotedRate]:
    """Parse a CBR XML_daily document (any encoding its XML declaration names).

    ElementTree does not resolve external entities, and the expat it ships with refuses
    entity-expansion bombs, so a hostile provider cannot make us read files or eat memory.
    """
    try:
        root = ET.fromstring(payload)  # noqa: S314  safe parser, see the docstring
        date = dt.datetime.strptime(root.attrib["Date"], "%d.%m.%Y").date()  # noqa: DTZ007  a date
    except (ET.ParseError, KeyError, ValueError) as exc:
        raise RatesProviderError(f"unreadable rates document: {exc}") from exc
    rates = []
    for valute in root.iter("Valute"):
        code = (valute.findtext("CharCode") or "").strip().upper()
        try:
            nominal = Decimal((valute.findtext("Nominal") or "1").strip().replace(",", "."))
            value = Decimal((valute.findtext("Value") or "").strip().replace(",", "."))
        except InvalidOperation:
            logger.warning("Skipping unreadable rate for %r", code)
            continue
        if len(code) != 3 or not code.isalpha() or nominal <= 0 or value <= 0:
            logger.warning("Skipping invalid rate for %r", code)
            continue
        rates.append(QuotedRate(code, date, (value / nominal).quantize(RATE_PLACES)))
    if not rates:
        raise RatesProviderError("the rates document holds no rates")
    return rates


def fetch_rates(*, url: str | None = None) -> list[QuotedRate]:
    """Download and parse today's rates from the configured provider."""
    url = url or settings.EXCHANGE_RATES_URL
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise RatesProviderError(f"rates provider {url} failed: {exc}") from exc
    return parse_cbr_daily(response.content)
