"""Jasmin HTTP client connector (deliverSmHttpThrower), authenticated by `?token=`.

Request: POST `application/x-www-form-urlencoded` (or GET, per the connector's method) to the
connector URL `/webhooks/jasmin?token=<JASMIN_TOKEN>`; fields `id` (UUID), `from`, `to`,
`origin-connector`, `priority`, `coding` (SMPP data_coding, default 0), `validity`, `content`
(the raw `short_message` bytes, percent-encoded) and `binary` (the same bytes in hex).
With GET Jasmin appends `?args` to the connector URL, which already has `?token=…`: the query
then reads `token=…?id=…&from=…`, so `?` separates fields as `&` does. Jasmin has no signature
scheme: the only secret is the token, compared in constant time.

Text: the bytes are taken from `binary` when present (hex cannot be mangled on the way), else
from `content` decoded at byte level; when both are present they must agree. They are decoded
by `coding`: 0 SMSC default alphabet (see `decode_default_alphabet`), 1 ASCII,
3 Latin-1, 6 ISO-8859-5, 7 ISO-8859-8, 8 UCS-2 as UTF-16BE (surrogate pairs joined),
10 ISO-2022-JP. Decisions: 2 and 4 (8-bit binary) are not text and are refused; 5, 9, 13 and
14 (JIS X 0208, pictograms, JIS X 0212, KS C 5601) are refused as unsupported. A refusal is
a 400 (Jasmin retries it up to three times, then drops it).

Multipart: Jasmin joins the parts itself and posts one message. Idempotency key: `id`.
Numbers: as the SMSC gave them (with or without `+`, sometimes national); the service
normalizes them and a national number stays as given unless it also parses as an international
one. Reply: 200 with exactly `ACK/Jasmin`; anything else is retried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .base import InboundSms, PayloadError, Reply, VerifyContext, WebhookRequest
from .forms import raw_fields, text_field
from .gsm import decode_charset, looks_unconverted_gsm
from .url_token import check_url_token

ACK = "ACK/Jasmin"
_HEX = re.compile(rb"(?:[0-9A-Fa-f]{2})*")
_BINARY_CODINGS = frozenset({2, 4})
CODING_CHARSETS = {
    0: "GSM",
    1: "ASCII",
    3: "ISO-8859-1",
    6: "ISO-8859-5",
    7: "ISO-8859-8",
    8: "UCS-2",
    10: "ISO-2022-JP",
}


def message_bytes(fields: Mapping[str, bytes]) -> bytes:
    """The `short_message` octets: from `binary` (hex) when sent, else from `content`."""
    content, binary = fields.get("content"), fields.get("binary")
    if binary is None:
        if content is None:
            raise PayloadError("missing field: content")
        return content
    if not _HEX.fullmatch(binary):
        raise PayloadError("field binary is not hexadecimal")
    octets = bytes.fromhex(binary.decode("ascii"))
    if content is not None and content != octets:
        raise PayloadError("fields content and binary disagree")
    return octets


def coding(raw: bytes | None) -> int:
    """The SMPP data_coding Jasmin reports (0 when absent)."""
    if raw is None or raw == b"":
        return 0
    if not raw.isdigit() or len(raw) > 3:
        raise PayloadError("field coding must be a number")
    return int(raw)


def decode_default_alphabet(data: bytes) -> str:
    """Coding 0 ("SMSC default alphabet"): raw GSM septets, or text the SMSC already converted.

    Many SMSCs hand over coding-0 text as ASCII (the shared Jasmin sample is one), where GSM
    would turn `@` into `¡` and `$` into `¤`; others pass GSM septets unconverted (`@` as
    0x00). Bytes with GSM-only control octets are GSM; otherwise UTF-8 when they decode as
    such, else Latin-1: never a refusal, which Jasmin would retry three times and drop.
    """
    if looks_unconverted_gsm(data):
        return decode_charset(data, "GSM")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_text(data: bytes, data_coding: int) -> str:
    """The text a phone would show, from the SMPP data_coding."""
    if data_coding == 0:
        return decode_default_alphabet(data)
    if data_coding in _BINARY_CODINGS:
        raise PayloadError(f"coding {data_coding} is 8-bit binary data, not text")
    charset = CODING_CHARSETS.get(data_coding)
    if charset is None:
        raise PayloadError(f"coding {data_coding} is not supported")
    return decode_charset(data, charset)


class JasminProvider:
    """Jasmin's HTTP MO thrower: one request per (already joined) message."""

    name = "jasmin"
    secret_names = ("JASMIN_TOKEN",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the `token` of the connector URL against JASMIN_TOKEN."""
        check_url_token(request.query_string, ctx.secret(self.secret_names[0]))

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The message of the form body (POST) or query (GET)."""
        fields = raw_fields(request.body if request.method == "POST" else request.query_string)
        provider_id = text_field(fields, "id")
        sender, recipient = text_field(fields, "from"), text_field(fields, "to")
        text = decode_text(message_bytes(fields), coding(fields.get("coding")))
        return [InboundSms(provider_id=provider_id, sender=sender, recipient=recipient, text=text)]

    def reply(self) -> Reply:
        """Exactly `ACK/Jasmin`: any other body makes Jasmin deliver the message again."""
        return Reply(body=ACK, content_type="text/plain; charset=utf-8")


ADAPTER = JasminProvider()
