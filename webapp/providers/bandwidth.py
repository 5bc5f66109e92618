"""Bandwidth Messaging v2 callbacks: a JSON array of events behind HTTP Basic credentials.

- Request: POST JSON, always an array `[{type, time, description, to, message{id, owner,
  applicationId, time, segmentCount, direction, to[], from, text, media[]}}]`; numbers E.164
  with `+` (https://dev.bandwidth.com/docs/messaging/webhooks). For a group message to several
  numbers we own, each owned recipient gets its own event and message id.
- Verified: HTTP Basic credentials configured on the messaging application
  (`InboundCallbackCreds`, https://dev.bandwidth.com/docs/account/applications) against
  `BANDWIDTH_USERNAME` / `BANDWIDTH_PASSWORD`, both compared in constant time
  (`basic_auth.py`). Bandwidth signs nothing and sends no signed timestamp: no replay window.
- Reply: 200 with an empty body; Bandwidth retries anything else for 24 hours (10 s timeout).
- Idempotency key: `message.id` (delivery is at least once; duplicates are documented).
- Stored: sender `message.from`, recipient `message.owner` (our number; the event's `to` when
  `owner` is absent), text `message.text`, segments `message.segmentCount`.

Decisions where the docs leave it open:

- Other event types in the array (`message-delivered`, `message-failed`, `message-sending`,
  multichannel events, ...) are acknowledged and store nothing: they are receipts for messages
  we never send, and refusing them would make Bandwidth retry them for a day. Each event must
  still be an object with a string `type`; a malformed event refuses the whole request, so what
  is acknowledged was read completely.
- `message.text` missing is accepted as "" only for an MMS that carries `media` (a picture with
  no caption); otherwise it is a malformed payload.
- `segmentCount` must be an integer from 1 to 255 when present.
"""

from __future__ import annotations

from typing import Any

from .base import InboundSms, PayloadError, Reply, WebhookRequest, require
from .basic_auth import BasicAuthVerifier
from .forms import segment_count, strict_json

MESSAGE_RECEIVED = "message-received"


def _event_type(event: Any, where: str) -> str:
    """The `type` of one event of the array."""
    if not isinstance(event, dict):
        raise PayloadError(f"{where} must be a JSON object")
    kind = event.get("type")
    if not isinstance(kind, str):
        raise PayloadError(f"missing field: {where}.type")
    return kind




def _text(message: dict[str, Any], where: str) -> str:
    """The text; an MMS with media and no caption has none."""
    text = message.get("text")
    if text is None and isinstance(message.get("media"), list) and message["media"]:
        return ""
    if not isinstance(text, str):
        raise PayloadError(f"missing field: {where}.text")
    return text


def _inbound(event: dict[str, Any], where: str) -> InboundSms:
    """The message of one `message-received` event."""
    message = event.get("message")
    if not isinstance(message, dict):
        raise PayloadError(f"missing object: {where}.message")
    where = f"{where}.message"
    owner = message.get("owner")
    return InboundSms(
        provider_id=require(message.get("id"), f"{where}.id"),
        sender=require(message.get("from"), f"{where}.from"),
        recipient=require(owner if owner is not None else event.get("to"), f"{where}.owner"),
        text=_text(message, where),
        segments=segment_count(message.get("segmentCount"), f"{where}.segmentCount"),
    )


class BandwidthProvider(BasicAuthVerifier):
    """Bandwidth Messaging v2: Basic credentials, one message per `message-received` event."""

    name = "bandwidth"
    secret_names = ("BANDWIDTH_USERNAME", "BANDWIDTH_PASSWORD")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The messages of the `message-received` events; other events carry none."""
        events = strict_json(request.body)
        if not isinstance(events, list):
            raise PayloadError("body must be a JSON array of events")
        messages = []
        for index, event in enumerate(events):
            where = f"[{index}]"
            if _event_type(event, where) == MESSAGE_RECEIVED:
                messages.append(_inbound(event, where))
        return messages

    def reply(self) -> Reply:
        """An empty 200: Bandwidth reads only the status."""
        return Reply()


ADAPTER = BandwidthProvider()
