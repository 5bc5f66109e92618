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
    redirect,
    render_template,
    request,
    url_for,
)

from ..models import Number
from ..phone import digits_to_e164
from . import queries
from .helpers import ad_client, canonical_url, country_name, is_country, now

bp = Blueprint("numbers", __name__)

PAGE_SIZE = 50
MORE_NUMBERS = 6
MAX_AGE = 30
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
    html = render_template(
        "numbers/home.html", countries=countries_by_name(), newest=queries.newest_numbers(8)
    )
    return cacheable(make_response(html), etag)


@bp.get("/country/<code>")
def country(code: str) -> Response:
    """One country's active numbers with their last message and 24-hour counts."""
    if code != code.lower():
        return permanent_redirect(url_for("numbers.country", code=code.lower()))
    if not is_country(code):
        abort(404, description=f"There is no country with the code {code!r}.")
    etag = page_etag("country", code, *queries.numbers_fingerprint(code))
    if (early := not_modified(etag)) is not None:
        return early
    numbers = queries.active_numbers(code)
    counts = queries.counts_last_24h([number.id for number in numbers], now())
    others = [row for row in countries_by_name() if row.country != code.upper()]
    html = render_template(
        "numbers/country.html", code=code, numbers=numbers, counts=counts, others=others
    )
    return cacheable(make_response(html, 200 if numbers else 404), etag)


@bp.get("/number/<digits>")
def number(digits: str) -> Response:
    """A number's newest messages (50 a page, older pages by `?before=<id>`)."""
    e164 = digits_to_e164(digits) or abort(404, description="That is not a phone number.")
    if e164[1:] != digits:
        return permanent_redirect(url_for(".number", digits=e164[1:], **request.args.to_dict()))
    found = queries.number_by_e164(e164) or abort(404, description="We do not host that number.")
    if not found.active:
        return retired(found)
    before = cursor()
    etag = page_etag("number", found.id, found.last_message_id, found.status, before)
    if (early := not_modified(etag)) is not None:
        return early
    page = queries.number_messages(found.id, before=before, limit=PAGE_SIZE)
    more = queries.other_active_numbers(found.country, found.id, MORE_NUMBERS)
    html = render_template("numbers/number.html", number=found, page=page, before=before, more=more)
    return cacheable(make_response(html), etag)


def retired(found: Number) -> Response:
    """410 Gone for a retired number, pointing to the country's other numbers."""
    others = queries.other_active_numbers(found.country, found.id, 12)
    return make_response(render_template("numbers/retired.html", number=found, others=others), 410)


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Home, every country and every active number, as absolute URLs."""
    numbers = queries.active_numbers()
    countries = sorted({n.country.lower() for n in numbers})
    xml = render_template(
        "sitemap.xml",
        home=canonical_url("numbers.home"),
        countries=[canonical_url("numbers.country", code=code) for code in countries],
        numbers=[(canonical_url("numbers.number", digits=n.digits), n) for n in numbers],
    )
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


def countries_by_name() -> list[queries.CountryRow]:
    """Countries with active numbers, in the order of their names."""
    return sorted(queries.active_countries(), key=lambda row: country_name(row.country))


def cursor() -> int | None:
    """The `before` message id of an older page; 400 when it is not one."""
    raw = request.args.get("before")
    if raw is None:
        return None
    if not _CURSOR.fullmatch(raw):
        abort(400, description="`before` must be a message id (a positive whole number).")
    return int(raw)


def page_etag(*parts: object) -> str:
    """An ETag from cheap values, the current minute and the settings that shape a page."""
    cfg = current_app.config
    minute = int(now().timestamp() // 60)
    settings = (cfg["AD_EVERY"], cfg["AD_CLIENT"], cfg["AD_SLOT_HTML"], cfg["SITE_URL"])
    return hashlib.sha256(repr((parts, minute, settings)).encode()).hexdigest()[:32]


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
