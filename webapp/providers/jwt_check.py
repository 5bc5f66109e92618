"""Verifying the HMAC-signed JWTs of Vonage Messages, MessageBird and httpSMS, on our clock.

PyJWT checks the signature with the algorithms pinned by the caller (never the token's own
`alg` choice, so `none` and asymmetric algorithms are refused). Its own time checks read the
system clock, so they are turned off and `exp`, `nbf` and `iat` are checked here against the
injectable `ctx.now`, with `ctx.tolerance` as the leeway for clock skew.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import jwt

from .base import SignatureError, VerifyContext, WebhookRequest, check_fresh

HS256_ONLY = ("HS256",)
_NO_CLOCK = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}


def bearer_token(request: WebhookRequest) -> str:
    """The token of an `Authorization: Bearer <token>` header, or SignatureError."""
    scheme, _, token = (request.header("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignatureError("missing or malformed Authorization: Bearer header")
    return token.strip()


def decode(
    token: str,
    key: str,
    *,
    required: Sequence[str],
    algorithms: Sequence[str] = HS256_ONLY,
    audience: str | None = None,
    issuer: str | None = None,
) -> dict[str, Any]:
    """The claims of a JWT whose signature checks out with `key`; any flaw is a SignatureError."""
    options = {**_NO_CLOCK, "require": list(required), "verify_aud": audience is not None}
    try:
        return jwt.decode(
            token, key, algorithms=list(algorithms), options=options,
            audience=audience, issuer=issuer,
        )
    except jwt.PyJWTError as exc:
        raise SignatureError(f"invalid JWT: {exc}") from None
    except (ValueError, TypeError) as exc:  # defensive: malformed input PyJWT does not wrap
        raise SignatureError(f"malformed JWT: {exc}") from None


def time_claim(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim, None when absent; anything but a finite number is a SignatureError."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise SignatureError(f"JWT claim {name} is not a number")
    if abs(value) > 1e11:  # also refuses inf: no real token is dated beyond year 5000
        raise SignatureError(f"JWT claim {name} is out of range")
    return float(value)


def check_times(claims: dict[str, Any], ctx: VerifyContext, *, issued: str) -> None:
    """`exp` and `nbf` hold (skew leeway: the tolerance) and the `issued` claim is fresh."""
    expires, not_before = time_claim(claims, "exp"), time_claim(claims, "nbf")
    if expires is not None and ctx.now > expires + ctx.tolerance:
        raise SignatureError("JWT has expired")
    if not_before is not None and ctx.now < not_before - ctx.tolerance:
        raise SignatureError("JWT is not valid yet")
    issued_at = time_claim(claims, issued)
    if issued_at is None:
        raise SignatureError(f"JWT has no {issued} claim")
    # The replay window applies to the signing time itself, not only to the token's lifetime.
    check_fresh(issued_at, ctx)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of some bytes, as the `payload_hash` and `url_hash` claims carry it."""
    return hashlib.sha256(data).hexdigest()


def check_hash_claim(claims: dict[str, Any], name: str, data: bytes) -> None:
    """The claim `name` is the hex SHA-256 of `data` (hex case ignored, constant time)."""
    given = claims.get(name)
    if not isinstance(given, str):
        raise SignatureError(f"JWT claim {name} is missing")
    if not hmac.compare_digest(given.lower().encode(), sha256_hex(data).encode()):
        raise SignatureError(f"JWT claim {name} does not match")
