"""gunicorn reads this file from its working directory (every way the project starts it).

It prepares prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set: the
workers write their series to files there and /metrics sums them (core/metrics.py).
"""

import os
from pathlib import Path


def _multiproc_dir() -> Path | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(path) if path else None


def on_starting(server):
    """Start from an empty directory: a previous run's files would be added to this one's."""
    path = _multiproc_dir()
    if path:
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    """A worker that exits takes its live gauges with it (its counters keep counting)."""
    if _multiproc_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
