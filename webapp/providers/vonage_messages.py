"""Vonage Messages API inbound SMS: POST JSON with a signed JWT bearer token.

Request: POST `application/json` with `channel` ("sms"), `message_uuid`, `from` (sender,
digits), `to` (our number, digits), `text`, `timestamp`, `message_type`, `sms.num_messages`
(segments, a string) and `usage` (the field list is UNVERIFIED by Vonage's reference).

Verified: `Authorization: Bearer <JWT>`, HS256 (pinned) signed with VONAGE_SIGNATURE_SECRET
(always SHA-256, whatever the SMS API's signature method); its `payload_hash` claim must be the
hex SHA-256 of the raw body, and its `iat` within the replay window of our clock (`exp`/`nbf`
are honoured when present). The `iss`, `api_key` and `application_id` claims are not checked:
the account secret is what authenticates.

Reply: 200 with an empty body. Idempotency key: `message_uuid`. Long messages arrive joined;
`sms.num_messages` is kept as the segment count.

Decisions where the docs are silent:
- Vonage says that after an internal error it "may send an unsigned callback" and that a 5xx
  makes it retry (signed). The SPEC answers a missing signature with 401, which Vonage does
  not retry: such a rare unsigned callback is lost rather than trusted.
- Only `channel` "sms" is a message; any other channel (MMS, WhatsApp…) is acknowledged with
  a 2xx and stored nothing, like other providers' non-message events.
"""

from __future__ import annotations

from typing import Any

from .base import (
    InboundSms,
    PayloadError,
    Reply,
    VerifyContext,
    WebhookRequest,
    require,
)
from .forms import dig, segment_count, segment_count_text, strict_json
from .jwt_check import bearer_token, check_hash_claim, check_times, decode


def _segments(payload: dict[str, Any]) -> int | None:
    """`sms.num_messages` ("1", "2"… or a number): 1 to 255, None when absent."""
    value = dig(payload, "sms", "num_messages")
    if isinstance(value, str):
        return segment_count_text(value, "sms.num_messages")
    return segment_count(value, "sms.num_messages")


def message_payload(body: bytes) -> dict[str, Any]:
    """The inbound JSON object, with a `channel`."""
    payload = strict_json(body)
    if not isinstance(payload, dict):
        raise PayloadError("body must be a JSON object")
    require(payload.get("channel"), "channel")
    return payload


class VonageMessagesProvider:
    """Vonage Messages API: JWT bearer HS256 with the body's SHA-256 as a claim."""

    name = "vonage-messages"
    secret_names = ("VONAGE_SIGNATURE_SECRET",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the JWT's signature, its `payload_hash` against the raw body, and its `iat`."""
        secret = ctx.secret("VONAGE_SIGNATURE_SECRET")
        claims = decode(bearer_token(request), secret, required=("iat", "payload_hash"))
        check_hash_claim(claims, "payload_hash", request.body)
        check_times(claims, ctx, issued="iat")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The one message of the request."""
        payload = message_payload(request.body)
        if payload["channel"] != "sms":
            return []  # MMS, WhatsApp…: acknowledged so Vonage does not retry, not shown here
        text = payload.get("text")
        if not isinstance(text, str):
            raise PayloadError("missing field: text")
        return [
            InboundSms(
                provider_id=require(payload.get("message_uuid"), "message_uuid"),
                sender=require(payload.get("from"), "from"),
                recipient=require(payload.get("to"), "to"),
                text=text,
                segments=_segments(payload),
            )
        ]

    def reply(self) -> Reply:
        """200 with an empty body."""
        return Reply(body="")


ADAPTER = VonageMessagesProvider()
