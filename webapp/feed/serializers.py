"""The feed's JSON shapes, built from models and plain values: no Flask, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from babel import Locale

from ..phone import format_international
from ..timeutil import rfc3339

if TYPE_CHECKING:  # models only for their attributes: nothing here touches the database
    from ..models import Message, Number

#: Bumped whenever a shape below changes, so cached ETags of the old shape stop matching.
FORMAT_VERSION = 1
API_PREFIX = "/api/v1"
LOCALE = "en"


class CountryLike(Protocol):
    """What a country row carries (numbers.queries.CountryRow)."""

    country: str
    numbers: int
    last_message_at: Any


@cache
def _territories() -> dict[str, str]:
    return dict(Locale.parse(LOCALE).territories)


def country_name(code: str) -> str:
    """The English name of a region code (`GB` → `United Kingdom`), else the code itself."""
    return _territories().get(code.upper(), code.upper())


def timestamp(value: Any) -> str | None:
    """RFC 3339 UTC text of a datetime, or None."""
    return rfc3339(value) if value is not None else None


def message_json(message: Message) -> dict[str, Any]:
    """One message: recipient, sender, text as received, its safe HTML and detected code."""
    return {
        "id": message.id,
        "to": message.recipient,
        "from": message.sender,
        "body": message.body,
        "body_html": message.body_html,
        "code": message.code,
        "received_at": timestamp(message.received_at),
    }


def number_json(number: Number, site_url: str) -> dict[str, Any]:
    """One number, with the URLs of its page and of its messages in the feed."""
    digits = number.digits
    return {
        "number": number.e164,
        "digits": digits,
        "country": number.country,
        "formatted": format_international(number.e164),
        "status": number.status,
        "last_message_at": timestamp(number.last_message_at),
        "url": f"{site_url}/number/{digits}",
        "messages_url": f"{site_url}{API_PREFIX}/numbers/{digits}/messages",
    }


def country_json(row: CountryLike, site_url: str) -> dict[str, Any]:
    """One country with active numbers: its name, how many, when one last received."""
    return {
        "country": row.country,
        "name": country_name(row.country),
        "numbers": row.numbers,
        "last_message_at": timestamp(row.last_message_at),
        "url": f"{site_url}/country/{row.country.lower()}",
        "numbers_url": f"{site_url}{API_PREFIX}/numbers?{urlencode({'country': row.country})}",
    }


def listing(
    items: Iterable[dict[str, Any]], next_url: str | None = None, next_before: int | None = None
) -> dict[str, Any]:
    """The envelope of every list: the items, the next page's URL and its cursor (or nulls)."""
    return {"data": list(items), "next": next_url, "next_before": next_before}


def page_url(site_url: str, path: str, query: Mapping[str, Any]) -> str:
    """An absolute feed URL with the query parameters that are set, in a stable order."""
    pairs = [(name, value) for name, value in query.items() if value is not None]
    return f"{site_url}{path}" + (f"?{urlencode(pairs)}" if pairs else "")
