"""Prometheus metrics that add up across gunicorn workers.

Under gunicorn, `gunicorn.conf.py` points PROMETHEUS_MULTIPROC_DIR at a directory emptied
at start: every worker writes its values to files there (prometheus_client's multiprocess
mode, chosen when it is imported), and a scrape, whichever worker answers it, sums them.
Without that variable (tests, `flask run`) the process's default registry is served.

Labels are bounded: Flask endpoint names (never raw paths), status classes, provider
names from the registry and a fixed set of webhook outcomes.

`/metrics` is not public: it answers only callers in METRICS_ALLOW_FROM (loopback by
default) and 404 to everyone else, as if it did not exist.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from . import logs
from .clients import request_client_ip
from .providers import PROVIDERS
from .providers.base import SignatureError, WebhookError

Network = IPv4Network | IPv6Network

REQUESTS = Counter(
    "webapp_http_requests",
    "HTTP requests answered, by Flask endpoint and status class",
    ["endpoint", "status_class"],
)
DURATION = Histogram(
    "webapp_http_request_duration_seconds",
    "Time to answer a request, by Flask endpoint",
    ["endpoint"],
)
WEBHOOKS = Counter(
    "webapp_webhook_deliveries",
    "Carrier webhook deliveries, by provider and outcome",
    ["provider", "outcome"],
)
STORED = Counter(
    "webapp_messages_stored",
    "New messages (or parts of long ones) stored, by provider",
    ["provider"],
)
RATE_LIMITED = Counter(
    "webapp_feed_rate_limited_responses", "Feed requests answered 429 (rate limit exceeded)"
)

OUTCOMES = ("accepted", "duplicate", "refused_signature", "refused_payload", "error")


def parse_networks(text: str) -> list[Network]:
    """The IP networks of a comma- or space-separated list such as `127.0.0.1/8,::1`."""
    return [ip_network(item, strict=False) for item in text.replace(",", " ").split()]


def scrape_allowed() -> bool:
    """Whether the caller may read /metrics: its address is in METRICS_ALLOW_FROM."""
    if current_app.config["TRUSTED_PROXIES"] == 0 and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        return False  # relayed by a proxy we were not told about: the peer is not the caller
    addr = request_client_ip(strict=True)  # not remote_addr: ProxyFix can be fooled by quotes
    if addr is None:
        return False
    return any(addr in net for net in current_app.extensions["metrics_networks"])


def exposition() -> Response:
    """Every metric in Prometheus' text format, summed over workers in multiprocess mode."""
    directory = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    registry = REGISTRY
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def record_webhook(provider: str, outcome: str, created: int = 0) -> None:
    """Count one webhook delivery and put its outcome on the request's log line."""
    provider = provider if provider in PROVIDERS else "unknown"
    WEBHOOKS.labels(provider, outcome).inc()
    if created:
        STORED.labels(provider).inc(created)
    g.webhook_outcome = outcome
    logs.annotate(provider=provider, outcome=outcome, new_messages=created)


def webhook_delivered(provider: str, created: int) -> None:
    """A delivery acknowledged: `created` new messages (none for a retry already stored)."""
    record_webhook(provider, "accepted" if created else "duplicate", created)


def webhook_refused(exc: WebhookError) -> None:
    """A delivery refused for its signature (or missing secret) or its payload."""
    outcome = "refused_signature" if isinstance(exc, SignatureError) else "refused_payload"
    record_webhook((request.view_args or {}).get("provider", ""), outcome)


def observe_response(response: Response) -> Response:
    """Count and time every answer; 5xx webhooks and 429 feed answers have their own counts."""
    endpoint = request.endpoint or "unmatched"
    status = response.status_code
    REQUESTS.labels(endpoint, f"{status // 100}xx").inc()
    DURATION.labels(endpoint).observe(logs.request_seconds())
    if request.blueprint == "feed" and status == 429:
        RATE_LIMITED.inc()
    if endpoint == "ingest.receive" and status >= 500 and "webhook_outcome" not in g:
        record_webhook((request.view_args or {}).get("provider", ""), "error")
    return response


def register(app: Flask) -> None:
    """Check METRICS_ALLOW_FROM now (a typo fails at start) and count every response."""
    app.extensions["metrics_networks"] = parse_networks(app.config["METRICS_ALLOW_FROM"])
    app.after_request(observe_response)
