"""Service chips, service pages and votes, driven through the test client.

Messages arrive through the real webhook path (`/webhooks/generic`, unsigned), so pages show
what ingest stored, service included.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update

from webapp.extensions import db
from webapp.models import Message, Number, Vote
from webapp.numbers import service as provisioning
from webapp.timeutil import utcnow

US = "+14155552671"
US_2 = "+14155552672"
DE = "+4915123456789"
SAME_SITE = {"Origin": "http://localhost"}
_ids = itertools.count(1)


@pytest.fixture
def site(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Build an app that accepts unsigned generic webhooks, with extra overrides."""

    def build(**overrides: Any) -> Flask:
        return make_app({"WEBHOOK_ALLOW_UNSIGNED": True, **overrides})

    return build


@pytest.fixture
def frozen_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages render at one fixed moment, so ETags cannot roll over to the next minute."""
    from webapp.numbers import helpers

    moment = utcnow()
    monkeypatch.setattr(helpers, "utcnow", lambda: moment)


def provision(app: Flask, *numbers: str) -> None:
    """Provision numbers through the provisioning service."""
    with app.app_context():
        for number in numbers:
            provisioning.provision(number)


def send_sms(client: FlaskClient, text: str, to: str = US, sender: str = "+447400123456") -> None:
    """Deliver one SMS through the generic webhook, as a gateway would."""
    payload = {
        "type": "sms.received",
        "timestamp": "2025-03-14T09:26:53Z",
        "data": {"id": f"service-test-{next(_ids)}", "from": sender, "to": to, "text": text},
    }
    response = client.post("/webhooks/generic", json=payload)
    assert response.status_code < 300, response.get_data(as_text=True)


def html(response: Any) -> str:
    """The body of a response as text."""
    return response.get_data(as_text=True)


def vote(client: FlaskClient, service: str = "telegram", worked: str = "1", digits: str = US[1:],
         headers: dict[str, str] | None = None, prefix: str = "") -> Any:
    """Post a vote form as the number page's buttons do."""
    form = {"service": service, "worked": worked}
    return client.post(f"{prefix}/number/{digits}/vote", data=form,
                       headers=SAME_SITE if headers is None else headers)


def stored_votes(app: Flask) -> list[tuple[str, bool]]:
    """Every stored vote as (service, worked)."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(select(Vote.service, Vote.worked))]


def age_messages(app: Flask, days: float) -> None:
    """Make every stored message `days` old."""
    with app.app_context():
        db.session.execute(update(Message).values(received_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def vote_panel(page: str) -> str:
    """The "Did it work?" section of a number page."""
    return page.split('id="votes"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def telegram_app(site: Callable[..., Flask]) -> Flask:
    """US got a Telegram code, US_2 a WhatsApp code, DE nothing."""
    app = site()
    provision(app, US, US_2, DE)
    client = app.test_client()
    send_sms(client, "Telegram code: 58213\n\nDo not give this code to anyone!", to=US)
    send_sms(client, "Tu código de WhatsApp es 123-456", to=US_2)
    return app


# Detection at ingest and the chip


def test_ingest_stores_the_detected_service(telegram_app: Flask) -> None:
    with telegram_app.app_context():
        rows = dict(db.session.execute(select(Message.recipient, Message.service)).all())

    assert rows == {US: "telegram", US_2: "whatsapp"}


def test_a_message_without_a_known_service_stores_null(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    send_sms(app.test_client(), "Hey, running late")

    with app.app_context():
        assert db.session.scalar(select(Message.service)) is None


def test_message_card_shows_a_chip_linking_to_the_service_page(telegram_app: Flask) -> None:
    page = html(telegram_app.test_client().get("/number/14155552671"))

    card = page.split('class="message"', 1)[1].split("</article>", 1)[0]
    assert '<a class="svc svc-telegram" href="/service/telegram">Telegram</a>' in card
    assert "style=" not in card


def test_a_message_of_no_known_service_has_no_chip(site: Callable[..., Flask]) -> None:
    app = site()
    provision(app, US)
    send_sms(app.test_client(), "Hey, running late")

    page = html(app.test_client().get("/number/14155552671"))

    assert 'class="svc ' not in page and 'id="votes"' not in page


def test_pages_link_the_service_stylesheet(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    page = html(client.get("/number/14155552671"))
    href = re.search(r'href="(/static/services\.css\?v=[0-9a-f]+)"', page).group(1)

    css = client.get(href)

    assert css.status_code == 200 and ".svc-telegram{--svc:#26A5E4}" in html(css)


# Service pages


def test_service_page_lists_numbers_that_got_its_messages(telegram_app: Flask) -> None:
    response = telegram_app.test_client().get("/service/telegram")
    page = html(response)

    assert response.status_code == 200
    assert "Numbers for Telegram" in page
    assert 'href="/number/14155552671#votes"' in page
    assert "14155552672" not in page and "4915123456789" not in page
    assert "<strong>1</strong> message" in page and "just now" in page


def test_service_page_lists_the_newest_first_with_counts(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    send_sms(client, "Your Telegram code is 11223", to=US)
    send_sms(client, "Your Telegram code is 44556", to=DE)

    page = html(client.get("/service/telegram"))

    assert page.index("4915123456789") < page.index("14155552671")
    us_row = page.split('href="/number/14155552671#votes"', 1)[1].split("</a>", 1)[0]
    assert "<strong>2</strong> messages" in us_row


def test_messages_older_than_the_window_do_not_count(telegram_app: Flask) -> None:
    age_messages(telegram_app, days=8)

    page = html(telegram_app.test_client().get("/service/telegram"))

    assert "14155552671" not in page
    assert "No number received a message from Telegram in the last 7 days." in page
    assert '<meta name="robots" content="noindex">' in page


def test_the_window_is_configurable(site: Callable[..., Flask]) -> None:
    app = site(SERVICE_RECENT_DAYS=30)
    provision(app, US)
    send_sms(app.test_client(), "Telegram code: 58213")
    age_messages(app, days=8)

    assert "14155552671" in html(app.test_client().get("/service/telegram"))


def test_retired_numbers_leave_the_service_page(telegram_app: Flask) -> None:
    with telegram_app.app_context():
        provisioning.retire(US)

    assert "14155552671" not in html(telegram_app.test_client().get("/service/telegram"))


@pytest.mark.parametrize("path", ["/service/nope", "/service/", "/service/telegram2"])
def test_unknown_service_is_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404


def test_service_slug_in_other_casing_redirects(client: FlaskClient) -> None:
    response = client.get("/service/Telegram")

    assert response.status_code == 301 and response.headers["Location"] == "/service/telegram"


def test_services_index_lists_services_with_recent_messages(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    send_sms(client, "Your Telegram code is 11223", to=DE)

    page = html(client.get("/services"))

    assert page.index("svc-telegram") < page.index("svc-whatsapp")  # busiest first
    telegram = page.split('href="/service/telegram"', 1)[1].split("</li>", 1)[0]
    assert "2 numbers" in telegram and "2 messages" in telegram
    assert "svc-google" not in page


def test_services_index_forgets_old_messages(telegram_app: Flask) -> None:
    age_messages(telegram_app, days=8)

    page = html(telegram_app.test_client().get("/services"))

    assert "svc-telegram" not in page and "No service sent a message" in page


def test_service_pages_answer_in_other_languages(telegram_app: Flask) -> None:
    client = telegram_app.test_client()

    assert client.get("/es/service/telegram").status_code == 200
    assert client.get("/ru/services").status_code == 200
    assert 'href="/es/number/14155552671#votes"' in html(client.get("/es/service/telegram"))


@pytest.mark.usefixtures("frozen_minute")
@pytest.mark.parametrize("path", ["/services", "/service/telegram"])
def test_service_pages_answer_304_to_their_etag(telegram_app: Flask, path: str) -> None:
    client = telegram_app.test_client()
    first = client.get(path)

    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert first.headers["Cache-Control"].startswith("public")
    assert again.status_code == 304 and not again.data


@pytest.mark.usefixtures("frozen_minute")
def test_service_page_etag_changes_with_a_vote_and_a_new_message(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    etag = client.get("/service/telegram").headers["ETag"]
    vote(client)
    after_vote = client.get("/service/telegram", headers={"If-None-Match": etag})
    send_sms(client, "Telegram code: 99887", to=DE)
    after_message = client.get(
        "/service/telegram", headers={"If-None-Match": after_vote.headers["ETag"]}
    )

    assert after_vote.status_code == 200 and "✓ 1 worked" in html(after_vote)
    assert after_message.status_code == 200 and "4915123456789" in html(after_message)


# Votes


def test_a_vote_redirects_back_with_a_confirmation_and_counts(telegram_app: Flask) -> None:
    client = telegram_app.test_client()

    response = vote(client)
    page = html(client.get(response.headers["Location"]))

    assert response.status_code == 303
    assert response.headers["Location"] == "/number/14155552671?voted=telegram#votes"
    panel = vote_panel(page)
    assert "Thank you! Your vote for Telegram is counted." in panel
    assert "✓ 1 worked" in panel and "✗ 0 didn't" in panel and "100% worked" in panel
    assert stored_votes(telegram_app) == [("telegram", True)]


def test_number_page_shows_a_form_per_service_that_works_without_js(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    send_sms(client, "G-482913 is your Google verification code.", to=US)

    panel = vote_panel(html(client.get("/number/14155552671")))

    forms = re.findall(r'<form class="vote__form" method="post" action="([^"]+)">(.*?)</form>',
                       panel, re.S)
    assert [action for action, _ in forms] == ["/number/14155552671/vote"] * 2
    assert [re.search(r'name="service" value="(\w+)"', body).group(1) for _, body in forms] == [
        "google", "telegram"]
    assert all('name="worked" value="1"' in b and 'name="worked" value="0"' in b for _, b in forms)
    assert "No votes yet" in panel


def test_a_second_vote_from_one_visitor_changes_the_first(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    vote(client, worked="1")
    vote(client, worked="1")
    vote(client, worked="0")

    panel = vote_panel(html(client.get("/number/14155552671")))

    assert stored_votes(telegram_app) == [("telegram", False)]
    assert "✓ 0 worked" in panel and "✗ 1 didn't" in panel and "0% worked" in panel


def test_other_visitors_count_separately(telegram_app: Flask) -> None:
    vote(telegram_app.test_client(), worked="1")
    vote(telegram_app.test_client(), worked="1")
    vote(telegram_app.test_client(), worked="0")

    panel = vote_panel(html(telegram_app.test_client().get("/number/14155552671")))

    assert "✓ 2 worked" in panel and "✗ 1 didn't" in panel and "67% worked" in panel


def test_the_visitor_is_an_hmac_of_address_and_cookie_nothing_else(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    response = vote(client)
    cookie = response.headers["Set-Cookie"]
    token = re.match(r"voter=([A-Za-z0-9_-]+);", cookie).group(1)

    with telegram_app.app_context():
        voter = db.session.scalar(select(Vote.voter_hash))

    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=" in cookie
    assert re.fullmatch(r"[0-9a-f]{64}", voter)
    assert token not in voter and "127.0.0.1" not in voter
    assert "Set-Cookie" not in vote(client).headers  # the known visitor keeps its cookie


def test_one_cookie_from_two_addresses_is_two_visitors(site: Callable[..., Flask]) -> None:
    app = site(TRUSTED_PROXIES=1)
    provision(app, US)
    client = app.test_client()
    send_sms(client, "Telegram code: 58213")

    vote(client, headers={**SAME_SITE, "X-Forwarded-For": "203.0.113.7"})
    vote(client, headers={**SAME_SITE, "X-Forwarded-For": "198.51.100.9"})
    vote(client, headers={**SAME_SITE, "X-Forwarded-For": "198.51.100.9"})

    assert len(stored_votes(app)) == 2


def test_votes_are_rate_limited_per_client_address(site: Callable[..., Flask]) -> None:
    app = site(VOTE_RATE_LIMIT="3/minute")
    provision(app, US)
    send_sms(app.test_client(), "Telegram code: 58213")

    statuses = [vote(app.test_client()).status_code for _ in range(4)]

    assert statuses == [303, 303, 303, 429]
    assert len(stored_votes(app)) == 3


def test_the_default_vote_limit_is_ten_a_minute_and_fifty_a_day(app: Flask) -> None:
    assert app.config["VOTE_RATE_LIMIT"] == "10/minute;50/day"
    assert app.config["SERVICE_RECENT_DAYS"] == 7


def test_the_vote_limit_is_not_the_feeds(site: Callable[..., Flask]) -> None:
    app = site(VOTE_RATE_LIMIT="2/minute", FEED_RATE_LIMIT="1/minute")
    provision(app, US)
    client = app.test_client()
    send_sms(client, "Telegram code: 58213")
    client.get("/api/v1/countries")

    assert [vote(client).status_code for _ in range(2)] == [303, 303]


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({"service": "nope", "worked": "1"}, 400, "Choose a service we know"),
        ({"service": "", "worked": "1"}, 400, "Choose a service we know"),
        ({"worked": "1"}, 400, "Choose a service we know"),
        ({"service": "telegram", "worked": "yes"}, 400, "worked"),
        ({"service": "telegram"}, 400, "worked"),
        ({"service": "whatsapp", "worked": "1"}, 400, "no message from that service"),
    ],
)
def test_bad_votes_are_refused_and_change_nothing(
    telegram_app: Flask, form: dict[str, str], status: int, says: str
) -> None:
    response = telegram_app.test_client().post(
        "/number/14155552671/vote", data=form, headers=SAME_SITE
    )

    assert response.status_code == status
    assert says in html(response)
    assert stored_votes(telegram_app) == []


@pytest.mark.parametrize("digits", ["14155550000", "447700900123", "abc", "+14155552671"])
def test_votes_for_numbers_we_do_not_host_are_404(telegram_app: Flask, digits: str) -> None:
    response = vote(telegram_app.test_client(), digits=digits)

    assert response.status_code == 404
    assert stored_votes(telegram_app) == []


def test_votes_for_a_retired_number_are_404(telegram_app: Flask) -> None:
    with telegram_app.app_context():
        provisioning.retire(US)

    assert vote(telegram_app.test_client()).status_code == 404
    assert stored_votes(telegram_app) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost.evil.example"},
        {"Referer": "https://evil.example/number/14155552671"},
        {},
    ],
)
def test_no_vote_from_another_site_or_without_an_origin(
    telegram_app: Flask, headers: dict[str, str]
) -> None:
    response = vote(telegram_app.test_client(), headers=headers)

    assert response.status_code == 403
    assert "Votes are taken from this site" in html(response)
    assert stored_votes(telegram_app) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://sms.example.com"},
        {"Referer": "http://localhost/number/14155552671"},
    ],
)
def test_votes_from_our_own_origin_or_referer_count(
    telegram_app: Flask, headers: dict[str, str]
) -> None:
    assert vote(telegram_app.test_client(), headers=headers).status_code == 303
    assert len(stored_votes(telegram_app)) == 1


def test_a_vote_on_a_language_page_goes_back_to_that_language(telegram_app: Flask) -> None:
    response = vote(telegram_app.test_client(), prefix="/es")

    assert response.status_code == 303
    assert response.headers["Location"] == "/es/number/14155552671?voted=telegram#votes"


def test_votes_are_deleted_with_their_number(telegram_app: Flask) -> None:
    vote(telegram_app.test_client())

    with telegram_app.app_context():
        db.session.execute(Number.__table__.delete().where(Number.e164 == US))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


# The number page stays light


@pytest.fixture
def statements(telegram_app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs while the test watches."""
    seen: list[str] = []
    with telegram_app.app_context():
        engine = db.engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_number_page_reads_votes_in_one_grouped_query(
    telegram_app: Flask, statements: list[str]
) -> None:
    client = telegram_app.test_client()
    vote(client)
    statements.clear()

    client.get("/number/14155552671")

    # One grouped query for the tallies (the ETag reads only a count in the number's query).
    grouped = [s for s in statements if re.search(r"\bvotes\b", s) and "GROUP BY" in s]
    assert len(grouped) == 1


@pytest.mark.usefixtures("frozen_minute")
def test_number_page_etag_changes_after_a_vote(telegram_app: Flask) -> None:
    client = telegram_app.test_client()
    etag = client.get("/number/14155552671").headers["ETag"]
    assert client.get("/number/14155552671", headers={"If-None-Match": etag}).status_code == 304

    vote(client)
    again = client.get("/number/14155552671", headers={"If-None-Match": etag})

    assert again.status_code == 200 and "✓ 1 worked" in vote_panel(html(again))


def test_the_confirmation_page_is_never_cached(telegram_app: Flask) -> None:
    client = telegram_app.test_client()

    confirmed = client.get(vote(client).headers["Location"])
    plain = client.get("/number/14155552671")

    assert confirmed.headers["Cache-Control"] == "no-store"
    assert plain.headers["Cache-Control"].startswith("public")
