"""Vonage SMS API inbound messages: GET, POST form or POST JSON, signed with the `sig` parameter.

Request: the account's "Webhook format" picks GET (parameters in the query), POST (form body)
or POST-JSON (a flat JSON object). Fields: `msisdn` (sender), `to` (our number), `text`,
`messageId`, `type`, `timestamp`, `nonce`, `sig`; a long message arrives as one request per
part with `concat=true`, `concat-ref`, `concat-total` and `concat-part` (1-based).

Verified: `sig`, made from every other parameter sorted by name, each value with `&` and `=`
replaced by `_`, joined as `&name=value…`; then hex md5(string + secret) for `md5hash`, or hex
HMAC-MD5/SHA-1/SHA-256/SHA-512 keyed with VONAGE_SIGNATURE_SECRET for `md5`/`sha1`/`sha256`/
`sha512` (VONAGE_SIGNATURE_METHOD, default `sha256`). Hex case is ignored (Vonage's SDKs
disagree on it). The signed `timestamp` must lie within the replay window.

Reply: 200 with an empty body ("200 OK or 204 No Content"). Idempotency key: `messageId`,
one per part; a part carries `Part(concat-ref, concat-total, concat-part)` and the ingest
service joins the parts once all arrived.

Decisions where the docs are silent:
- POST-JSON: the top-level keys are the signed parameters (UNVERIFIED, as in the SDKs, which
  take a dict); values are strings, an integer or boolean is signed as its JSON text, any
  other value (null, float, object, array) is refused.
- Parameters are read from the query for GET and from the body for POST, never both.
- `type=binary` (a data SMS no phone shows as text) is acknowledged and not stored.
- A "part 1 of 1" is stored as a plain message, keyed by its `messageId`.
- Vonage documents no re-signing of retries; a retry that arrives after the replay window
  would be refused (401) like any stale request.
- A body that cannot be read (bad UTF-8, a repeated field) is a PayloadError (400) even in
  `verify`, so that what is signed, routed and stored is one value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from .base import (
    InboundSms,
    NotConfigured,
    Part,
    PayloadError,
    Reply,
    SignatureError,
    VerifyContext,
    WebhookRequest,
    check_fresh,
    require,
    same_secret,
    unix_timestamp,
)
from .forms import form_pairs, single_values, strict_json

HMAC_METHODS = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
METHODS = ("md5hash", *HMAC_METHODS)
_CONCAT_FIELDS = ("concat-ref", "concat-total", "concat-part")


def signing_string(params: Mapping[str, str]) -> str:
    """`&k1=v1&k2=v2…` over the parameters sorted by name, `&` and `=` in values made `_`."""
    cleaned = ((name, value.replace("&", "_").replace("=", "_")) for name, value in params.items())
    return "".join(f"&{name}={value}" for name, value in sorted(cleaned))


def signature(params: Mapping[str, str], secret: str, method: str) -> str:
    """Vonage's hex signature of the parameters (`sig` excluded) with one signature method."""
    message = signing_string({k: v for k, v in params.items() if k != "sig"}).encode()
    if method == "md5hash":
        return hashlib.md5(message + secret.encode()).hexdigest()
    if method not in HMAC_METHODS:
        raise NotConfigured(f"VONAGE_SIGNATURE_METHOD must be one of {', '.join(METHODS)}")
    return hmac.new(secret.encode(), message, HMAC_METHODS[method]).hexdigest()


def _json_text(name: str, value: object) -> str:
    """A POST-JSON value as the string that was signed."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return json.dumps(value)
    raise PayloadError(f"field {name!r} must be a string")


def _json_params(body: bytes) -> dict[str, str]:
    payload = strict_json(body)
    if not isinstance(payload, dict):
        raise PayloadError("body must be a JSON object")
    return {name: _json_text(name, value) for name, value in payload.items()}


def _is_json(request: WebhookRequest) -> bool:
    media = (request.content_type or request.header("Content-Type") or "").split(";")[0]
    media = media.strip().lower()
    return media == "application/json" or media.endswith("+json")


def request_params(request: WebhookRequest) -> dict[str, str]:
    """The request's parameters: the query for GET, the form or JSON body for POST."""
    if request.method != "POST":
        return single_values(form_pairs(request.query_string))
    if _is_json(request):
        return _json_params(request.body)
    return single_values(form_pairs(request.body))



def _count(params: Mapping[str, str], name: str) -> int:
    raw = require(params.get(name), name).strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3:
        raise PayloadError(f"field {name!r} must be a whole number")
    return int(raw)


def concat_part(params: Mapping[str, str]) -> Part | None:
    """Where a part of a long message belongs, None for a whole message."""
    if params.get("concat", "").lower() != "true" and not any(
        name in params for name in _CONCAT_FIELDS
    ):
        return None
    ref = require(params.get("concat-ref"), "concat-ref")
    total, number = _count(params, "concat-total"), _count(params, "concat-part")
    if not 1 <= number <= total:
        raise PayloadError(f"concat-part {number} is not within concat-total {total}")
    return None if total == 1 else Part(ref=ref, total=total, number=number)


class VonageProvider:
    """Vonage SMS API inbound: `sig` over the sorted parameters, one request per part."""

    name = "vonage"
    # The method is optional (sha256 by default): only the secret must be configured.
    secret_names = ("VONAGE_SIGNATURE_SECRET",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check `sig` with the configured method, then that the signed timestamp is fresh."""
        secret = ctx.secret("VONAGE_SIGNATURE_SECRET")
        method = (ctx.secrets.get("VONAGE_SIGNATURE_METHOD") or "sha256").strip().lower()
        params = request_params(request)
        given = params.get("sig", "")
        if not given:
            raise SignatureError("missing sig parameter")
        if not same_secret(given.lower(), signature(params, secret, method)):
            raise SignatureError("sig does not match")
        check_fresh(unix_timestamp(params.get("timestamp"), "timestamp parameter"), ctx)

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The message, or the part of a long message, of the request."""
        params = request_params(request)
        if params.get("type") == "binary":
            return []  # a data SMS: nothing a phone would show as text
        text = params.get("text")
        if text is None:
            raise PayloadError("missing field: text")
        return [
            InboundSms(
                provider_id=require(params.get("messageId"), "messageId"),
                sender=require(params.get("msisdn"), "msisdn"),
                recipient=require(params.get("to"), "to"),
                text=text,
                part=concat_part(params),
            )
        ]

    def reply(self) -> Reply:
        """200 with an empty body: anything else makes Vonage resend for 24 hours."""
        return Reply(body="")


ADAPTER = VonageProvider()
