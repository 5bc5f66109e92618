"""Bird (the new MessageBird platform) Channels API webhooks: `sms.inbound`, HMAC-SHA256 signed.

Request: POST JSON `{"service": "channels", "event": "sms.inbound", "payload": message}`;
message: `id`, `channelId`, `sender.contact.identifierValue` (E.164), `receiver.connector`,
`body.type = "text"`, `body.text.text`, `parts[].platformReference`, `direction = "incoming"`,
`createdAt`
(https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/receiving-messages).

Verified: `messagebird-signature` = base64 HMAC-SHA256 keyed with `BIRD_SIGNING_KEY` (the
subscription's signing key, used as given: its UTF-8 bytes, not base64-decoded) over
`messagebird-request-timestamp` + "\\n" + the public URL + "\\n" + sha256(raw body) as its 32
raw bytes (https://docs.bird.com/api/notifications-api/api-reference/webhooks/verifying-a-webhook).
The URL is `SITE_URL` + the path and query exactly as received (never the Host header). Bird
documents no replay window; the signed timestamp (unix seconds) must lie within
`WEBHOOK_TOLERANCE_SECONDS`.

Reply: 200 with a small JSON body. Bird retries non-2xx "at increasing intervals, for a period
of 8 hours" (https://docs.bird.com/api/notifications-api/retries).

Idempotency key: `payload.id`. No separate event id.

Decisions where the docs are silent:
- Bird's own sample names the receiving connector by id only; the recipient number is read
  from `payload.receiver.connector.identifierValue` (as the shared samples carry it). A
  payload without it is stored addressed to `connector:<id>`, so it is kept as unrouted
  (listed by `flask numbers unrouted`) rather than refused and retried for 8 hours, then lost.
- Only `event == "sms.inbound"` is a message; other events of the subscription (outbound
  status updates) are acknowledged with the same 2xx and store nothing.
- An `sms.inbound` whose `body.type` is not `text` (a picture, a file) is acknowledged and
  not stored: this site shows text, and a refusal would only be retried for 8 hours.
- `segments` is the number of `parts` when Bird lists them.
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
from .forms import dig, strict_json

SIGNATURE_HEADER = "messagebird-signature"
TIMESTAMP_HEADER = "messagebird-request-timestamp"
MESSAGE_EVENT = "sms.inbound"


def url_bytes(url: str) -> bytes:
    """The URL as the bytes that were sent: WSGI hands the raw path and query over as latin-1."""
    try:
        return url.encode("latin-1")
    except UnicodeEncodeError:  # a SITE_URL written with characters beyond latin-1
        return url.encode("utf-8")


def signature(key: str, timestamp: str, url: str, body: bytes) -> str:
    """Bird's signature: base64 HMAC-SHA256 of `timestamp\\nURL\\nsha256(body)`."""
    signed = b"\n".join([timestamp.encode("ascii"), url_bytes(url), hashlib.sha256(body).digest()])
    return base64.b64encode(hmac.new(key.encode(), signed, hashlib.sha256).digest()).decode()



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


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"missing or malformed object: {what}")
    return value


def _is_text(message: dict[str, Any]) -> bool:
    return _object(message.get("body"), "payload.body").get("type") == "text"


def _recipient(message: dict[str, Any]) -> str:
    number = dig(message, "receiver", "connector", "identifierValue")
    if number is not None:
        return require(number, "payload.receiver.connector.identifierValue")
    connector = require(dig(message, "receiver", "connector", "id"), "payload.receiver.connector")
    return f"connector:{connector}"


def _text(message: dict[str, Any]) -> str:
    text = dig(message, "body", "text", "text")
    if not isinstance(text, str):
        raise PayloadError("missing field: payload.body.text.text (a string)")
    return text


def _segments(parts: Any) -> int | None:
    if parts is None:
        return None
    if not isinstance(parts, list):
        raise PayloadError("payload.parts must be an array")
    return len(parts) or None


class BirdProvider:
    """Bird Channels: HMAC-SHA256 over timestamp, URL and body hash; one `sms.inbound` message."""

    name = "bird"
    secret_names = ("BIRD_SIGNING_KEY",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the freshness of the signed timestamp, then the HMAC over the public URL."""
        key = ctx.secret(self.secret_names[0])
        given = _given(request.header(SIGNATURE_HEADER))
        raw_timestamp = request.header(TIMESTAMP_HEADER) or ""
        check_fresh(unix_timestamp(raw_timestamp, f"{TIMESTAMP_HEADER} header"), ctx)
        expected = base64.b64decode(signature(key, raw_timestamp, request.url, request.body))
        if not hmac.compare_digest(given, expected):
            raise SignatureError("signature does not match BIRD_SIGNING_KEY and the URL")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The message of an `sms.inbound` event; nothing for any other event."""
        envelope = strict_json(request.body)
        if not isinstance(envelope, dict):
            raise PayloadError("the body must be a JSON object")
        if require(envelope.get("event"), "event") != MESSAGE_EVENT:
            return []  # acknowledged, nothing to store
        message = _object(envelope.get("payload"), "payload")
        if not _is_text(message):
            return []  # a picture or file: acknowledged, nothing to show
        sender = dig(message, "sender", "contact", "identifierValue")
        return [
            InboundSms(
                provider_id=require(message.get("id"), "payload.id"),
                sender=require(sender, "payload.sender.contact.identifierValue"),
                recipient=_recipient(message),
                text=_text(message),
                segments=_segments(message.get("parts")),
            )
        ]

    def reply(self) -> Reply:
        """A small JSON acknowledgement: Bird only looks at the 2xx status."""
        return Reply(body='{"status":"accepted"}', content_type="application/json")


ADAPTER = BirdProvider()
