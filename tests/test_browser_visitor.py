"""The visitor features in a real browser: Debian's Chromium driven by Playwright.

A live server runs the real app in a background thread (as in test_browser.py); messages
arrive through the real webhook, also while a page is open. Screenshots of the home, country
and number pages at phone and desktop widths, light and dark, go to docs/screenshots/.
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

from tests.conftest import empty_tables
from webapp import create_app
from webapp.extensions import db
from webapp.models import Message, Number
from webapp.numbers import service
from webapp.timeutil import utcnow

playwright_sync = pytest.importorskip("playwright.sync_api")
werkzeug_serving = pytest.importorskip("werkzeug.serving")

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "screenshots"
DARK_BACKGROUND = "rgb(11, 16, 32)"
LIGHT_BACKGROUND = "rgb(244, 245, 251)"

MAIN = "+447400123457"
LIVE = "+447400123460"
SILENT = "+447400123458"
NUMBERS = {
    MAIN: "GB", LIVE: "GB", SILENT: "GB", "+447911123456": "GG", "+79161234567": "RU",
    "+77012345678": "KZ", "+4915123456789": "DE", "+33612345678": "FR", "+14155552671": "US",
    "+34612345678": "ES", "+5511912345678": "BR", "+971501234567": "AE",
}
INBOX = [
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
    ("+12025550143", "Hey, running 10 min late, save me a seat!"),
    ("Discord", "Your Discord security code is: 667301"),
]
_ids = itertools.count(1)


def sms_payload(body: str, to: str, sender: str) -> dict[str, Any]:
    """The generic webhook's body for one SMS."""
    return {
        "type": "sms.received",
        "timestamp": "2025-03-14T09:26:53Z",
        "data": {"id": f"visitor-{uuid.uuid4().hex[:8]}-{next(_ids)}", "from": sender, "to": to,
                 "text": body},
    }


def age_messages(app: Flask, e164: str, newest: timedelta, step: timedelta) -> None:
    """Give a number's messages realistic ages: the newest `newest` old, then `step` apart."""
    with app.app_context():
        number = db.session.scalar(db.select(Number).where(Number.e164 == e164))
        ids = db.session.scalars(
            db.select(Message.id).where(Message.number_id == number.id).order_by(Message.id.desc())
        ).all()
        now = utcnow()
        for age, message_id in enumerate(ids):
            db.session.execute(db.update(Message).where(Message.id == message_id)
                               .values(received_at=now - newest - step * age))
        number.last_message_at = now - newest
        db.session.commit()


def seed(app: Flask) -> None:
    """Numbers in ten countries; a full inbox on MAIN; SILENT last heard from 10 days ago."""
    with app.app_context():
        for e164 in NUMBERS:
            service.provision(e164)
    client = app.test_client()

    def send(body: str, to: str, sender: str) -> None:
        response = client.post("/webhooks/generic", json=sms_payload(body, to, sender))
        assert response.status_code < 300, response.get_data(as_text=True)

    for sender, body in reversed(INBOX):
        send(body, MAIN, sender)
    for index, e164 in enumerate(NUMBERS):
        if e164 not in (MAIN, LIVE) and index % 3:
            send("Your code is 246810", e164, "Facebook")
    send("Your code is 135790", SILENT, "Apple")
    send("Hello", LIVE, "+12025550143")
    age_messages(app, MAIN, timedelta(minutes=3), timedelta(minutes=11))
    age_messages(app, SILENT, timedelta(days=10), timedelta(hours=1))
    age_messages(app, LIVE, timedelta(hours=2), timedelta(hours=1))


@pytest.fixture(scope="module")
def live_app(database_url: str) -> Iterator[Flask]:
    """The app on the session's database, seeded; its rows removed afterwards."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SITE_URL": "https://sms.example.com",
        "SECRET_KEY": "test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": "visitor-" + uuid.uuid4().hex,
        "WEBHOOK_ALLOW_UNSIGNED": True,
        "NUMBER_SILENT_DAYS": 7,
    })
    try:
        seed(app)
        yield app
    finally:
        with app.app_context():
            empty_tables()
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


def open_context(browser: Any, base_url: str, width: int = 390, **options: Any) -> Any:
    """A browser context at a width, allowed to use the clipboard."""
    context = browser.new_context(viewport={"width": width, "height": 844}, base_url=base_url,
                                  **options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    return context


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh page at phone width; notes console errors and the hosts it asks."""
    context = open_context(browser, base_url)
    tab = context.new_page()
    tab.console_errors = []
    tab.requests = []
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    tab.on("request", lambda request: tab.requests.append(request.url))
    yield tab
    context.close()


def test_a_new_message_appears_without_reload(page: Any, base_url: str) -> None:
    page.goto("/number/" + LIVE[1:])
    page.evaluate("window.__sameDocument = true")
    title = page.title()
    assert page.locator(".message").count() == 1

    response = page.request.post(base_url + "/webhooks/generic", data=sms_payload(
        "Your Signal code: 246-802", LIVE, "Signal"))
    assert response.ok

    card = page.locator(".message").first
    card.locator(".otp-box__code").wait_for(timeout=15_000)
    assert card.locator(".otp-box__code").inner_text() == "246802"
    assert "message--new" in card.get_attribute("class")
    assert card.locator("button[data-copy]").is_visible()
    assert page.locator(".message").count() == 2
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.title() == "(1) " + title
    # expect() polls from Python: a string wait_for_function needs eval, which the CSP forbids
    expect(page.locator("[data-live-status]")).to_have_text("1 new message")
    assert page.console_errors == []


HIDE = """hidden => {
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_a_hidden_tab_stops_polling_and_catches_up_when_shown(page: Any, base_url: str) -> None:
    page.goto("/number/" + LIVE[1:])
    polls: list[str] = []
    page.on("request", lambda request: "messages.fragment" in request.url
            and polls.append(request.url))
    page.evaluate(HIDE, True)
    assert page.request.post(base_url + "/webhooks/generic", data=sms_payload(
        "Your Tinder code is 775533", LIVE, "Tinder")).ok

    page.wait_for_timeout(6_500)  # longer than the first poll's 5 s
    assert polls == []
    assert page.locator(".otp-box__code", has_text="775533").count() == 0

    page.evaluate(HIDE, False)  # shown again: polls at once
    page.locator(".otp-box__code", has_text="775533").wait_for(timeout=3_000)
    assert len(polls) == 1


def test_copy_puts_the_code_on_the_clipboard(page: Any) -> None:
    page.goto("/number/" + MAIN[1:])
    button = page.locator(".otp-box button[data-copy]").first

    button.click()

    assert page.evaluate("navigator.clipboard.readText()") == "482913"
    expect(button).to_have_text("Copied")  # set once the clipboard write resolves
    expect(page.locator("[data-copy-status]")).to_have_text("Copied 482913")


def test_every_detected_code_and_the_number_have_a_copy_button(page: Any) -> None:
    page.goto("/number/" + MAIN[1:])

    codes = page.locator(".otp-box__code").all_inner_texts()
    copied = [b.get_attribute("data-copy") for b in page.locator(".otp-box button").all()]

    assert len(codes) == 9 and copied == codes
    assert page.locator(".number-hero button[data-copy]").get_attribute("data-copy") == MAIN
    assert all(b.is_visible() for b in page.locator("button[data-copy]").all())


def test_search_filters_countries_as_you_type(page: Any) -> None:
    page.goto("/")
    search = page.locator("input[name=q]")

    search.fill("Россия")
    assert page.locator("[data-country-list] li:visible .country-card__name").all_inner_texts() \
        == ["Russia"]
    search.fill("+44")
    assert page.locator("[data-country-list] li:visible .country-card__name").all_inner_texts() \
        == ["Guernsey", "United Kingdom"]
    search.fill("7")
    assert sorted(page.locator("[data-country-list] li:visible .country-card__name")
                  .all_inner_texts()) == ["Kazakhstan", "Russia"]
    search.fill("zzzz")
    assert page.locator("[data-country-list] li:visible").count() == 0
    assert page.locator("[data-filter-empty]").is_visible()


def test_search_submits_to_the_results_page(page: Any) -> None:
    page.goto("/")
    page.locator("input[name=q]").fill("Германия")
    page.locator("input[name=q]").press("Enter")
    page.wait_for_url("**/search?q=*")

    assert page.locator(".country-card__name").all_inner_texts() == ["Germany"]


def test_dark_mode_follows_the_system(browser: Any, base_url: str) -> None:
    context = open_context(browser, base_url, color_scheme="dark")
    tab = context.new_page()
    tab.goto("/number/" + MAIN[1:])

    assert tab.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND
    context.close()


def test_the_theme_toggle_switches_and_is_remembered(page: Any) -> None:
    page.emulate_media(color_scheme="light")
    page.goto("/")
    toggle = page.locator("[data-theme-toggle]")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == LIGHT_BACKGROUND

    toggle.click()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND
    assert toggle.get_attribute("aria-pressed") == "true"
    page.goto("/country/gb")  # applied before the first paint on the next page
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND

    page.locator("[data-theme-toggle]").click()  # back to the system's light: choice forgotten
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == LIGHT_BACKGROUND
    assert page.evaluate("localStorage.getItem('theme')") is None


FOCUSABLE = """() => Array.from(document.querySelectorAll(
  'a[href], button, input, select, textarea, summary, [tabindex="0"]'
)).filter(el => !el.disabled
  && el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true,
                         checkVisibilityCSS: true}))
  .map((el, i) => { el.dataset.focusId = String(i); return el.dataset.focusId; })"""


def tab_through(tab: Any, limit: int = 400) -> list[str]:
    """Press Tab until focus comes back to the start; the focus ids met on the way."""
    met: list[str] = []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        focus_id = tab.evaluate("document.activeElement && document.activeElement.dataset.focusId")
        if focus_id is None or focus_id in met:
            if met:
                break
            continue
        met.append(focus_id)
    return met


@pytest.mark.parametrize("path", ["/", "/country/gb", "/number/" + MAIN[1:]])
def test_keyboard_reaches_every_control(page: Any, path: str) -> None:
    page.goto(path)
    controls = page.evaluate(FOCUSABLE)

    met = tab_through(page)

    assert sorted(met, key=int) == controls
    described = page.evaluate("""() => Array.from(document.querySelectorAll('[data-focus-id]'))
      .map(el => el.matches('[data-theme-toggle]') ? 'theme' : el.matches('summary') ? 'language'
        : el.matches('[data-copy]') ? 'copy' : el.matches('input[name=q]') ? 'search' : '')""")
    assert {"theme", "language"} <= set(described)
    if path == "/":
        assert "search" in described
    if path.startswith("/number/"):
        assert described.count("copy") == 10  # the number and nine codes


CLS = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve(total), 1000);
})"""


@pytest.mark.parametrize("width", [390, 1280])
def test_nothing_shifts_while_pages_load(browser: Any, base_url: str, width: int) -> None:
    context = open_context(browser, base_url, width)
    tab = context.new_page()
    for path in ("/", "/country/gb", "/number/" + MAIN[1:]):
        tab.goto(path)
        tab.wait_for_load_state("networkidle")
        assert tab.evaluate(CLS) < 0.01, path
    context.close()


def test_number_cards_show_liveness_and_silent_numbers_come_last(page: Any) -> None:
    page.goto("/country/gb")

    rows = page.locator(".number-table li")
    states = [row.get_attribute("data-liveness") for row in rows.all()]

    assert states == ["active", "active", "silent"]
    assert rows.last.locator(".number-row__number").inner_text() == "+44 7400 123458"
    assert rows.last.locator(".badge").inner_text() == "Silent"


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(browser: Any, base_url: str, width: int, scheme: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = open_context(browser, base_url, width, color_scheme=scheme)
    tab = context.new_page()
    suffix = "" if scheme == "light" else "-dark"
    pages = {"home": "/", "country": "/country/gb", "number": "/number/" + MAIN[1:]}
    for name, path in pages.items():
        tab.goto(path)
        tab.wait_for_load_state("networkidle")
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-{width}{suffix}.png"), full_page=True)
    context.close()

    assert (SCREENSHOTS / f"number-{width}{suffix}.png").stat().st_size > 10_000
