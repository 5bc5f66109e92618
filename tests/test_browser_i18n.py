"""Languages in a real browser: Arabic reads right to left; the switcher works without JS.

A live server runs the real app in a background thread (as in test_browser.py), seeded by
test_browser's `seed`. Screenshots of the Arabic number page go to docs/screenshots/.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import empty_tables
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, DEMO_NUMBER, SCREENSHOTS, seed
from webapp import create_app
from webapp.extensions import db

playwright_sync = pytest.importorskip("playwright.sync_api")
werkzeug_serving = pytest.importorskip("werkzeug.serving")

pytestmark = pytest.mark.browser

ARABIC_NUMBER_PAGE = "/ar/number/" + DEMO_NUMBER[1:]


@pytest.fixture(scope="module")
def live_app(database_url: str) -> Iterator[Flask]:
    """The app on the session's database, seeded; its rows removed afterwards."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SITE_URL": "https://sms.example.com",
        "SECRET_KEY": "test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": "browser-i18n-" + uuid.uuid4().hex,
        "WEBHOOK_ALLOW_UNSIGNED": True,
    })
    try:
        with app.app_context():
            empty_tables()
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
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: scripts/services installs it")
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Any, base_url: str, width: int, java_script: bool = True) -> Any:
    """A fresh page at a width (phone: 390), with or without JavaScript."""
    context = browser.new_context(
        viewport={"width": width, "height": 844}, base_url=base_url, java_script_enabled=java_script
    )
    return context.new_page()


def test_arabic_number_page_is_right_to_left(browser: Any, base_url: str) -> None:
    page = open_page(browser, base_url, 390)
    page.goto(ARABIC_NUMBER_PAGE)
    page.wait_for_load_state("networkidle")

    html_dir = page.evaluate("getComputedStyle(document.documentElement).direction")
    body_dir = page.evaluate("getComputedStyle(document.body).direction")
    number_dir = page.evaluate(
        "getComputedStyle(document.querySelector('[data-number]')).direction"
    )
    heading = page.locator("h1").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "number-ar-390.png"), full_page=True)
    page.context.close()

    assert (html_dir, body_dir) == ("rtl", "rtl")
    assert number_dir == "ltr"  # the phone number still reads left to right
    assert "+44 7400 123457" in heading
    assert overflow <= 0  # nothing sticks out sideways


def test_arabic_layout_mirrors(browser: Any, base_url: str) -> None:
    page = open_page(browser, base_url, 1280)
    page.goto(ARABIC_NUMBER_PAGE)
    page.wait_for_load_state("networkidle")

    brand = page.locator(".brand").bounding_box()
    menu = page.locator(".lang-menu").bounding_box()
    main = page.locator(".number-layout__main").bounding_box()
    sidebar = page.locator(".sidebar").bounding_box()
    page.screenshot(path=str(SCREENSHOTS / "number-ar-1280.png"), full_page=True)
    page.context.close()

    assert brand["x"] > menu["x"]  # the brand starts on the right, the menu ends on the left
    assert main["x"] > sidebar["x"]  # the sidebar is on the left in Arabic


def test_switcher_works_without_javascript(browser: Any, base_url: str) -> None:
    page = open_page(browser, base_url, 390, java_script=False)
    page.goto("/country/gb")

    page.locator(".lang-menu summary").click()
    page.get_by_role("link", name="Русский").click()
    page.wait_for_load_state("domcontentloaded")

    assert page.url.endswith("/ru/country/gb")
    assert page.evaluate("document.documentElement.lang") == "ru"
    assert "Великобритания" in page.locator("h1").inner_text()
    page.context.close()


def test_switcher_is_reachable_by_keyboard(browser: Any, base_url: str) -> None:
    page = open_page(browser, base_url, 1280)
    page.goto("/")

    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('lang-menu__toggle')"):
            break
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")

    assert page.evaluate("document.activeElement.getAttribute('hreflang')") == "en"
    page.context.close()
