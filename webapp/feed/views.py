"""The JSON feed for API clients: countries, numbers and messages, rate limited.

Lists are `{"data": [...], "next": url or null, "next_before": cursor or null}`; message
lists are newest first and page with `limit`, `before` and `since` (see `feed.params`).
Every answer carries RateLimit headers, an ETag (If-None-Match answers 304) and CORS
headers; errors are application/problem+json.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request, url_for

from ..errors import problem
from ..numbers.pagecache import cached_page
from ..numbers.queries import (
    NumberRow,
    Page,
    active_countries,
    active_numbers,
    messages_fingerprint,
    number_and_oldest_message,
    number_messages,
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
    return jsonify(number_json(public_number(digits)[0], site_url()))


@bp.get("/numbers/<digits>/messages")
def number_message_list(digits: str) -> Response:
    """One number's messages, newest first."""
    found, oldest = public_number(digits)
    window = parse_window(request.args)
    etag = page_etag(oldest, found.id, found.last_message_id, window)
    if (unchanged := headers.not_modified(etag)) is not None:
        return unchanged
    return page_response(
        lambda: number_messages(found.id, window.before, window.since, window.limit), window, etag
    )


@bp.get("/messages")
def message_list() -> Response:
    """Every public message (of active numbers, optionally of one `country`), newest first."""
    country, window = country_arg(request.args), parse_window(request.args)
    etag = page_etag(country, messages_fingerprint(country), window)
    if (unchanged := headers.not_modified(etag)) is not None:
        return unchanged
    return page_response(
        lambda: public_messages(country, window.before, window.since, window.limit),
        window, etag, country=country,
    )


def site_url() -> str:
    """The public base URL of the site."""
    return current_app.config["SITE_URL"]


def public_number(digits: str) -> tuple[NumberRow, int | None]:
    """The active number of a URL segment and the oldest stored message id (one query).

    Canonical digits are looked up as they are (stored numbers are canonical E.164);
    another spelling gets a 301 to its canonical URL; else a 404 or a 410.
    """
    canonical = digits.isascii() and digits.isdigit()
    found, oldest = number_and_oldest_message("+" + digits) if canonical else (None, None)
    e164 = found.e164 if found else digits_to_e164(digits)
    if e164 is None:
        abort(problem(404, "Not Found", f"{digits[:40]!r} is not a phone number"))
    if e164[1:] != digits:
        query = request.query_string.decode("latin-1")
        location = url_for(request.endpoint or "", digits=e164[1:]) + (f"?{query}" if query else "")
        abort(redirect(location, 301))
    if found is None:
        abort(problem(404, "Not Found", f"{e164} is not a number of this site", number=e164))
    if not found.active:
        abort(problem(410, "Gone", f"{e164} was retired and shows no messages", number=e164))
    return found, oldest


def page_etag(*state: object) -> str:
    """The ETag of a message page from cheap state, before any message row is read.

    The state holds what moves when the page can change (the newest message id of the
    numbers concerned, their count) and the oldest stored id, which moves when messages
    are purged. With the path and the window it fixes the body, which is kept by ETag.
    """
    return headers.state_etag(FORMAT_VERSION, site_url(), request.path, *state)


def page_response(
    load: Callable[[], Page], window: Window, etag: str, country: str | None = None
) -> Response:
    """A page of messages with the URL and cursor of the next page, as JSON and a Link.

    The body is built once per ETag and process (`numbers.pagecache`): a repeated request
    for an unchanged page reads no message.
    """

    def render() -> tuple[bytes, str | None]:
        page = load()
        next_url = None
        if page.next_before is not None:
            query = {"country": country, **window.query(), "before": page.next_before}
            next_url = page_url(site_url(), request.path, query)
        items = listing(map(message_json, page.messages), next_url, page.next_before)
        return jsonify(items).get_data(), next_url

    body, next_url = cached_page(request.path, etag, render)
    response = current_app.response_class(body, mimetype="application/json")
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    response.set_etag(etag)
    return response
