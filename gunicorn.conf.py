"""gunicorn reads this file from its working directory (every way the project starts it).

It prepares prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set: the
workers write their series to files there and /metrics sums them (core/metrics.py).

Workers are threaded (gthread) and keep client connections alive: API clients send many
requests over one connection, and the sync worker closes each one after a single request, so
every request paid a new TCP connection and gunicorn's accept (see docs/performance.md).
"""

import os
from pathlib import Path
from typing import Any

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# Threads per worker: requests wait on PostgreSQL and Redis, and kept-alive connections idle.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Seconds an idle kept-alive connection stays open (behind a proxy: less than its own timeout).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))


def _multiproc_dir() -> Path | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(path) if path else None


def on_starting(server: Any) -> None:  # a gunicorn Arbiter (gunicorn has no type hints)
    """Start from an empty directory: a previous run's files would be added to this one's."""
    path = _multiproc_dir()
    if path:
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exits takes its live gauges with it (its counters keep counting)."""
    if _multiproc_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
