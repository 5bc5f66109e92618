"""HTTP Basic credentials (RFC 7617) for the providers that authenticate that way.

Bandwidth and Infobip sign nothing: the request carries `Authorization: Basic
base64(user:password)` with credentials configured on the provider's side. A malformed header
(no `Basic` scheme, bad base64, no colon, not UTF-8) is a SignatureError like a wrong password,
so no input turns into a 500. The user name and the password are both compared, in constant time
and over SHA-256 digests so that neither their content nor their length shows in the timing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from .base import SignatureError, VerifyContext, WebhookRequest


def basic_credentials(header: str | None) -> tuple[bytes, bytes]:
    """The user name and password of a Basic Authorization header; SignatureError if malformed."""
    if not header or not header.strip():
        raise SignatureError("missing Authorization header")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "basic" or not token:
        raise SignatureError("Authorization is not HTTP Basic credentials")
    try:
        decoded = base64.b64decode(token, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII characters in the token
        raise SignatureError("Basic credentials are not valid base64") from None
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("Basic credentials are not UTF-8") from None
    user, colon, password = decoded.partition(b":")
    if not colon:
        raise SignatureError("Basic credentials have no ':' between user and password")
    return user, password


def _same(given: bytes, expected: bytes) -> bool:
    """Constant-time equality that does not leak the expected length either."""
    return hmac.compare_digest(hashlib.sha256(given).digest(), hashlib.sha256(expected).digest())


def check_basic(
    request: WebhookRequest, ctx: VerifyContext, user_env: str, password_env: str
) -> None:
    """Raise SignatureError unless the request carries the configured Basic credentials."""
    expected_user = ctx.secret(user_env).encode("utf-8", "surrogateescape")
    expected_password = ctx.secret(password_env).encode("utf-8", "surrogateescape")
    user, password = basic_credentials(request.header("Authorization"))
    # Both comparisons always run, so the timing does not tell which half was wrong.
    user_ok = _same(user, expected_user)
    password_ok = _same(password, expected_password)
    if not (user_ok and password_ok):
        raise SignatureError("wrong Basic credentials")


class BasicAuthVerifier:
    """`verify()` for a provider whose `secret_names` are (user name env, password env)."""

    secret_names: tuple[str, ...]

    def verify(self, request: WebhookRequest, ctx: VerifyContext) -> None:
        """Check the Basic credentials against the configured user name and password."""
        user_env, password_env = self.secret_names
        try:
            check_basic(request, ctx, user_env, password_env)
        except SignatureError as exc:
            # A 401 names the scheme, so clients that wait for a challenge send credentials.
            exc.headers = {"WWW-Authenticate": 'Basic realm="webhooks", charset="UTF-8"'}
            raise
