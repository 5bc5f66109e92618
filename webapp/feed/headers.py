"""HTTP around the feed's JSON: ETags and 304s, caching, and CORS open for GET."""

from __future__ import annotations

import hashlib

from flask import Response, request

MAX_AGE = 10
EXPOSED_HEADERS = ", ".join([
    "ETag", "Link", "Retry-After",
    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
    "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
])


def state_etag(*parts: object) -> str:
    """An ETag from the cheap values a response is built from (ids, arguments, versions)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "backslashreplace")).hexdigest()[:32]


def not_modified(etag: str) -> Response | None:
    """A 304 when the request's If-None-Match holds `etag`, else None: checked before any rows."""
    response = Response(status=200)
    response.set_etag(etag)
    response.make_conditional(request)
    return response if response.status_code == 304 else None


def conditional(response: Response) -> Response:
    """ETag (of the body unless the view set one), 304 for If-None-Match, Cache-Control."""
    if request.method not in ("GET", "HEAD"):
        return response
    if response.status_code == 200:
        if "ETag" not in response.headers:
            response.add_etag()
        response.make_conditional(request)
    if response.status_code in (200, 301, 304):
        # A response to a request with a key carries that key's rate-limit budget.
        scope = "private" if "Authorization" in request.headers else "public"
        response.headers["Cache-Control"] = f"{scope}, max-age={MAX_AGE}"
    else:
        response.headers["Cache-Control"] = "no-store"
    response.vary.add("Authorization")
    return response


def api_headers(response: Response) -> Response:
    """CORS open for GET (with preflights) and nosniff on everything under /api/, errors too."""
    if not request.path.startswith("/api/"):
        return response
    # Bodies hold attacker-written text: browsers must never sniff them as HTML.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response
