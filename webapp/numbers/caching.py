"""HTTP caching of pages: ETags from cheap values, 304 answers, shareable responses."""

from __future__ import annotations

import hashlib

from flask import Response, current_app, redirect, request

from ..i18n import current_language
from .helpers import now

#: seconds a shared cache (a CDN) may keep a page before revalidating
MAX_AGE = 30


def page_etag(*parts: object) -> str:
    """An ETag from cheap values, the current minute and the settings that shape a page."""
    cfg = current_app.config
    minute = int(now().timestamp() // 60)
    settings = (cfg["AD_EVERY"], cfg["AD_CLIENT"], cfg["AD_SLOT_HTML"], cfg["SITE_URL"])
    # Each language is a page of its own: never one ETag for two languages.
    key = (parts, minute, settings, current_language())
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def not_modified(etag: str) -> Response | None:
    """A 304 answer when the client already holds this version of the page."""
    if not request.if_none_match.contains_weak(etag):
        return None
    return cacheable(current_app.response_class(status=304), etag)


def cacheable(response: Response, etag: str) -> Response:
    """Mark a page shareable by caches for a short while, with its ETag."""
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def conditional(response: Response) -> Response:
    """A small file: ETag from its body, 304 when it matches, cacheable for an hour."""
    response.add_etag()
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


def permanent_redirect(location: str) -> Response:
    """301 to the canonical address of a page."""
    response = redirect(location, 301)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
