"""No `SELECT 1` per request on a persistent connection that is known good.

With CONN_HEALTH_CHECKS Django pings a persistent connection (`SELECT 1`, one round trip)
before the first query of every request. A connection that served the previous request of
this thread without an error, less than DB_HEALTH_CHECK_GRACE_SECONDS ago, is trusted instead;
an older one, or one that saw an error, is checked as before. (A connection the server dropped
inside that window fails one request, which marks it for a check; the next one reconnects.)
"""

import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def is_postgresql(connection=None) -> bool:
    """The one switch between a PostgreSQL statement and its portable (SQLite) twin."""
    return (connection or connections[DEFAULT_DB_ALIAS]).vendor == "postgresql"


def remember_good_connections(**kwargs) -> None:
    """request_finished: note when each open connection last served a request cleanly."""
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.errors_occurred:
            conn.known_good_at = now
        else:
            conn.known_good_at = None


def _trust_if_known_good(conn) -> None:
    grace = settings.DB_HEALTH_CHECK_GRACE_SECONDS
    known_good_at = getattr(conn, "known_good_at", None)
    if (
        grace > 0
        and conn.connection is not None
        and not conn.errors_occurred
        and known_good_at is not None
        and time.monotonic() - known_good_at < grace
    ):
        conn.health_check_done = True


def install_trust(sender=None, connection=None, **kwargs) -> None:
    """connection_created: after Django's own per-request check of this connection (which
    resets `health_check_done`), mark a connection known good as checked. Wrapping the check
    itself, not a second request_started receiver, keeps this independent of receiver order
    (Django's test client reconnects its receiver after every request)."""
    if connection is None or getattr(connection, "_trust_installed", False):
        return
    check = connection.close_if_unusable_or_obsolete

    def close_if_unusable_or_obsolete():
        check()
        _trust_if_known_good(connection)

    connection.close_if_unusable_or_obsolete = close_if_unusable_or_obsolete
    connection._trust_installed = True
