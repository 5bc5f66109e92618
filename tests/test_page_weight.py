"""A number page with 50 realistic messages stays light: HTML + CSS + JS, before ads.

What a first visit downloads is the page and the stylesheets and scripts it links (flags
are a few hundred bytes of SVG each, cached for a week, and not counted). The stylesheets and
scripts alone are ~43 KB uncompressed, so 50 messages cannot fit 50 KB uncompressed; the
issue's 50 KB budget is held on the wire, compressed with gzip as nginx sends it (measured:
~105 KB uncompressed, ~19 KB gzip). The uncompressed total has a looser guard against
regressions, and no request may go to another host.
"""

from __future__ import annotations

import gzip
import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.numbers import service

NUMBER = "+447400123457"
GZIP_BUDGET = 50_000
UNCOMPRESSED_GUARD = 120_000
SAMPLES = [
    ("Google", "G-{code} is your Google verification code."),
    ("Telegram", "Telegram code: {code}\n\nDo not give this code to anyone, even if they say "
                 "they are from Telegram!"),
    ("WhatsApp", "Your WhatsApp code: {code}\nYou can also tap on this link to verify your "
                 "phone: v.whatsapp.com/{code}\nDon't share this code with others"),
    ("Amazon", "Your Amazon OTP is {code}. Do not share it with anyone. "
               "https://www.amazon.com/a/c/r/XyZ"),
    ("+4915123450000", "Ihr Bestätigungscode lautet {code}. Er ist 10 Minuten gültig."),
    ("Microsoft", "Use {code} as Microsoft account security code"),
    ("+971501234567", "رمز التحقق الخاص بك هو {code}. لا تشاركه مع أحد."),
    ("TikTok", "[TikTok] {code} is your verification code, valid for 5 minutes. To keep your "
               "account safe, never forward this code."),
    ("+12025550143", "Hey, running 10 min late, save me a seat!"),
    ("Uber", "Your Uber code is {code}. Never share this code. Reply STOP ENDE to unsubscribe."),
]
_ids = itertools.count(1)


def fill_inbox(client: FlaskClient, count: int) -> None:
    """Deliver `count` realistic messages through the generic webhook."""
    for index, (sender, text) in zip(range(count), itertools.cycle(SAMPLES), strict=False):
        payload = {
            "type": "sms.received",
            "timestamp": "2025-03-14T09:26:53Z",
            "data": {"id": f"weight-{next(_ids)}", "from": sender, "to": NUMBER,
                     "text": text.format(code=f"{482913 + index * 7919:06d}"[-6:])},
        }
        assert client.post("/webhooks/generic", json=payload).status_code < 300


def linked_assets(page: str) -> list[str]:
    """The stylesheets and scripts a page makes the browser load."""
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', page)
    return styles + scripts


@pytest.fixture
def weighed(make_app: Callable[..., Flask]) -> dict[str, Any]:
    """The number page with 50 messages and the bytes of everything it links."""
    app = make_app({"WEBHOOK_ALLOW_UNSIGNED": True})
    with app.app_context():
        service.provision(NUMBER)
    client = app.test_client()
    fill_inbox(client, 50)
    page = client.get("/number/" + NUMBER[1:]).get_data()
    assets = {url: client.get(url).get_data() for url in linked_assets(page.decode())}
    return {"page": page, "assets": assets}


def test_the_page_shows_fifty_messages(weighed: dict[str, Any]) -> None:
    assert weighed["page"].count(b'<article class="message"') == 50


def test_page_css_and_js_weigh_under_50_kb_gzipped(weighed: dict[str, Any]) -> None:
    parts = {"html": weighed["page"], **weighed["assets"]}
    sizes = {name: len(body) for name, body in parts.items()}
    gzipped = {name: len(gzip.compress(body, 6)) for name, body in parts.items()}

    print(f"\nnumber page, 50 messages: {sum(sizes.values())} B, gzip {sum(gzipped.values())} B")
    for name in parts:
        print(f"  {name.split('?')[0]}: {sizes[name]} B, gzip {gzipped[name]} B")
    assert any(".css" in name for name in parts) and any(".js" in name for name in parts)
    assert sum(gzipped.values()) < GZIP_BUDGET, gzipped
    assert sum(sizes.values()) < UNCOMPRESSED_GUARD, sizes


def test_nothing_is_requested_from_another_host(weighed: dict[str, Any]) -> None:
    page = weighed["page"].decode()
    loaded = re.findall(r'<(?:script|img|iframe)[^>]* src="([^"]+)"', page)
    loaded += re.findall(r'<link rel="(?:stylesheet|icon|preload|modulepreload)" href="([^"]+)"',
                         page)
    css = b"".join(body for url, body in weighed["assets"].items() if ".css" in url).decode()

    assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded)
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)
