"""/metrics in-process: who may read it, and the series it carries."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from celery import shared_task
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from billing.tests.factories import RentRunFactory
from config.celery import app
from core.tasks import ping
from receipts.models import Place, Purchase, Receipt

TOKEN = "metrics-test-token-4b7e1d9a"


def samples(text: str) -> dict[tuple, float]:
    """{(name, frozenset(labels)): value} of a Prometheus text page."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(page: dict, name: str, **labels) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


def scrape(client) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def test_without_metrics_token_the_path_is_a_json_404(settings, client):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 401, "not_authenticated"),
        (f"Token {TOKEN}", 401, "not_authenticated"),
        ("Bearer ", 401, "not_authenticated"),
        ("Bearer wrong-token", 403, "permission_denied"),
        (f"Bearer {TOKEN}x", 403, "permission_denied"),
    ],
)
def test_a_missing_or_wrong_token_is_refused(token, client, header, status, code):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert b"django_http" not in response.content
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_http_and_database_series_count_the_requests(token, client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    client.get("/readyz")  # runs a query through the instrumented engine
    after = scrape(client)
    labels = {"status": "200", "view": "healthz", "method": "GET"}
    name = "django_http_responses_total_by_status_view_method_total"
    assert value(after, name, **labels) - value(before, name, **labels) == 3
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert (
        value(after, latency, view="healthz", method="GET")
        - value(before, latency, view="healthz", method="GET")
        == 3
    )
    queries = "django_db_execute_total"
    assert value(after, queries, alias="default", vendor="postgresql") > value(
        before, queries, alias="default", vendor="postgresql"
    )


@pytest.mark.django_db
def test_rent_runs_and_uncounted_receipts_are_counted_at_scrape_time(token, client):
    page = scrape(client)
    assert value(page, "rent_runs_in_progress", status="PENDING") == 0
    assert value(page, "receipts_waiting_to_be_counted") == 0
    RentRunFactory(status="PENDING")
    RentRunFactory(status="IN_PROGRESS", month=2)
    RentRunFactory(status="COMPLETED", month=3)
    now = timezone.now()
    waiting, counted, old = (
        Receipt.objects.create(
            transaction_id=f"tx-{uuid.uuid4().hex}",
            timestamp=now,
            place_id="p1",
            place_name="Shop",
            payment_method="card",
            total_amount=Decimal("10.00"),
            nds_amount=Decimal("1.67"),
            items=[],
            fingerprint="f",
            channel="checks",
        )  # fmt: skip
        for _ in range(3)
    )
    place = Place.objects.create(code="p1", name="Shop", named_at=now)
    Purchase.objects.create(
        transaction_id=counted.transaction_id, place=place, timestamp=now, hour=now,
        total_amount=Decimal("10.00"), nds_amount=Decimal("1.67"), tips_amount=0,
        fingerprint="f", counted_at=now,
    )  # fmt: skip
    # older than the gauge's hour: the hourly sweeper's business
    Receipt.objects.filter(pk=old.pk).update(received_at=now - timedelta(hours=2))
    page = scrape(client)
    assert value(page, "rent_runs_in_progress", status="PENDING") == 1
    assert value(page, "rent_runs_in_progress", status="IN_PROGRESS") == 1
    assert value(page, "receipts_waiting_to_be_counted") == 1


@pytest.mark.django_db
def test_queue_lengths_are_read_from_redis(token, client):
    app.control.purge()
    try:
        assert value(scrape(client), "celery_queue_length", queue="celery") == 0
        ping.delay("queued-1")
        ping.delay("queued-2")
        page = scrape(client)
        assert value(page, "celery_queue_length", queue="celery") == 2
        assert ("celery_queue_length", frozenset({"queue": "receipts"}.items())) in page
    finally:
        app.control.purge()


def test_metrics_skip_the_host_check_and_the_https_redirect(token, settings, client):
    """Prometheus scrapes pods by IP over plain HTTP; the token is the guard."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(
        "/metrics", HTTP_HOST="10.1.2.3:8000", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )
    assert response.status_code == 200
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 400


@shared_task(name="core.tests.fails_on_purpose")
def fails_on_purpose():
    raise RuntimeError("on purpose")


@pytest.mark.django_db
def test_task_counts_durations_and_failures_reach_the_scrape(token, client):
    """Traced task runs (here in-process, apply()) add up in Redis; any web process reads them."""
    name = "core.tests.fails_on_purpose"
    before = scrape(client)
    assert fails_on_purpose.apply().failed()
    assert fails_on_purpose.apply().failed()
    ping.apply(args=["traced"])
    after = scrape(client)

    def delta(metric, **labels):
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert delta("celery_tasks_total", task=name, state="FAILURE") == 2
    assert delta("celery_task_failures_total", task=name) == 2
    assert delta("celery_tasks_total", task="core.ping", state="SUCCESS") == 1
    assert delta("celery_task_duration_seconds_count", task=name) == 2
    assert delta("celery_task_duration_seconds_bucket", task=name, le="+Inf") == 2
    assert delta("celery_task_duration_seconds_sum", task="core.ping") > 0


# --- request ids ------------------------------------------------------------------------------
def test_a_sane_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-1f2e3d.42:a_b")
    assert response["X-Request-ID"] == "edge-1f2e3d.42:a_b"


def test_a_request_without_id_gets_a_new_uuid(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/nowhere")["X-Request-ID"]  # errors carry one too
    assert uuid.UUID(first).version == 4
    assert uuid.UUID(second).version == 4
    assert first != second


@pytest.mark.parametrize(
    "hostile",
    ["abc\r\nSet-Cookie: x=1", 'id" "level":"ERROR', "x" * 129, "ünïcode", "a b", "<script>"],
)
def test_a_hostile_request_id_is_replaced(client, hostile):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=hostile)
    assert response["X-Request-ID"] != hostile
    assert uuid.UUID(response["X-Request-ID"]).version == 4


@pytest.mark.urls("core.tests.urls")
def test_an_unhandled_error_is_counted_and_timed_once(token, client):
    client.raise_request_exception = False

    def crash_series(page, name):
        return sum(v for (n, labels), v in page.items() if n == name and "CrashView" in str(labels))

    before = scrape(client)
    assert client.get("/api/test/crash/").status_code == 500
    after = scrape(client)
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert crash_series(after, latency) - crash_series(before, latency) == 1
    errors = "django_http_responses_total_by_status_view_method_total"
    assert crash_series(after, errors) - crash_series(before, errors) == 1
    by_type, runtime = "django_http_exceptions_total_by_type_total", {"type": "RuntimeError"}
    assert value(after, by_type, **runtime) - value(before, by_type, **runtime) == 1
