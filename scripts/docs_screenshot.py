"""A screenshot of one Swagger UI operation, expanded, taken with headless Chromium.

    .venv/bin/python scripts/docs_screenshot.py http://127.0.0.1:8000/api/docs/ \\
        docs/screenshots/swagger-operation.png '#operations-Receipts-api_checks_create'

Drives Chromium over the DevTools protocol (the `websockets` package of requirements-dev.txt):
waits for the operation to render, clicks it open like a user and captures the window. The
overview screenshot needs no script: `chromium --headless --no-sandbox --disable-gpu
--virtual-time-budget=15000 --screenshot=docs/screenshots/swagger-overview.png
--window-size=1400,1800 http://127.0.0.1:8000/api/docs/`.
"""

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request

from websockets.sync.client import connect


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.last_id = 0

    def call(self, method: str, **params) -> dict:
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.last_id:
                return message.get("result", {})

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


def main(url: str, out: str, selector: str) -> None:
    port = _free_port()
    chromium = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--hide-scrollbars",
         f"--remote-debugging-port={port}", "--window-size=1400,1800", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                break
            except OSError:
                time.sleep(0.2)
        target = next(t for t in targets if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=2**26) as ws:
            page = Page(ws)
            page.call("Emulation.setDeviceMetricsOverride", width=1400, height=1800,
                      deviceScaleFactor=1, mobile=False)  # fmt: skip
            page.call("Page.navigate", url=url)
            found = json.dumps(selector)
            for _ in range(240):
                if page.js(f"!!document.querySelector({found})"):
                    break
                time.sleep(0.5)
            time.sleep(2)
            page.js(f"document.querySelector({found}).scrollIntoView(); true")
            time.sleep(1)
            rect = json.loads(
                page.js(
                    f"JSON.stringify(document.querySelector({found} + ' .opblock-summary-control')"
                    ".getBoundingClientRect())"
                )
            )
            x, y = rect["x"] + 200, rect["y"] + rect["height"] / 2
            for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
                page.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                          clickCount=1)  # fmt: skip
            time.sleep(3)
            shot = page.call("Page.captureScreenshot", format="png")
            with open(out, "wb") as file:
                file.write(base64.b64decode(shot["data"]))
    finally:
        chromium.terminate()
        chromium.wait()


if __name__ == "__main__":
    main(*sys.argv[1:4])
