"""Pages for people: countries, numbers and their messages; files for crawlers.

Every page gets an ETag computed *before* the heavy queries, from cheap columns and the
current minute (the "5 minutes ago" texts change with it), so a conditional request is
answered 304 without loading a single message.
"""

from __future__ import annotations

import hashlib
import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..i18n import current_language
from ..phone import digits_to_e164
from ..search import match_countries, number_digit_patterns
from ..service_pages.queries import vote_summary
from ..services import get as service_info
from . import queries
from .caching import cacheable, conditional, not_modified, page_etag, permanent_redirect
from .helpers import ad_client, canonical_url, country_name, is_country, now
from .pagecache import cached_page
from .visitor import silent_last

bp = Blueprint("numbers", __name__)
bp.record_once(lambda state: state.app.teardown_appcontext(queries.close_reader))

PAGE_SIZE = 50
MORE_NUMBERS = 6
MAX_QUERY = 64
SEARCH_NUMBERS = 50
_CURSOR = re.compile(r"[0-9]{1,18}")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# Only with ads configured: Google's ad hosts may load scripts, frames and images, and
# AdSense sets inline styles on the elements it fills. Our own markup stays inline-free.
AD_HOSTS = "https://*.googlesyndication.com https://*.doubleclick.net https://*.google.com"
CSP_WITH_ADS = (
    f"default-src 'self'; script-src 'self' {AD_HOSTS} https://*.gstatic.com; "
    f"style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    f"frame-src {AD_HOSTS}; connect-src 'self' {AD_HOSTS}; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@bp.get("/")
def home() -> Response:
    """Every country with active numbers, and the newest numbers."""
    etag = page_etag("home", *queries.numbers_fingerprint())
    if (early := not_modified(etag)) is not None:
        return early

    def render() -> str:
        newest = silent_last(queries.newest_numbers(8))
        counts = queries.counts_last_24h([number.id for number in newest], now())
        return render_template(
            "numbers/home.html", countries=countries_by_name(), newest=newest, counts=counts
        )

    return cacheable(make_response(cached_page(request.full_path, etag, render)), etag)


@bp.get("/country/<code>")
def country(code: str) -> Response:
    """One country's active numbers with their last message and 24-hour counts."""
    if code != code.lower():
        return permanent_redirect(url_for("numbers.country", code=code.lower()))
    if not is_country(code):
        abort(404, description=_("There is no country with the code “%(code)s”.", code=code))
    etag = page_etag("country", code, *queries.numbers_fingerprint(code))
    if (early := not_modified(etag)) is not None:
        return early

    def render() -> tuple[str, int]:
        numbers = queries.active_numbers(code)
        counts = queries.counts_last_24h([number.id for number in numbers], now())
        others = [row for row in countries_by_name() if row.country != code.upper()]
        html = render_template(
            "numbers/country.html", code=code, numbers=numbers, counts=counts, others=others
        )
        return html, 200 if numbers else 404

    return cacheable(make_response(*cached_page(request.full_path, etag, render)), etag)


@bp.get("/number/<digits>")
def number(digits: str) -> Response:
    """A number's newest messages (50 a page, older pages by `?before=<id>`)."""
    found, votes_state = hosted_number(digits)  # votes change the page: in the ETag
    if not found.active:
        return retired(found)
    before = cursor()
    voted = request.args.get("voted") if service_info(request.args.get("voted")) else None
    etag = page_etag("number", found.id, found.last_message_id, found.status, before,
                     votes_state, voted)
    if (early := not_modified(etag)) is not None:
        return early

    def render() -> str:
        votes = vote_summary(found.id)
        page = queries.number_messages(found.id, before=before, limit=PAGE_SIZE)
        more = queries.other_active_numbers(found.country, found.id, MORE_NUMBERS)
        counts = queries.counts_last_24h([found.id, *(other.id for other in more)], now())
        return render_template(
            "numbers/number.html", number=found, page=page, before=before, more=more,
            counts=counts, votes=votes, voted=voted,
        )

    response = cacheable(make_response(cached_page(request.full_path, etag, render)), etag)
    if voted:  # a voter's own confirmation, never from a cache: it must show the new tally
        response.cache_control.public = False
        response.cache_control.max_age = None
        response.cache_control.no_store = True
    return response


@bp.get("/number/<digits>/messages.fragment")
def number_fragment(digits: str) -> Response:
    """The message cards newer than `?since=<id>`, for the live inbox; 304 when none is new."""
    found = queries.number_by_e164("+" + digits) if digits.isascii() and digits.isdigit() else None
    if found is None or not found.active:
        abort(404 if found is None else 410)
    since = since_id()
    etag = fragment_etag(found, since)
    if request.if_none_match.contains_weak(etag):
        return revalidated(current_app.response_class(status=304), etag)
    html = render_template("numbers/messages_fragment.html", messages=newer_messages(found, since))
    return revalidated(make_response(html), etag)


@bp.get("/search")
def search() -> Response:
    """Countries by name in any language, ISO or calling code; numbers by their digits."""
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    etag = page_etag("search", query, *queries.numbers_fingerprint())
    if (early := not_modified(etag)) is not None:
        return early
    numbers = queries.numbers_with_digits(number_digit_patterns(query), SEARCH_NUMBERS)
    counts = queries.counts_last_24h([number.id for number in numbers], now())
    html = render_template(
        "numbers/search.html", query=query, countries=matching_countries(query),
        numbers=numbers, counts=counts,
    )
    return cacheable(make_response(html), etag)


def hosted_number(digits: str) -> tuple[queries.NumberRow, tuple[object, ...]]:
    """The number of a URL segment and its votes' state; 301 for other spellings; else 404.

    Stored numbers are canonical E.164, so canonical digits are looked up as they are (one
    query) and only other spellings pay for parsing, to be redirected.
    """
    canonical = digits.isascii() and digits.isdigit()
    found, votes_state = queries.number_and_votes("+" + digits) if canonical else (None, ())
    if found is not None:
        return found, votes_state
    e164 = digits_to_e164(digits) or abort(404, description=_("That is not a phone number."))
    if e164[1:] != digits:
        abort(permanent_redirect(url_for(".number", digits=e164[1:], **request.args.to_dict())))
    abort(404, description=_("We do not host that number."))  # canonical: looked up above


def retired(found: queries.NumberRow) -> Response:
    """410 Gone for a retired number, pointing to the country's other numbers."""
    others = queries.other_active_numbers(found.country, found.id, 12)
    return make_response(render_template("numbers/retired.html", number=found, others=others), 410)


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Home, countries, active numbers and recent services, in every language, as absolute URLs."""
    from ..service_pages import queries as service_queries  # it builds on this module
    from ..service_pages.views import recent_since

    numbers = queries.active_numbers()
    countries = sorted({n.country.lower() for n in numbers})
    services = sorted(row.slug for row in service_queries.active_services(recent_since()))
    xml = render_template("sitemap.xml", countries=countries, numbers=numbers, services=services)
    return conditional(Response(xml, mimetype="application/xml"))


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawl everything but the API and the webhooks; the sitemap's address."""
    text = render_template("robots.txt", sitemap=canonical_url("numbers.sitemap"))
    return conditional(Response(text, mimetype="text/plain"))


@bp.get("/ads.txt")
def ads_txt() -> Response:
    """The authorized seller line for the configured AdSense publisher, else a comment."""
    client = ad_client()
    line = (
        f"google.com, {client.removeprefix('ca-')}, DIRECT, f08c47fec0942fa0"
        if client
        else "# No ad network is configured (AD_CLIENT is empty)."
    )
    return conditional(Response(line + "\n", mimetype="text/plain"))


@bp.after_app_request
def security_headers(response: Response) -> Response:
    """CSP and friends on every HTML answer; nosniff and a referrer policy on ours."""
    if response.mimetype == "text/html":
        csp = CSP_WITH_ADS if current_app.config.get("AD_SLOT_HTML") or ad_client() else CSP
        response.headers.setdefault("Content-Security-Policy", csp)
    if response.mimetype == "text/html" or request.blueprint == "numbers":
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def newer_messages(found: queries.NumberRow, since: int) -> list:
    """A number's messages newer than `since`, newest first; no query when none can be."""
    if found.last_message_id is None or found.last_message_id <= since:
        return []
    return queries.number_messages(found.id, since=since, limit=PAGE_SIZE).messages


def fragment_etag(found: queries.NumberRow, since: int) -> str:
    """The live fragment's ETag: its rows follow from the newest message id and `since`."""
    key = ("fragment", found.id, found.last_message_id, since, current_language())
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def revalidated(response: Response, etag: str) -> Response:
    """Cacheable, but asked again every time (`no-cache`): the live inbox polls it."""
    response.set_etag(etag)
    response.cache_control.no_cache = True
    return response


def since_id() -> int:
    """The `since` message id of a live poll; 400 when it is missing or not one."""
    raw = request.args.get("since", "")
    if not _CURSOR.fullmatch(raw):
        abort(400, description=_("`since` must be a message id (a positive whole number)."))
    return int(raw)


def matching_countries(query: str) -> list[queries.CountryRow]:
    """Countries with active numbers that a search finds, best matches first."""
    rows = {row.country: row for row in countries_by_name()}
    return [rows[code] for code in match_countries(query, list(rows))]


def countries_by_name() -> list[queries.CountryRow]:
    """Countries with active numbers, in the order of their names."""
    return sorted(queries.active_countries(), key=lambda row: country_name(row.country))


def cursor() -> int | None:
    """The `before` message id of an older page; 400 when it is not one."""
    raw = request.args.get("before")
    if raw is None:
        return None
    if not _CURSOR.fullmatch(raw):
        abort(400, description=_("`before` must be a message id (a positive whole number)."))
    return int(raw)

