"""What the HTTP benches share: server CPU from /proc, keep-alive clients, percentiles.

The headline figure of the HTTP benches is the server CPU per request: user + system time of
the web server's processes (master and workers) plus the PostgreSQL backends of the bench
database, read from /proc before and after a round, divided by the requests served. Unlike a
rate it barely moves when other jobs share the cores, so "ours / GET /healthz" compares the
cost of a write with the fixed cost of the stack on the same server in the same run.
"""

import http.client
import os
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _stat(pid: int) -> list[str] | None:
    try:
        # The command name may hold spaces and parentheses: split after its closing one.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def cpu_of(pid: int) -> float | None:
    fields = _stat(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / _TICKS


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (gunicorn's master and workers, uvicorn's, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def backend_pids(dbname: str) -> list[int]:
    """The PostgreSQL backends connected to `dbname` (the server must be on this host)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [dbname],
        )
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()  # the benches fork client pools: no connection may cross a fork
    return pids


class ServerCpu:
    """CPU seconds spent by a server's process tree and the database's backends.

    `start()` before a round, `stop()` after it returns the seconds in between. Backends that
    connect during the round count from zero; those that exit during it are lost (the servers
    keep their connections, so that is rare and undercounts).
    """

    def __init__(self, server_pid: int, dbname: str | None):
        self.server_pid = server_pid
        self.dbname = dbname
        self._before: dict[int, float] = {}

    def _snapshot(self) -> dict[int, float]:
        web = process_tree(self.server_pid)
        pids = web + (backend_pids(self.dbname) if self.dbname else [])
        self._web = set(web)
        return {pid: cpu for pid in pids if (cpu := cpu_of(pid)) is not None}

    def start(self) -> None:
        self._before = self._snapshot()

    def stop(self) -> float:
        """Seconds since start(); `self.web_s` and `self.db_s` hold the two parts."""
        after = self._snapshot()
        spent = {pid: cpu - self._before.get(pid, 0.0) for pid, cpu in after.items()}
        self.web_s = sum(v for pid, v in spent.items() if pid in self._web)
        self.db_s = sum(spent.values()) - self.web_s
        return self.web_s + self.db_s


class Client:
    """One HTTP client on 127.0.0.1; `keep_alive` reuses its connection as API clients do."""

    def __init__(self, port: int, keep_alive: bool = True, timeout: float = 30):
        self.port, self.keep_alive, self.timeout = port, keep_alive, timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: str | None = None, headers=None) -> int:
        """Send one request, read the whole answer; its status (0: connection error)."""
        headers = {"Host": "localhost", **(headers or {})}
        if not self.keep_alive:
            headers["Connection"] = "close"
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, self.timeout)
            try:
                self._conn.request(method, path, body, headers)
                response = self._conn.getresponse()
                response.read()
                if not self.keep_alive or response.will_close:
                    self.close()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle kept-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    return 0
            except OSError:
                self.close()
                return 0
        return 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def cpu_line(name: str, cpu_s: float | None, requests: int) -> str:
    """`name: X ms server CPU per request` (or why it is unknown)."""
    if cpu_s is None or not requests:
        return f"  {name:<34} server CPU per request: n/a"
    return f"  {name:<34} server CPU per request: {1000 * cpu_s / requests:6.3f} ms"


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    client = Client(port, keep_alive=False, timeout=2)
    while time.monotonic() < deadline:
        if client.request("GET", "/healthz") == 200:
            return
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def healthz_round(port: int, cpu: ServerCpu, clients: int = 4, seconds: float = 3.0) -> dict:
    """`GET /healthz` from `clients` kept-alive threads: rate and server CPU per request."""
    import threading

    counts = [0] * clients
    stop_at = time.monotonic() + seconds

    def work(n: int) -> None:
        client = Client(port)
        while time.monotonic() < stop_at:
            counts[n] += client.request("GET", "/healthz") == 200
        client.close()

    cpu.start()
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent = cpu.stop()
    served = sum(counts)
    return {
        "rate": served / (time.monotonic() - started),
        "cpu_ms": 1000 * spent / served if served else float("nan"),
    }
