"""Text of short messages as SMS gateways hand it over: GSM 03.38, UCS-2 and reported charsets.

Pure functions on bytes. The GSM 7-bit default alphabet and its extension table are the
tables of 3GPP TS 23.038 §6.2.1 (one septet per octet, "unpacked", as SMPP and the HTTP
gateways deliver it). UCS-2 arrives as UTF-16BE octets; phones send characters outside the
BMP (emoji) as surrogate pairs, which UTF-16 decoding joins. Anything that does not decode
is a PayloadError (a 400), never a crash.
"""

from __future__ import annotations

import codecs
import re

from .base import PayloadError

ESCAPE = 0x1B

# TS 23.038 §6.2.1, code points 0x00-0x7F; 0x1B is the escape to the extension table.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# TS 23.038 §6.2.1.1, the characters reached by 0x1B + code (0x0A is the page break).
EXTENSION_TABLE = {
    0x0A: "\x0c",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

GSM_CHARSETS = frozenset({"GSM", "GSM7", "GSM-7", "GSM0338", "GSM03.38", "GSM-03.38", "GSM_03.38"})
UCS2_CHARSETS = frozenset({"UCS-2", "UCS2", "UCS-2BE", "ISO-10646-UCS-2", "UTF-16BE", "UTF16BE"})

# Text codecs a gateway may name (Python's canonical names); anything else is refused, so a
# hostile charset name cannot select an odd codec such as `unicode_escape`.
TEXT_CODECS = frozenset(
    {"utf-8", "ascii", "koi8-r", "koi8-u", "iso2022_jp"}
    | {f"iso8859-{n}" for n in range(1, 17)}
    | {f"cp125{n}" for n in range(9)}
)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Control octets that converted text never holds but unconverted GSM uses for letters
# (0x00 is `@`, 0x02 `$`, 0x11 `_`, 0x1B the escape, 0x7F `à`); TAB, LF, FF, CR are real text.
_GSM_ONLY_OCTETS = (frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}) | {0x7F}


def _septet(data: bytes, index: int) -> int:
    value = data[index]
    if value > 0x7F:
        raise PayloadError(f"byte 0x{value:02X} at offset {index} is not a GSM 7-bit character")
    return value


def decode_gsm7(data: bytes) -> str:
    """Unpacked GSM 03.38 septets (one per octet) as text, the extension table included."""
    out: list[str] = []
    index = 0
    while index < len(data):
        value = _septet(data, index)
        if value != ESCAPE:
            out.append(DEFAULT_ALPHABET[value])
            index += 1
            continue
        if index + 1 >= len(data):
            raise PayloadError("GSM text ends inside an escape sequence")
        out.append(_extended(_septet(data, index + 1)))
        index += 2
    return "".join(out)


def _extended(value: int) -> str:
    if value == ESCAPE:
        return " "  # reserved for another extension table: the spec says display a space
    # a code the extension table leaves empty shows as the default alphabet's character
    return EXTENSION_TABLE.get(value, DEFAULT_ALPHABET[value])


def looks_unconverted_gsm(data: bytes) -> bool:
    """Whether bytes labelled as text are really raw GSM septets (`@` as 0x00, `$` as 0x02…)."""
    return all(b < 0x80 for b in data) and any(b in _GSM_ONLY_OCTETS for b in data)


def decode_ucs2(data: bytes, *, split_ok: bool = False) -> str:
    """UCS-2 / UTF-16BE octets as text; surrogate pairs (emoji) are joined.

    With `split_ok` (one part of a concatenated message) a pair cut in two at the part
    boundary becomes U+FFFD instead of an error; a lone surrogate anywhere else is refused.
    """
    if len(data) % 2:
        raise PayloadError(f"UCS-2 text has an odd number of bytes ({len(data)})")
    text = data.decode("utf-16-be", "surrogatepass")
    for match in _LONE_SURROGATE.finditer(text):
        at_edge = (match.start() == len(text) - 1 and match.group() < "\udc00") or (
            match.start() == 0 and match.group() >= "\udc00"
        )
        if not (split_ok and at_edge):
            raise PayloadError(f"UCS-2 text holds a lone surrogate at character {match.start()}")
    return _LONE_SURROGATE.sub("\ufffd", text)


def decode_charset(data: bytes, charset: str, *, split_ok: bool = False) -> str:
    """Bytes in the charset a gateway reported (GSM, UCS-2/UTF-16BE, UTF-8, ISO-8859-x …)."""
    name = charset.strip().strip('"').upper()
    if name in GSM_CHARSETS:
        return decode_gsm7(data)
    if name in UCS2_CHARSETS:
        return decode_ucs2(data, split_ok=split_ok)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        codec = ""
    if codec not in TEXT_CODECS:
        raise PayloadError(f"unsupported charset {charset!r}")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"text is not valid {charset}: byte 0x{data[exc.start]:02X} at offset {exc.start}"
        ) from None
