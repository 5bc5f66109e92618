"""The webhook pipeline through the app: every shared sample, retries, refusals, failures."""

from __future__ import annotations

import html as htmlmod
import json
import pathlib
import re
import uuid
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import FrozenClock, all_samples, load_sample
from webapp.extensions import db
from webapp.models import Message, MessagePart
from webapp.numbers.service import provision
from webapp.providers import PROVIDERS
from webapp.providers.base import InboundSms, Part

SAMPLES = [p for p in all_samples() if p.parent.name in PROVIDERS]


def stored_messages(app: Flask) -> list[Message]:
    """Every stored message, oldest first."""
    with app.app_context():
        rows = list(db.session.scalars(select(Message).order_by(Message.id)))
        db.session.expunge_all()
        return rows


def post_sample(app: Flask, fx: dict):
    """Send a sample exactly as the provider did: method, raw path, headers, body bytes."""
    return app.test_client().open(
        fx["path_hint"], method=fx["method"], headers=fx["headers"], data=fx["body"].encode()
    )


def sample_app(make_app, frozen_clock: FrozenClock, fx: dict, **overrides) -> Flask:
    """An app configured with the sample's secrets, its recipient provisioned, clock set."""
    app = make_app({**fx["env"], **overrides})
    with app.app_context():
        provision(fx["expect"]["to"], fx["provider"])
    if fx["clock"] is not None:
        frozen_clock.set(fx["clock"])
    return app


def assert_reply(resp, fx: dict) -> None:
    """The reply body the provider needs back."""
    match = fx["expect"].get("reply_match")
    if match == "exact":
        assert resp.get_data(as_text=True).strip() == fx["expect"]["reply_body"]
    elif match == "empty-twiml":
        assert resp.mimetype in ("text/xml", "application/xml")
        root = ElementTree.fromstring(resp.get_data())
        assert root.tag == "Response" and len(root) == 0


def visible_text(html: str) -> str:
    """The text a visitor reads on a page (tags dropped, entities decoded)."""
    return htmlmod.unescape(re.sub(r"<[^>]*>", "", html))


def stored_parts(app: Flask) -> list[MessagePart]:
    """Every stored part of a long message."""
    with app.app_context():
        rows = list(db.session.scalars(select(MessagePart).order_by(MessagePart.id)))
        db.session.expunge_all()
        return rows


def post_remaining_parts(app: Flask, path: pathlib.Path, fx: dict) -> None:
    """Post the other parts of a multipart sample; each is accepted on its own."""
    [part] = stored_parts(app)
    assert (part.text, part.provider_id) == (fx["expect"]["text"], fx["expect"]["provider_id"])
    assert stored_messages(app) == []  # not shown until every part arrived
    for sibling in sorted(path.parent.glob("concat_part_*.json")):
        if sibling != path:
            other = json.loads(sibling.read_text(encoding="utf-8"))
            assert post_sample(app, other).status_code == 200


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_provider_sample(make_app, frozen_clock, path: pathlib.Path) -> None:
    fx = json.loads(path.read_text(encoding="utf-8"))
    expect = fx["expect"]
    app = sample_app(make_app, frozen_clock, fx)
    resp = post_sample(app, fx)
    assert str(resp.status_code)[0] == expect["status"][0], resp.get_data(as_text=True)
    if not expect["public"]:
        assert resp.status_code in (401, 403)
        assert stored_messages(app) == [] and stored_parts(app) == []
        return
    assert_reply(resp, fx)
    text = expect["text"]
    if "multipart" in expect:
        post_remaining_parts(app, path, fx)
        text = expect["reassembled_text"]
    [row] = stored_messages(app)
    assert (row.sender, row.sender_raw, row.recipient) == (
        expect["from"], expect["from_raw"], expect["to"])
    assert row.body == text
    if "multipart" not in expect:
        assert row.code == expect.get("code")
        assert row.provider_id == expect["provider_id"]
    digits = expect["to"].lstrip("+")
    feed = app.test_client().get(f"/api/v1/numbers/{digits}/messages").get_json()
    assert [(m["from"], m["to"], m["body"]) for m in feed["data"]] == [
        (expect["from"], expect["to"], text)]
    page = visible_text(app.test_client().get(f"/number/{digits}").get_data(as_text=True))
    assert text in page


@pytest.mark.parametrize("provider", ["twilio", "generic"])
def test_duplicate_delivery_is_stored_once(make_app, frozen_clock, provider: str) -> None:
    fx = load_sample(provider, "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    first, again = post_sample(app, fx), post_sample(app, fx)
    assert first.status_code == again.status_code == 200
    assert_reply(again, fx)
    assert len(stored_messages(app)) == 1


def test_stale_timestamp_is_refused_and_stores_nothing(make_app, frozen_clock) -> None:
    fx = load_sample("generic", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    frozen_clock.set(fx["clock"] + 301)
    resp = post_sample(app, fx)
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert stored_messages(app) == []


def test_provider_without_secret_refuses_everything(make_app, frozen_clock) -> None:
    fx = load_sample("twilio", "otp_plain")
    app = sample_app(make_app, frozen_clock, {**fx, "env": {}})
    resp = post_sample(app, fx)
    assert resp.status_code == 403
    assert "TWILIO_AUTH_TOKEN" in resp.get_json()["detail"]
    assert stored_messages(app) == []


def generic_body(to: str = "+34612345678", text: str = "Your code: 1234", **data) -> bytes:
    """An unsigned generic delivery."""
    payload = {"type": "sms.received", "timestamp": "2025-03-14T09:26:53Z",
               "data": {"id": uuid.uuid4().hex, "from": "+447400123456", "to": to,
                        "text": text, **data}}
    return json.dumps(payload).encode()


@pytest.fixture
def unsigned_app(make_app) -> Flask:
    """An app accepting unsigned deliveries, with +34612345678 provisioned."""
    app = make_app({"WEBHOOK_ALLOW_UNSIGNED": True})
    with app.app_context():
        provision("+34612345678", "generic")
    return app


def test_unsigned_allowed_when_the_operator_says_so(unsigned_app: Flask) -> None:
    resp = unsigned_app.test_client().post("/webhooks/generic", data=generic_body())
    assert resp.status_code == 200
    assert [m.code for m in stored_messages(unsigned_app)] == ["1234"]


def test_message_to_unprovisioned_number_is_kept_but_not_public(unsigned_app: Flask) -> None:
    resp = unsigned_app.test_client().post(
        "/webhooks/generic", data=generic_body(to="+447700900123"))
    assert resp.status_code == 200
    [row] = stored_messages(unsigned_app)
    assert (row.number_id, row.recipient) == (None, "+447700900123")
    feed = unsigned_app.test_client().get("/api/v1/messages").get_json()
    assert feed["data"] == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"not json", "not valid JSON"),
        (b'{"type": "sms.received", "data": {"id": "1", "from": "+44", "to": "+34"}}',
         "data.text"),
        (b'{"type": "other"}', "type"),
        (b'{"type": "sms.received", "data": {"id": 1, "from": "a", "to": "b", "text": ""}}',
         "data.id"),
        (b'{"a": NaN}', "NaN"),
        (b"[" * 5000 + b"]" * 5000, "nested"),
    ],
)
def test_malformed_payload_is_400_with_a_json_error(unsigned_app, body, detail) -> None:
    resp = unsigned_app.test_client().post("/webhooks/generic", data=body)
    assert resp.status_code == 400
    assert detail in resp.get_json()["detail"]
    assert stored_messages(unsigned_app) == []


def test_nul_and_lone_surrogates_are_stored_visibly_not_a_500(unsigned_app: Flask) -> None:
    body = generic_body(text="a\x00b").replace(b"a\\u0000b", b"a\\u0000b\\ud800c")
    resp = unsigned_app.test_client().post("/webhooks/generic", data=body)
    assert resp.status_code == 200
    assert [m.body for m in stored_messages(unsigned_app)] == ["a\ufffdb\ufffdc"]


def test_sender_too_long_is_400(unsigned_app: Flask) -> None:
    resp = unsigned_app.test_client().post(
        "/webhooks/generic", data=generic_body(**{"from": "x" * 500}))
    assert resp.status_code == 400
    assert "sender" in resp.get_json()["detail"]


def test_body_over_the_limit_is_413(unsigned_app: Flask) -> None:
    resp = unsigned_app.test_client().post(
        "/webhooks/generic", data=generic_body(text="x" * 70000))
    assert resp.status_code == 413
    assert stored_messages(unsigned_app) == []


def test_unknown_provider_is_404(unsigned_app: Flask) -> None:
    resp = unsigned_app.test_client().post("/webhooks/nope", data=generic_body())
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"


def test_database_failure_is_a_5xx_so_the_carrier_retries(unsigned_app, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    def broken(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(db.session, "commit", broken)
    resp = unsigned_app.test_client().post("/webhooks/generic", data=generic_body())
    assert resp.status_code == 503
    assert resp.headers["Retry-After"]
    monkeypatch.undo()
    assert stored_messages(unsigned_app) == []


def _part(ref: str, number: int, text: str) -> InboundSms:
    return InboundSms(provider_id=f"{ref}-{number}", sender="447400123456",
                      recipient="34612345678", text=text, part=Part(ref, 3, number))


def test_parts_are_kept_and_joined_in_part_order_once_all_arrived(unsigned_app: Flask) -> None:
    from webapp.ingest.service import record_inbound

    with unsigned_app.app_context():
        for number, text in [(3, "three"), (1, "one ")]:
            record_inbound("generic", _part("r1", number, text))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
        assert db.session.scalar(select(func.count()).select_from(MessagePart)) == 2
        record_inbound("generic", _part("r1", 1, "one "))  # a retry: nothing new
        record_inbound("generic", _part("r1", 2, "two "))
        db.session.commit()
    [row] = stored_messages(unsigned_app)
    assert (row.body, row.segments, row.sender) == ("one two three", 3, "+447400123456")
