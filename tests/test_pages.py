"""The people-facing pages, crawler files and health check, driven through the test client.

Messages are created through the real webhook path (`/webhooks/generic`, unsigned), so the
pages show exactly what ingest stored.
"""

from __future__ import annotations

import itertools
import pathlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp import create_app
from webapp.extensions import db
from webapp.numbers import service

US = "+14155552671"
US_2 = "+14155552672"
US_3 = "+14155552673"
DE = "+4915123456789"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"
_ids = itertools.count(1)


@pytest.fixture
def site(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Build an app that accepts unsigned generic webhooks, with extra overrides."""

    def build(**overrides: Any) -> Flask:
        return make_app({"WEBHOOK_ALLOW_UNSIGNED": True, **overrides})

    return build


@pytest.fixture
def frozen_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages render at one fixed moment, so ETags cannot roll over to the next minute mid-test."""
    from webapp.numbers import helpers
    from webapp.timeutil import utcnow

    moment = utcnow()
    monkeypatch.setattr(helpers, "utcnow", lambda: moment)


def provision(app: Flask, *numbers: str) -> None:
    """Provision numbers through the provisioning service."""
    with app.app_context():
        for number in numbers:
            service.provision(number)


def retire(app: Flask, number: str) -> None:
    """Retire a number through the provisioning service."""
    with app.app_context():
        service.retire(number)


def send_sms(client: FlaskClient, text: str, to: str = US, sender: str = "+447400123456") -> None:
    """Deliver one SMS through the generic webhook, as a gateway would."""
    payload = {
        "type": "sms.received",
        "timestamp": "2025-03-14T09:26:53Z",
        "data": {"id": f"page-test-{next(_ids)}", "from": sender, "to": to, "text": text},
    }
    response = client.post("/webhooks/generic", json=payload)
    assert response.status_code < 300, response.get_data(as_text=True)


def html(response: Any) -> str:
    """The body of a response as text."""
    return response.get_data(as_text=True)


def messages_in(page: str) -> list[str]:
    """The message bodies of a number page, in page order."""
    return re.findall(r'<div class="message__body[^"]*" dir="auto"[^>]*>(.*?)</div>', page, re.S)


def number_row(page: str, formatted: str) -> str:
    """The country-page row of one number."""
    rows = page.split('class="number-row"')[1:]
    return next(row for row in rows if formatted in row)


# Home


def test_home_lists_countries_with_counts_and_hides_retired(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, US_2, US_3, DE)
    retire(app, US_3)
    client = app.test_client()
    send_sms(client, "hello", to=DE)

    page = html(client.get("/"))

    assert "United States" in page and "Germany" in page
    us_card = page.split('href="/country/us"')[1].split("</a>")[0]
    assert "2 numbers" in us_card
    de_card = page.split('href="/country/de"')[1].split("</a>")[0]
    assert "1 number" in de_card and "just now" in de_card
    assert '<img class="flag country-card__flag" src="/static/flags/us.svg"' in page  # the US flag
    assert "/number/14155552671" in page and "/number/14155552673" not in page


def test_home_hides_a_country_whose_numbers_are_all_retired(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, DE)
    retire(app, DE)

    page = html(app.test_client().get("/"))

    assert "/country/us" in page and "/country/de" not in page


def test_home_without_numbers_says_so(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "No numbers are online right now" in html(response)


# Country


def test_country_page_lists_numbers_with_24h_counts(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, US_2, US_3, DE)
    retire(app, US_3)
    client = app.test_client()
    for text in ("one", "two", "three"):
        send_sms(client, text, to=US)

    response = client.get("/country/us")
    page = html(response)

    assert response.status_code == 200
    assert "United States phone numbers" in page
    assert "<strong>3</strong> messages" in number_row(page, "+1 415-555-2671")
    assert "just now" in number_row(page, "+1 415-555-2671")
    assert "<strong>0</strong> messages" in number_row(page, "+1 415-555-2672")
    assert "no messages yet" in number_row(page, "+1 415-555-2672")
    assert "+1 415-555-2673" not in page
    assert "+49" not in page


@pytest.mark.parametrize("path", ["/country/US", "/country/Us", "/country/uS"])
def test_country_other_casing_redirects_to_lower_case(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 301
    assert response.headers["Location"] == "/country/us"


@pytest.mark.parametrize("path", ["/country/zz", "/country/xx", "/country/usa", "/country/1a"])
def test_unknown_country_is_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert "text/html" in response.content_type


def test_country_without_active_numbers_is_404_and_points_elsewhere(
    site: Callable[..., Flask],
) -> None:
    app = site()
    provision(app, US, DE)
    retire(app, DE)

    response = app.test_client().get("/country/de")

    assert response.status_code == 404
    assert 'href="/country/us"' in html(response)


# Number


def test_number_page_shows_messages_newest_first(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    for text in ("first", "second", "third"):
        send_sms(client, text)

    response = client.get("/number/14155552671")
    page = html(response)

    assert response.status_code == 200
    assert messages_in(page) == ["third", "second", "first"]
    assert "+1 415-555-2671" in page
    assert 'data-copy="+14155552671"' in page
    assert '<bdi class="sender">+44 7400 123456</bdi>' in page


def test_message_shows_time_ago_and_exact_time(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "hello")

    page = html(client.get("/number/14155552671"))

    match = re.search(r'<time class="message__time" datetime="([^"]+)"[^>]*>([^<]+)</time>', page)
    assert match is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", match.group(1))
    assert match.group(2) == "just now"


def test_message_time_ago_uses_babel_wording(site: Callable[..., Flask]) -> None:
    from datetime import timedelta

    from webapp.models import Message
    from webapp.timeutil import utcnow

    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "hello")
    with app.app_context():
        db.session.execute(
            db.update(Message).values(received_at=utcnow() - timedelta(minutes=5, seconds=10))
        )
        db.session.commit()

    page = html(client.get("/number/14155552671"))

    assert ">5 minutes ago</time>" in page


def test_detected_code_is_highlighted_and_shown_with_a_copy_button(
    site: Callable[..., Flask],
) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "Your verification code is 482913. Do not share it.")

    page = html(client.get("/number/14155552671"))

    assert '<mark class="otp">482913</mark>' in page
    assert '<code class="otp-box__code">482913</code>' in page
    assert 'data-copy="482913"' in page


def test_number_page_pages_older_messages_by_cursor(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    for n in range(60):
        send_sms(client, f"message {n}")

    first = html(client.get("/number/14155552671"))
    older = re.search(r'rel="next" href="(/number/14155552671\?before=\d+)"', first)
    assert older is not None and "Older messages" in first
    second_response = client.get(older.group(1))
    second = html(second_response)

    assert messages_in(first) == [f"message {n}" for n in range(59, 9, -1)]
    assert second_response.status_code == 200
    assert messages_in(second) == [f"message {n}" for n in range(9, -1, -1)]
    assert 'rel="next"' not in second
    assert 'content="noindex, follow"' in second
    assert '<link rel="canonical" href="https://sms.example.com/number/14155552671">' in second


def test_number_page_without_messages_says_so(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)

    response = app.test_client().get("/number/14155552671")

    assert response.status_code == 200
    assert "No messages yet." in html(response)


@pytest.mark.parametrize(
    "path",
    [
        "/number/+1%20415%20555%202671",
        "/number/+14155552671",
        "/number/0014155552671",
        "/number/1%20(415)%20555-2671",
    ],
)
def test_number_any_spelling_redirects_to_canonical(site: Callable[..., Flask], path: str) -> None:
    app = site()
    provision(app, US)

    response = app.test_client().get(path)

    assert response.status_code == 301
    assert response.headers["Location"] == "/number/14155552671"


def test_number_spellings_of_the_spec_redirect(client: FlaskClient) -> None:
    for path in ("/number/+44%207911%20123456", "/number/00447911123456"):
        response = client.get(path)

        assert response.status_code == 301
        assert response.headers["Location"] == "/number/447911123456"


def test_number_redirect_keeps_the_cursor(client: FlaskClient) -> None:
    response = client.get("/number/+14155552671?before=42")

    assert response.status_code == 301
    assert response.headers["Location"] == "/number/14155552671?before=42"


@pytest.mark.parametrize("path", ["/number/14155552699", "/number/123", "/number/hello"])
def test_unknown_or_invalid_number_is_404(site: Callable[..., Flask], path: str) -> None:
    app = site()
    provision(app, US)

    response = app.test_client().get(path)

    assert response.status_code == 404
    assert "We could not find that page" in html(response)


def test_bad_cursor_is_400(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)

    response = app.test_client().get("/number/14155552671?before=abc")

    assert response.status_code == 400
    assert "before" in html(response)


def test_retired_number_is_410_and_links_to_other_numbers(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, US_2, DE)
    client = app.test_client()
    send_sms(client, "secret of the past", to=US)
    retire(app, US)

    response = client.get("/number/14155552671")
    page = html(response)

    assert response.status_code == 410
    assert 'href="/number/14155552672"' in page
    assert "/number/4915123456789" not in page
    assert "secret of the past" not in page


def test_more_numbers_from_the_country(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, US_2, DE)

    page = html(app.test_client().get("/number/14155552671"))

    more = page.split("More numbers from United States")[1]
    assert 'href="/number/14155552672"' in more
    assert 'href="/number/14155552671"' not in more
    assert "/number/4915123456789" not in more


# Caching


@pytest.mark.usefixtures("frozen_minute")
def test_number_page_etag_answers_304_and_changes_after_a_new_message(
    site: Callable[..., Flask],
) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "first")

    first = client.get("/number/14155552671")
    etag = first.headers["ETag"]
    again = client.get("/number/14155552671", headers={"If-None-Match": etag})
    send_sms(client, "second")
    after = client.get("/number/14155552671", headers={"If-None-Match": etag})

    assert first.status_code == 200
    assert "public" in first.headers["Cache-Control"] and "max-age=30" in first.headers[
        "Cache-Control"
    ]
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.data
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert messages_in(html(after))[0] == "second"


@pytest.mark.usefixtures("frozen_minute")
def test_etag_differs_between_pages_of_one_number(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()

    newest = client.get("/number/14155552671").headers["ETag"]
    older = client.get("/number/14155552671?before=5").headers["ETag"]

    assert newest != older


@pytest.mark.usefixtures("frozen_minute")
@pytest.mark.parametrize("path", ["/", "/country/us", "/sitemap.xml", "/robots.txt", "/ads.txt"])
def test_other_pages_answer_304_to_their_etag(site: Callable[..., Flask], path: str) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()

    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200
    assert again.status_code == 304


@pytest.mark.usefixtures("frozen_minute")
def test_home_etag_changes_when_a_number_is_retired(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, DE)
    client = app.test_client()

    etag = client.get("/").headers["ETag"]
    retire(app, DE)

    assert client.get("/", headers={"If-None-Match": etag}).status_code == 200


# Ads


def test_ad_slots_above_between_and_below_messages(site: Callable[..., Flask]) -> None:
    app = site(AD_EVERY=5)
    provision(app, US)
    client = app.test_client()
    for n in range(12):
        send_sms(client, f"message {n}")

    page = html(client.get("/number/14155552671"))

    positions = re.findall(r'data-ad-position="([^"]+)"', page)
    assert positions == ["top", "after-5", "after-10", "bottom"]
    assert page.count('class="ad ad--placeholder"') == 4
    assert page.count(">Advertisement</span>") == 4
    before_second_ad = page.split('data-ad-position="after-5"')[0]
    assert len(messages_in(before_second_ad)) == 5


def test_no_ad_slot_right_before_the_bottom_slot(site: Callable[..., Flask]) -> None:
    app = site(AD_EVERY=5)
    provision(app, US)
    client = app.test_client()
    for n in range(10):
        send_sms(client, f"message {n}")

    page = html(client.get("/number/14155552671"))

    assert re.findall(r'data-ad-position="([^"]+)"', page) == ["top", "after-5", "bottom"]


def test_operator_ad_markup_is_rendered_and_csp_relaxed(site: Callable[..., Flask]) -> None:
    markup = '<div class="partner-ad"><a href="https://ads.example.net/">Partner</a></div>'
    app = site(AD_SLOT_HTML=markup)
    provision(app, US)

    response = app.test_client().get("/number/14155552671")
    page = html(response)

    assert page.count(markup) == 2
    assert "ad--placeholder" not in page
    assert "googlesyndication" in response.headers["Content-Security-Policy"]


def test_ad_client_renders_adsense_slots(site: Callable[..., Flask]) -> None:
    app = site(AD_CLIENT="ca-pub-1234567890123456")
    provision(app, US)

    page = html(app.test_client().get("/number/14155552671"))

    assert page.count('data-ad-client="ca-pub-1234567890123456"') == 2
    assert "adsbygoogle.js?client=ca-pub-1234567890123456" in page


# Crawler files


def test_sitemap_lists_home_countries_and_active_numbers_only(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US, US_2, DE)
    retire(app, US_2)

    response = app.test_client().get("/sitemap.xml")
    # Every page is listed once per language; the English ones have no prefix.
    all_locs = re.findall(r"<loc>([^<]+)</loc>", html(response))
    locs = [loc for loc in all_locs if not re.match(r"https://sms.example.com/[a-z]{2}/", loc)]

    assert response.mimetype == "application/xml"
    assert locs[0] == "https://sms.example.com/"
    assert sorted(locs[1:]) == [
        "https://sms.example.com/country/de",
        "https://sms.example.com/country/us",
        "https://sms.example.com/number/14155552671",
        "https://sms.example.com/number/4915123456789",
        "https://sms.example.com/services",
    ]
    assert "14155552672" not in html(response)


def test_robots_allows_all_but_api_and_webhooks(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    lines = html(response).splitlines()

    assert response.mimetype == "text/plain"
    assert "User-agent: *" in lines and "Allow: /" in lines
    assert "Disallow: /api/" in lines and "Disallow: /webhooks/" in lines
    assert "Sitemap: https://sms.example.com/sitemap.xml" in lines


def test_ads_txt_names_the_publisher(make_app: Callable[..., Flask]) -> None:
    for client_id in ("ca-pub-1234567890123456", "pub-1234567890123456"):
        response = make_app({"AD_CLIENT": client_id}).test_client().get("/ads.txt")

        assert response.mimetype == "text/plain"
        assert html(response) == "google.com, pub-1234567890123456, DIRECT, f08c47fec0942fa0\n"


def test_ads_txt_without_ad_client_is_a_comment(client: FlaskClient) -> None:
    response = client.get("/ads.txt")

    assert response.status_code == 200
    assert html(response).startswith("#")
    assert "google.com" not in html(response)


# Health


def test_healthz_ok_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert body["redis"] in ("ok", "not configured")
    assert "no-store" in response.headers["Cache-Control"]


def test_healthz_503_when_the_database_is_unreachable(
    base_config: dict[str, Any], tmp_path: pathlib.Path
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite3"
    app = create_app({**base_config, "DATABASE_URL": f"sqlite:///{missing}"})

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.is_json and response.get_json()["status"] != "ok"
    assert "no-store" in response.headers["Cache-Control"]
    with app.app_context():
        db.engine.dispose()


# Security


HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "javascript:window.__pwned=1",
    '<a href="javascript:window.__pwned=1">click</a>',
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
]


def test_hostile_message_bodies_render_escaped(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    for text in HOSTILE:
        send_sms(client, text)

    page = html(client.get("/number/14155552671"))

    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page
    # ours: theme.js, site.js and the JSON-LD breadcrumbs (data, never run)
    assert re.findall(r"<script[^>]*>", page) == [
        re.search(r'<script src="/static/theme\.js\?v=\w+">', page).group(0),
        re.search(r'<script src="/static/site\.js\?v=\w+" defer>', page).group(0),
        '<script type="application/ld+json">',
    ]
    assert all(tag.startswith('<img class="flag ') for tag in re.findall(r"<img[^>]*>", page))
    assert not re.search(r"href=\"\s*(javascript|data):", page, re.I)
    assert not re.search(r"\son\w+=", page.replace("&lt;img src=x onerror=", ""))


def test_hostile_sender_is_escaped_and_isolated(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "hi", sender="<b>Bank</b>")

    page = html(client.get("/number/14155552671"))

    assert '<bdi class="sender">&lt;b&gt;Bank&lt;/b&gt;</bdi>' in page


def test_direction_override_is_shown_not_applied(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "\u202eevil\u202c")

    page = html(client.get("/number/14155552671"))

    assert "\u202e" not in page and "\u202c" not in page


@pytest.mark.parametrize("path", ["/", "/country/us", "/number/14155552671", "/nowhere"])
def test_pages_send_security_headers(site: Callable[..., Flask], path: str) -> None:
    app = site()
    provision(app, US)

    response = app.test_client().get(path)

    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_templates_never_use_the_safe_filter() -> None:
    for template in TEMPLATES.rglob("*"):
        if template.is_file():
            text = template.read_text(encoding="utf-8")
            assert not re.search(r"\|\s*safe\b", text), template
            assert "autoescape false" not in text, template


def test_templates_have_no_inline_scripts_or_styles(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    send_sms(client, "Your code is 1234")

    for path in ("/", "/country/us", "/number/14155552671", "/nowhere"):
        page = html(client.get(path))
        assert "<style" not in page and " style=" not in page, path
        ours = [
            re.search(r'<script src="/static/theme\.js\?v=\w+">', page).group(0),
            re.search(r'<script src="/static/site\.js\?v=\w+" defer>', page).group(0),
        ]
        crumbs = path in ("/country/us", "/number/14155552671")
        data = ['<script type="application/ld+json">'] if crumbs else []
        assert re.findall(r"<script[^>]*>", page) == ours + data, path


# Page meta


def test_pages_carry_title_description_canonical_and_language(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    client = app.test_client()
    expected = {
        "/": "https://sms.example.com/",
        "/country/us": "https://sms.example.com/country/us",
        "/number/14155552671": "https://sms.example.com/number/14155552671",
    }

    for path, canonical in expected.items():
        page = html(client.get(path))
        assert page.startswith("<!doctype html>\n<html lang=\"en\" dir=\"ltr\">"), path
        assert re.search(r"<title>[^<]{10,}</title>", page), path
        assert re.search(r'<meta name="description" content="[^"]{30,}">', page), path
        assert f'<link rel="canonical" href="{canonical}">' in page, path
