"""Languages: English at `/`, seven more under `/<lang>/…`, their catalogs and CLDR data."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

from tests.test_pages import DE, US, html, provision, retire, send_sms
from webapp import i18n

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
GB = "+447400123456"
SITE = "https://sms.example.com"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


@pytest.fixture
def frozen_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages render at one fixed moment, so ETags cannot roll over to the next minute mid-test."""
    from webapp.numbers import helpers
    from webapp.timeutil import utcnow

    moment = utcnow()
    monkeypatch.setattr(helpers, "utcnow", lambda: moment)


@pytest.fixture
def site(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Build an app that accepts unsigned generic webhooks, with extra overrides."""

    def build(**overrides: Any) -> Flask:
        return make_app({"WEBHOOK_ALLOW_UNSIGNED": True, **overrides})

    return build


def html_tag(page: str) -> str:
    """The opening `<html …>` tag of a page."""
    match = re.search(r"<html[^>]*>", page)
    assert match, page[:200]
    return match.group(0)


def alternates(page: str) -> dict[str, str]:
    """The page's `<link rel="alternate" hreflang>` map."""
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))


def switcher(page: str) -> dict[str, str]:
    """The language switcher's links: BCP 47 tag to href."""
    menu = page.split('class="lang-menu"')[1].split("</details>")[0]
    return {tag: href for href, tag in re.findall(r'<a href="([^"]+)" hreflang="([^"]+)"', menu)}


# Routing


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_language_has_a_home_page(site: Callable[..., Flask], lang: str) -> None:
    client = site().test_client()

    response = client.get("/" if lang == "en" else f"/{lang}/")

    assert response.status_code == 200
    tag = i18n.tag(lang)
    assert html_tag(html(response)) == (
        f'<html lang="{tag}" dir="{"rtl" if lang == "ar" else "ltr"}">'
    )
    assert response.headers["Content-Language"] == tag


@pytest.mark.parametrize("path", ["/xx/", "/en/", "/es/nothing", "/ES/", "/xx/country/gb"])
def test_unknown_language_prefix_is_404(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/es/sitemap.xml", "/es/robots.txt", "/es/ads.txt", "/es/healthz", "/es/api/v1/countries"],
)
def test_machine_routes_have_no_language_prefix(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


def test_spanish_pages_link_in_spanish(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, GB)
    client = app.test_client()

    home = html(client.get("/es/"))
    country = html(client.get("/es/country/gb"))

    assert 'href="/es/country/gb"' in home and 'href="/es/number/447400123456"' in home
    assert 'href="/es/number/447400123456"' in country
    assert 'href="/es/"' in country  # the breadcrumb and the brand
    assert 'href="/sitemap.xml"' in country  # crawler files stay unprefixed
    assert "/static/site.css" in country


def test_redirects_keep_the_language(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()

    number = client.get("/es/number/+44%207400%20123456")
    country = client.get("/ru/country/GB")

    assert number.status_code == 301
    assert number.headers["Location"] == "/es/number/447400123456"
    assert country.status_code == 301 and country.headers["Location"] == "/ru/country/gb"


def test_error_pages_are_in_the_page_language(site: Callable[..., Flask]) -> None:
    client = site().test_client()

    response = client.get("/de/number/447400999999")

    assert response.status_code == 404
    page = html(response)
    assert 'lang="de"' in page
    assert "Diese Nummer haben wir nicht." in page
    assert "Nicht gefunden" in page


# Translated text and CLDR data


def test_spanish_home_is_in_spanish(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, GB)

    page = html(app.test_client().get("/es/"))

    assert "Recibe SMS online, gratis" in page
    assert "Cómo funciona" in page
    assert "<strong>2</strong> números" in page
    assert "Receive SMS online, free" not in page


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", "United Kingdom"),
        ("/ru/", "Великобритания"),
        ("/de/", "Vereinigtes Königreich"),
        ("/es/", "Reino Unido"),
        ("/fr/", "Royaume-Uni"),
        ("/pt/", "Reino Unido"),
        ("/zh/", "英国"),
        ("/ar/", "المملكة المتحدة"),
    ],
)
def test_country_names_come_from_cldr(site: Callable[..., Flask], path: str, name: str) -> None:
    app = site()
    provision(app, GB)

    page = html(app.test_client().get(path))

    assert f'<span class="country-card__name">{name}</span>' in page


def test_country_page_title_uses_the_localized_name(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, DE)

    page = html(app.test_client().get("/ru/country/de"))

    assert "Германия" in page and "Germany" not in page


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "5 minutes ago"),
        ("ru", "5 минут назад"),
        ("es", "hace 5 minutos"),
        ("de", "vor 5 Minuten"),
        ("fr", "il y a 5 minutes"),
        ("pt", "há 5 minutos"),
        ("zh", "5分钟前"),
        ("ar", "قبل 5 دقائق"),
    ],
)
def test_time_ago_is_localized(
    site: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, lang: str, text: str
) -> None:
    from webapp.numbers import helpers
    from webapp.timeutil import utcnow

    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "Your code is 123456", to=US)
    later = utcnow() + timedelta(minutes=5, seconds=10)
    monkeypatch.setattr(helpers, "utcnow", lambda: later)

    prefix = "" if lang == "en" else f"/{lang}"
    page = html(client.get(f"{prefix}/number/14155552671"))

    assert text in page


def test_just_now_and_exact_times_are_localized(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "hello", to=US)

    page = html(client.get("/ru/number/14155552671"))

    assert "только что" in page
    title = re.search(r'<time class="message__time"[^>]*title="([^"]+)"', page)
    assert title and title.group(1).endswith(" UTC")
    assert re.search(r"\d{1,2} [а-я]+\.? \d{4}", title.group(1)), title.group(1)


def test_arabic_pages_are_right_to_left(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)

    page = html(app.test_client().get("/ar/number/447400123456"))

    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "المملكة المتحدة" in page
    assert "+44 7400 123456" in page  # phone numbers stay as they are


# Links between languages


def test_hreflang_alternates_and_canonical_are_absolute(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)

    page = html(app.test_client().get("/fr/number/447400123456?before=99"))

    links = alternates(page)
    assert links == {
        **{i18n.tag(code): f"{SITE}/{code}/number/447400123456" for code in i18n.PREFIXED},
        "en": f"{SITE}/number/447400123456",
        "x-default": f"{SITE}/number/447400123456",
    }
    assert f'<link rel="canonical" href="{SITE}/fr/number/447400123456">' in page


def test_canonical_of_each_language_is_its_own(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()

    assert f'<link rel="canonical" href="{SITE}/">' in html(client.get("/"))
    assert f'<link rel="canonical" href="{SITE}/zh/">' in html(client.get("/zh/"))
    arabic = html(client.get("/ar/country/gb"))
    assert f'<link rel="canonical" href="{SITE}/ar/country/gb">' in arabic


def test_switcher_links_to_the_same_page_in_every_language(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)

    page = html(app.test_client().get("/de/country/gb"))

    links = switcher(page)
    assert links == {
        "en": "/country/gb",
        **{i18n.tag(code): f"/{code}/country/gb" for code in i18n.PREFIXED},
    }
    menu = page.split('class="lang-menu"')[1].split("</details>")[0]
    for name in ("English", "Español", "Русский", "中文", "Português", "Français", "العربية"):
        assert f">{name}</a>" in menu
    assert 'aria-current="true">Deutsch</a>' in menu


def test_sitemap_lists_every_page_in_every_language(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB, US, "+14155552672")
    retire(app, "+14155552672")
    client = app.test_client()
    send_sms(client, "G-123456 is your Google verification code.", to=US, sender="Google")

    xml = html(client.get("/sitemap.xml"))

    locs = re.findall(r"<loc>([^<]+)</loc>", xml)
    paths = ["/", "/country/gb", "/country/us", "/number/447400123456", "/number/14155552671",
             "/services", "/service/google"]
    expected = {SITE + path for path in paths}
    expected |= {f"{SITE}/{code}{path}" for code in i18n.PREFIXED for path in paths}
    assert set(locs) == expected and len(locs) == len(expected)
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in xml
    assert f'<xhtml:link rel="alternate" hreflang="ar" href="{SITE}/ar/country/gb"/>' in xml
    assert "14155552672" not in xml


# Caching


def test_etags_differ_between_languages(
    site: Callable[..., Flask], frozen_minute: None
) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()

    for path in ("/", "/country/gb", "/number/447400123456"):
        english = client.get(path)
        spanish = client.get("/es" + path)
        assert english.headers["ETag"] != spanish.headers["ETag"], path
        again = client.get("/es" + path, headers={"If-None-Match": spanish.headers["ETag"]})
        assert again.status_code == 304
        other = client.get("/es" + path, headers={"If-None-Match": english.headers["ETag"]})
        assert other.status_code == 200
        assert spanish.headers["Content-Language"] == "es"


def test_feed_country_names_stay_english(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)

    body = app.test_client().get("/api/v1/countries").get_json()

    assert "United Kingdom" in str(body)


# Catalogs


def catalog(lang: str) -> Any:
    """The .po catalog of one language."""
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def source_messages() -> set[str]:
    """Every msgid in the code and templates now (singular ids), as `pybabel extract` sees them."""
    method_map = [("webapp/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_source_string_is_in_the_catalog() -> None:
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}

    missing = source_messages() - template

    assert not missing, f"run scripts/i18n and translate: {sorted(missing)}"


@pytest.mark.parametrize("lang", i18n.PREFIXED)
def test_every_string_is_translated(lang: str) -> None:
    cat = catalog(lang)
    wanted = source_messages()

    untranslated = []
    for message in cat:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if msgid in wanted and (message.fuzzy or not all(strings)):
            untranslated.append(msgid)
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}

    assert not untranslated and wanted <= have, sorted(untranslated + sorted(wanted - have))


@pytest.mark.parametrize("lang", i18n.PREFIXED)
def test_translations_keep_placeholders_and_markup(lang: str) -> None:
    for message in catalog(lang):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) - {"%(num)d"}
        tags = sorted(re.findall(r"</?[a-z]+>", ids[0]))
        for string in filter(None, strings):
            assert wanted <= set(PLACEHOLDER.findall(string)), (lang, ids[0], string)
            assert sorted(re.findall(r"</?[a-z]+>", string)) == tags, (lang, ids[0], string)
            string % {"num": 3, "number": "x", "country": "x", "when": "x", "code": "x",
                      "query": "x", "service": "x", "sender": "x", "text": "x", "days": 3,
                      "ratio": 50}


@pytest.mark.parametrize("lang", i18n.PREFIXED)
def test_compiled_catalogs_match_their_po_files(lang: str) -> None:
    po = catalog(lang)
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        mo = read_mo(fh)

    def translated(cat: Any) -> dict[Any, Any]:
        """Translated entries, plural ids and strings as tuples."""
        rows = {}
        for m in cat:
            key = m.id if isinstance(m.id, str) else tuple(m.id)
            value = m.string if isinstance(m.string, str) else tuple(m.string)
            done = all(value) if isinstance(value, tuple) else bool(value)
            if key and done and not m.fuzzy:
                rows[key] = value
        return rows

    def fallback(key: Any, value: Any) -> bool:
        """An untranslated plural compiled as its English forms."""
        return isinstance(key, tuple) and set(value) <= set(key)

    written, compiled = translated(po), translated(mo)
    assert {key: compiled.get(key) for key in written} == written, "run scripts/i18n compile"
    stale = [key for key, value in compiled.items() if key not in written]
    assert all(fallback(key, compiled[key]) for key in stale), "run scripts/i18n compile"
