"""Twilio Programmable Messaging: form POST (or GET), X-Twilio-Signature, empty TwiML reply."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

from .base import InboundSms, Reply, SignatureError, VerifyContext, WebhookRequest, require
from .forms import form_pairs, segment_count_text, single_values

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's signature: base64 HMAC-SHA1 of the URL followed by the sorted name+value pairs."""
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """The URL with and without its default port: Twilio signs either (its SDK tries both)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    bare = urlunsplit(parts._replace(netloc=host))
    if parts.port is None and default:
        return [url, urlunsplit(parts._replace(netloc=f"{host}:{default}"))]
    if parts.port == default:
        return [url, bare]
    return [url]


def signed_params(request: WebhookRequest) -> list[tuple[str, str]]:
    """The parameters that are appended to the URL for signing: the POST form, none for GET."""
    return form_pairs(request.body) if request.method == "POST" else []


def message_params(request: WebhookRequest) -> dict[str, str]:
    """The message fields: from the form body on POST, from the query on GET."""
    data = request.body if request.method == "POST" else request.query_string
    return single_values(form_pairs(data))


class TwilioProvider:
    """Twilio's adapter; SignalWire reuses it with its own header and secret."""

    name = "twilio"
    secret_names = ("TWILIO_AUTH_TOKEN",)
    signature_headers = ("X-Twilio-Signature",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the signature over the public URL and the POST parameters."""
        token = ctx.secret(self.secret_names[0])
        given = next(filter(None, map(request.header, self.signature_headers)), None)
        if not given:
            raise SignatureError(f"missing {self.signature_headers[0]} header")
        params = signed_params(request)
        for url in url_variants(request.url):
            if hmac.compare_digest(given.encode(), signature(token, url, params).encode()):
                return
        raise SignatureError("signature does not match")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The one message of the request."""
        fields = message_params(request)
        return [
            InboundSms(
                provider_id=require(fields.get("MessageSid") or fields.get("SmsSid"), "MessageSid"),
                sender=require(fields.get("From"), "From"),
                recipient=require(fields.get("To"), "To"),
                text=fields.get("Body", ""),
                segments=segment_count_text(fields.get("NumSegments"), "NumSegments"),
            )
        ]

    def reply(self) -> Reply:
        """An empty TwiML document: anything else could be texted back to the sender."""
        return Reply(body=EMPTY_TWIML, content_type="text/xml; charset=utf-8")


ADAPTER = TwilioProvider()
