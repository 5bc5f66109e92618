"""MessageBird (legacy platform) inbound SMS forward: GET with a signed JWT header.

Request: GET with the message in the query: `id`, `originator` (sender, digits or an
alphanumeric id), `recipient` (our number, digits), `body`, `createdDatetime` (field names
UNVERIFIED: MessageBird's legacy forward format could not be re-checked).

Verified: header `MessageBird-Signature-JWT`, a JWT signed with MESSAGEBIRD_SIGNING_KEY;
required claims `iss` ("MessageBird"), `nbf`, `exp`, `url_hash`. `url_hash` must be the hex
SHA-256 of the public URL (SITE_URL + path + query exactly as received); `payload_hash` the hex
SHA-256 of the body when there is one, and absent when there is none. `exp`/`nbf` are checked
against our clock with the replay window as leeway, and `nbf` (MessageBird sets it to the
signing time) must itself lie within the window.

Reply: 200 with an empty body. Idempotency key: `id`.

Decisions where the docs are silent:
- Algorithms: HS256, HS384 and HS512 are accepted, a fixed list configured here (MessageBird's
  SDK accepts these three and its official vectors sign with each); `none` and asymmetric
  algorithms are refused.
- The tokens live 60 s (`exp = nbf + 60`) and MessageBird's SDK allows 1 s of leeway; here the
  site-wide tolerance applies, so a token is accepted up to WEBHOOK_TOLERANCE_SECONDS after
  `nbf`. A replay within that window can only repeat the signed URL, whose `id` is stored once.
- A POST is read from its form body (covered by `payload_hash`); MessageBird documents GET.
"""

from __future__ import annotations

from typing import Any

from .base import (
    InboundSms,
    PayloadError,
    Reply,
    SignatureError,
    VerifyContext,
    WebhookRequest,
    require,
)
from .forms import form_pairs, single_values
from .jwt_check import check_hash_claim, check_times, decode

HEADER = "MessageBird-Signature-JWT"
ALGORITHMS = ("HS256", "HS384", "HS512")
REQUIRED_CLAIMS = ("iss", "nbf", "exp", "url_hash")


def url_bytes(url: str) -> bytes:
    """The URL as the bytes that were hashed (the query's raw bytes travel as latin-1)."""
    try:
        return url.encode("latin-1")
    except UnicodeEncodeError:
        return url.encode("utf-8")


def check_payload_hash(claims: dict[str, Any], body: bytes) -> None:
    """`payload_hash` covers the body when there is one and is absent when there is none."""
    if body:
        check_hash_claim(claims, "payload_hash", body)
    elif claims.get("payload_hash"):
        raise SignatureError("JWT claim payload_hash is set but the request has no body")


def message_fields(request: WebhookRequest) -> dict[str, str]:
    """The forward's fields: the query for GET, the form body for POST."""
    data = request.body if request.method == "POST" else request.query_string
    return single_values(form_pairs(data))


class MessageBirdProvider:
    """MessageBird legacy forward: a JWT over the URL's and the body's SHA-256."""

    name = "messagebird"
    secret_names = ("MESSAGEBIRD_SIGNING_KEY",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the JWT, then the URL and body hashes it carries, then its time window."""
        key = ctx.secret("MESSAGEBIRD_SIGNING_KEY")
        token = (request.header(HEADER) or "").strip()
        if not token:
            raise SignatureError(f"missing {HEADER} header")
        claims = decode(
            token, key, required=REQUIRED_CLAIMS, algorithms=ALGORITHMS, issuer="MessageBird"
        )
        check_hash_claim(claims, "url_hash", url_bytes(request.url))
        check_payload_hash(claims, request.body)
        check_times(claims, ctx, issued="nbf")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The one message of the request."""
        fields = message_fields(request)
        if "body" not in fields:
            raise PayloadError("missing field: body")
        return [
            InboundSms(
                provider_id=require(fields.get("id"), "id"),
                sender=require(fields.get("originator"), "originator"),
                recipient=require(fields.get("recipient"), "recipient"),
                text=fields["body"],
            )
        ]

    def reply(self) -> Reply:
        """200 with an empty body."""
        return Reply(body="")


ADAPTER = MessageBirdProvider()
