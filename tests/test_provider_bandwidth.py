"""Bandwidth adapter: HTTP Basic, a JSON array of events, only `message-received` stored."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import load_sample
from tests.signing import basic_authorization as basic
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers.bandwidth import ADAPTER
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.basic_auth import basic_credentials

OTP = load_sample("bandwidth", "otp_plain")
FORGED = load_sample("bandwidth", "forged_bad_basic_auth")
USER = OTP["env"]["BANDWIDTH_USERNAME"]
PASSWORD = OTP["env"]["BANDWIDTH_PASSWORD"]
CTX = VerifyContext(secrets=OTP["env"], now=0)


def request(body: bytes | str = OTP["body"], authorization: str | None = None) -> WebhookRequest:
    """A POST to the Bandwidth route with the right credentials unless told otherwise."""
    auth = basic(USER, PASSWORD) if authorization is None else authorization
    data = body.encode() if isinstance(body, str) else body
    return WebhookRequest("POST", OTP["url"], b"", {"Authorization": auth}, data,
                          "application/json")


def event(kind: str = "message-received", msg_id: str = "17419444bw0001", **message) -> dict:
    """One callback event, shaped like Bandwidth's."""
    body = {"id": msg_id, "owner": "+16175551234", "applicationId": "e8f6582a",
            "time": "2025-03-14T09:26:53.521Z", "segmentCount": 1, "direction": "in",
            "to": ["+16175551234"], "from": "+12125551234", "text": "Your code is 5150"}
    return {"type": kind, "time": "2025-03-14T09:26:53.682Z", "description": kind,
            "to": "+16175551234", "message": {**body, **message}}


def dumps(events: object) -> bytes:
    """A JSON body."""
    return json.dumps(events).encode()


# --- Basic credentials ------------------------------------------------------------------------


def test_sample_verifies_and_parses() -> None:
    req = request(authorization=OTP["headers"]["Authorization"])
    ADAPTER.verify(req, CTX)
    [sms] = ADAPTER.parse(req)
    expect = OTP["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text, sms.segments) == (
        expect["provider_id"], expect["from_raw"], expect["to"], expect["text"], 1)


def test_forged_sample_is_refused() -> None:
    with pytest.raises(SignatureError, match="wrong"):
        ADAPTER.verify(request(authorization=FORGED["headers"]["Authorization"]), CTX)


@pytest.mark.parametrize(
    ("user", "password"),
    [(USER, "guess"), ("someone", PASSWORD), (USER, PASSWORD + "x"), (USER + "x", PASSWORD),
     (USER, ""), ("", PASSWORD), (PASSWORD, USER), (USER.upper(), PASSWORD)],
)
def test_wrong_credentials_are_refused(user: str, password: str) -> None:
    with pytest.raises(SignatureError, match="wrong"):
        ADAPTER.verify(request(authorization=basic(user, password)), CTX)


@pytest.mark.parametrize(
    "header",
    [
        "", " ", "Basic", "Basic ", "Bearer " + basic(USER, PASSWORD)[6:],
        "Digest username=x", "Basic !!!", "Basic YnctY2FsbGJhY2tz",  # no colon
        "Basic YnctY2FsbGJhY2tzOkdxODdkYTg3MGU2ZTViZWU1Yjl",  # truncated: bad padding
        "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),  # not UTF-8
        "Basic " + base64.urlsafe_b64encode(b"\xfb\xff:?>").decode(),  # URL-safe alphabet
        "Basic é", "Basic \x00", basic(USER, PASSWORD) + " extra",
    ],
)
def test_malformed_authorization_is_a_signature_error(header: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request(authorization=header), CTX)


def test_missing_authorization_is_refused() -> None:
    req = WebhookRequest("POST", OTP["url"], b"", {}, OTP["body"].encode())
    with pytest.raises(SignatureError, match="missing"):
        ADAPTER.verify(req, CTX)


def test_scheme_is_case_insensitive_and_password_may_hold_colons() -> None:
    ADAPTER.verify(request(authorization="basic" + basic(USER, PASSWORD)[5:]), CTX)
    ctx = VerifyContext(secrets={**OTP["env"], "BANDWIDTH_PASSWORD": "a:b:c"}, now=0)
    ADAPTER.verify(request(authorization=basic(USER, "a:b:c")), ctx)
    assert basic_credentials(basic("ü", "p:q")) == ("ü".encode(), b"p:q")


def test_both_secrets_are_required() -> None:
    ctx = VerifyContext(secrets={"BANDWIDTH_USERNAME": USER}, now=0)
    with pytest.raises(NotConfigured, match="BANDWIDTH_PASSWORD"):
        ADAPTER.verify(request(), ctx)
    assert ADAPTER.secret_names == ("BANDWIDTH_USERNAME", "BANDWIDTH_PASSWORD")


# --- events and payloads ----------------------------------------------------------------------


def test_other_event_types_are_acknowledged_and_store_nothing() -> None:
    receipts = [event("message-delivered"), event("message-failed", errorCode=4405)]
    assert ADAPTER.parse(request(dumps(receipts))) == []
    mixed = [event("message-delivered"), event(msg_id="in-1"), event("message-sending")]
    assert [sms.provider_id for sms in ADAPTER.parse(request(dumps(mixed)))] == ["in-1"]


def test_group_message_gives_one_message_per_event() -> None:
    events = [event(msg_id="g-1"), event(msg_id="g-2", owner="+16175559999")]
    messages = ADAPTER.parse(request(dumps(events)))
    assert [(m.provider_id, m.recipient) for m in messages] == [
        ("g-1", "+16175551234"), ("g-2", "+16175559999")]


def test_owner_missing_falls_back_to_the_event_recipient() -> None:
    ev = event()
    del ev["message"]["owner"]
    [sms] = ADAPTER.parse(request(dumps([ev])))
    assert sms.recipient == "+16175551234"


def test_mms_without_caption_has_empty_text() -> None:
    ev = event(media=["https://messaging.bandwidth.com/api/v2/users/1/media/a.jpg"])
    del ev["message"]["text"]
    [sms] = ADAPTER.parse(request(dumps([ev])))
    assert sms.text == ""


def _without(field: str) -> list:
    ev = event()
    del ev["message"][field]
    return [ev]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (dumps(event()), "JSON array"),
        (b'"message-received"', "JSON array"),
        (dumps(["message-received"]), r"\[0\] must be a JSON object"),
        (dumps([{"message": event()["message"]}]), r"\[0\]\.type"),
        (dumps([{"type": 5}]), r"\[0\]\.type"),
        (dumps([{"type": "message-received"}]), r"\[0\]\.message"),
        (dumps([event(), {"type": "message-received", "message": []}]), r"\[1\]\.message"),
        (dumps(_without("id")), r"\[0\]\.message\.id"),
        (dumps(_without("from")), r"\[0\]\.message\.from"),
        (dumps(_without("text")), r"\[0\]\.message\.text"),
        (dumps([event(id=12345)]), r"message\.id"),
        (dumps([event(**{"from": ["+1"]})]), r"message\.from"),
        (dumps([event(text=None)]), r"message\.text"),
        (dumps([event(owner="")]), r"message\.owner"),
        (dumps([event(segmentCount="1")]), "segmentCount"),
        (dumps([event(segmentCount=True)]), "segmentCount"),
        (dumps([event(segmentCount=0)]), "segmentCount"),
        (dumps([event(segmentCount=10**12)]), "segmentCount"),
        (dumps([event(segmentCount=1.5)]), "segmentCount"),
        (b'[{"type": "message-received", "message": {"segmentCount": NaN}}]', "NaN"),
        (b'[{"type": "message-received", "type": "message-delivered"}]', "more than once"),
        (b'[{"type": "message-received", "message": {"text": "\xff"}}]', "UTF-8"),
        (b"[" * 100 + b"]" * 100, "nested"),
        (b"", "not valid JSON"),
        (b"[{]", "not valid JSON"),
    ],
)
def test_malformed_payload_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(request(body))


def test_reply_is_an_empty_200() -> None:
    reply = ADAPTER.reply()
    assert (reply.status, reply.body) == (200, "")


# --- through the app --------------------------------------------------------------------------


def post(app, body: bytes, authorization: str | None = None):
    """POST a body to the Bandwidth route with the right credentials unless told otherwise."""
    auth = basic(USER, PASSWORD) if authorization is None else authorization
    return app.test_client().post("/webhooks/bandwidth", data=body,
                                  headers={"Authorization": auth},
                                  content_type="application/json; charset=utf-8")


def test_retry_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    first, again = post_sample(app, OTP), post_sample(app, OTP)
    assert first.status_code == again.status_code == 200
    assert [m.provider_id for m in stored_messages(app)] == [OTP["expect"]["provider_id"]]


def test_fresh_request_with_the_credentials_is_accepted(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    resp = post(app, dumps([event("message-delivered"), event(msg_id="fresh-1")]))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [row] = stored_messages(app)
    assert (row.provider_id, row.body, row.code, row.segments) == (
        "fresh-1", "Your code is 5150", "5150", 1)


def test_delivery_receipt_alone_is_acknowledged_and_stores_nothing(make_app, frozen_clock):
    app = sample_app(make_app, frozen_clock, OTP)
    assert post(app, dumps([event("message-delivered")])).status_code == 200
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    ("authorization", "body"),
    [
        ("", OTP["body"].encode()),
        (FORGED["headers"]["Authorization"], OTP["body"].encode()),
        ("Basic !!!", OTP["body"].encode()),
        ("Basic " + base64.b64encode(b"\xff:\xff").decode(), OTP["body"].encode()),
        (None, dumps(event())),
        (None, b"\xff\xfe"),
        (None, b'[{"type": "message-received", "type": "x"}]'),
        (None, dumps([event(), event(msg_id="")])),
    ],
    ids=["no-credentials", "wrong-password", "bad-base64", "non-utf8-credentials",
         "object-not-array", "non-utf8-body", "duplicate-key", "one-bad-event"],
)
def test_malformed_requests_are_4xx_and_store_nothing(make_app, frozen_clock, authorization,
                                                      body) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    resp = post(app, body, authorization)
    assert 400 <= resp.status_code < 500
    assert stored_messages(app) == []


def test_wrong_credentials_get_a_basic_challenge(make_app, frozen_clock) -> None:
    from tests.test_webhooks import post_sample, sample_app

    fx = load_sample("bandwidth", "forged_bad_basic_auth")
    resp = post_sample(sample_app(make_app, frozen_clock, fx), fx)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic ")
