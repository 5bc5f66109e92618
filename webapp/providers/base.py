"""The interface every carrier adapter implements, on plain values (no Flask, no database)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class WebhookError(Exception):
    """A request the site refuses; `status` is the HTTP status to answer with."""

    status = 400
    #: response headers the refusal needs (e.g. WWW-Authenticate on a 401)
    headers: Mapping[str, str] = {}


class SignatureError(WebhookError):
    """The request is not signed by the provider (missing, malformed or wrong signature)."""

    status = 401


class NotConfigured(SignatureError):
    """The provider's secret is not set and unsigned requests are not allowed."""

    status = 403


class PayloadError(WebhookError):
    """The request is authentic but its payload is not a message we can read."""

    status = 400


@dataclass(frozen=True)
class WebhookRequest:
    """The raw request as the provider sent it; `url` is the public URL it called."""

    method: str
    url: str
    query_string: bytes
    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""

    def header(self, name: str) -> str | None:
        """A header value by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class Part:
    """Where a part of a long SMS belongs: its concatenation reference, part count and number."""

    ref: str
    total: int
    number: int


@dataclass(frozen=True)
class InboundSms:
    """One message (or one part of one) as the provider reported it."""

    provider_id: str
    sender: str
    recipient: str
    text: str
    segments: int | None = None
    event_id: str | None = None
    part: Part | None = None


@dataclass(frozen=True)
class Reply:
    """What the provider expects back on success."""

    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    status: int = 200


@dataclass(frozen=True)
class VerifyContext:
    """What a verifier needs besides the request: secrets, the clock and the replay window."""

    secrets: Mapping[str, str]
    now: float
    tolerance: int = 300
    extra: Mapping[str, str] = field(default_factory=dict)

    def secret(self, name: str) -> str:
        """A configured secret, or NotConfigured."""
        value = self.secrets.get(name)
        if not value:
            raise NotConfigured(f"{name} is not configured")
        return value


class Provider(Protocol):
    """A carrier adapter: verify the raw request, then parse it, then reply."""

    name: str
    #: the environment variables that hold its secrets; unset means "refuse unless unsigned allowed"
    secret_names: tuple[str, ...]

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Raise SignatureError unless the request is authentic and fresh."""

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """The messages in a verified request; raise PayloadError when it has the wrong shape."""

    def reply(self) -> Reply:
        """The success reply the provider expects."""


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time comparison of two signatures or tokens."""
    a = given.encode() if isinstance(given, str) else given
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


def unix_timestamp(raw: str | None, what: str) -> int:
    """A signed unix timestamp in seconds; SignatureError unless it is 1 to 12 ASCII digits."""
    # Digits only: int() would also take " 12", "+12", "1_2" and other scripts' digits.
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise SignatureError(f"missing or malformed {what}")
    return int(raw)


def check_fresh(timestamp: float, ctx: VerifyContext) -> None:
    """Refuse a signed timestamp outside the replay window."""
    if abs(ctx.now - timestamp) > ctx.tolerance:
        raise SignatureError("timestamp outside the replay window")


def require(value: object, what: str) -> str:
    """A non-empty string field of a payload, or PayloadError naming it."""
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"missing or empty field: {what}")
    return value
