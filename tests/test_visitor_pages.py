"""Visitor features through the test client: the live fragment, liveness, search, meta.

Messages arrive through the real webhook path (`/webhooks/generic`, unsigned).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from webapp.extensions import db
from webapp.models import Message, Number
from webapp.numbers import queries, service
from webapp.timeutil import utcnow

GB = "+447400123457"
GB_2 = "+447400123458"
GB_3 = "+447400123459"
GB_4 = "+447400123460"
RU = "+79161234567"
ES = "+34612345678"
DE = "+4915123456789"
_ids = itertools.count(1)


@pytest.fixture
def site(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Build an app that accepts unsigned generic webhooks, with extra overrides."""

    def build(**overrides: Any) -> Flask:
        return make_app({"WEBHOOK_ALLOW_UNSIGNED": True, **overrides})

    return build


def provision(app: Flask, *numbers: str) -> None:
    """Provision numbers through the provisioning service."""
    with app.app_context():
        for number in numbers:
            service.provision(number)


def send_sms(client: FlaskClient, text: str, to: str = GB, sender: str = "Google") -> None:
    """Deliver one SMS through the generic webhook, as a gateway would."""
    payload = {
        "type": "sms.received",
        "timestamp": "2025-03-14T09:26:53Z",
        "data": {"id": f"visitor-{next(_ids)}", "from": sender, "to": to, "text": text},
    }
    response = client.post("/webhooks/generic", json=payload)
    assert response.status_code < 300, response.get_data(as_text=True)


def set_age(app: Flask, e164: str, age: timedelta) -> None:
    """Make a number's messages (and its last message time) `age` old."""
    with app.app_context():
        number = db.session.scalar(db.select(Number).where(Number.e164 == e164))
        when = utcnow() - age
        db.session.execute(db.update(Message).where(Message.number_id == number.id)
                           .values(received_at=when))
        number.last_message_at = when
        db.session.commit()


def html(response: Any) -> str:
    """The body of a response as text."""
    return response.get_data(as_text=True)


def message_ids(page: str) -> list[int]:
    """The message ids of the cards in a page or fragment, in order."""
    return [int(found) for found in re.findall(r'data-message-id="(\d+)"', page)]


@pytest.fixture
def statements() -> Iterator[Callable[[Flask], list[str]]]:
    """Start noting the SQL statements an app's engine runs; the list fills as they run."""
    listening: list[tuple[Any, Callable[..., None]]] = []

    def watch(app: Flask) -> list[str]:
        seen: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", note)
        listening.append((engine, note))
        return seen

    yield watch
    for engine, note in listening:
        event.remove(engine, "before_cursor_execute", note)


# The live inbox's fragment


def test_fragment_holds_the_cards_newer_than_since_newest_first(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    for text in ("first 1111", "second 2222", "third 3333"):
        send_sms(client, text)
    ids = message_ids(html(client.get("/number/447400123457")))

    response = client.get(f"/number/447400123457/messages.fragment?since={ids[-1]}")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert message_ids(html(response)) == ids[:2]
    assert "third" in html(response) and "first" not in html(response)
    assert "2 new messages" in html(response)
    assert 'class="otp-box__code">3333<' in html(response)
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["ETag"]


def test_fragment_cards_are_the_page_cards(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    send_sms(client, "Your code is 482913 <b>bold</b>")

    page = html(client.get("/number/447400123457"))
    fragment = html(client.get("/number/447400123457/messages.fragment?since=0"))

    card = re.search(r"<article class=\"message\".*?</article>", fragment, re.S).group(0)
    assert card in page


def test_fragment_answers_304_while_nothing_is_new(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    send_sms(client, "Your code is 1234")
    top = message_ids(html(client.get("/number/447400123457")))[0]
    url = f"/number/447400123457/messages.fragment?since={top}"

    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    send_sms(client, "Your code is 5678")
    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200 and html(first).strip() == ""
    assert again.status_code == 304 and again.data == b""
    assert after.status_code == 200
    assert after.headers["ETag"] != first.headers["ETag"]
    assert "5678" in html(after) and "1234" not in html(after)


def test_a_304_costs_one_query_and_loads_no_message(
    site: Callable[..., Flask], statements: Callable[[Flask], list[str]]
) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    send_sms(client, "Your code is 1234")
    url = "/number/447400123457/messages.fragment?since=0"
    etag = client.get(url).headers["ETag"]
    run = statements(app)

    response = client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert len(run) == 1 and "FROM numbers" in run[0]


def test_nothing_new_loads_no_message(
    site: Callable[..., Flask], statements: Callable[[Flask], list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    send_sms(client, "Your code is 1234")
    top = message_ids(html(client.get("/number/447400123457")))[0]
    monkeypatch.setattr(queries, "number_messages", lambda *a, **k: pytest.fail("loaded rows"))
    run = statements(app)

    response = client.get(f"/number/447400123457/messages.fragment?since={top}")

    assert response.status_code == 200 and html(response).strip() == ""
    assert run and not any("FROM messages" in statement for statement in run)


@pytest.mark.parametrize("since", ["", "x", "-1", "1.5", "9" * 19])
def test_fragment_needs_a_message_id_since(site: Callable[..., Flask], since: str) -> None:
    app = site()
    provision(app, GB)

    response = app.test_client().get(f"/number/447400123457/messages.fragment?since={since}")

    assert response.status_code == 400


def test_fragment_of_unknown_and_retired_numbers(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB, GB_2)
    with app.app_context():
        service.retire(GB_2)
    client = app.test_client()

    assert client.get("/number/447400999999/messages.fragment?since=0").status_code == 404
    assert client.get("/number/+447400123457/messages.fragment?since=0").status_code == 404
    assert client.get("/number/447400123458/messages.fragment?since=0").status_code == 410


def test_page_points_the_live_inbox_at_its_fragment_in_its_language(
    site: Callable[..., Flask]
) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    send_sms(client, "Your code is 1234")
    top = message_ids(html(client.get("/number/447400123457")))[0]

    english = html(client.get("/number/447400123457"))
    spanish = html(client.get("/es/number/447400123457"))
    older = html(client.get(f"/number/447400123457?before={top + 1}"))

    assert 'data-live="/number/447400123457/messages.fragment"' in english
    assert f'data-live-since="{top}"' in english
    assert 'data-live="/es/number/447400123457/messages.fragment"' in spanish
    assert "data-live=" not in older  # older pages do not grow at the top
    en = client.get("/number/447400123457/messages.fragment?since=0")
    es = client.get("/es/number/447400123457/messages.fragment?since=0")
    assert es.status_code == 200 and es.headers["ETag"] != en.headers["ETag"]
    assert message_ids(html(es)) == message_ids(html(en))


def test_without_javascript_the_page_has_a_refresh_link(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)

    page = html(app.test_client().get("/number/447400123457"))

    assert re.search(r'<a class="button" href="/number/447400123457">.*?Refresh', page, re.S)


# Which number is alive


def test_badges_and_silent_numbers_last_follow_number_silent_days(
    site: Callable[..., Flask]
) -> None:
    app = site(NUMBER_SILENT_DAYS=3)
    provision(app, GB, GB_2, GB_3, GB_4)
    client = app.test_client()
    for number in (GB, GB_2, GB_3):
        send_sms(client, "Your code is 1234", to=number)
    set_age(app, GB, timedelta(days=5))     # silent: older than 3 days
    set_age(app, GB_2, timedelta(hours=1))  # active
    set_age(app, GB_3, timedelta(days=2))   # quiet
    # GB_4 never received anything: silent

    page = html(client.get("/country/gb"))

    rows = re.findall(r'<li data-liveness="(\w+)">.*?number-row__number">([^<]+)<', page, re.S)
    assert rows == [("active", "+44 7400 123458"), ("quiet", "+44 7400 123459"),
                    ("silent", "+44 7400 123457"), ("silent", "+44 7400 123460")]
    assert re.findall(r'class="badge badge--\w+"[^>]*>(\w+)<', page) == [
        "Active", "Quiet", "Silent", "Silent"]

    patient = site(NUMBER_SILENT_DAYS=10)
    with patient.app_context():
        page = html(patient.test_client().get("/country/gb"))
    assert re.findall(r'<li data-liveness="(\w+)">', page) == [
        "active", "quiet", "quiet", "silent"]


def test_number_page_header_and_cards_show_activity(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB, GB_2)
    client = app.test_client()
    for _ in range(3):
        send_sms(client, "Your code is 1234", to=GB)
    send_sms(client, "Your code is 1234", to=GB_2)

    page = html(client.get("/number/447400123457"))

    hero = page.split('class="number-hero"')[1].split("</section>")[0]
    assert "badge--active" in hero and "3 messages in 24 h" in hero
    card = page.split('href="/number/447400123458"')[1].split("</a>")[0]
    assert "badge--active" in card and "1 message in 24 h" in card and "Last message" in card


def test_home_newest_numbers_show_activity_and_silent_ones_last(
    site: Callable[..., Flask]
) -> None:
    app = site()
    provision(app, GB, GB_2, GB_3)
    client = app.test_client()
    send_sms(client, "Your code is 1234", to=GB)
    send_sms(client, "Your code is 1234", to=GB_2)
    set_age(app, GB_2, timedelta(days=30))

    page = html(client.get("/"))

    newest = page.split('id="newest"')[1]
    cards = re.findall(r'data-liveness="(\w+)" href="/number/(\d+)"', newest)
    assert cards == [("active", "447400123457"), ("silent", "447400123459"),
                     ("silent", "447400123458")]  # newest provisioned first, silent ones last
    assert "1 message in 24 h" in newest and "0 messages in 24 h" in newest


# Search


@pytest.mark.parametrize(("query", "country"), [
    ("Россия", "Russia"), ("Rusia", "Russia"), ("russia", "Russia"), ("RU", "Russia"),
    ("Alemania", "Germany"), ("Германия", "Germany"), ("España", "Spain"), ("gb", "United Kingdom"),
    ("+44", "United Kingdom"), ("44", "United Kingdom"), ("+7", "Russia"), ("7", "Russia"),
])
def test_search_finds_countries(site: Callable[..., Flask], query: str, country: str) -> None:
    app = site()
    provision(app, GB, RU, ES, DE)

    response = app.test_client().get("/search", query_string={"q": query})

    names = re.findall(r'country-card__name">([^<]+)<', html(response))
    assert response.status_code == 200
    assert names[0] == country


@pytest.mark.parametrize("query", ["+44 7400", "7400123", "447400123457", "07400 123 457",
                                   "0044 7400 123"])
def test_search_finds_numbers_by_digits(site: Callable[..., Flask], query: str) -> None:
    app = site()
    provision(app, GB, RU)

    page = html(app.test_client().get("/search", query_string={"q": query}))

    assert re.findall(r'number-card__number">([^<]+)<', page) == ["+44 7400 123457"]


def test_search_leaves_retired_numbers_out_and_says_when_nothing_matches(
    site: Callable[..., Flask]
) -> None:
    app = site()
    provision(app, GB, GB_2)
    with app.app_context():
        service.retire(GB_2)
    client = app.test_client()

    found = html(client.get("/search?q=7400"))
    nothing = html(client.get("/search?q=Atlantis"))

    assert "+44 7400 123457" in found and "+44 7400 123458" not in found
    assert "No country matches." in nothing and "No number matches." in nothing


def test_search_page_is_noindex_and_in_the_visitors_language(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, RU)
    client = app.test_client()

    russian = client.get("/ru/search", query_string={"q": "Russia"})

    assert russian.status_code == 200
    assert '<meta name="robots" content="noindex, follow">' in html(russian)
    assert "Россия" in html(russian)
    assert client.get("/search?q=" + "7" * 500).status_code == 200


def test_home_search_form_works_without_javascript(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, RU)

    page = html(app.test_client().get("/"))

    form = re.search(r'<form class="search" role="search" action="([^"]+)" method="get"', page)
    assert form and form.group(1) == "/search"
    assert '<input class="search__input" id="search-q" type="search" name="q"' in page
    terms = re.search(r'<li data-terms="([^"]+)">', page).group(1).split("|")
    assert {"russia", "россия", "rusia", "ru", "+7"} <= set(terms)


# Look and feel: JSON-LD breadcrumbs and Open Graph


def json_ld(page: str) -> dict[str, Any]:
    """The JSON-LD block of a page, parsed."""
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block, "no JSON-LD"
    return json.loads(block.group(1))


def meta(page: str, key: str) -> str:
    """The content of a `<meta property|name=key>` tag."""
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', page)
    assert found, key
    return found.group(1)


def test_country_and_number_pages_carry_breadcrumbs(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()

    country = json_ld(html(client.get("/country/gb")))
    number = json_ld(html(client.get("/number/447400123457")))
    spanish = json_ld(html(client.get("/es/number/447400123457")))

    assert country["@type"] == number["@type"] == "BreadcrumbList"
    assert [item["item"] for item in number["itemListElement"]] == [
        "https://sms.example.com/", "https://sms.example.com/country/gb",
        "https://sms.example.com/number/447400123457"]
    assert [item["position"] for item in number["itemListElement"]] == [1, 2, 3]
    assert [item["name"] for item in country["itemListElement"]] == ["Home", "United Kingdom"]
    assert spanish["itemListElement"][1]["name"] == "Reino Unido"
    assert spanish["itemListElement"][1]["item"] == "https://sms.example.com/es/country/gb"


def test_breadcrumb_json_cannot_close_its_script(app: Flask) -> None:
    from webapp.numbers.visitor import breadcrumbs

    with app.test_request_context("/"):
        text = app.jinja_env.from_string("{{ data|tojson }}").render(
            data=breadcrumbs([("</script><script>alert(1)</script>", "numbers.home", {})]))

    assert "</script" not in text and "<" not in text
    assert json.loads(text)["itemListElement"][0]["name"].startswith("</script>")


def test_pages_carry_open_graph_and_twitter_tags(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    send_sms(client, "G-482913 is your Google verification code.", sender="Google")

    page = html(client.get("/number/447400123457"))

    assert meta(page, "og:site_name") == "Receive SMS Online"
    assert meta(page, "og:type") == "website"
    assert meta(page, "og:url") == "https://sms.example.com/number/447400123457"
    assert "+44 7400 123457" in meta(page, "og:title")
    description = meta(page, "og:description")
    assert "+44 7400 123457" in description and "Google" in description
    assert "482913" not in description  # never a code in a link preview
    assert meta(page, "og:image").startswith("https://sms.example.com/static/og.jpg")
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "twitter:description") == description
    home = html(client.get("/"))
    assert meta(home, "og:url") == "https://sms.example.com/"


def test_theme_script_loads_first_and_pages_ask_no_other_host(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, GB)
    client = app.test_client()
    send_sms(client, "Your code is 1234")

    for path in ("/", "/country/gb", "/number/447400123457", "/search?q=gb"):
        page = html(client.get(path))
        head = page.split("</head>")[0]
        assert head.index("/static/theme.js") < head.index("stylesheet"), path
        loaded = re.findall(r'<(?:script|img)[^>]* src="([^"]+)"', page)
        loaded += re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', page)
        assert loaded and all(url.startswith("/static/") for url in loaded), (path, loaded)
