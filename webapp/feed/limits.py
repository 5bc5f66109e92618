"""Who a feed client is and how much it may ask: per client IP, or per API key (more).

Two limits sit on the feed blueprint, each shared by all its routes, so a client has one
budget for the whole feed: `FEED_RATE_LIMIT` keyed by the client's address for anonymous
clients, `FEED_RATE_LIMIT_KEYED` keyed by the API key for clients that send a valid,
unrevoked key as `Authorization: Bearer <key>`. Exactly one of them applies to a request.
A request with any other credentials is counted as anonymous and answered 401, never
silently served with the anonymous limit. Preflights (OPTIONS) are not counted.

A client's address is what no client can choose: the socket peer, or with
`TRUSTED_PROXIES=n` the n-th `X-Forwarded-For` entry from the right (the one our nearest
proxy wrote), normalized; anything that is not an address falls back to the peer.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from flask import Blueprint, Response, current_app, g, request

from ..apikeys import find_active_key
from ..clients import Address, client_ip, parse_address, request_client_ip
from ..errors import problem
from ..extensions import limiter

log = logging.getLogger(__name__)

LIMITED_METHODS = ["GET", "HEAD"]


def bearer_token() -> str | None:
    """The key of `Authorization: Bearer <key>`; '' for other credentials; None without any."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def api_key_id() -> int | None:
    """The id of this request's valid, unrevoked API key, looked up once per request."""
    if "feed_api_key_id" not in g:
        token = bearer_token()
        key = find_active_key(token) if token else None
        g.feed_api_key_id = key.id if key is not None else None
    return g.feed_api_key_id


def has_key() -> bool:
    """Whether the request carries a valid API key (the anonymous limit is then skipped)."""
    return api_key_id() is not None


def is_anonymous() -> bool:
    """Whether the request carries no valid API key (the keyed limit is then skipped)."""
    return api_key_id() is None


def key_identity() -> str:
    """The rate-limit bucket of an API key: its id, never the key itself."""
    key_id = api_key_id()
    return f"key:{key_id}" if key_id is not None else ""


def address_key(text: str) -> str | None:
    """An address as a proxy may write it, normalized; an IPv6 client is its /64; else None.

    A client holds a whole IPv6 /64, so keying single IPv6 addresses would let it rotate.
    """
    return _bucket(parse_address(text))


def _bucket(address: Address | None) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address) if address is not None else None


def client_key(peer: str | None, forwarded_for: str | None, hops: int) -> str:
    """The rate-limit bucket of a client, from the socket peer and the raw X-Forwarded-For."""
    return _bucket(client_ip(peer, forwarded_for, hops)) or peer or "unknown"


def client_address() -> str:
    """The rate-limit bucket of this request's client (see `clients.client_ip`)."""
    return _bucket(request_client_ip()) or request.remote_addr or "unknown"


def anonymous_limit() -> str:
    """The anonymous clients' limit, read per request so each app's config applies."""
    return current_app.config["FEED_RATE_LIMIT"]


def keyed_limit() -> str:
    """The limit of clients with an API key."""
    return current_app.config["FEED_RATE_LIMIT_KEYED"]


def anonymous_breach() -> str:
    """The problem detail of a 429 for an anonymous client."""
    return (f"rate limit of {anonymous_limit()} per client address exceeded; retry after "
            "Retry-After seconds, or ask for an API key for a higher limit")


def keyed_breach() -> str:
    """The problem detail of a 429 for a client with an API key."""
    return f"rate limit of {keyed_limit()} per API key exceeded; retry after Retry-After seconds"


def refuse_bad_credentials() -> Response | None:
    """401 for credentials that are not a valid, unrevoked API key."""
    if request.method == "OPTIONS" or bearer_token() is None or has_key():
        return None
    response = problem(
        401, "Unauthorized",
        "the API key is not valid or was revoked; send Authorization: Bearer <key> with a "
        "valid key, or no Authorization header for the anonymous limit",
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="feed", error="invalid_token"'
    return response


def ratelimit_headers(response: Response) -> Response:
    """The IETF draft's RateLimit-Limit/-Remaining/-Reset (seconds), next to X-RateLimit-*."""
    current = limiter.current_limit
    if current is None:
        return response
    try:
        reset = max(0, current.reset_at - int(time.time()))
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(current.remaining)
        response.headers["RateLimit-Reset"] = str(reset)
    except Exception:  # the limit storage went away mid-request: answer without the headers
        log.warning("rate limit storage unreachable; RateLimit headers left out", exc_info=True)
    return response


def install(bp: Blueprint) -> None:
    """Put both limits, the credentials check and the RateLimit headers on the blueprint."""
    limiter.shared_limit(
        anonymous_limit, scope="feed", key_func=client_address, exempt_when=has_key,
        methods=LIMITED_METHODS, error_message=anonymous_breach,
    )(bp)
    limiter.shared_limit(
        keyed_limit, scope="feed-key", key_func=key_identity, exempt_when=is_anonymous,
        methods=LIMITED_METHODS, error_message=keyed_breach,
    )(bp)
    bp.before_request(refuse_bad_credentials)
    bp.after_request(ratelimit_headers)
