"""Search of countries and numbers: pure, no Flask, no database.

A country is found by its name in any language of the site (Babel's CLDR names), its ISO
code or its calling code; a number by any run of its digits. The same normalized terms feed
the server's `/search` page and, through `data-terms`, the home page's instant filter in
`static/site.js` (which normalizes what is typed the same way).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import phonenumbers
from babel import Locale

from .i18n import LANGUAGES

#: Names people type that CLDR does not give (it says "United Kingdom", not "UK").
ALIASES: dict[str, tuple[str, ...]] = {
    "GB": ("uk", "england", "great britain", "britain", "scotland", "wales"),
    "US": ("usa", "america", "united states of america"),
    "AE": ("uae", "emirates"),
    "NL": ("holland",),
    "CZ": ("czech republic",),
    "KR": ("korea",),
}
#: Separators allowed in a typed number: `+44 (0)7400-123.456`.
_PHONE_LIKE = re.compile(r"[+0-9\s().\-/]+")
_NOT_WORD = re.compile(r"[^\w]+")
#: Fewer digits than this search countries by calling code only, not numbers.
MIN_NUMBER_DIGITS = 3


def normalize(text: str) -> str:
    """Lower case without accents or punctuation: `Royaume-Uni` and `royaume uni` meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def query_digits(query: str) -> str | None:
    """The digits of a query that is a number or a calling code (`+44 7400`), else None."""
    stripped = query.strip()
    if not stripped or not _PHONE_LIKE.fullmatch(stripped):
        return None
    digits = "".join(ch for ch in stripped if ch.isdigit())
    return digits or None


def calling_code(code: str) -> int | None:
    """The international calling code of a region (`7` for RU and KZ), None when it has none."""
    found = phonenumbers.country_code_for_region(code.upper())
    return found or None


@cache
def _names(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


@cache
def country_terms(code: str, languages: tuple[str, ...] = LANGUAGES) -> frozenset[str]:
    """Every normalized name of a country in `languages`, its ISO code and `+calling code`."""
    upper = code.upper()
    names = {_names(lang).get(upper, "") for lang in languages} | set(ALIASES.get(upper, ()))
    terms = {normalize(name) for name in names} | {upper.lower()}
    if (number := calling_code(upper)) is not None:
        terms.add(f"+{number}")
    terms.discard("")
    return frozenset(terms)


def terms_attribute(code: str) -> str:
    """The `data-terms` value of a country card: its terms joined by `|`."""
    return "|".join(sorted(country_terms(code)))


def _rank(code: str, query: str) -> int | None:
    """How well a normalized text query fits a country (lower is better), None if not at all."""
    terms = country_terms(code)
    if query == code.lower():
        return 0
    if query in terms:
        return 1
    if any(term.startswith(query) for term in terms):
        return 2
    if any(word.startswith(query) for term in terms for word in term.split()):
        return 3
    if any(query in term for term in terms):
        return 4
    return None


def match_countries(query: str, codes: Iterable[str]) -> list[str]:
    """The codes among `codes` that `query` finds, best matches first (then in given order)."""
    digits = query_digits(query)
    if digits is not None:
        wanted = digits[2:] if digits.startswith("00") else digits  # 0044: dialled from abroad
        return [code for code in codes if str(calling_code(code)) == wanted]
    text = normalize(query)
    if not text:
        return []
    ranked = [(rank, index, code) for index, code in enumerate(codes)
              if (rank := _rank(code, text)) is not None]
    return [code for _rank_, _index, code in sorted(ranked)]


def number_digit_patterns(query: str) -> list[str]:
    """Digit runs to look for inside E.164 numbers; a national `0…` prefix is also tried bare."""
    digits = query_digits(query)
    if digits is None:
        return []
    if digits.startswith("00"):  # the international prefix: 0044 7400 is +44 7400
        patterns = [digits[2:]]
    elif digits.startswith("0"):  # a national trunk prefix, which E.164 drops: 07400 → 7400
        patterns = [digits, digits.lstrip("0")]
    else:
        patterns = [digits]
    return [p for p in patterns if len(p) >= MIN_NUMBER_DIGITS]
