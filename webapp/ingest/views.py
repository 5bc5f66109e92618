"""Webhook routes: one per provider, verify first, then parse, then store, then reply."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, request

from ..extensions import limiter
from ..metrics import webhook_delivered
from ..providers import PROVIDERS
from ..providers.base import VerifyContext, WebhookRequest
from .service import accept_webhook

bp = Blueprint("ingest", __name__)
# Carriers are never rate limited (a 429 to Twilio can lose a message), so the limiter
# does not even look at these requests.
limiter.exempt(bp)


def public_url() -> str:
    """The URL the provider called: SITE_URL + the path and query exactly as received."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw and "://" in raw.split("?", 1)[0]:
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    if not raw:
        raw = quote(request.script_root + request.path)
        if request.query_string:
            raw += "?" + request.query_string.decode("latin-1")
    return current_app.config["SITE_URL"] + raw


def webhook_request() -> WebhookRequest:
    """The raw request as plain values for an adapter."""
    return WebhookRequest(
        method=request.method,
        url=public_url(),
        query_string=request.query_string,
        headers=dict(request.headers),
        body=request.get_data(cache=True),
        content_type=request.mimetype,
    )


def verify_context() -> VerifyContext:
    """Secrets, clock and replay window from the app's configuration."""
    cfg = current_app.config
    return VerifyContext(
        secrets=cfg["PROVIDER_SECRETS"],
        now=cfg["CLOCK"](),
        tolerance=cfg["WEBHOOK_TOLERANCE_SECONDS"],
    )


@bp.route("/webhooks/<provider>", methods=["GET", "POST"])
def receive(provider: str) -> Response:
    """Accept one provider's delivery and answer the way that provider expects."""
    adapter = PROVIDERS.get(provider) or abort(404)
    cfg = current_app.config
    reply, created = accept_webhook(adapter, webhook_request(), verify_context(),
                                    cfg["WEBHOOK_ALLOW_UNSIGNED"])
    webhook_delivered(adapter.name, created)
    return Response(reply.body, status=reply.status, content_type=reply.content_type)
