"""The receipts journal: one JSON line per received receipt (and per rollup run), rotated by size.

Several processes append to the same file (web workers, the Celery worker). Each batch of lines
goes out in a single `write()` on an O_APPEND descriptor, so lines never interleave. Rotation
renames `receipts.jsonl` to `receipts.jsonl.1` (shifting older ones up) under an exclusive
`flock`; a writer notices the rename by the inode and reopens, so no line is lost.
"""

import contextlib
import fcntl
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 10
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


class Journal:
    def __init__(self, path: str | os.PathLike[str], max_bytes: int, backups: int) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._inode: int | None = None

    def write(self, records: list[dict]) -> None:
        if not records:
            return
        data = "".join(_ENCODER.encode(record) + "\n" for record in records).encode()
        with self._lock:
            fd = self._current_fd()
            os.write(fd, data)
            if os.fstat(fd).st_size >= self.max_bytes:
                self._rotate()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _current_fd(self) -> int:
        try:
            inode = self.path.stat().st_ino
        except FileNotFoundError:
            inode = None
        if self._fd is None or inode != self._inode:
            self._close()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._inode = os.fstat(self._fd).st_ino
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._inode = None

    def _rotate(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                # Another process may have rotated while we waited for the lock.
                with contextlib.suppress(FileNotFoundError):
                    if self.path.stat().st_ino == self._inode:
                        for n in range(self.backups - 1, 0, -1):
                            older = self.path.with_name(f"{self.path.name}.{n}")
                            if older.exists():
                                older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
                        self.path.replace(self.path.with_name(f"{self.path.name}.1"))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self._close()


_journal: Journal | None = None
_journal_lock = threading.Lock()


def get_journal() -> Journal:
    """The process-wide journal for RECEIPTS_JOURNAL_PATH (reopened when the setting changes)."""
    global _journal
    path = Path(settings.RECEIPTS_JOURNAL_PATH)
    with _journal_lock:
        if _journal is None or _journal.path != path:
            if _journal is not None:
                _journal.close()
            _journal = Journal(path, max_bytes=MAX_BYTES, backups=BACKUPS)
        return _journal


def journal_record(
    *, event: str, outcome: str, caller: Any = None, **fields: Any
) -> dict[str, Any]:
    """A journal line: when, what happened, who asked and how it ended."""
    return {
        "time": datetime.now(UTC).isoformat(),
        "event": event,
        "outcome": outcome,
        "caller": caller_label(caller),
        **fields,
    }


def caller_label(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return f"{user.pk}:{user.get_username()}"


def write(records: list[dict]) -> None:
    get_journal().write(records)
