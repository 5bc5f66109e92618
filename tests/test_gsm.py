"""SMS text decoding: the GSM 03.38 tables, UCS-2 with surrogate pairs, reported charsets."""

from __future__ import annotations

import pytest

from webapp.providers.base import PayloadError
from webapp.providers.gsm import (
    DEFAULT_ALPHABET,
    EXTENSION_TABLE,
    decode_charset,
    decode_gsm7,
    decode_ucs2,
    looks_unconverted_gsm,
)


def test_default_alphabet_has_128_code_points_and_matches_ts_23_038() -> None:
    assert len(DEFAULT_ALPHABET) == 128
    spot_checks = {
        0x00: "@", 0x01: "£", 0x02: "$", 0x03: "¥", 0x09: "Ç", 0x0A: "\n", 0x0D: "\r",
        0x10: "\u0394", 0x11: "_", 0x15: "\u03a9", 0x1C: "Æ", 0x1F: "É", 0x20: " ",
        0x24: "¤", 0x40: "¡", 0x41: "A", 0x5B: "Ä", 0x5F: "§", 0x60: "¿", 0x61: "a",
        0x7B: "ä", 0x7F: "à",
    }
    for code, char in spot_checks.items():
        assert DEFAULT_ALPHABET[code] == char, hex(code)


def test_at_sign_arrives_as_byte_zero() -> None:
    assert decode_gsm7(b"user\x00example.com") == "user@example.com"


def test_letters_digits_and_punctuation_shared_with_ascii() -> None:
    text = "Your code is 530981. Do not share!"
    assert decode_gsm7(text.encode("ascii")) == text


def test_characters_that_differ_from_ascii() -> None:
    assert decode_gsm7(b"\x02 \x11 \x01 \x7f \x1c") == "$ _ £ à Æ"


@pytest.mark.parametrize(
    ("octets", "text"),
    [
        (b"\x1be", "€"),
        (b"\x1b<", "["),
        (b"\x1b>", "]"),
        (b"\x1b(\x1b)", "{}"),
        (b"\x1b/", "\\"),
        (b"\x1b=", "~"),
        (b"\x1b@", "|"),
        (b"\x1b\x14", "^"),
        (b"\x1b\n", "\x0c"),
    ],
)
def test_extension_table(octets: bytes, text: str) -> None:
    assert decode_gsm7(octets) == text


def test_extension_table_matches_the_spec_exactly() -> None:
    assert set(EXTENSION_TABLE) == {0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65}


def test_price_in_euros_with_brackets() -> None:
    assert decode_gsm7(b"Total: 5\x1be \x1b<paid\x1b>") == "Total: 5€ [paid]"


def test_unknown_extension_code_shows_the_default_character() -> None:
    assert decode_gsm7(b"\x1bA") == "A"


def test_escape_escape_shows_a_space() -> None:
    assert decode_gsm7(b"a\x1b\x1bb") == "a b"


@pytest.mark.parametrize("octets", [b"caf\xe9", b"\x80", b"ok\x1b", b"\x1b\xff"])
def test_undecodable_gsm_is_a_payload_error(octets: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_gsm7(octets)


def test_ucs2_cyrillic() -> None:
    assert decode_ucs2("Ваш код 4821".encode("utf-16-be")) == "Ваш код 4821"


def test_ucs2_chinese() -> None:
    assert decode_ucs2("您的验证码是 482913".encode("utf-16-be")) == "您的验证码是 482913"


def test_ucs2_emoji_as_a_surrogate_pair() -> None:
    assert decode_ucs2(b"\xd8\x3d\xde\x00\x00 \x00o\x00k") == "\U0001f600 ok"
    assert decode_ucs2("Code 1234 🔐".encode("utf-16-be")) == "Code 1234 🔐"


def test_ucs2_odd_length_is_refused() -> None:
    with pytest.raises(PayloadError, match="odd"):
        decode_ucs2(b"\x00A\x00")


@pytest.mark.parametrize("octets", [b"\xd8\x3d\x00A", b"\x00A\xde\x00\x00B", b"\xde\x00"])
def test_ucs2_lone_surrogate_is_refused(octets: bytes) -> None:
    with pytest.raises(PayloadError, match="surrogate"):
        decode_ucs2(octets)


def test_ucs2_pair_cut_at_a_part_boundary_is_kept_visible() -> None:
    assert decode_ucs2(b"\x00A\xd8\x3d", split_ok=True) == "A\ufffd"
    assert decode_ucs2(b"\xde\x00\x00B", split_ok=True) == "\ufffdB"
    with pytest.raises(PayloadError):
        decode_ucs2(b"\xd8\x3d\x00B", split_ok=True)


@pytest.mark.parametrize(
    ("charset", "octets", "text"),
    [
        ("UTF-8", "vérification".encode(), "vérification"),
        ("ISO-8859-1", b"caf\xe9 \xa3", "café £"),
        ("latin1", b"\xfcber", "über"),
        ('"UTF-16BE"', "Привет".encode("utf-16-be"), "Привет"),
        ("UCS-2", "你好".encode("utf-16-be"), "你好"),
        ("GSM", b"\x00home", "@home"),
        ("WINDOWS-1252", b"\x80 5", "€ 5"),
    ],
)
def test_reported_charsets(charset: str, octets: bytes, text: str) -> None:
    assert decode_charset(octets, charset) == text


@pytest.mark.parametrize("charset", ["EBCDIC-XYZ", "unicode_escape", "zlib", "rot13", "", "base64"])
def test_unknown_or_non_text_charset_is_refused(charset: str) -> None:
    with pytest.raises(PayloadError, match="unsupported charset"):
        decode_charset(b"abc", charset)


def test_bytes_invalid_in_the_charset_are_refused() -> None:
    with pytest.raises(PayloadError, match="not valid UTF-8"):
        decode_charset(b"caf\xe9", "UTF-8")


@pytest.mark.parametrize(
    ("octets", "unconverted"),
    [
        (b"user\x00example.com", True),
        (b"\x02 5", True),
        (b"plain text\r\n", False),
        (b"col1\tcol2", False),
        (b"voil\x7f", True),
        ("vérifié".encode(), False),
        (b"\x00\xc3\xa9", False),
        (b"", False),
    ],
)
def test_unconverted_gsm_is_recognised_by_its_control_octets(octets, unconverted) -> None:
    assert looks_unconverted_gsm(octets) is unconverted
