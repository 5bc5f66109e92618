"""Query parameters of the feed, parsed from plain mappings into plain values.

Message lists are newest first and take three parameters:

* ``limit``: how many messages, 1 or more; 50 when absent, and at most 100 (larger values
  are capped, not refused).
* ``before``: the paging cursor, a message id. Only messages with a smaller id are listed.
  Every page gives the cursor of the next (older) page as ``next_before`` and the whole URL
  as ``next``; both are null on the last page.
* ``since``: either a message id (digits only: messages with a larger id, which is how a
  client polls for what is new: pass the largest id it has seen) or an RFC 3339 timestamp
  with an offset, such as ``2025-03-14T09:26:53Z`` (messages received after that instant).
  ``since`` and ``before`` combine: following ``next`` keeps ``since``, so a poller that got
  a full page follows ``next`` until it is null to catch up without gaps.

Lists of numbers and messages take ``country``, an ISO 3166-1 alpha-2 code in any case
(``GB``, ``gb``) or ``001`` for non-geographic numbers. An empty parameter counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import phonenumbers
from babel import Locale

from ..timeutil import parse_rfc3339, rfc3339

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_MAX_ID = 2**63 - 1  # the largest BIGINT: larger cursors would fail in the database
_DIGITS = re.compile(r"^[0-9]{1,30}$")


class BadParameter(ValueError):
    """A query parameter the feed does not accept; the message says what is wrong."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Window:
    """Which messages of a list: at most `limit`, older than `before`, newer than `since`."""

    limit: int = DEFAULT_LIMIT
    before: int | None = None
    since: int | datetime | None = None

    def query(self) -> dict[str, str | int | None]:
        """The window as query parameters, `since` in its canonical text."""
        since = rfc3339(self.since) if isinstance(self.since, datetime) else self.since
        return {"limit": self.limit, "before": self.before, "since": since}


def _value(args: Mapping[str, str], name: str) -> str | None:
    raw = (args.get(name) or "").strip()
    return raw or None


def parse_limit(raw: str | None) -> int:
    """The page size: 50 when absent, capped at 100; BadParameter unless a positive integer."""
    if raw is None:
        return DEFAULT_LIMIT
    if not _DIGITS.match(raw) or int(raw) < 1:
        raise BadParameter("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return min(int(raw), MAX_LIMIT)


def parse_message_id(name: str, raw: str | None) -> int | None:
    """A message id given as `name`, or None when absent; BadParameter unless one."""
    if raw is None:
        return None
    if not _DIGITS.match(raw) or int(raw) > _MAX_ID:
        raise BadParameter(name, f"{name} must be a message id, a whole number like next_before")
    return int(raw)


def parse_since(raw: str | None) -> int | datetime | None:
    """A message id (digits) or an RFC 3339 timestamp with an offset, or None when absent."""
    if raw is None:
        return None
    if raw.isascii() and raw.isdigit():
        return parse_message_id("since", raw)
    try:
        return parse_rfc3339(raw)
    except (ValueError, OverflowError):
        raise BadParameter(
            "since",
            "since must be a message id or an RFC 3339 timestamp with an offset, "
            "e.g. 2025-03-14T09:26:53Z",
        ) from None


@cache
def _known_regions() -> frozenset[str]:
    babel = {code for code in Locale.parse("en").territories if len(code) == 2 and code != "ZZ"}
    return frozenset(babel | set(phonenumbers.SUPPORTED_REGIONS) | {"001"})


def parse_country(raw: str | None) -> str | None:
    """An upper-case region code, or None when absent; BadParameter for anything else."""
    if raw is None:
        return None
    code = raw.upper()
    if code not in _known_regions():
        raise BadParameter(
            "country", "country must be an ISO 3166-1 alpha-2 code such as GB (or 001)"
        )
    return code


def parse_window(args: Mapping[str, str]) -> Window:
    """`limit`, `before` and `since` of a message list."""
    return Window(
        limit=parse_limit(_value(args, "limit")),
        before=parse_message_id("before", _value(args, "before")),
        since=parse_since(_value(args, "since")),
    )


def country_arg(args: Mapping[str, str]) -> str | None:
    """The `country` of a list of numbers or messages."""
    return parse_country(_value(args, "country"))
