"""Phone numbers: parsing, validation and formatting with phonenumbers, on plain strings."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

_DIALABLE = re.compile(r"^\+?[\d\s().\-]{6,24}$")


class InvalidNumber(ValueError):
    """Raised when a text is not a valid phone number."""


def parse_e164(text: str) -> str:
    """The E.164 form of an international number (`+44 7911 123456`, `0044…`)."""
    raw = (text or "").strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if not raw.startswith("+"):
        raise InvalidNumber(
            f"{text!r} is not an international number: start it with + and the country code"
        )
    try:
        parsed = phonenumbers.parse(raw, None)
    except NumberParseException as exc:
        raise InvalidNumber(f"{text!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"{text!r} is not a valid number in any country")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def digits_to_e164(digits: str) -> str | None:
    """The E.164 number for a URL segment in any spelling that parses, or None."""
    text = digits.strip()
    if not text.startswith(("+", "00")):
        text = "+" + text
    try:
        return parse_e164(text)
    except InvalidNumber:
        return None


def region_of(e164: str) -> str:
    """The ISO 3166-1 alpha-2 region of an E.164 number, as phonenumbers reports it."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or "001"


@lru_cache(maxsize=65536)
def format_international(e164: str) -> str:
    """The number as people read it: `+44 7911 123456`."""
    parsed = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)


def normalize_address(raw: str) -> str:
    """A sender or recipient as shown: E.164 when it is a phone number, else as the carrier gave it.

    Several providers drop the `+`, so a long run of digits is tried as an international
    number; short codes and alphanumeric sender ids (`Google`, `TELEGRAM`) stay as they are.
    """
    text = (raw or "").strip()
    if not _DIALABLE.match(text):
        return text
    digits = re.sub(r"\D", "", text)
    if len(digits) < 8:
        return text  # a short code
    try:
        return parse_e164("+" + digits if not text.startswith("+") else text)
    except InvalidNumber:
        return text
