"""A local stand-in for the rates provider: an HTTP server on 127.0.0.1, a free port."""

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CBR_DAILY = """<?xml version="1.0" encoding="windows-1251"?>
<ValCurs Date="{date}" name="Foreign Currency Market">
<Valute ID="R01235"><NumCode>840</NumCode><CharCode>USD</CharCode><Nominal>1</Nominal>
<Name>Доллар США</Name><Value>{usd}</Value><VunitRate>{usd}</VunitRate></Valute>
<Valute ID="R01239"><NumCode>978</NumCode><CharCode>EUR</CharCode><Nominal>1</Nominal>
<Name>Евро</Name><Value>100,3123</Value><VunitRate>100,3123</VunitRate></Valute>
<Valute ID="R01820"><NumCode>392</NumCode><CharCode>JPY</CharCode><Nominal>100</Nominal>
<Name>Японских иен</Name><Value>61,2345</Value><VunitRate>0,612345</VunitRate></Valute>
</ValCurs>"""


class FakeRatesProvider:
    """Serves `body` with `status`; both may be changed while it runs."""

    def __init__(self, *, date: str = "26.11.2026", usd: str = "92,5058"):
        self.status = 200
        self.body = CBR_DAILY.format(date=date, usd=usd).encode("windows-1251")
        self.requests = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider.requests += 1
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/xml; charset=windows-1251")
                self.send_header("Content-Length", str(len(provider.body)))
                self.end_headers()
                self.wfile.write(provider.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/scripts/XML_daily.asp"


@contextlib.contextmanager
def fake_rates_provider(**kwargs):
    provider = FakeRatesProvider(**kwargs)
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.server.shutdown()
        provider.server.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on (the port was free a moment ago)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/XML_daily.asp"
