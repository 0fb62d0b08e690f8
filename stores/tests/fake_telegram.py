"""A small fake Telegram Bot API server on 127.0.0.1 (free port) that records what it gets."""

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = {"id": 1, "is_bot": True, "first_name": "Stock", "username": "stock_test_bot"}


class FakeTelegram:
    """Answers getMe/sendMessage/sendDocument; `script` queues (status, body) for the next sends."""

    def __init__(self, token: str):
        self.token = token
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict]] = []
        self.updates: list[dict] = []  # served by getUpdates from the requested offset on
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/bot"

    def sends(self) -> list[dict]:
        return [r for r in self.requests if r["method"] not in ("getMe", "getUpdates")]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                token, _, method = self.path.removeprefix("/bot").partition("/")
                record = {"method": method, "token": token, "fields": _fields(self.headers, raw)}
                with fake.lock:
                    fake.requests.append(record)
                    passive = method in ("getMe", "getUpdates")
                    scripted = fake.script.pop(0) if not passive and fake.script else None
                if token != fake.token:
                    return self._answer(401, {"ok": False, "error_code": 401, "description": "x"})
                if scripted:
                    return self._answer(*scripted)
                if method == "getMe":
                    return self._answer(200, {"ok": True, "result": BOT_USER})
                if method == "getUpdates":
                    offset = int(record["fields"].get("offset") or 0)
                    pending = [u for u in fake.updates if u["update_id"] >= offset]
                    return self._answer(200, {"ok": True, "result": pending})
                chat = {"id": int(record["fields"]["chat_id"]), "type": "private"}
                message = {"message_id": len(fake.requests), "date": 0, "chat": chat}
                return self._answer(200, {"ok": True, "result": message})

            def _answer(self, status: int, body: dict):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def _fields(headers, raw: bytes) -> dict:
    """Form fields of a JSON, urlencoded or multipart body; files as {filename, content}."""
    content_type = headers.get("Content-Type", "")
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(raw)
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            assert isinstance(name, str)
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)  # a leaf part, decoded
            if filename:
                fields[name] = {"filename": filename, "content": payload}
            else:
                fields[name] = payload.decode()
        return fields
    return {key: values[0] for key, values in parse_qs(raw.decode()).items()}
