"""Service chips and votes in a real browser: Debian's Chromium driven by Playwright.

The app runs on a live server in a background thread (as in tests/test_browser.py); messages
arrive through the real webhook path. Each test votes on a number of its own.
"""

from __future__ import annotations

import itertools
import pathlib
import shutil
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db
from webapp.numbers import service

playwright_sync = pytest.importorskip("playwright.sync_api")
werkzeug_serving = pytest.importorskip("werkzeug.serving")

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# One number per test, so that votes of one test never show in another.
NUMBERS = {
    "click": "+447400123461",
    "change": "+447400123462",
    "keyboard": "+447400123463",
    "chip": "+447400123464",
}
QUIET = "+447400123465"
_ids = itertools.count(1)


def send_sms(client: Any, body: str, to: str, sender: str) -> None:
    """Deliver one SMS through the generic webhook, as a gateway would."""
    payload = {
        "type": "sms.received",
        "timestamp": "2025-03-14T09:26:53Z",
        "data": {"id": f"browser-svc-{next(_ids)}", "from": sender, "to": to, "text": body},
    }
    response = client.post("/webhooks/generic", json=payload)
    assert response.status_code < 300, response.get_data(as_text=True)


@pytest.fixture(scope="module")
def live_app(database_url: str) -> Iterator[Flask]:
    """The app on the session's database with Telegram and Google codes; rows removed after."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SITE_URL": "https://sms.example.com",
        "SECRET_KEY": "test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": "browser-services-" + uuid.uuid4().hex,
        "WEBHOOK_ALLOW_UNSIGNED": True,
        "VOTE_RATE_LIMIT": "100/minute",
    })
    try:
        with app.app_context():
            for e164 in (*NUMBERS.values(), QUIET):
                service.provision(e164)
        client = app.test_client()
        for e164 in NUMBERS.values():
            send_sms(client, "G-482913 is your Google verification code.", e164, "Google")
            send_sms(client, "Telegram code: 58213\n\nDo not give this code to anyone!", e164,
                     "+447400000000")
        send_sms(client, "Hey, running late", QUIET, "+447400000001")
        yield app
    finally:
        with app.app_context():
            db.session.rollback()
            for table in ("votes", "messages", "message_parts", "numbers", "api_keys"):
                db.session.execute(text(f"DELETE FROM {table}"))
            db.session.commit()
            db.engine.dispose()


@pytest.fixture(scope="module")
def base_url(live_app: Flask) -> Iterator[str]:
    """A real HTTP server for the app on 127.0.0.1, in a background thread."""
    server = werkzeug_serving.make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: scripts/services installs it")
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh browser profile (its own cookies: one visitor) at phone width."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base_url)
    yield ctx
    ctx.close()


def open_page(context: Any, path: str) -> Any:
    """A new tab on `path` that records console errors (CSP violations among them)."""
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    tab.goto(path)
    return tab


def vote_item(tab: Any, slug: str) -> Any:
    """The vote panel's entry of one service."""
    return tab.locator(f'#votes li.vote[data-service="{slug}"]')


def test_clicking_worked_updates_the_ratio(context: Any) -> None:
    digits = NUMBERS["click"][1:]
    tab = open_page(context, f"/number/{digits}")
    item = vote_item(tab, "telegram")
    playwright_sync.expect(item.locator(".tally")).to_have_text("No votes yet")

    with tab.expect_navigation():
        item.get_by_role("button", name="Worked").click()

    assert tab.url.endswith(f"/number/{digits}?voted=telegram#votes")
    playwright_sync.expect(tab.locator(".votes__thanks")).to_contain_text("Telegram")
    tally = vote_item(tab, "telegram").locator(".tally")
    playwright_sync.expect(tally).to_contain_text("✓ 1 worked")
    playwright_sync.expect(tally).to_contain_text("✗ 0 didn't")
    playwright_sync.expect(tally.locator(".tally__ratio")).to_have_text("100% worked")
    playwright_sync.expect(vote_item(tab, "google").locator(".tally")).to_have_text("No votes yet")
    assert tab.console_errors == []


def test_a_second_click_changes_the_vote_and_another_visitor_adds_one(
    context: Any, browser: Any, base_url: str
) -> None:
    digits = NUMBERS["change"][1:]
    tab = open_page(context, f"/number/{digits}")
    with tab.expect_navigation():
        vote_item(tab, "telegram").get_by_role("button", name="Worked").click()
    with tab.expect_navigation():
        vote_item(tab, "telegram").get_by_role("button", name="Didn't work").click()

    tally = vote_item(tab, "telegram").locator(".tally")
    playwright_sync.expect(tally).to_contain_text("✓ 0 worked")
    playwright_sync.expect(tally).to_contain_text("✗ 1 didn't")

    other = browser.new_context(base_url=base_url)
    try:
        tab2 = open_page(other, f"/number/{digits}")
        with tab2.expect_navigation():
            vote_item(tab2, "telegram").get_by_role("button", name="Worked").click()
        tally2 = vote_item(tab2, "telegram").locator(".tally")
        playwright_sync.expect(tally2).to_contain_text("✓ 1 worked")
        playwright_sync.expect(tally2).to_contain_text("✗ 1 didn't")
        playwright_sync.expect(tally2.locator(".tally__ratio")).to_have_text("50% worked")
    finally:
        other.close()


def test_the_keyboard_reaches_the_vote_buttons_and_votes(context: Any) -> None:
    digits = NUMBERS["keyboard"][1:]
    tab = open_page(context, f"/number/{digits}")
    reached = None
    for _ in range(150):
        tab.keyboard.press("Tab")
        reached = tab.evaluate(
            "() => { const el = document.activeElement;"
            " return el && el.matches('.vote__button--yes')"
            " ? el.closest('li.vote').dataset.service : null; }"
        )
        if reached == "telegram":
            break
    assert reached == "telegram", "Tab never reached the Telegram vote button"
    visible_focus = tab.evaluate(
        "() => getComputedStyle(document.activeElement).outlineStyle !== 'none'"
    )

    with tab.expect_navigation():
        tab.keyboard.press("Enter")

    assert visible_focus
    playwright_sync.expect(vote_item(tab, "telegram").locator(".tally")).to_contain_text(
        "✓ 1 worked"
    )


def test_the_chip_shows_the_brand_colour_and_leads_to_the_service_page(context: Any) -> None:
    digits = NUMBERS["chip"][1:]
    tab = open_page(context, f"/number/{digits}")
    chip = tab.locator("article.message a.svc-telegram").first
    colour = chip.evaluate("el => getComputedStyle(el, '::before').backgroundColor")
    with tab.expect_navigation():
        chip.click()

    assert colour == "rgb(38, 165, 228)"  # Telegram's #26A5E4, from static/services.css
    assert tab.url.endswith("/service/telegram")
    playwright_sync.expect(tab.locator("h1")).to_have_text("Numbers for Telegram")
    rows = tab.locator(".service-numbers .number-row")
    assert rows.count() == len(NUMBERS)
    assert tab.locator(f'a[href^="/number/{QUIET[1:]}"]').count() == 0
    assert tab.console_errors == []


def test_a_number_without_known_services_shows_no_vote_panel(context: Any) -> None:
    tab = open_page(context, f"/number/{QUIET[1:]}")

    assert tab.locator("#votes").count() == 0
    assert tab.locator("a.svc").count() == 0
