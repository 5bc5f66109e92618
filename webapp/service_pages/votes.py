"""Who votes, and whether a vote may come in: visitor ids, the origin check, the limit.

- A visitor is an HMAC (SECRET_KEY) of the client's address (`clients.request_client_ip`,
  which honours TRUSTED_PROXIES; an IPv6 client is its /64) and of a long-lived random
  cookie. Only the HMAC is stored: neither the address nor the cookie can be read back.
- Forged votes from other sites: a vote is a same-origin POST. The browser's `Origin` header
  (or, when a browser leaves it out, the `Referer`) must be this site; the cookie is
  `SameSite=Lax`, so another site's form never carries it either. No login, no token.
- A client address may vote `VOTE_RATE_LIMIT` times (default 10 a minute, 50 a day).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from flask import Response, current_app, request
from flask_babel import gettext as _

from ..clients import request_client_ip

COOKIE = "voter"
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def visitor_address() -> str:
    """The client's address as a rate-limit key and HMAC input (an IPv6 client is its /64)."""
    address = request_client_ip()
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address) if address is not None else (request.remote_addr or "unknown")


def vote_limit() -> str:
    """The votes' rate limit, read per request so each app's config applies."""
    return current_app.config["VOTE_RATE_LIMIT"]


def vote_limit_message() -> str:
    """What a visitor reads past the limit."""
    return _("You have voted a lot in a short time. Please wait a little and try again.")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def same_origin() -> bool:
    """Whether the request comes from one of our own pages (Origin, else Referer)."""
    claimed = request.headers.get("Origin") or request.headers.get("Referer") or ""
    origin = _origin(claimed)
    if origin is None:
        return False
    ours = {_origin(current_app.config["SITE_URL"]), _origin(request.host_url)}
    return origin in ours


def voter_token() -> tuple[str, bool]:
    """The visitor's cookie token, and whether it is new (then it must be set)."""
    token = request.cookies.get(COOKIE, "")
    if _TOKEN.fullmatch(token):
        return token, False
    return secrets.token_urlsafe(32), True


def voter_hash(token: str) -> str:
    """The stored identity of a visitor: HMAC-SHA256 of address and cookie, in hex."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{visitor_address()}|{token}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def remember(response: Response, token: str) -> Response:
    """Give a new visitor its long-lived, script-proof, same-site cookie."""
    response.set_cookie(
        COOKIE, token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
        secure=request.is_secure, path="/",
    )
    return response
