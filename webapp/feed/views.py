"""The JSON feed for API clients: countries, numbers and messages, rate limited.

Lists are `{"data": [...], "next": url or null, "next_before": cursor or null}`; message
lists are newest first and page with `limit`, `before` and `since` (see `feed.params`).
Every answer carries RateLimit headers, an ETag (If-None-Match answers 304) and CORS
headers; errors are application/problem+json.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request, url_for

from ..errors import problem
from ..models import Number
from ..numbers.queries import (
    Page,
    active_countries,
    active_numbers,
    number_by_e164,
    number_messages,
    numbers_fingerprint,
    oldest_message_id,
    public_messages,
)
from ..phone import digits_to_e164
from . import headers, limits
from .params import BadParameter, Window, country_arg, parse_window
from .serializers import (
    FORMAT_VERSION,
    country_json,
    listing,
    message_json,
    number_json,
    page_url,
)

bp = Blueprint("feed", __name__, url_prefix="/api/v1")
limits.install(bp)
bp.after_request(headers.conditional)
bp.after_app_request(headers.api_headers)


@bp.errorhandler(BadParameter)
def bad_parameter(exc: BadParameter) -> Response:
    """400 naming the parameter and what is wrong with it."""
    return problem(400, "Bad Request", str(exc), parameter=exc.name)


@bp.get("/countries")
def countries() -> Response:
    """Countries with active numbers: code, name, how many numbers, last activity."""
    return jsonify(listing(country_json(row, site_url()) for row in active_countries()))


@bp.get("/numbers")
def numbers() -> Response:
    """Active numbers, most recently used first, optionally of one `country`."""
    country = country_arg(request.args)
    return jsonify(listing(number_json(n, site_url()) for n in active_numbers(country)))


@bp.get("/numbers/<digits>")
def number(digits: str) -> Response:
    """One active number."""
    return jsonify(number_json(public_number(digits), site_url()))


@bp.get("/numbers/<digits>/messages")
def number_message_list(digits: str) -> Response:
    """One number's messages, newest first."""
    found = public_number(digits)
    window = parse_window(request.args)
    etag = page_etag(found.id, found.last_message_id, window)
    if (unchanged := headers.not_modified(etag)) is not None:
        return unchanged
    page = number_messages(found.id, window.before, window.since, window.limit)
    return page_response(page, window, etag)


@bp.get("/messages")
def message_list() -> Response:
    """Every public message (of active numbers, optionally of one `country`), newest first."""
    country, window = country_arg(request.args), parse_window(request.args)
    etag = page_etag(country, numbers_fingerprint(country), window)
    if (unchanged := headers.not_modified(etag)) is not None:
        return unchanged
    page = public_messages(country, window.before, window.since, window.limit)
    return page_response(page, window, etag, country=country)


def site_url() -> str:
    """The public base URL of the site."""
    return current_app.config["SITE_URL"]


def public_number(digits: str) -> Number:
    """The active number of a URL segment; else a 301 to its canonical URL, a 404 or a 410."""
    e164 = digits_to_e164(digits)
    if e164 is None:
        abort(problem(404, "Not Found", f"{digits[:40]!r} is not a phone number"))
    if e164[1:] != digits:
        query = request.query_string.decode("latin-1")
        location = url_for(request.endpoint or "", digits=e164[1:]) + (f"?{query}" if query else "")
        abort(redirect(location, 301))
    found = number_by_e164(e164)
    if found is None:
        abort(problem(404, "Not Found", f"{e164} is not a number of this site", number=e164))
    if not found.active:
        abort(problem(410, "Gone", f"{e164} was retired and shows no messages", number=e164))
    return found


def page_etag(*state: object) -> str:
    """The ETag of a message page from cheap state, before any message row is read.

    The state holds what moves when the page can change (the newest message id of the
    numbers concerned, their count); the oldest stored id moves when messages are purged.
    """
    return headers.state_etag(
        FORMAT_VERSION, site_url(), request.path, oldest_message_id(), *state
    )


def page_response(page: Page, window: Window, etag: str, country: str | None = None) -> Response:
    """A page of messages with the URL and cursor of the next page, as JSON and a Link."""
    next_url = None
    if page.next_before is not None:
        query = {"country": country, **window.query(), "before": page.next_before}
        next_url = page_url(site_url(), request.path, query)
    response = jsonify(listing(map(message_json, page.messages), next_url, page.next_before))
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    response.set_etag(etag)
    return response
