"""Kannel smsbox `sms-service` (`get-url`, or `post-url`), authenticated by `?token=`.

Request: GET on the URL template of PROVIDERS.md §3.12 (`?token=<KANNEL_TOKEN>&from=%p&to=%P
&text=%b&coding=%c&charset=%C&…&id=%I&udh=%u`). With `post-url` the body is the message
(`text/plain; charset=…`, or `application/octet-stream` for 8-bit and, in old versions, UCS-2
with `X-Kannel-Coding: 2`); fields missing from the query come from `X-Kannel-From`, `-To`,
`-UDH` (hex), `-Coding` and the Content-Type charset. No signature scheme exists: the only
secret is the URL token, compared in constant time.

Text: `%b` is the message's raw bytes, percent-encoded; query and body are decoded at byte
level, then with `%C` (UTF-8 for 7-bit, UTF-16BE for UCS-2, or the SMSC module's charset),
else `%c` (0 → UTF-8, Kannel's internal charset; 2 → UTF-16BE). Decisions: 8-bit binary
(`%c`=1, `%C`=8-BIT) is not text and is refused (400); 7-bit text labelled UTF-8 made only of
bytes below 0x80 and holding control octets real text never has (0x00 `@`, 0x02 `$`, 0x1B
escapes…) is GSM 03.38 the SMSC passed unconverted, and is decoded as GSM; a `%` not followed
by two hex digits is refused.

Multipart (bearerbox `sms-combine-concatenated-mo = false`): the UDH comes in `%u` as
percent-encoded octets (hex accepted too); a concatenation element (IEI 0x00, 8-bit reference,
or 0x08, 16-bit) makes the message a Part; the text never includes the UDH. An element with a
zero count or an out-of-range part number is ignored (TS 23.040 §9.2.3.24.1); a UDH whose
lengths do not add up is refused. Idempotency key: `%I` (`id`); without it the request is
refused (400) rather than stored without a key. Numbers: `%p`/`%P` as the SMSC gave them (often
no `+`, sometimes national); the service normalizes them, and a national number stays as given
unless it also parses as an international one. Reply: 200 with an EMPTY body (Kannel texts any
body back to the sender). The byte-level form parsing (`forms.raw_fields`) and the token
check (`url_token.check_url_token`) are shared with the Jasmin adapter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import Message

from .base import InboundSms, Part, PayloadError, Reply, VerifyContext, WebhookRequest
from .forms import raw_fields, text_field
from .gsm import decode_charset, decode_gsm7, decode_ucs2, looks_unconverted_gsm
from .url_token import check_url_token

_HEX = re.compile(rb"(?:[0-9A-Fa-f]{2})+")
_POST_TYPES = ("text/plain", "application/octet-stream")
_POST_HEADERS = (("from", "X-Kannel-From"), ("to", "X-Kannel-To"), ("udh", "X-Kannel-UDH"),
                 ("coding", "X-Kannel-Coding"))


def udh_octets(raw: bytes) -> bytes:
    """The UDH as octets: `%u` gives them percent-encoded, `X-Kannel-UDH` in hex."""
    if raw and _HEX.fullmatch(raw):
        octets = bytes.fromhex(raw.decode("ascii"))
        if octets[0] == len(octets) - 1:
            return octets
    return raw


def _information_elements(body: bytes) -> list[tuple[int, bytes]]:
    elements, index = [], 0
    while index < len(body):
        if index + 2 > len(body):
            raise PayloadError("UDH information element is truncated")
        iei, length = body[index], body[index + 1]
        data = body[index + 2 : index + 2 + length]
        if len(data) != length:
            raise PayloadError(f"UDH element 0x{iei:02X} is longer than the UDH")
        elements.append((iei, data))
        index += 2 + length
    return elements


def _concatenation_ie(iei: int, data: bytes) -> Part | None:
    ref_size = 1 if iei == 0x00 else 2
    if len(data) != ref_size + 2:
        raise PayloadError(f"UDH concatenation element 0x{iei:02X} must be {ref_size + 2} octets")
    ref, total, number = int.from_bytes(data[:ref_size], "big"), data[-2], data[-1]
    if total == 0 or number == 0 or number > total:
        return None  # TS 23.040 §9.2.3.24.1: the receiver ignores such an element
    return Part(ref=f"{ref:0{2 * ref_size}X}", total=total, number=number)


def concatenation(udh: bytes) -> Part | None:
    """Where a part belongs, from the concatenation element of its UDH (IEI 0x00 or 0x08)."""
    if not udh:
        return None
    if udh[0] != len(udh) - 1:
        raise PayloadError(f"UDH length octet says {udh[0]} but {len(udh) - 1} octets follow")
    part = None
    for iei, data in _information_elements(udh[1:]):
        if iei in (0x00, 0x08):
            part = _concatenation_ie(iei, data)  # a repeated element: the last one counts
    return part if part is not None and part.total > 1 else None


def _coding(raw: bytes | None) -> int | None:
    if raw is None or raw in (b"", b"-1"):  # -1: Kannel's "undefined", shown as 7-bit
        return None
    if raw not in (b"0", b"1", b"2"):
        raise PayloadError("coding must be 0 (7-bit), 1 (8-bit) or 2 (UCS-2)")
    return int(raw)


def decode_text(raw: bytes, coding: int | None, charset: str, split_ok: bool = False) -> str:
    """The text a phone would show, from Kannel's `%c` coding and `%C` charset."""
    if charset.upper() == "8-BIT" or (not charset and coding == 1):
        raise PayloadError("8-bit binary message: not text")
    if coding in (None, 0) and charset.upper() in ("", "UTF-8") and looks_unconverted_gsm(raw):
        return decode_gsm7(raw)
    if charset:
        return decode_charset(raw, charset, split_ok=split_ok)
    if coding == 2:
        return decode_ucs2(raw, split_ok=split_ok)
    return decode_charset(raw, "UTF-8")


def _content_type(value: str) -> tuple[str, str]:
    message = Message()
    message["Content-Type"] = value
    try:  # the stdlib decodes RFC 2231 parameters; a hostile one can make it raise
        return message.get_content_type(), message.get_content_charset() or ""
    except (ValueError, LookupError):
        raise PayloadError("malformed Content-Type header") from None


def _header_bytes(value: str) -> bytes:
    try:
        return value.strip().encode("latin-1")
    except UnicodeEncodeError:
        raise PayloadError("an X-Kannel header is not Latin-1") from None


def _post_fields(request: WebhookRequest, query: dict[str, bytes]) -> dict[str, bytes]:
    """Fields of a `post-url` request: the body is the message, the rest query or headers."""
    if "text" in query:
        raise PayloadError("text is both in the query and the body")
    media, charset = _content_type(request.header("Content-Type") or "")
    if media not in _POST_TYPES:
        raise PayloadError(f"unsupported content type {media!r}: expected text/plain")
    fields = {"text": request.body, **query}
    for name, header in _POST_HEADERS:
        value = request.header(header)
        if value is not None and name not in fields:
            fields[name] = _header_bytes(value)
    if charset and "charset" not in fields:
        fields["charset"] = _header_bytes(str(charset))
    if media == "application/octet-stream" and "coding" not in fields:
        fields["coding"] = b"1"
    return fields


def _charset(fields: Mapping[str, bytes]) -> str:
    try:
        return fields.get("charset", b"").decode("ascii").strip()
    except UnicodeDecodeError:
        raise PayloadError("unsupported charset: not ASCII") from None


class KannelProvider:
    """Kannel's `sms-service` URL: one request per message, or per part when not combined."""

    name = "kannel"
    secret_names = ("KANNEL_TOKEN",)

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the `token` of the URL against KANNEL_TOKEN."""
        check_url_token(request.query_string, ctx.secret(self.secret_names[0]))

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The message (or part) of the request, its text decoded from the reported charset."""
        fields = raw_fields(request.query_string)
        if request.method == "POST":
            fields = _post_fields(request, fields)
        provider_id = text_field(fields, "id", "id (%I)")
        sender = text_field(fields, "from", "from (%p)")
        recipient = text_field(fields, "to", "to (%P)")
        if "text" not in fields:
            raise PayloadError("missing field: text (%b)")
        part = concatenation(udh_octets(fields.get("udh", b"")))
        text = decode_text(fields["text"], _coding(fields.get("coding")), _charset(fields),
                           split_ok=part is not None)
        return [InboundSms(provider_id=provider_id, sender=sender, recipient=recipient,
                           text=text, part=part)]

    def reply(self) -> Reply:
        """An empty body: Kannel would text any body back to the sender."""
        return Reply(body="", content_type="text/plain; charset=utf-8")


ADAPTER = KannelProvider()
