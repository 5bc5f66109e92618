"""The pages in a real browser: Debian's Chromium driven by Playwright against a live server.

The server runs the real app in a background thread for the whole module; messages arrive
through the real webhook path. Screenshots of every page at phone and desktop widths go to
docs/screenshots/.
"""

from __future__ import annotations

import itertools
import pathlib
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db
from webapp.models import Message, Number
from webapp.numbers import service
from webapp.timeutil import utcnow

playwright_sync = pytest.importorskip("playwright.sync_api")
werkzeug_serving = pytest.importorskip("werkzeug.serving")

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "screenshots"
REL = "nofollow noopener noreferrer ugc"

HOSTILE_NUMBER = "+14155552671"
DEMO_NUMBER = "+447400123457"
OTHER_NUMBERS = ("+14155552672", "+14155552673", "+4915123456789", "+33612345678",
                 "+447400123458", "+447911123456")
RETIRED_NUMBER = "+447400123459"
LONG = "(" * 40_000
LINK = "https://example.com/?a=1&b=2"
HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "javascript:window.__pwned=1",
    '<a href="javascript:window.__pwned=1">click me</a>',
    "\u202eevil\u202c",
    LONG,
    f"Open {LINK} to continue",
]
# What a reader sees: direction overrides are shown as markers, not applied.
SHOWN = {"\u202eevil\u202c": "\u27e8RLO\u27e9evil\u27e8PDF\u27e9"}
DEMO = [
    ("Google", "G-482913 is your Google verification code."),
    ("Telegram", "Telegram code: 58213\n\nDo not give this code to anyone, even if they say "
                 "they are from Telegram!"),
    ("+4915123450000", "Ihr Bestätigungscode lautet 771204. Er ist 10 Minuten gültig."),
    ("WhatsApp", "Your WhatsApp code: 123-456\nYou can also tap on this link to verify your "
                 "phone: v.whatsapp.com/123456\nDon't share this code with others"),
    ("Uber", "Your Uber code is 4821. Never share this code. Reply STOP ENDE to unsubscribe."),
    ("Microsoft", "Use 90417 as Microsoft account security code"),
    ("+971501234567", "رمز التحقق الخاص بك هو 739201. لا تشاركه مع أحد."),
    ("Amazon", "Your Amazon OTP is 338190. Do not share it with anyone. "
               "https://www.amazon.com/a/c/r/XyZ"),
    ("TikTok", "[TikTok] 804 112 is your verification code, valid for 5 minutes. "
               "To keep your account safe, never forward this code."),
    ("+12025550143", "Hey, running 10 min late, save me a seat!"),
    ("Instagram", "Use 552 014 to verify your Instagram account."),
    ("Discord", "Your Discord security code is: 667301"),
]
_ids = itertools.count(1)


def send_sms(client: Any, body: str, to: str, sender: str = "+447400123456") -> None:
    """Deliver one SMS through the generic webhook, as a gateway would."""
    payload = {
        "type": "sms.received",
        "timestamp": "2025-03-14T09:26:53Z",
        "data": {"id": f"browser-{next(_ids)}", "from": sender, "to": to, "text": body},
    }
    response = client.post("/webhooks/generic", json=payload)
    assert response.status_code < 300, response.get_data(as_text=True)


def spread_times(app: Flask, e164: str, step: timedelta) -> None:
    """Give a number's messages realistic ages, newest first, `step` apart."""
    with app.app_context():
        number = db.session.scalar(db.select(Number).where(Number.e164 == e164))
        ids = db.session.scalars(
            db.select(Message.id).where(Message.number_id == number.id).order_by(Message.id.desc())
        ).all()
        now = utcnow()
        for age, message_id in enumerate(ids):
            db.session.execute(
                db.update(Message).where(Message.id == message_id)
                .values(received_at=now - step * (age + 1))
            )
        number.last_message_at = now - step
        db.session.commit()


def seed(app: Flask) -> None:
    """Numbers in several countries, hostile messages on one, realistic ones on another."""
    with app.app_context():
        for e164 in (HOSTILE_NUMBER, DEMO_NUMBER, *OTHER_NUMBERS, RETIRED_NUMBER):
            service.provision(e164)
        service.retire(RETIRED_NUMBER)
    client = app.test_client()
    for body in HOSTILE:
        send_sms(client, body, HOSTILE_NUMBER)
    for sender, body in reversed(DEMO):
        send_sms(client, body, DEMO_NUMBER, sender)
    for e164 in OTHER_NUMBERS[:4]:
        send_sms(client, "Your code is 246810", e164, "Facebook")
    spread_times(app, DEMO_NUMBER, timedelta(minutes=7))
    spread_times(app, OTHER_NUMBERS[2], timedelta(hours=3))


@pytest.fixture(scope="module")
def live_app(database_url: str) -> Iterator[Flask]:
    """The app on the session's database, seeded; its rows removed afterwards."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SITE_URL": "https://sms.example.com",
        "SECRET_KEY": "test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": "browser-" + uuid.uuid4().hex,
        "WEBHOOK_ALLOW_UNSIGNED": True,
    })
    try:
        seed(app)
        yield app
    finally:
        with app.app_context():
            db.session.rollback()
            for table in ("messages", "message_parts", "numbers", "api_keys"):
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
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh page at phone width that may use the clipboard; notes dialogs and requests."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    tab = context.new_page()
    tab.dialogs = []
    tab.requests = []
    tab.console_errors = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    yield tab
    context.close()


def hostile_page(page: Any) -> Any:
    """Open the number page that holds the hostile messages."""
    page.goto("/number/" + HOSTILE_NUMBER[1:])
    page.wait_for_load_state("networkidle")
    return page


def test_hostile_messages_run_no_script(page: Any) -> None:
    hostile_page(page)
    page.wait_for_timeout(300)  # let a would-be onerror fire

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []
    assert page.console_errors == []  # no CSP violation, no script error


def test_each_message_reads_as_it_was_sent(page: Any) -> None:
    hostile_page(page)

    shown = page.locator(".message__body").all_inner_texts()

    assert shown == [SHOWN.get(body, body) for body in reversed(HOSTILE)]


def test_links_are_http_and_nofollow(page: Any) -> None:
    hostile_page(page)

    links = page.locator(".message__body a")

    assert links.count() == 1
    assert links.first.get_attribute("href") == LINK
    assert links.first.get_attribute("rel") == REL
    assert links.first.inner_text() == LINK
    for handle in page.locator("a[href]").all():
        href = handle.get_attribute("href")
        assert not href.lower().lstrip().startswith(("javascript:", "data:")), href


def test_copy_button_puts_the_number_on_the_clipboard(page: Any) -> None:
    hostile_page(page)
    button = page.locator(".number-hero button[data-copy]")

    button.click()

    expect(button).to_have_text("Copied")  # set once the clipboard write resolves
    assert page.evaluate("navigator.clipboard.readText()") == HOSTILE_NUMBER


def test_copy_code_button_copies_the_code(page: Any) -> None:
    page.goto("/number/" + DEMO_NUMBER[1:])
    button = page.locator(".otp-box button[data-copy]").first

    button.click()

    assert page.evaluate("navigator.clipboard.readText()") == "482913"


def test_keyboard_tab_reaches_the_copy_button(page: Any) -> None:
    hostile_page(page)

    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.hasAttribute('data-copy')"):
            break

    assert page.evaluate("document.activeElement.getAttribute('data-copy')") == HOSTILE_NUMBER
    page.keyboard.press("Enter")
    assert page.evaluate("navigator.clipboard.readText()") == HOSTILE_NUMBER


def test_pages_work_without_javascript(browser: Any, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    tab = context.new_page()
    tab.goto("/number/" + DEMO_NUMBER[1:])

    assert tab.locator(".message").count() == len(DEMO)
    assert tab.locator("button[data-copy]").first.is_hidden()
    assert tab.locator("[data-number]").inner_text().strip() == "+44 7400 123457"
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_scrolls_sideways_or_requests_elsewhere(
    browser: Any, base_url: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base_url)
    tab = context.new_page()
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    for path in ("/", "/country/us", "/number/" + HOSTILE_NUMBER[1:], "/number/" + DEMO_NUMBER[1:]):
        tab.goto(path)
        tab.wait_for_load_state("networkidle")
        assert tab.evaluate("document.documentElement.scrollWidth") <= width, path
    context.close()

    assert requests and all(url.startswith(base_url + "/") for url in requests), requests


@pytest.mark.parametrize("width", [390, 1280])
def test_screenshots(browser: Any, base_url: str, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base_url)
    tab = context.new_page()
    # home, country and number pages, light and dark: tests/test_browser_visitor.py
    pages = {
        "hostile": "/number/" + HOSTILE_NUMBER[1:],
        "retired": "/number/" + RETIRED_NUMBER[1:],
        "not-found": "/number/14155552699",
    }
    for name, path in pages.items():
        tab.goto(path)
        tab.wait_for_load_state("networkidle")
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    context.close()

    assert (SCREENSHOTS / f"hostile-{width}.png").stat().st_size > 10_000


def test_dark_mode_applies(browser: Any, base_url: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=base_url, color_scheme="dark"
    )
    tab = context.new_page()
    tab.goto("/number/" + DEMO_NUMBER[1:])
    tab.wait_for_load_state("networkidle")
    background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    context.close()

    assert background == "rgb(11, 16, 32)"
