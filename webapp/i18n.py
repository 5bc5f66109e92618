"""Languages: English at `/`, the others under `/<lang>/…`, with Flask-Babel.

Every page rule gets a twin with a `/<lang>` prefix and the same endpoint (`LanguageFlask`),
so a view never sees the language: a URL value preprocessor takes it out of the URL, and
`url_for` puts the current one back (`url_for("numbers.number", …)` inside a Spanish page
gives `/es/number/…`; pass `lang="en"` for the English address). Machine routes (webhooks,
the feed, health, metrics, static files) and the crawler files stay unprefixed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from babel import Locale
from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    url_for,
)
from flask_babel import get_locale
from werkzeug.routing import BaseConverter

DEFAULT = "en"
#: URL prefixes of the other languages, in the switcher's order.
PREFIXED = ("es", "ru", "zh", "pt", "fr", "de", "ar")
LANGUAGES = (DEFAULT, *PREFIXED)
RTL = frozenset({"ar"})
#: BCP 47 tags for `lang`, `hreflang` and Content-Language where the bare code is vague.
TAGS = {"zh": "zh-Hans"}
#: Open Graph's `og:locale` of each language.
OG_LOCALES = {"en": "en_US", "es": "es_ES", "ru": "ru_RU", "zh": "zh_CN", "pt": "pt_BR",
              "fr": "fr_FR", "de": "de_DE", "ar": "ar_AR"}

#: Endpoints and blueprints that stay unprefixed: machines and crawlers, not people.
_MACHINE_BLUEPRINTS = frozenset({"ingest", "feed", "health"})
_MACHINE_ENDPOINTS = frozenset({"static", "numbers.sitemap", "numbers.robots", "numbers.ads_txt"})
_MACHINE_PATHS = ("/api/", "/webhooks/", "/healthz", "/metrics", "/static/")


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it (it is translated where shown)."""
    return message


#: Werkzeug's names of the errors people may meet, translated by the error page.
HTTP_STATUS_NAMES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Not Acceptable"),
    N_("Gone"),
    N_("Request Entity Too Large"),
    N_("Unsupported Media Type"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
)


class LanguageConverter(BaseConverter):
    """`<lang:lang>`: one of the prefixed languages, anything else does not match (404)."""

    regex = "(?:" + "|".join(PREFIXED) + ")"


def is_page_rule(rule: str, endpoint: str | None) -> bool:
    """Whether a rule is a page for people (gets a `/<lang>` twin)."""
    if not endpoint or endpoint in _MACHINE_ENDPOINTS or rule.startswith(_MACHINE_PATHS):
        return False
    blueprint = endpoint.partition(".")[0] if "." in endpoint else ""
    return blueprint not in _MACHINE_BLUEPRINTS


class LanguageFlask(Flask):
    """Flask whose page rules also answer under `/<lang>`, whenever they are added."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Install the `lang` converter before any rule is added."""
        self.language_endpoints: set[str] = set()
        super().__init__(*args, **kwargs)
        self.url_map.converters["lang"] = LanguageConverter

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Add the rule, and its `/<lang>` twin when it is a page."""
        if endpoint is None and view_func is not None:
            endpoint = view_func.__name__
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)
        if rule.startswith("/") and is_page_rule(rule, endpoint):
            self.language_endpoints.add(str(endpoint))
            twin = "/<lang:lang>" + rule
            super().add_url_rule(twin, endpoint, view_func, provide_automatic_options, **options)


def current_language() -> str:
    """The language of this request: its URL prefix, else English."""
    lang = g.get("lang") if has_app_context() else None
    if lang is None and has_request_context() and request.view_args:
        lang = request.view_args.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def select_locale() -> str:
    """Flask-Babel's locale selector: the URL decides, never the Accept-Language header."""
    return current_language()


def pull_language(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Take `lang` out of the URL values, so views never receive it."""
    if values is not None and "lang" in values:
        g.lang = values.pop("lang")


def push_language(endpoint: str, values: dict[str, Any]) -> None:
    """Give `url_for` the current language of page endpoints; `lang="en"` means no prefix."""
    if endpoint not in current_app.language_endpoints:  # type: ignore[attr-defined]
        return
    lang = values.get("lang") or (g.get("lang") if has_app_context() else None) or DEFAULT
    if lang == DEFAULT:
        values.pop("lang", None)
    else:
        values["lang"] = lang


def tag(lang: str | None = None) -> str:
    """The BCP 47 tag of a language (`zh-Hans` for Chinese)."""
    lang = lang or current_language()
    return TAGS.get(lang, lang)


def direction(lang: str | None = None) -> str:
    """`rtl` for right-to-left languages, else `ltr`."""
    return "rtl" if (lang or current_language()) in RTL else "ltr"


@cache
def native_name(lang: str) -> str:
    """A language's name in itself, capitalized as a menu label: `Español`, `Русский`."""
    name = Locale.parse(lang).display_name or lang
    return name[:1].upper() + name[1:]


def page_url(lang: str, absolute: bool = True) -> str:
    """This page (query-less) in another language; the home page when there is no page."""
    endpoint = request.endpoint
    values: dict[str, Any] = dict(request.view_args or {})
    if endpoint not in current_app.language_endpoints:  # type: ignore[attr-defined]
        endpoint, values = "numbers.home", {}
    path = url_for(endpoint, **{**values, "lang": lang})
    return current_app.config["SITE_URL"] + path if absolute else path


def languages() -> list[dict[str, Any]]:
    """The switcher's entries: code, BCP 47 tag, native name, this page's URL in it.

    `url` keeps the query (a search stays the same search); `absolute` (hreflang) does not.
    """
    if "languages" not in g:
        site = current_app.config["SITE_URL"]
        query = request.query_string.decode("latin-1")
        g.languages = [
            {"code": code, "tag": tag(code), "name": native_name(code),
             "url": path + ("?" + query if query else ""), "absolute": site + path,
             "current": code == current_language()}
            for code in LANGUAGES
            for path in (page_url(code, absolute=False),)
        ]
    return g.languages


def alternate_urls(endpoint: str, **values: Any) -> list[tuple[str, str]]:
    """A page's absolute URL in every language, English first: `[(hreflang, url), …]`."""
    site = current_app.config["SITE_URL"]
    return [(tag(code), site + url_for(endpoint, **values, lang=code)) for code in LANGUAGES]


def current_language_name() -> str:
    """The current language's own name, for the switcher's label."""
    return native_name(current_language())


def content_language(response: Response) -> Response:
    """Content-Language on HTML answers."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", tag())
    return response


def locale_code() -> str:
    """The Babel locale identifier of this request (`en`, `es`, …)."""
    return str(get_locale() or DEFAULT)


def register(app: Flask) -> None:
    """Bind Flask-Babel and the URL language hooks; template globals for the layout."""
    from .extensions import babel

    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale)
    app.url_value_preprocessor(pull_language)
    app.url_defaults(push_language)
    app.after_request(content_language)
    app.jinja_env.globals.update(
        current_language=current_language,
        html_lang=tag,
        html_dir=direction,
        og_locale=lambda: OG_LOCALES[current_language()],
        languages=languages,
        current_language_name=current_language_name,
        alternate_urls=alternate_urls,
        language_url=page_url,
    )
