"""Sinch SMS MO callbacks: one JSON object per inbound message, HMAC-SHA256 signed with a nonce.

Request: POST JSON MO object `{"type": "mo_text" | "mo_binary" | "mo_media", "id", "from",
"to", "body", "received_at", "sent_at", "operator_id", "client_reference"}`; `body` is the
text (up to 2000 characters) for `mo_text`, base64 with `udh` for `mo_binary`, an object
`{"subject", "message", "media"}` for `mo_media`
(sinch/sinch-sdk-python:sinch/domains/sms/models/v1/shared/base_mo_message.py, mo_media_body.py).

Verified: `x-sinch-webhook-signature` = base64 HMAC-SHA256(`SINCH_WEBHOOK_SECRET`,
raw body + "." + `x-sinch-webhook-signature-nonce` + "." +
`x-sinch-webhook-signature-timestamp`)
(sinch/sinch-sdk-python:sinch/domains/authentication/sinch_events/v1/authentication_validation.py).
Sinch's SDK has no replay window; the site refuses a signed timestamp outside
`WEBHOOK_TOLERANCE_SECONDS`. `x-sinch-webhook-signature-algorithm`, when sent, must be
`HmacSHA256`, the only algorithm the SDKs know.

Reply: 200 with a small JSON body. Sinch retries 5xx and 429 (5 s, 10 s, 20 s ... ~22 h) and
does not retry other 4xx (https://developers.sinch.com/docs/sms/api-reference/sms/tag/Webhooks/).

Idempotency key: `id`. No separate event id.

Decisions where the docs are silent:
- `mo_text` is stored as its `body`; `mo_media` (MMS) as `body.message`, empty when it has
  only media. `mo_binary` (8-bit data such as WAP push or SIM updates, not text a phone
  shows) and any other `type` (delivery reports sharing the callback URL) are acknowledged with
  the same 2xx and store nothing, so Sinch does not retry them.
- Whether Sinch always reassembles long MO messages is open (PROVIDERS.md §4): a `mo_text`
  is stored as one message; no part fields are documented for it.
- The nonce must be printable ASCII: it is signed as bytes, and Sinch's are ULIDs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

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
from .forms import strict_json

SIGNATURE_HEADER = "x-sinch-webhook-signature"
NONCE_HEADER = "x-sinch-webhook-signature-nonce"
TIMESTAMP_HEADER = "x-sinch-webhook-signature-timestamp"
ALGORITHM_HEADER = "x-sinch-webhook-signature-algorithm"
ALGORITHM = "HmacSHA256"
MAX_NONCE = 256


def signature(secret: str, body: bytes, nonce: str, timestamp: str) -> str:
    """Sinch's signature: base64 HMAC-SHA256 of `body.nonce.timestamp`."""
    signed = body + b"." + nonce.encode("ascii") + b"." + timestamp.encode("ascii")
    return base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()



def _nonce(raw: str) -> str:
    if not raw or len(raw) > MAX_NONCE or not (raw.isascii() and raw.isprintable()):
        raise SignatureError(f"missing or malformed {NONCE_HEADER} header")
    return raw


def _given(raw: str | None) -> bytes:
    if not raw:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        given = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
    if len(given) != hashlib.sha256().digest_size:
        raise SignatureError(f"{SIGNATURE_HEADER} is not an HMAC-SHA256")
    return given


def _text(message: dict[str, Any], kind: str) -> str:
    if "body" not in message:
        raise PayloadError("missing field: body")
    body = message["body"]
    if kind == "mo_text":
        if not isinstance(body, str):
            raise PayloadError("body must be a string for mo_text")
        return body
    if not isinstance(body, dict):
        raise PayloadError("body must be an object for mo_media")
    text = body.get("message")
    if text is not None and not isinstance(text, str):
        raise PayloadError("body.message must be a string")
    return text or ""


class SinchProvider:
    """Sinch SMS: HMAC-SHA256 over `body.nonce.timestamp`, one MO message per request."""

    name = "sinch"
    secret_names = ("SINCH_WEBHOOK_SECRET",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the algorithm, the freshness of the signed timestamp, then the HMAC."""
        secret = ctx.secret(self.secret_names[0])
        given = _given(request.header(SIGNATURE_HEADER))
        nonce = _nonce(request.header(NONCE_HEADER) or "")
        raw_timestamp = request.header(TIMESTAMP_HEADER) or ""
        algorithm = request.header(ALGORITHM_HEADER)
        if algorithm is not None and algorithm.strip().lower() != ALGORITHM.lower():
            raise SignatureError(f"unsupported {ALGORITHM_HEADER}: only {ALGORITHM}")
        check_fresh(unix_timestamp(raw_timestamp, f"{TIMESTAMP_HEADER} header"), ctx)
        expected = base64.b64decode(signature(secret, request.body, nonce, raw_timestamp))
        if not hmac.compare_digest(given, expected):
            raise SignatureError("signature does not match SINCH_WEBHOOK_SECRET")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The MO message of a `mo_text` or `mo_media` callback; nothing for other types."""
        message = strict_json(request.body)
        if not isinstance(message, dict):
            raise PayloadError("the body must be a JSON object")
        kind = require(message.get("type"), "type")
        if kind not in ("mo_text", "mo_media"):
            return []  # acknowledged, nothing to store
        return [
            InboundSms(
                provider_id=require(message.get("id"), "id"),
                sender=require(message.get("from"), "from"),
                recipient=require(message.get("to"), "to"),
                text=_text(message, kind),
            )
        ]

    def reply(self) -> Reply:
        """A small JSON acknowledgement: Sinch only looks at the 2xx status."""
        return Reply(body='{"status":"accepted"}', content_type="application/json")


ADAPTER = SinchProvider()
