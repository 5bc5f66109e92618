"""Reading form-encoded and JSON payloads strictly, for adapters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from .base import PayloadError, require

MAX_JSON_DEPTH = 32
#: a long SMS has at most 255 parts (one-byte UDH counters); more is not a real count
MAX_SEGMENTS = 255
#: fields of a byte-level query or form body (Kannel, Jasmin)
MAX_FIELDS = 500
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_SEPARATORS = re.compile(rb"[&?]")


def form_pairs(data: bytes) -> list[tuple[str, str]]:
    """The name/value pairs of a form-encoded body or query string, duplicates kept."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("form data is not valid UTF-8") from None
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=500)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"malformed form data: {exc}") from None


def single_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Pairs as a dict; a repeated name is refused (signed, routed and stored must agree)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise PayloadError(f"field {name!r} appears more than once")
        out[name] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise PayloadError(f"JSON constant {name} is not allowed")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PayloadError(f"JSON key {key!r} appears more than once")
        out[key] = value
    return out


def _depth(data: bytes) -> int:
    """The deepest nesting of brackets, counted outside strings (cheap, linear)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def strict_json(data: bytes) -> Any:
    """Parse a JSON body refusing NaN/Infinity, duplicate keys, deep nesting and bad UTF-8."""
    if _depth(data) > MAX_JSON_DEPTH:
        raise PayloadError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body is not valid UTF-8") from None
    try:
        return json.loads(
            text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not valid JSON: {exc.msg} at position {exc.pos}") from None


def dig(obj: Any, *path: str | int) -> Any:
    """The value at a path of keys and indexes, or None when any step is missing."""
    for step in path:
        if isinstance(step, int) and isinstance(obj, list) and -len(obj) <= step < len(obj):
            obj = obj[step]
        elif isinstance(step, str) and isinstance(obj, dict):
            obj = obj.get(step)
        else:
            return None
    return obj


def segment_count(value: Any, what: str) -> int | None:
    """A segment count from JSON: None when absent, else an integer from 1 to 255."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEGMENTS:
        raise PayloadError(f"{what} must be a whole number from 1 to {MAX_SEGMENTS}")
    return value


def segment_count_text(value: str | None, what: str) -> int | None:
    """A segment count from a form field: None when absent or empty, else 1 to 255."""
    if not value:
        return None
    # Text is checked before int(): int() also takes "²", "1_0" and huge digit strings.
    if not (value.isascii() and value.isdigit() and len(value) <= 3):
        raise PayloadError(f"{what} must be a whole number from 1 to {MAX_SEGMENTS}")
    return segment_count(int(value), what)


# Byte-level form fields: Kannel and Jasmin percent-encode the message's raw bytes, so the
# values are decoded to bytes first and a charset is applied only afterwards.


def percent_decode(raw: bytes) -> bytes:
    """A form-encoded value as bytes: `+` is a space, `%XX` a byte; a broken escape is refused."""
    if _BAD_ESCAPE.search(raw):
        raise PayloadError("malformed percent-encoding: '%' must be followed by two hex digits")
    return unquote_to_bytes(raw.replace(b"+", b" "))


def raw_segments(data: bytes) -> list[tuple[bytes, bytes]]:
    """The still-encoded name/value pairs of a query or form body.

    `?` separates too: Jasmin's GET appends `?args` to a connector URL that already carries
    `?token=`, and both gateways always encode a `?` inside a value.
    """
    segments = [segment for segment in _SEPARATORS.split(data) if segment]
    if len(segments) > MAX_FIELDS:
        raise PayloadError(f"more than {MAX_FIELDS} fields")
    return [(name, value) for name, _, value in (s.partition(b"=") for s in segments)]


def raw_fields(data: bytes) -> dict[str, bytes]:
    """The fields of a query or form body as raw bytes (no charset applied); repeats refused."""
    fields: dict[str, bytes] = {}
    for raw_name, raw_value in raw_segments(data):
        try:
            name = percent_decode(raw_name).decode("ascii")
        except UnicodeDecodeError:
            raise PayloadError("a field name is not ASCII") from None
        if name in fields:
            raise PayloadError(f"field {name!r} appears more than once")
        fields[name] = percent_decode(raw_value)
    return fields


def text_field(fields: Mapping[str, bytes], name: str, label: str | None = None) -> str:
    """A required, non-empty field as UTF-8 text; PayloadError naming it otherwise."""
    raw = fields.get(name)
    try:
        value = raw.decode("utf-8") if raw is not None else None
    except UnicodeDecodeError:
        raise PayloadError(f"field {label or name} is not valid UTF-8") from None
    return require(value, label or name)
