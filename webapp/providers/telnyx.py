"""Telnyx API v2 messaging webhooks: `message.received`, signed with Ed25519.

Request: POST JSON `{"data": {"event_type", "id", "occurred_at", "payload", "record_type"},
"meta": {"attempt", "delivered_to"}}`; the message is `data.payload`: `id`, `direction`,
`from.phone_number`, `to[].phone_number`, `cc[]`, `text`, `media[]`, `encoding`, `parts`
(https://developers.telnyx.com/api-reference/callbacks/inbound-message). Numbers are E.164.

Verified: `telnyx-signature-ed25519` is the base64 Ed25519 signature (64 bytes) of
`"{telnyx-timestamp}|{raw body}"`, checked with `TELNYX_PUBLIC_KEY` (base64 of the 32-byte
account public key from the portal) by the `cryptography` package; `telnyx-timestamp` (unix
seconds) must lie within the replay window, as in Telnyx's SDK
(team-telnyx/telnyx-python:src/telnyx/lib/webhook_verification.py).

Reply: 200 with a small JSON body. Telnyx wants a 2xx within 2 s, retries up to 3 times per
URL, then tries the failover URL
(https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks).

Idempotency key: `data.payload.id` (the message); `data.id` (the event) is the `event_id`.

Decisions where the docs are silent:
- Only `data.event_type == "message.received"` is a message. Other events that share the
  messaging profile's URL (`message.sent`, `message.finalized`, ...) are acknowledged with the
  same 2xx and store nothing: refusing them would only make Telnyx retry them.
- The recipient is `to[0].phone_number`. Whether a group MMS lists the profile's own number
  first is not documented (UNVERIFIED); one-to-one SMS have a single `to`.
- `text` must be present; `null` (a media-only MMS) is stored as empty text.
- `parts` (segments), when present and not null, must be a positive integer.
- `meta` is not read: it comes from observed payloads only (UNVERIFIED in PROVIDERS.md).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
from .forms import segment_count, strict_json

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
MESSAGE_EVENT = "message.received"


def signed_content(timestamp: str, body: bytes) -> bytes:
    """What Telnyx signs: the timestamp header, a pipe, the raw body."""
    return timestamp.encode("ascii") + b"|" + body


def public_key(encoded: str) -> Ed25519PublicKey:
    """The configured key, or SignatureError when it is not base64 of 32 bytes."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise SignatureError("TELNYX_PUBLIC_KEY is not a base64 Ed25519 public key") from None



def _signature(raw: str | None) -> bytes:
    if not raw:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        signature = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
    if len(signature) != 64:
        raise SignatureError(f"{SIGNATURE_HEADER} is not a 64-byte Ed25519 signature")
    return signature


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"missing or malformed object: {what}")
    return value


def _recipient(message: dict[str, Any]) -> str:
    recipients = message.get("to")
    if not isinstance(recipients, list) or not recipients:
        raise PayloadError("data.payload.to must be a non-empty array")
    first = _object(recipients[0], "data.payload.to[0]")
    return require(first.get("phone_number"), "data.payload.to[0].phone_number")


def _text(message: dict[str, Any]) -> str:
    if "text" not in message:
        raise PayloadError("missing field: data.payload.text")
    text = message["text"]
    if text is None:  # a media-only MMS
        return ""
    if not isinstance(text, str):
        raise PayloadError("data.payload.text must be a string")
    return text




def _event_id(data: dict[str, Any]) -> str | None:
    event_id = data.get("id")
    if event_id is not None and not isinstance(event_id, str):
        raise PayloadError("data.id must be a string")
    return event_id


class TelnyxProvider:
    """Telnyx messaging: Ed25519 over `timestamp|body`, one message per `message.received`."""

    name = "telnyx"
    secret_names = ("TELNYX_PUBLIC_KEY",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the timestamp is fresh and the Ed25519 signature is the account key's."""
        key = public_key(ctx.secret(self.secret_names[0]))
        signature = _signature(request.header(SIGNATURE_HEADER))
        raw_timestamp = request.header(TIMESTAMP_HEADER) or ""
        check_fresh(unix_timestamp(raw_timestamp, f"{TIMESTAMP_HEADER} header"), ctx)
        try:
            key.verify(signature, signed_content(raw_timestamp, request.body))
        except InvalidSignature:
            raise SignatureError("signature does not match TELNYX_PUBLIC_KEY") from None

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The message of a `message.received` event; no message for any other event."""
        event = strict_json(request.body)
        if not isinstance(event, dict):
            raise PayloadError("the body must be a JSON object")
        data = _object(event.get("data"), "data")
        if require(data.get("event_type"), "data.event_type") != MESSAGE_EVENT:
            return []  # acknowledged, nothing to store
        message = _object(data.get("payload"), "data.payload")
        return [
            InboundSms(
                provider_id=require(message.get("id"), "data.payload.id"),
                sender=require(
                    _object(message.get("from"), "data.payload.from").get("phone_number"),
                    "data.payload.from.phone_number",
                ),
                recipient=_recipient(message),
                text=_text(message),
                segments=segment_count(message.get("parts"), "data.payload.parts"),
                event_id=_event_id(data),
            )
        ]

    def reply(self) -> Reply:
        """A small JSON acknowledgement: Telnyx only looks at the 2xx status."""
        return Reply(body='{"status":"accepted"}', content_type="application/json")


ADAPTER = TelnyxProvider()
