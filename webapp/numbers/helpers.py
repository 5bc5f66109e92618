"""Template helpers: the filters and globals the people-facing pages use.

Message bodies are made safe once, at ingest (`sanitize.render_body`); `message_html` is the
one place a stored fragment is trusted again. `operator_markup` does the same for the ad
markup the operator configured. Templates never use `|safe`.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from flask import Flask, current_app, g, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from phonenumbers import NumberParseException

from ..i18n import direction, locale_code
from ..phone import format_international
from ..timeutil import as_utc, rfc3339, utcnow

LOCALE = "en"
_AD_CLIENT = re.compile(r"^(?:ca-)?(pub-\d{6,24})$")


def message_html(body_html: str | None) -> Markup:
    """A message body as stored by ingest: already sanitized HTML, trusted as markup."""
    return Markup(body_html or "")


def operator_markup(html: str | None) -> Markup:
    """Ad markup from the operator's configuration (AD_SLOT_HTML), trusted as markup."""
    return Markup(html or "")


def now() -> datetime:
    """The moment this request renders at (one value per request, so texts agree)."""
    if "now" not in g:
        g.now = utcnow()
    return g.now


def time_ago(value: datetime | None) -> str:
    """`5 minutes ago` in the page's language; `never` when there is no time."""
    if value is None:
        return _("never")
    delta = as_utc(value) - now()
    if abs(delta) < timedelta(minutes=1):
        return _("just now")
    return _time_ago(int(delta.total_seconds()), locale_code())


@lru_cache(maxsize=8192)
def _time_ago(seconds: int, locale: str) -> str:
    """Babel's `5 minutes ago` (CLDR) for a whole number of seconds in a locale."""
    return format_timedelta(timedelta(seconds=seconds), add_direction=True, locale=locale)


def exact_time(value: datetime) -> str:
    """The exact time as people read it, in UTC: `14 Mar 2025, 09:26:53 UTC` in English."""
    return _exact_time(as_utc(value).replace(microsecond=0), locale_code())


@lru_cache(maxsize=4096)
def _exact_time(value: datetime, locale: str) -> str:
    # Babel's pattern formatting costs ~0.1 ms a call; a page shows 50 of them.
    if locale == LOCALE:
        return format_datetime(value, "d MMM y, HH:mm:ss 'UTC'", locale=LOCALE)
    return format_datetime(value, "medium", tzinfo=UTC, locale=locale) + " UTC"


def rfc3339_filter(value: datetime) -> str:
    """RFC 3339 text for `<time datetime>`."""
    return rfc3339(value)


@cache
def _territories(locale: str = LOCALE) -> dict[str, str]:
    """Region names (CLDR) in a locale, keyed by code."""
    return dict(Locale.parse(locale).territories)


def country_name(code: str) -> str:
    """The page language's name of an ISO 3166-1 alpha-2 code (the code itself when unknown)."""
    return _territories(locale_code()).get(code.upper(), code.upper())


def is_country(code: str) -> bool:
    """Whether `code` is a two-letter region code Babel knows (ZZ, `unknown`, is not one)."""
    upper = code.upper()
    return len(upper) == 2 and upper.isalpha() and upper != "ZZ" and upper in _territories()


def flag(code: str) -> str:
    """The flag emoji of a two-letter region code (a globe for anything else)."""
    upper = code.upper()
    if len(upper) != 2 or not upper.isascii() or not upper.isalpha():
        return "\U0001f310"
    return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in upper)


def phone(e164: str) -> str:
    """A number as people read it: `+44 7911 123456` (kept left-to-right in Arabic text)."""
    formatted = format_international(e164)
    return f"\u2066{formatted}\u2069" if direction() == "rtl" else formatted


def sender(value: str) -> str:
    """A sender as people read it: phone numbers formatted, sender ids as the carrier gave."""
    if value.startswith("+") and value[1:].isdigit():
        try:
            return format_international(value)
        except NumberParseException:  # an E.164-looking sender id; show it as given
            return value
    return value


def ad_client() -> str:
    """AdSense's `ca-pub-…` client id from AD_CLIENT, or '' when ads are off or it is malformed."""
    match = _AD_CLIENT.match((current_app.config.get("AD_CLIENT") or "").strip())
    return f"ca-{match.group(1)}" if match else ""


def ads_live() -> bool:
    """Whether real ads are configured (else the slots are reserved placeholders)."""
    return bool(current_app.config.get("AD_SLOT_HTML") or ad_client())


def canonical_url(endpoint: str | None = None, **values: object) -> str:
    """The absolute, query-less URL of a page, from SITE_URL."""
    endpoint = endpoint or request.endpoint or "numbers.home"
    if not values and request.view_args is not None and endpoint == request.endpoint:
        values = dict(request.view_args)
    return current_app.config["SITE_URL"] + url_for(endpoint, **values)


@cache
def _static_version(folder: str, filename: str) -> str:
    """A short content hash of a static file, so browsers refetch it when it changes."""
    try:
        with open(os.path.join(folder, filename), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:10]
    except OSError:
        return "0"


def asset_url(filename: str) -> str:
    """The URL of a static file with its content hash as a cache-busting query."""
    version = _static_version(current_app.static_folder or "", filename)
    return url_for("static", filename=filename, v=version)


FILTERS = {
    "message_html": message_html,
    "operator_markup": operator_markup,
    "time_ago": time_ago,
    "exact_time": exact_time,
    "rfc3339": rfc3339_filter,
    "country_name": country_name,
    "flag": flag,
    "phone": phone,
    "sender": sender,
}

GLOBALS = {
    "ad_client": ad_client,
    "ads_live": ads_live,
    "canonical_url": canonical_url,
    "asset_url": asset_url,
}


def install(app: Flask) -> None:
    """Register the filters and globals on the app's Jinja environment."""
    from . import visitor  # it builds on these helpers

    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS)
    visitor.install(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
