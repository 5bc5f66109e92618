"""httpSMS `message.phone.received`: a CloudEvents JSON POST with a JWT bearer token.

Request: POST `application/json`, header `X-Event-Type`, a CloudEvents 1.0 envelope (`id`,
`type`, `time`…) whose `data` holds `message_id`, `owner` (our number, E.164), `contact`
(sender, E.164), `content`, `encrypted`, `timestamp`, `sim`.

Verified: `Authorization: Bearer <JWT>`, HS256 (pinned) signed with HTTPSMS_SIGNING_KEY, with
`aud` equal to the public URL (SITE_URL + path + query exactly as received); `exp` and `nbf`
(httpSMS sets them 10 minutes either side of `iat`) against our clock with the replay window
as leeway, and `iat` itself within the replay window.

The JWT does NOT cover the body: anyone holding a token still inside its window can post any
body to this URL. `aud` binds the token to this route only, `iat` narrows its life to the
replay window, and `data.message_id` makes a replayed message id store nothing new; a forged
message with a new id within that window cannot be told from a real one.

Reply: 200 with an empty body (httpSMS treats any status below 400 as delivered).
Idempotency key: `data.message_id`; `event_id` is the CloudEvent `id`.

Decisions where the docs are silent:
- Other event types (the operator may subscribe this URL to more) are acknowledged and not
  stored; an envelope without a `type` is a PayloadError.
- `data.encrypted: true` means `content` is ciphertext for a key this site does not have: it is
  refused (PayloadError) rather than shown as gibberish.
- `iss` (`api.httpsms.com`) is not checked: self-hosted httpSMS servers may differ, and the
  signing key is what authenticates.
"""

from __future__ import annotations

from typing import Any

from .base import InboundSms, PayloadError, Reply, VerifyContext, WebhookRequest, require
from .forms import strict_json
from .jwt_check import bearer_token, check_times, decode

RECEIVED = "message.phone.received"
REQUIRED_CLAIMS = ("aud", "iat", "nbf", "exp")


def envelope(body: bytes) -> dict[str, Any]:
    """The CloudEvent object of the body."""
    payload = strict_json(body)
    if not isinstance(payload, dict):
        raise PayloadError("body must be a JSON object")
    require(payload.get("type"), "type")
    return payload


def received_message(event: dict[str, Any]) -> InboundSms:
    """The message of a `message.phone.received` event."""
    data = event.get("data")
    if not isinstance(data, dict):
        raise PayloadError("missing object: data")
    if data.get("encrypted") is True:
        raise PayloadError("data.encrypted is true: content is ciphertext this site cannot read")
    content = data.get("content")
    if not isinstance(content, str):
        raise PayloadError("missing field: data.content")
    event_id = event.get("id")
    return InboundSms(
        provider_id=require(data.get("message_id"), "data.message_id"),
        sender=require(data.get("contact"), "data.contact"),
        recipient=require(data.get("owner"), "data.owner"),
        text=content,
        event_id=event_id if isinstance(event_id, str) and event_id else None,
    )


class HttpSmsProvider:
    """httpSMS: a JWT bound to this URL (not to the body), messages keyed by their id."""

    name = "httpsms"
    secret_names = ("HTTPSMS_SIGNING_KEY",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the JWT's signature, its audience (this URL) and its time window."""
        key = ctx.secret("HTTPSMS_SIGNING_KEY")
        claims = decode(bearer_token(request), key, required=REQUIRED_CLAIMS, audience=request.url)
        check_times(claims, ctx, issued="iat")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The received message; nothing for other event types."""
        event = envelope(request.body)
        if event["type"] != RECEIVED:
            return []
        return [received_message(event)]

    def reply(self) -> Reply:
        """200 with an empty body."""
        return Reply(body="")


ADAPTER = HttpSmsProvider()
