"""SMS Gateway for Android (capcom6): the phone posts `sms:received` events, HMAC-SHA256 signed.

Request: POST JSON from the phone `{"deviceId", "event": "sms:received", "id", "payload":
{"messageId", "message", "sender", "recipient", "phoneNumber", "simNumber", "receivedAt"},
"webhookId"}`; `phoneNumber` is the deprecated name of `sender`; `recipient` may be null;
the sender may be an alphanumeric id (`Google`) or a short code, written as the phone shows it
(android-sms-gateway/docs-web:docs/features/webhooks.md). Long SMS are joined on the phone
(capcom6/android-sms-gateway:.../modules/receiver/MessagesReceiver.kt): one event per message.

Verified: `X-Signature` = hex HMAC-SHA256 keyed with `ANDROID_SMS_GATEWAY_SIGNING_KEY` (the
key string as typed in the app) over the raw body followed by `X-Timestamp`
(capcom6/android-sms-gateway:.../webhooks/plugins/PayloadSingingPlugin.kt); `X-Timestamp`
(unix seconds) must lie within `WEBHOOK_TOLERANCE_SECONDS` (the docs suggest ±5 min). The hex
is compared as bytes, so its case does not matter.

Reply: 200 with a small JSON body; the phone wants a 2xx within 30 s and otherwise retries
after 10 s, 20 s, 40 s ... 14 times (~2 days).

Idempotency key: the top-level `id` of the event, NOT `payload.messageId`, which "is generated
based on the message content and is not guaranteed to be unique" (webhooks.md): two identical
texts from one sender would otherwise be stored once.

Decisions where the docs are silent:
- Only `event == "sms:received"` is a message. `sms:sent`, `sms:delivered`, `sms:failed`,
  `system:ping`, `sms:data-received` (binary data SMS) and other events registered on the same
  URL are acknowledged with the same 2xx and store nothing.
- The sender is `payload.sender`, else the deprecated `payload.phoneNumber` (older app versions).
- A null or absent `payload.recipient` (the phone does not know its own number) stores the
  message addressed to the `deviceId`: it is kept and counted as unrouted (`numbers unrouted`
  names the device), never lost, and the phone is not made to retry for two days.
- `receivedAt` is in the phone's time zone and not used: the site stamps the arrival time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
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

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
MESSAGE_EVENT = "sms:received"
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def signature(key: str, body: bytes, timestamp: str) -> str:
    """The gateway's signature: lower-case hex HMAC-SHA256 of the raw body + the timestamp."""
    return hmac.new(key.encode(), body + timestamp.encode("ascii"), hashlib.sha256).hexdigest()



def _given(raw: str | None) -> bytes:
    if not raw:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not _HEX_SHA256.fullmatch(raw):
        raise SignatureError(f"{SIGNATURE_HEADER} is not a hex HMAC-SHA256")
    return bytes.fromhex(raw)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"missing or malformed object: {what}")
    return value


def _text(payload: dict[str, Any]) -> str:
    text = payload.get("message")
    if not isinstance(text, str):
        raise PayloadError("missing field: payload.message (a string)")
    return text


def _sender(payload: dict[str, Any]) -> str:
    sender = payload.get("sender")
    if sender is None:  # app versions before `sender` existed send only `phoneNumber`
        sender = payload.get("phoneNumber")
    return require(sender, "payload.sender")


def _recipient(payload: dict[str, Any], event: dict[str, Any]) -> str:
    recipient = payload.get("recipient")
    if recipient is None:  # the phone does not know its own number: keep it, unrouted
        return require(event.get("deviceId"), "payload.recipient (or deviceId)")
    return require(recipient, "payload.recipient")


class AndroidSmsGatewayProvider:
    """SMS Gateway for Android: hex HMAC-SHA256 over body + timestamp; `sms:received` only."""

    name = "android-sms-gateway"
    secret_names = ("ANDROID_SMS_GATEWAY_SIGNING_KEY",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the freshness of the signed timestamp, then the HMAC."""
        key = ctx.secret(self.secret_names[0])
        given = _given(request.header(SIGNATURE_HEADER))
        raw_timestamp = request.header(TIMESTAMP_HEADER) or ""
        check_fresh(unix_timestamp(raw_timestamp, f"{TIMESTAMP_HEADER} header"), ctx)
        expected = bytes.fromhex(signature(key, request.body, raw_timestamp))
        if not hmac.compare_digest(given, expected):
            raise SignatureError("signature does not match ANDROID_SMS_GATEWAY_SIGNING_KEY")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The message of an `sms:received` event; nothing for any other event."""
        event = strict_json(request.body)
        if not isinstance(event, dict):
            raise PayloadError("the body must be a JSON object")
        if require(event.get("event"), "event") != MESSAGE_EVENT:
            return []  # acknowledged, nothing to store
        payload = _object(event.get("payload"), "payload")
        return [
            InboundSms(
                provider_id=require(event.get("id"), "id"),
                sender=_sender(payload),
                recipient=_recipient(payload, event),
                text=_text(payload),
            )
        ]

    def reply(self) -> Reply:
        """A small JSON acknowledgement: the phone only looks at the 2xx status."""
        return Reply(body='{"status":"accepted"}', content_type="application/json")


ADAPTER = AndroidSmsGatewayProvider()
