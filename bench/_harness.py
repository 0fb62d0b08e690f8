"""What the benches share: starting and stopping servers, CPU from /proc, keep-alive clients,
percentiles and the printed row of an HTTP round.

The headline figure of the HTTP benches is the server CPU per request: user + system time of
the web server's processes (master and workers) plus the PostgreSQL backends of the bench
database, read from /proc before and after a round, divided by the requests served. Unlike a
rate it barely moves when other jobs share the cores, so "ours / GET /healthz" compares the
cost of a write with the fixed cost of the stack on the same server in the same run.
"""

import http.client
import os
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(cmd: list[str], env: dict, log: Path | None = None, **popen) -> subprocess.Popen:
    """A server or worker in the project's folder and its own session (`stop` ends all of its
    processes); its output goes to `log`, else nowhere."""
    if log is None:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True, **popen,
        )  # fmt: skip
    with log.open("w") as out:  # the child keeps its own copy of the file descriptor
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, **popen,
        )  # fmt: skip


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the process group, SIGKILL if it is still there after `timeout` seconds."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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


def cpu_split() -> tuple[float, float | None]:
    """CPU seconds of this process, and of its PostgreSQL backend (None when the server is not
    on this machine)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (pid,) = cur.fetchone()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, cpu_of(pid)


def cpu_seconds() -> float | None:
    """CPU time of this process plus its PostgreSQL backend (None when the server is not on
    this machine): unlike wall time, it hardly moves when other jobs share the cores."""
    own, backend = cpu_split()
    return None if backend is None else own + backend


def build_registry(*, houses: int, flats: int, meters: int) -> tuple[int, list[int], str]:
    """A street of `houses` houses, `flats` flats spread over them, `meters` meters a flat,
    each in one INSERT ... SELECT; (street id, house ids, the serials' tag). The benches add
    their own readings and tariffs."""
    import uuid

    from django.db import connection

    from housing.models import Flat, House, Street, WaterMeter

    per_house = max(1, flats // houses)
    tag = uuid.uuid4().hex[:8]
    street = Street.objects.create(name=f"bench-{tag}")
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {House._meta.db_table} (street_id, number, created_at) "
            "SELECT %s, g, now() FROM generate_series(1, %s) g RETURNING id",
            [street.pk, houses],
        )
        house_ids = [row[0] for row in cur.fetchall()]
        cur.execute(
            f"INSERT INTO {Flat._meta.db_table} (house_id, number, area) "
            "SELECT h, f, 25 + ((h * 7 + f * 13) %% 70) + 0.125 "
            "FROM unnest(%s::bigint[]) h CROSS JOIN generate_series(1, %s) f",
            [house_ids, per_house],
        )
        cur.execute(
            f"INSERT INTO {WaterMeter._meta.db_table} (flat_id, serial, initial_value) "
            f"SELECT f.id, %s || f.id || '-' || k, 0 FROM {Flat._meta.db_table} f "
            "CROSS JOIN generate_series(1, %s) k WHERE f.house_id = ANY(%s)",
            [f"B{tag}-", meters, house_ids],
        )
    return street.pk, house_ids, tag


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


def round_row(name: str, rate: float, p50_ms: float, p99_ms: float, cpu_ms: float, db_ms: float):
    """One HTTP round: rate, latency, server CPU per request (of it the database's)."""
    return (
        f"{name:<34} {rate:8,.0f} /s   p50 {p50_ms:6.1f} ms   p99 {p99_ms:6.1f} ms   "
        f"server CPU {cpu_ms:6.3f} ms/req (db {db_ms:5.3f})"
    )


def wait_ready(
    port: int, proc: subprocess.Popen | None = None, log: Path | None = None, timeout: float = 60
) -> None:
    """Until `GET /healthz` answers 200; exits if the server's process ends first."""
    deadline = time.monotonic() + timeout
    client = Client(port, keep_alive=False, timeout=2)
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        if client.request("GET", "/healthz") == 200:
            return
        time.sleep(0.2)
    why = "exited" if proc is not None and proc.poll() is not None else "did not become ready"
    raise SystemExit(f"server {why}" + (f":\n{log.read_text()[-4000:]}" if log else ""))


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
