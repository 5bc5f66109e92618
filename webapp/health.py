"""For machines, not people: the health check for load balancers and /metrics for Prometheus.

`/healthz` is 200 while the database answers, even with Redis down ("degraded"): the feed
then serves unlimited rather than failing (the limiter swallows storage errors), so taking
the site out of rotation would do more harm than good. It is 503 only when the database is
down. Redis is asked with 0.5 s timeouts and no retries, so a Redis that drops packets
costs a probe about half a second, never the load balancer's whole timeout.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Flask, Response, abort, current_app, jsonify
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import metrics
from .numbers.queries import database_answers

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

REDIS_TIMEOUT = 0.5
#: The limiter's storage URIs we can ask directly (sentinel and cluster are not asked).
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


@bp.get("/healthz")
def healthz() -> Response:
    """The database and Redis states; 200 unless the database is down (then 503)."""
    database = "ok" if database_answers() else "down"
    cache = redis_state()
    overall = "down" if database == "down" else "degraded" if cache == "down" else "ok"
    response = jsonify(status=overall, database=database, redis=cache)
    response.status_code = 503 if database == "down" else 200
    return for_machines(response)


@bp.get("/metrics")
def metrics_page() -> Response:
    """Prometheus metrics for callers in METRICS_ALLOW_FROM; 404 for everyone else."""
    if not metrics.scrape_allowed():
        abort(404)
    return for_machines(metrics.exposition())


def for_machines(response: Response) -> Response:
    """Never cached, never sniffed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def redis_state() -> str:
    """`ok` when Redis answers PING in time, `down` when not, `not configured` without it."""
    client = redis_client(current_app)
    if client is None:
        return "not configured"
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        log.warning("health check: redis did not answer", extra={"error": type(exc).__name__})
        return "down"
    return "ok"


def redis_client(app: Flask) -> redis.Redis | None:
    """One client per app (made on first use, so after gunicorn forks) for the limiter's Redis."""
    if "health_redis" not in app.extensions:
        uri = app.config["RATELIMIT_STORAGE_URI"]
        client = None
        if uri.startswith(REDIS_SCHEMES):
            client = redis.Redis.from_url(
                uri.replace("redis+unix://", "unix://", 1),
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )
        app.extensions["health_redis"] = client
    return app.extensions["health_redis"]
