"""Prometheus metrics: what /metrics serves, and the Celery task series behind it.

Where each series comes from, so that a scrape of any one web process sees all of them:
- HTTP requests and database queries: django-prometheus, in the process that served them.
  Under gunicorn (several worker processes) set PROMETHEUS_MULTIPROC_DIR: every process then
  writes its series to files there and a scrape sums them (prometheus-client multiprocess mode).
- Celery tasks run in other processes, often on other machines: the worker adds each finished
  task to a Redis hash (one pipelined round trip), and a scrape reads it back.
- Queue lengths, active rent runs, receipts not yet counted: asked of Redis and the database at
  scrape time.
The cluster-wide series (celery_*, queue, rent, receipts) are the same from every web pod:
aggregate them with max(), not sum().
"""

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django_prometheus.middleware import PrometheusAfterMiddleware
from django_prometheus.utils import Time, TimeSince
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client fails on its first series if the directory is missing (gunicorn's
    # on_starting in gunicorn.conf.py also empties it; other servers just share it).
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

METRICS_PATH = "/metrics"
QUEUES = ("celery", "receipts")  # the queues the worker consumes (-Q celery,receipts)
# kombu's Redis transport keeps each priority level in its own list: name, name\x06\x163, ...
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200)
_BUCKET_LABELS = [*(str(float(b)) for b in TASK_BUCKETS), "+Inf"]


# --- The endpoint ------------------------------------------------------------------------------
class MetricsEndpointMiddleware:
    """Answers /metrics itself, ahead of the host check and the HTTPS redirect.

    Prometheus scrapes each pod by its IP over plain HTTP; the bearer token is the guard. With
    METRICS_TOKEN unset the path falls through to the usual JSON 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path != METRICS_PATH or not settings.METRICS_TOKEN:
            return self.get_response(request)
        return metrics_response(request)


class HttpMetricsMiddleware(PrometheusAfterMiddleware):  # type: ignore[misc]  # untyped library
    """django-prometheus' request series, only those that answer "which view, which method,
    which status, how fast" (and exceptions by type and view).

    Its full pair of middlewares updates a dozen series a request, about 50 us; these two cost
    a fraction of that. The names stay django-prometheus' own, so its dashboards work.
    """

    def process_request(self, request: HttpRequest) -> None:
        request.prometheus_after_middleware_event = Time()  # type: ignore[attr-defined]

    def process_view(
        self, request: HttpRequest, view_func: object, *view_args: object, **view_kwargs: object
    ) -> None:
        return None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        method = self._method(request)
        view = self._get_view_name(request)
        status = str(response.status_code)
        metrics = self.metrics
        metrics.responses_by_status_view_method.labels(status, view, method).inc()
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is not None:
            metrics.requests_latency_by_view_method.labels(view, method).observe(TimeSince(started))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Counted only: the JSON 500 made of it passes process_response, which times it once.
        self.metrics.exceptions_by_type.labels(type(exception).__name__).inc()
        self.metrics.exceptions_by_view.labels(self._get_view_name(request)).inc()


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def metrics_response(request: HttpRequest) -> HttpResponse:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        response = _error(401, "Authentication credentials were not provided.", "not_authenticated")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
        return _error(403, "Invalid metrics token.", "permission_denied")
    if request.method not in ("GET", "HEAD"):
        response = _error(405, "Method not allowed.", "method_not_allowed")
        response["Allow"] = "GET, HEAD"
        return response
    body = prometheus_client.generate_latest(_process_registry())
    body += prometheus_client.generate_latest(_scrape_registry())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # reads every process's files
        return registry
    return prometheus_client.REGISTRY


@cache
def _scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ScrapeTimeCollector())
    return registry


# --- Redis ---------------------------------------------------------------------------------------
@cache
def _redis(url: str) -> "redis.Redis":
    import redis

    # redis-py's pool notices a fork, so a client made before prefork stays safe in children.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


# --- Celery task series: written by the worker, read at scrape time ---------------------------
_started: dict[str | None, float] = {}


def task_started(task_id: str | None = None, **kwargs: object) -> None:
    """task_prerun."""
    _started[task_id] = time.monotonic()


def task_finished(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: object
) -> None:
    """task_postrun: count the task by state and add its duration to the histogram."""
    started = _started.pop(task_id, None)
    if started is None or not settings.REDIS_URL:
        return  # embedded mode (no Redis): task series are not recorded
    duration = time.monotonic() - started
    name = getattr(task, "name", None) or "unknown"
    bucket = next((i for i, bound in enumerate(TASK_BUCKETS) if duration <= bound), None)
    le = _BUCKET_LABELS[bucket if bucket is not None else -1]
    try:
        pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
        key = settings.METRICS_CELERY_KEY
        pipe.hincrby(key, f"count|{name}|{state or 'UNKNOWN'}", 1)
        pipe.hincrbyfloat(key, f"sum|{name}", duration)
        pipe.hincrby(key, f"bucket|{name}|{le}", 1)
        pipe.execute()
    except Exception:  # metrics must never fail a task
        logger.warning("Could not record task metrics for %s", name, exc_info=True)


def _task_families() -> list[Metric]:
    # A synchronous client: redis-py's stubs type its answers as "maybe awaitable".
    raw = cast(dict[bytes, bytes], _redis(settings.REDIS_URL).hgetall(settings.METRICS_CELERY_KEY))
    counts: dict[tuple[str, str], int] = {}
    sums: dict[str, float] = {}
    buckets: dict[str, dict[str, int]] = {}
    for field, value in raw.items():
        kind, _, rest = field.decode().partition("|")
        if kind == "count":
            name, _, state = rest.rpartition("|")
            counts[(name, state)] = int(value)
        elif kind == "sum":
            sums[rest] = float(value)
        elif kind == "bucket":
            name, _, le = rest.rpartition("|")
            buckets.setdefault(name, {})[le] = int(value)

    tasks = CounterMetricFamily(
        "celery_tasks", "Celery tasks finished, by task and final state.", labels=["task", "state"]
    )
    failures = CounterMetricFamily(
        "celery_task_failures", "Celery tasks that raised (state FAILURE).", labels=["task"]
    )
    for (name, state), count in sorted(counts.items()):
        tasks.add_metric([name, state], count)
        if state == "FAILURE":
            failures.add_metric([name], count)
    durations = HistogramMetricFamily(
        "celery_task_duration_seconds", "Celery task run time.", labels=["task"]
    )
    for name, per_bucket in sorted(buckets.items()):
        running = 0
        cumulative: list[tuple[str, float]] = []
        for le in _BUCKET_LABELS:
            running += per_bucket.get(le, 0)
            cumulative.append((le, running))
        durations.add_metric([name], cumulative, sum_value=sums.get(name, 0.0))
    return [tasks, failures, durations]


def _queue_family() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
    )
    pipe = _redis(settings.CELERY_BROKER_URL).pipeline(transaction=False)
    for queue in QUEUES:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(queue + suffix)
    lengths = pipe.execute()
    per_queue = len(_PRIORITY_SUFFIXES)
    for index, queue in enumerate(QUEUES):
        family.add_metric([queue], sum(lengths[index * per_queue : (index + 1) * per_queue]))
    return family


def _domain_families() -> list[Metric]:
    from billing.selectors import active_run_counts
    from receipts.selectors import uncounted_receipt_count

    runs = GaugeMetricFamily(
        "rent_runs_in_progress", "Rent runs not finished yet, by status.", labels=["status"]
    )
    for status, count in active_run_counts().items():
        runs.add_metric([status], count)
    waiting = GaugeMetricFamily(
        "receipts_waiting_to_be_counted",
        "Receipts accepted in the last hour that the consumer has not counted yet.",
        value=uncounted_receipt_count(),
    )
    return [runs, waiting]


class ScrapeTimeCollector:
    """Series computed when Prometheus asks; a source that is down drops only its own series."""

    def collect(self) -> Iterator[Metric]:
        sources: list[Callable[[], Iterable[Metric]]] = [_domain_families]
        if settings.REDIS_URL:
            sources.append(_task_families)
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            sources.append(lambda: [_queue_family()])
        for source in sources:
            try:
                families = source()
            except Exception:
                logger.warning("Metrics source %s failed", source.__name__, exc_info=True)
                continue
            yield from families
