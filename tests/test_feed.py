"""The JSON feed: shapes, paging, filters, errors, rate limits, ETags and CORS."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from webapp.apikeys import create_key, revoke_key
from webapp.extensions import db
from webapp.feed import params, serializers
from webapp.feed.params import BadParameter, Window
from webapp.models import Message, Number
from webapp.numbers.queries import CountryRow
from webapp.numbers.service import provision, retire

US = "+14155552671"
GB = "+442079460123"
GG = "+447911123456"
FR = "+33612345678"
UNROUTED = "+12025550143"
SENDER = "+447400123456"
SITE = "https://sms.example.com"
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RATELIMIT_HEADERS = (
    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
    "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
)
_ids = itertools.count(1)

MakeApp = Callable[..., Flask]


def feed_app(make_app: MakeApp, *numbers: str, **overrides: Any) -> Flask:
    """An app accepting unsigned generic webhooks, with `numbers` provisioned."""
    app = make_app({"WEBHOOK_ALLOW_UNSIGNED": True, **overrides})
    with app.app_context():
        for number in numbers:
            provision(number)
    return app


def send(client: FlaskClient, to: str = US, text: str = "Your code is 123456",
         sender: str = SENDER) -> None:
    """Deliver one SMS through the generic webhook."""
    payload = {"type": "sms.received", "timestamp": "2025-03-14T09:26:53Z",
               "data": {"id": f"msg-{next(_ids)}", "from": sender, "to": to, "text": text}}
    response = client.post("/webhooks/generic", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)


def ids(response) -> list[int]:
    """The message ids of a list response."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["data"]]


def assert_problem(response, status: int, *words: str) -> dict[str, Any]:
    """An RFC 9457 problem with `status` whose detail mentions every word."""
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    for word in words:
        assert word in body["detail"]
    return body


def set_received_at(app: Flask, message_id: int, when: datetime) -> None:
    """Move one stored message in time."""
    with app.app_context():
        db.session.execute(update(Message).where(Message.id == message_id).values(received_at=when))
        db.session.commit()


# --- serializers and parameters, bare -------------------------------------------------


def test_message_json_has_the_contract_fields() -> None:
    message = Message(id=7, recipient=US, sender="TELEGRAM", body="Code: 4242 <b>",
                      body_html="Code: <mark>4242</mark> &lt;b&gt;", code="4242",
                      received_at=datetime(2025, 3, 14, 9, 26, 53, 123456, tzinfo=UTC))
    assert serializers.message_json(message) == {
        "id": 7, "to": US, "from": "TELEGRAM", "body": "Code: 4242 <b>",
        "body_html": "Code: <mark>4242</mark> &lt;b&gt;", "code": "4242",
        "received_at": "2025-03-14T09:26:53.123Z",
    }


def test_number_json_links_the_page_and_the_messages() -> None:
    number = Number(e164=GB, country="GB", status="active", last_message_at=None)
    assert serializers.number_json(number, SITE) == {
        "number": GB, "digits": "442079460123", "country": "GB",
        "formatted": "+44 20 7946 0123", "status": "active", "last_message_at": None,
        "url": f"{SITE}/number/442079460123",
        "messages_url": f"{SITE}/api/v1/numbers/442079460123/messages",
    }


def test_country_json_names_the_country() -> None:
    row = CountryRow("GB", 3, datetime(2025, 3, 14, 9, 0, tzinfo=UTC))
    assert serializers.country_json(row, SITE) == {
        "country": "GB", "name": "United Kingdom", "numbers": 3,
        "last_message_at": "2025-03-14T09:00:00.000Z", "url": f"{SITE}/country/gb",
        "numbers_url": f"{SITE}/api/v1/numbers?country=GB",
    }


def test_listing_and_page_url() -> None:
    assert serializers.listing([]) == {"data": [], "next": None, "next_before": None}
    url = serializers.page_url(SITE, "/api/v1/messages",
                               {"country": None, "limit": 50, "before": 9, "since": None})
    assert url == f"{SITE}/api/v1/messages?limit=50&before=9"


def test_parse_window_defaults_caps_and_since_forms() -> None:
    assert params.parse_window({}) == Window(50, None, None)
    assert params.parse_window({"limit": "500", "before": "12", "since": "3"}) == Window(100, 12, 3)
    window = params.parse_window({"since": "2025-03-14T10:26:53+01:00", "limit": ""})
    assert window.since == datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
    assert window.query() == {"limit": 50, "before": None, "since": "2025-03-14T09:26:53.000Z"}
    assert params.country_arg({"country": "gb"}) == "GB"
    assert params.country_arg({"country": "001"}) == "001"


@pytest.mark.parametrize("name,value", [
    ("limit", "0"), ("limit", "-1"), ("limit", "ten"), ("limit", "1.5"),
    ("before", "abc"), ("before", "-5"), ("before", "99999999999999999999"),
    ("since", "yesterday"), ("since", "2025-03-14T09:26:53"), ("since", "2025-13-01T00:00:00Z"),
    ("country", "XX"), ("country", "GBR"), ("country", "1"),
])
def test_bad_parameters_are_refused_by_name(name: str, value: str) -> None:
    parse = params.country_arg if name == "country" else params.parse_window
    with pytest.raises(BadParameter) as caught:
        parse({name: value})
    assert caught.value.name == name and name in str(caught.value)


# --- endpoints: shapes and content ------------------------------------------------------


def test_countries_lists_countries_of_active_numbers(make_app: MakeApp) -> None:
    app = feed_app(make_app, US, GB, GG, FR, "+12025550100")
    with app.app_context():
        retire(FR)
    client = app.test_client()
    send(client, to=GB)
    body = client.get("/api/v1/countries").get_json()
    assert body["next"] is None and body["next_before"] is None
    by_code = {row["country"]: row for row in body["data"]}
    assert sorted(by_code) == ["GB", "GG", "US"]
    assert by_code["US"]["numbers"] == 2 and by_code["US"]["last_message_at"] is None
    assert by_code["GB"]["name"] == "United Kingdom" and by_code["GG"]["name"] == "Guernsey"
    assert RFC3339_UTC.match(by_code["GB"]["last_message_at"])
    assert by_code["GB"]["numbers_url"] == f"{SITE}/api/v1/numbers?country=GB"


def test_numbers_lists_active_numbers_and_filters_by_country(make_app: MakeApp) -> None:
    app = feed_app(make_app, US, GB, GG, FR)
    with app.app_context():
        retire(FR)
    client = app.test_client()
    send(client, to=GB)
    listed = client.get("/api/v1/numbers").get_json()["data"]
    assert [n["number"] for n in listed][0] == GB  # most recently used first
    assert sorted(n["number"] for n in listed) == sorted([US, GB, GG])
    gb = listed[0]
    assert gb["digits"] == "442079460123" and gb["country"] == "GB"
    assert gb["formatted"] == "+44 20 7946 0123" and gb["status"] == "active"
    assert gb["url"] == f"{SITE}/number/442079460123"
    assert RFC3339_UTC.match(gb["last_message_at"])
    for country in ("GB", "gb"):
        only = client.get(f"/api/v1/numbers?country={country}").get_json()["data"]
        assert [n["number"] for n in only] == [GB]
    assert client.get("/api/v1/numbers?country=FR").get_json()["data"] == []


def test_one_number(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    body = client.get("/api/v1/numbers/14155552671").get_json()
    assert body["number"] == US and body["country"] == "US"
    assert body["messages_url"] == f"{SITE}/api/v1/numbers/14155552671/messages"


def test_other_spellings_of_a_number_redirect_to_its_digits(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    response = client.get("/api/v1/numbers/001%20415%20555%202671/messages?limit=5")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/api/v1/numbers/14155552671/messages?limit=5")


def test_unknown_and_retired_numbers(make_app: MakeApp) -> None:
    app = feed_app(make_app, US, FR)
    client = app.test_client()
    send(client, to=FR)
    with app.app_context():
        retire(FR)
    for path in ("", "/messages"):
        assert_problem(client.get(f"/api/v1/numbers/12025550143{path}"), 404, "+12025550143")
        assert_problem(client.get(f"/api/v1/numbers/123{path}"), 404, "not a phone number")
        gone = assert_problem(client.get(f"/api/v1/numbers/33612345678{path}"), 410, "retired")
        assert gone["number"] == FR
    assert client.get("/api/v1/messages").get_json()["data"] == []


def test_messages_have_the_contract_shape(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    send(client, text="Your code is 123456 <script>alert(1)</script>", sender="TELEGRAM")
    send(client, text="hello", sender="+44 7400 123456")
    for url in ("/api/v1/messages", "/api/v1/numbers/14155552671/messages"):
        newest, oldest = client.get(url).get_json()["data"]
        assert set(oldest) == {"id", "to", "from", "body", "body_html", "code", "received_at"}
        assert oldest["to"] == US and oldest["from"] == "TELEGRAM"
        assert oldest["body"] == "Your code is 123456 <script>alert(1)</script>"
        assert "<script>" not in oldest["body_html"] and "&lt;script&gt;" in oldest["body_html"]
        assert oldest["code"] == "123456" and newest["code"] is None
        assert newest["from"] == SENDER and newest["id"] > oldest["id"]
        assert RFC3339_UTC.match(oldest["received_at"])


def test_unrouted_messages_never_appear(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    send(client, to=UNROUTED, text="not for anyone")
    send(client, to=US, text="for US")
    assert [m["body"] for m in client.get("/api/v1/messages").get_json()["data"]] == ["for US"]
    assert_problem(client.get("/api/v1/numbers/12025550143/messages"), 404)
    assert UNROUTED not in client.get("/api/v1/numbers").get_data(as_text=True)


def test_messages_filter_by_country(make_app: MakeApp) -> None:
    client = feed_app(make_app, US, GB, GG).test_client()
    for to in (US, GB, GG, GB):
        send(client, to=to)
    for country in ("GB", "gb"):
        data = client.get(f"/api/v1/messages?country={country}").get_json()["data"]
        assert [m["to"] for m in data] == [GB, GB]
    assert len(ids(client.get("/api/v1/messages"))) == 4
    assert ids(client.get("/api/v1/messages?country=DE")) == []


# --- paging and polling ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/messages", "/api/v1/numbers/14155552671/messages"])
def test_paging_gives_every_message_once(make_app: MakeApp, url: str) -> None:
    app = feed_app(make_app, US)
    client = app.test_client()
    for _ in range(120):
        send(client)
    with app.app_context():
        expected = list(db.session.scalars(select(Message.id).order_by(Message.id.desc())))
    assert ids(client.get(url)) == expected[:50]  # the default limit
    first = client.get(f"{url}?limit=500")
    body = first.get_json()
    assert len(body["data"]) == 100  # the cap
    assert body["next_before"] == body["data"][-1]["id"]
    assert body["next"] == f"{SITE}{url}?limit=100&before={body['next_before']}"
    assert first.headers["Link"] == f'<{body["next"]}>; rel="next"'
    second = client.get(body["next"]).get_json()
    assert len(second["data"]) == 20
    assert second["next"] is None and second["next_before"] is None
    assert [m["id"] for m in body["data"] + second["data"]] == expected


def test_small_pages_follow_without_gaps(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    for _ in range(7):
        send(client)
    everything = ids(client.get("/api/v1/messages"))
    url, seen = "/api/v1/messages?limit=3", []
    while url:
        body = client.get(url).get_json()
        assert len(body["data"]) <= 3
        seen += [m["id"] for m in body["data"]]
        url = body["next"]
    assert seen == everything


def test_since_an_id_gives_newer_messages(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    for _ in range(5):
        send(client)
    everything = ids(client.get("/api/v1/messages"))
    since = everything[2]
    assert ids(client.get(f"/api/v1/messages?since={since}")) == everything[:2]
    assert ids(client.get(f"/api/v1/numbers/14155552671/messages?since={everything[0]}")) == []
    body = client.get(f"/api/v1/messages?since={everything[-1]}&limit=2").get_json()
    assert body["next"].endswith(f"?limit=2&before={everything[1]}&since={everything[-1]}")
    assert ids(client.get(body["next"])) == everything[2:4]


def test_since_a_timestamp_gives_messages_received_after_it(make_app: MakeApp) -> None:
    app = feed_app(make_app, US)
    client = app.test_client()
    for _ in range(3):
        send(client)
    newest, middle, oldest = ids(client.get("/api/v1/messages"))
    base = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    for offset, message_id in enumerate((oldest, middle, newest)):
        set_received_at(app, message_id, base + timedelta(minutes=offset))
    assert ids(client.get("/api/v1/messages?since=2025-03-14T09:00:00Z")) == [newest, middle]
    assert ids(client.get("/api/v1/messages?since=2025-03-14T10:01:30%2B01:00")) == [newest]
    url = "/api/v1/numbers/14155552671/messages?since=2025-03-14T08:59:59.999Z"
    assert ids(client.get(url)) == [newest, middle, oldest]


@pytest.mark.parametrize("query,parameter", [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("before=x", "before"),
    ("since=2025-03-14", "since"), ("since=soon", "since"), ("country=ZZZ", "country"),
])
def test_bad_parameters_answer_400_problems(make_app: MakeApp, query: str, parameter: str) -> None:
    client = feed_app(make_app, US).test_client()
    url = "/api/v1/numbers" if parameter == "country" else "/api/v1/numbers/14155552671/messages"
    for path in (url, "/api/v1/messages"):
        body = assert_problem(client.get(f"{path}?{query}"), 400, parameter)
        assert body["parameter"] == parameter


def test_unknown_api_routes_are_problems(make_app: MakeApp) -> None:
    client = feed_app(make_app).test_client()
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    response = client.post("/api/v1/messages")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


# --- rate limits ------------------------------------------------------------------------


def test_past_the_limit_answers_429_with_retry_after(make_app: MakeApp) -> None:
    client = feed_app(make_app, US, FEED_RATE_LIMIT="3/minute").test_client()
    paths = ["/api/v1/countries", "/api/v1/numbers", "/api/v1/messages"]
    remaining = [client.get(path).headers["X-RateLimit-Remaining"] for path in paths]
    assert remaining == ["2", "1", "0"]  # one budget for the whole feed
    response = client.get("/api/v1/numbers/14155552671")
    body = assert_problem(response, 429, "3/minute")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Remaining"] == "0"
    assert response.headers["Cache-Control"] == "no-store"
    assert body["type"] == "about:blank"


def test_ratelimit_headers_on_200_304_and_429(make_app: MakeApp) -> None:
    client = feed_app(make_app, US, FEED_RATE_LIMIT="3/minute").test_client()
    ok = client.get("/api/v1/messages")
    unchanged = client.get("/api/v1/messages", headers={"If-None-Match": ok.headers["ETag"]})
    client.get("/api/v1/messages")
    limited = client.get("/api/v1/messages")
    assert [r.status_code for r in (ok, unchanged, limited)] == [200, 304, 429]
    for response in (ok, unchanged, limited):
        for name in RATELIMIT_HEADERS:
            assert response.headers.get(name), (response.status_code, name)
        assert response.headers["X-RateLimit-Limit"] == response.headers["RateLimit-Limit"] == "3"
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 61
    assert [r.headers["RateLimit-Remaining"] for r in (ok, unchanged)] == ["2", "1"]


def test_each_client_address_has_its_own_budget(make_app: MakeApp) -> None:
    client = feed_app(make_app, FEED_RATE_LIMIT="2/minute").test_client()
    first = {"REMOTE_ADDR": "198.51.100.1"}
    second = {"REMOTE_ADDR": "198.51.100.2"}
    for _ in range(2):
        assert client.get("/api/v1/countries", environ_overrides=first).status_code == 200
    assert client.get("/api/v1/countries", environ_overrides=first).status_code == 429
    response = client.get("/api/v1/countries", environ_overrides=second)
    assert response.status_code == 200 and response.headers["X-RateLimit-Remaining"] == "1"


def test_webhooks_are_not_counted_against_the_feed(make_app: MakeApp) -> None:
    client = feed_app(make_app, US, FEED_RATE_LIMIT="2/minute").test_client()
    for _ in range(5):
        send(client)
    statuses = [client.get("/api/v1/messages").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    send(client)  # webhooks still go through past the feed limit
    webhook = client.post("/webhooks/generic", json={"type": "sms.received"})
    assert "X-RateLimit-Limit" not in webhook.headers


def test_an_api_key_gets_the_keyed_limit(make_app: MakeApp) -> None:
    app = feed_app(make_app, FEED_RATE_LIMIT="1/minute", FEED_RATE_LIMIT_KEYED="4/minute")
    with app.app_context():
        _, plain = create_key("partner")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {plain}"}
    responses = [client.get("/api/v1/countries", headers=auth) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "4"
    assert responses[0].headers["Cache-Control"] == "private, max-age=10"
    assert "4/minute" in responses[-1].get_json()["detail"]
    anonymous = client.get("/api/v1/countries")  # the address's own budget is untouched
    assert anonymous.status_code == 200 and anonymous.headers["X-RateLimit-Limit"] == "1"
    assert anonymous.headers["Cache-Control"] == "public, max-age=10"


def test_each_api_key_has_its_own_budget(make_app: MakeApp) -> None:
    app = feed_app(make_app, FEED_RATE_LIMIT_KEYED="1/minute")
    with app.app_context():
        keys = [create_key(name)[1] for name in ("one", "two")]
    client = app.test_client()
    for key in keys:
        assert client.get("/api/v1/countries", headers={"Authorization": f"Bearer {key}"}
                          ).status_code == 200


@pytest.mark.parametrize("header", ["Bearer sk_not-a-real-key", "Bearer revoked", "Basic dTpw",
                                    "Bearer"])
def test_invalid_or_revoked_keys_answer_401(make_app: MakeApp, header: str) -> None:
    app = feed_app(make_app)
    with app.app_context():
        _, plain = create_key("gone")
        revoke_key("gone")
    header = header.replace("revoked", plain)
    response = app.test_client().get("/api/v1/messages", headers={"Authorization": header})
    assert_problem(response, 401, "API key")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["X-RateLimit-Limit"] == "60"  # counted as anonymous, not served


def test_an_unreachable_limit_storage_does_not_fail_the_feed(make_app: MakeApp) -> None:
    client = feed_app(make_app, US, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0").test_client()
    response = client.get("/api/v1/messages")
    assert response.status_code == 200 and response.get_json()["data"] == []


# --- ETags, caching, CORS -----------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api/v1/countries", "/api/v1/numbers", "/api/v1/numbers/14155552671",
    "/api/v1/numbers/14155552671/messages", "/api/v1/messages?country=US",
])
def test_etags_answer_304_until_a_new_message(make_app: MakeApp, url: str) -> None:
    client = feed_app(make_app, US, GB).test_client()
    send(client)
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    assert first.headers["Cache-Control"] == "public, max-age=10"
    unchanged = client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == etag
    assert unchanged.get_data() == b""
    send(client, to=GB)  # another number's message changes /messages?country=US not
    if url.endswith("country=US"):
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    send(client)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_message_etags_follow_paging_arguments_and_retirement(make_app: MakeApp) -> None:
    app = feed_app(make_app, US, GB)
    client = app.test_client()
    send(client)
    send(client, to=GB)
    tags = {client.get(f"/api/v1/messages?{q}").headers["ETag"] for q in ("", "limit=1", "since=1")}
    assert len(tags) == 3
    etag = client.get("/api/v1/messages").headers["ETag"]
    with app.app_context():
        retire(GB)
    response = client.get("/api/v1/messages", headers={"If-None-Match": etag})
    assert response.status_code == 200 and [m["to"] for m in response.get_json()["data"]] == [US]


def test_head_answers_like_get_without_a_body(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    get, head = client.get("/api/v1/numbers"), client.head("/api/v1/numbers")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == get.headers["ETag"]


def test_cors_is_open_for_get(make_app: MakeApp) -> None:
    client = feed_app(make_app, US).test_client()
    origin = {"Origin": "https://app.example.org"}
    for response in (client.get("/api/v1/messages", headers=origin),
                     client.get("/api/v1/numbers/12025550143", headers=origin),
                     client.get("/api/v1/nothing", headers=origin)):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    exposed = client.get("/api/v1/messages").headers["Access-Control-Expose-Headers"]
    for name in ("ETag", "Link", "Retry-After", "RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in exposed


def test_cors_preflight_allows_the_key_and_conditional_requests(make_app: MakeApp) -> None:
    client = feed_app(make_app, US, FEED_RATE_LIMIT="1/minute").test_client()
    preflight = {"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization, if-none-match"}
    for _ in range(3):  # preflights are not counted against the limit
        response = client.options("/api/v1/numbers/14155552671/messages", headers=preflight)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed and "if-none-match" in allowed
    assert client.get("/api/v1/messages").status_code == 200


def test_pages_and_webhooks_carry_no_feed_headers(make_app: MakeApp) -> None:
    client = feed_app(make_app, US, FEED_RATE_LIMIT="1/minute").test_client()
    client.get("/api/v1/messages")
    for _ in range(3):
        response = client.post("/webhooks/generic", json={"type": "nope"})
        assert response.status_code != 429
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "X-RateLimit-Remaining" not in response.headers
