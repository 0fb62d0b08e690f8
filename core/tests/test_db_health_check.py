"""The per-request `SELECT 1` is skipped only for a persistent connection known good."""

import time

import psycopg2
import pytest
from django.core.signals import request_finished, request_started
from django.db import connection

from core import testing

pytestmark = pytest.mark.django_db(transaction=True)  # a real persistent connection


@pytest.fixture
def pings(monkeypatch):
    """Count the health checks (`is_usable`: the `SELECT 1`) of this thread's connection."""
    calls = []
    real = connection.is_usable

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(connection, "is_usable", counting)
    return calls


def serve_request():
    """What a server does around a request, with one query in it."""
    request_started.send(sender=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    request_finished.send(sender=None)


def test_a_connection_that_served_the_last_request_is_not_pinged(pings, settings):
    settings.DB_HEALTH_CHECK_GRACE_SECONDS = 60
    serve_request()  # first request: may connect (a new connection is not pinged)
    pings.clear()
    for _ in range(3):
        serve_request()
    assert pings == []


def test_without_grace_every_request_pings(pings, settings):
    settings.DB_HEALTH_CHECK_GRACE_SECONDS = 0
    serve_request()
    pings.clear()
    serve_request()
    serve_request()
    assert len(pings) == 2


def test_a_connection_idle_past_the_grace_is_pinged_and_replaced_if_dead(pings, settings):
    settings.DB_HEALTH_CHECK_GRACE_SECONDS = 0.2
    serve_request()
    backend = connection.connection.info.backend_pid
    killer = psycopg2.connect(testing.test_database_url())
    killer.autocommit = True
    killer.cursor().execute("SELECT pg_terminate_backend(%s)", [backend])
    killer.close()
    time.sleep(0.3)
    pings.clear()
    serve_request()  # pinged, found dead, reconnected: the query succeeds
    assert pings == [1]
    assert connection.connection.info.backend_pid != backend
