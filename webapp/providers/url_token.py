"""The shared secret in the URL (`?token=`) of the gateways that sign nothing: Kannel, Jasmin."""

from __future__ import annotations

from .base import PayloadError, SignatureError, same_secret
from .forms import percent_decode, raw_segments


def check_url_token(query: bytes, expected: str) -> None:
    """Refuse unless the query carries exactly one `token`, equal to `expected`."""
    try:
        given = [value for name, value in raw_segments(query) if name == b"token"]
        if len(given) != 1:
            raise SignatureError("token missing" if not given else "token given more than once")
        token = percent_decode(given[0])
    except PayloadError as exc:
        raise SignatureError(f"unreadable query: {exc}") from None
    if not same_secret(token, expected.encode()):
        raise SignatureError("wrong token")
