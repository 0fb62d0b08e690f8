"""The database: the vendor switch, the readiness probe, trusted persistent connections.

Vendors: PostgreSQL runs production and the suite; SQLite runs the embedded quick start (`make
run` without DATABASE_URL). Raw SQL lives in each app's `sql.py`, a statement beside its SQLite
twin (the same rules through the ORM or a portable statement); the twin is picked here
(`on_postgresql`, `by_vendor`), never by reading `connection.vendor` elsewhere.

No `SELECT 1` per request on a persistent connection that is known good: with
CONN_HEALTH_CHECKS Django pings a persistent connection (`SELECT 1`, one round trip) before the
first query of every request. A connection that served the previous request of this thread
without an error, less than DB_HEALTH_CHECK_GRACE_SECONDS ago, is trusted instead; an older
one, or one that saw an error, is checked as before. (A connection the server dropped inside
that window fails one request, which marks it for a check; the next one reconnects.)
"""

import time
from typing import Any, TypeVar
from weakref import WeakKeyDictionary, WeakSet

from django.conf import settings
from django.db import OperationalError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

# Per connection: when it last served a request cleanly (time.monotonic()); none after an error.
_known_good_at: "WeakKeyDictionary[BaseDatabaseWrapper, float]" = WeakKeyDictionary()
# Connections whose per-request check already trusts a known good connection.
_trusting: "WeakSet[BaseDatabaseWrapper]" = WeakSet()


def remember_good_connections(**kwargs: Any) -> None:
    """request_finished: note when each open connection last served a request cleanly."""
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.errors_occurred:
            _known_good_at[conn] = now
        else:
            _known_good_at.pop(conn, None)


def _trust_if_known_good(conn: BaseDatabaseWrapper) -> None:
    grace = settings.DB_HEALTH_CHECK_GRACE_SECONDS
    known_good_at = _known_good_at.get(conn)
    if (
        grace > 0
        and conn.connection is not None
        and not conn.errors_occurred
        and known_good_at is not None
        and time.monotonic() - known_good_at < grace
    ):
        conn.health_check_done = True  # type: ignore[attr-defined]  # not in django-stubs 5.2.9


def install_trust(
    sender: object = None, connection: BaseDatabaseWrapper | None = None, **kwargs: Any
) -> None:
    """connection_created: after Django's own per-request check of this connection (which
    resets `health_check_done`), mark a connection known good as checked. Wrapping the check
    itself, not a second request_started receiver, keeps this independent of receiver order
    (Django's test client reconnects its receiver after every request)."""
    if connection is None or connection in _trusting:
        return
    check = connection.close_if_unusable_or_obsolete

    def close_if_unusable_or_obsolete() -> None:
        check()
        _trust_if_known_good(connection)

    # This one connection's check, wrapped: the class keeps Django's own.
    connection.close_if_unusable_or_obsolete = close_if_unusable_or_obsolete  # type: ignore[method-assign]
    _trusting.add(connection)


T = TypeVar("T")

# lock_not_available (lock_timeout elapsed), deadlock_detected
_LOCK_WAIT_SQLSTATES = {"55P03", "40P01"}


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def by_vendor(*, postgresql: T, sqlite: T) -> T:
    """The PostgreSQL statement or strategy, or its SQLite twin (any other vendor: SQLite's,
    the portable one)."""
    return postgresql if on_postgresql() else sqlite


def is_lock_wait_failure(exc: OperationalError) -> bool:
    """A write gave up waiting for a lock: PostgreSQL's lock_timeout or a deadlock, SQLite's
    busy timeout ("database is locked")."""
    if getattr(exc.__cause__, "pgcode", None) in _LOCK_WAIT_SQLSTATES:
        return True
    return not on_postgresql() and "locked" in str(exc)


def ping() -> None:
    """Raise unless the database answers a trivial query (the readiness probe)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
