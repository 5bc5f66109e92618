"""The site's own format, signed per Standard Webhooks (several secrets for rotation)."""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from .base import (
    InboundSms,
    PayloadError,
    Reply,
    SignatureError,
    VerifyContext,
    WebhookRequest,
    check_fresh,
    require,
    unix_timestamp,
)
from .forms import dig, strict_json


def _webhooks(secrets: str) -> list[Webhook]:
    out = []
    for secret in secrets.split():
        try:
            out.append(Webhook(secret))
        except (ValueError, binascii.Error, Exception) as exc:  # the library raises several kinds
            raise SignatureError(f"GENERIC_WEBHOOK_SECRET holds an unreadable key: {exc}") from None
    return out


def _signatures(header: str) -> list[bytes]:
    """The v1 signatures of a `webhook-signature` header; malformed entries are skipped."""
    found = []
    for item in header.split():
        version, _, encoded = item.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found



class GenericProvider:
    """Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, any signature by any key."""

    name = "generic"
    secret_names = ("GENERIC_WEBHOOK_SECRET",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check freshness, then that one listed signature matches one configured key."""
        msg_id = request.header("webhook-id")
        if not msg_id:
            raise SignatureError("missing webhook-id header")
        timestamp = unix_timestamp(request.header("webhook-timestamp"), "webhook-timestamp header")
        given = _signatures(request.header("webhook-signature") or "")
        if not given:
            raise SignatureError("missing or malformed webhook-signature header")
        check_fresh(timestamp, ctx)
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError("body is not valid UTF-8") from None
        moment = datetime.fromtimestamp(timestamp, tz=UTC)
        for hook in _webhooks(ctx.secret(self.secret_names[0])):
            expected = base64.b64decode(hook.sign(msg_id, moment, body).split(",", 1)[1])
            if any(hmac.compare_digest(expected, sig) for sig in given):
                return
        raise SignatureError("no signature matches a configured key")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The message in `data`."""
        payload = strict_json(request.body)
        if dig(payload, "type") != "sms.received":
            raise PayloadError("type must be 'sms.received'")
        data = dig(payload, "data")
        if not isinstance(data, dict):
            raise PayloadError("missing object: data")
        text = data.get("text")
        if not isinstance(text, str):
            raise PayloadError("missing field: data.text")
        return [
            InboundSms(
                provider_id=require(data.get("id"), "data.id"),
                sender=require(data.get("from"), "data.from"),
                recipient=require(data.get("to"), "data.to"),
                text=text,
                event_id=request.header("webhook-id"),
            )
        ]

    def reply(self) -> Reply:
        """A small JSON acknowledgement."""
        return Reply(body='{"status":"accepted"}', content_type="application/json")


ADAPTER = GenericProvider()
