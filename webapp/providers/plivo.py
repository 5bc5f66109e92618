"""Plivo incoming messages: form POST (or GET), V3 signature where sent, else V2.

- Request: to the application's `message_url`, form-encoded (POST by default, GET possible):
  `MessageUUID`, `From`, `To`, `Text` (SMS), `Body` (MMS/WhatsApp), `Type`, `Units` (parts of a
  long SMS, which Plivo has already joined), `TotalRate`, `TotalAmount`, `MessageIntent`,
  `PowerpackUUID`, `MediaCount`, `Media{N}`; numbers are digits without `+`
  (https://plivo.com/docs/messaging/api/message/handling-incoming).
- Verified with `PLIVO_AUTH_TOKEN`, over the public URL (`SITE_URL` + raw path and query):
  - V3 when `X-Plivo-Signature-V3` (or `-Ma-V3`) is present: base64 HMAC-SHA256 of
    `scheme://host/path?sorted_query` + (`.` when there are both a query and POST parameters) +
    the POST parameters sorted as name+value, then `.` + `X-Plivo-Signature-V3-Nonce`; for GET the
    URL with its sorted query only. The header may list several signatures, comma-separated
    (plivo/plivo-python:plivo/utils/signature_v3.py). When any V3 header is present (even empty)
    V3 decides: a bad V3 signature is refused even if V2 would match.
  - else V2: `X-Plivo-Signature-V2` (or `-Ma-V2`) = base64 HMAC-SHA256 of
    `scheme://host/path` (no query) + `X-Plivo-Signature-V2-Nonce`
    (https://docs.plivo.com/docs/messaging/concepts/signature-validation).
  Neither scheme signs a timestamp: no replay window; retries are deduplicated by `MessageUUID`.
- Reply: 200 with an empty Plivo XML `<Response/>` (reply XML is optional; an empty document
  sends nothing back to the sender). Plivo retries non-2xx at +60 s, +120 s, +240 s.
- Idempotency key: `MessageUUID`.

Decisions where the docs leave it open (PROVIDERS.md §3.5, §4):

- The `-Ma-` headers are signed with the parent (main) account's token. A signature in either the
  plain or the `-Ma-` header is accepted when it matches `PLIVO_AUTH_TOKEN`, so the operator may
  configure the token of the account that owns the number or of its main account.
- V2 covers neither the body nor the query: a captured V2 nonce and signature can be replayed
  with any body. It is accepted (SPEC: "V3 where sent, else V2") because not every account is
  known to send V3 (§4); V3 requests cannot be downgraded, since V3 headers decide when present.
- Text: `Text`, else `Body` (MMS); one of them must be present (it may be empty).
- `Units` must be a number from 1 to 255 when present and not empty.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from .base import (
    InboundSms,
    PayloadError,
    Reply,
    SignatureError,
    VerifyContext,
    WebhookRequest,
    require,
)
from .forms import form_pairs, segment_count_text, single_values

V3_HEADERS = ("X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3")
V3_NONCE = "X-Plivo-Signature-V3-Nonce"
V2_HEADERS = ("X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2")
V2_NONCE = "X-Plivo-Signature-V2-Nonce"
EMPTY_XML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _hmac_b64(token: str, message: str) -> str:
    digest = hmac.new(token.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def base_url(url: str) -> str:
    """`scheme://host[:port]/path`: the URL without its query."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def signature_v2(token: str, url: str, nonce: str) -> str:
    """Plivo's V2 signature: base64 HMAC-SHA256 of the URL without its query, then the nonce."""
    return _hmac_b64(token, base_url(url) + nonce)


def v3_signed_url(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """What V3 signs before the nonce: URL with sorted query, then the sorted POST params."""
    query_pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    query = "&".join(f"{name}={value}" for name, value in sorted(query_pairs))
    if method == "GET" or not params:
        return base_url(url) + ("?" + query if query else "")
    # With POST parameters Plivo always writes the "?", and a "." only between query and params.
    separator = "." if query else ""
    return base_url(url) + "?" + query + separator + "".join(n + v for n, v in sorted(params))


def signature_v3(
    token: str, method: str, url: str, params: list[tuple[str, str]], nonce: str
) -> str:
    """Plivo's V3 signature: base64 HMAC-SHA256 of the signed URL, `.`, then the nonce."""
    return _hmac_b64(token, v3_signed_url(method, url, params) + "." + nonce)


def _given(request: WebhookRequest, names: tuple[str, ...]) -> list[str]:
    """Every signature listed in the named headers (each may hold a comma-separated list)."""
    found = []
    for name in names:
        found += [item.strip() for item in (request.header(name) or "").split(",")]
    return [item for item in found if item]


def _nonce(request: WebhookRequest, name: str) -> str:
    nonce = request.header(name)
    if not nonce:
        raise SignatureError(f"missing {name} header")
    return nonce


def _matches(expected: str, given: list[str]) -> bool:
    return any(hmac.compare_digest(expected.encode(), item.encode()) for item in given)


def _params(request: WebhookRequest) -> list[tuple[str, str]]:
    """The POST form parameters (none for GET: their values are in the signed query)."""
    return form_pairs(request.body) if request.method == "POST" else []




def _text(fields: dict[str, str]) -> str:
    """`Text` for an SMS, `Body` for an MMS; present, possibly empty."""
    text = fields.get("Text", fields.get("Body"))
    if text is None:
        raise PayloadError("missing field: Text")
    return text


class PlivoProvider:
    """Plivo: V3 signature where its headers are sent, else V2; one message per request."""

    name = "plivo"
    secret_names = ("PLIVO_AUTH_TOKEN",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the V3 signature when sent (it decides), else the V2 one."""
        token = ctx.secret(self.secret_names[0])
        if any(request.header(name) is not None for name in (*V3_HEADERS, V3_NONCE)):
            # Sent, even empty or malformed, V3 decides: no falling back to the weaker V2.
            nonce = _nonce(request, V3_NONCE)
            expected = signature_v3(token, request.method, request.url, _params(request), nonce)
            if not _matches(expected, _given(request, V3_HEADERS)):
                raise SignatureError("X-Plivo-Signature-V3 does not match")
            return
        v2 = _given(request, V2_HEADERS)
        if not v2:
            raise SignatureError("missing X-Plivo-Signature-V3 or X-Plivo-Signature-V2 header")
        if not _matches(signature_v2(token, request.url, _nonce(request, V2_NONCE)), v2):
            raise SignatureError("X-Plivo-Signature-V2 does not match")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The one message of the request: from the form body on POST, from the query on GET."""
        data = request.body if request.method == "POST" else request.query_string
        fields = single_values(form_pairs(data))
        return [
            InboundSms(
                provider_id=require(fields.get("MessageUUID"), "MessageUUID"),
                sender=require(fields.get("From"), "From"),
                recipient=require(fields.get("To"), "To"),
                text=_text(fields),
                segments=segment_count_text(fields.get("Units"), "Units"),
            )
        ]

    def reply(self) -> Reply:
        """An empty Plivo XML document: acknowledged, nothing sent back."""
        return Reply(body=EMPTY_XML, content_type="text/xml; charset=utf-8")


ADAPTER = PlivoProvider()
