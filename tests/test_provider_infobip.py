"""Infobip adapter: HTTP Basic, `results[]` may carry several messages, each stored once."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import load_sample
from tests.signing import basic_authorization as basic
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.infobip import ADAPTER

OTP = load_sample("infobip", "otp_plain")
FORGED = load_sample("infobip", "forged_bad_basic_auth")
USER = OTP["env"]["INFOBIP_USERNAME"]
PASSWORD = OTP["env"]["INFOBIP_PASSWORD"]
CTX = VerifyContext(secrets=OTP["env"], now=0)


def request(body: bytes | str = OTP["body"], authorization: str | None = None) -> WebhookRequest:
    """A POST to the Infobip route with the right credentials unless told otherwise."""
    auth = basic(USER, PASSWORD) if authorization is None else authorization
    data = body.encode() if isinstance(body, str) else body
    return WebhookRequest("POST", OTP["url"], b"", {"Authorization": auth}, data,
                          "application/json")


def result(msg_id: str = "800000000000000001", **fields) -> dict:
    """One element of `results`, shaped like Infobip's MO_JSON_2."""
    base = {"messageId": msg_id, "from": "447400123456", "to": "4915112345678",
            "text": "Your code is 6060", "cleanText": "Your code is 6060", "keyword": "",
            "receivedAt": "2025-03-14T09:26:53.220+0000", "smsCount": 1,
            "price": {"pricePerMessage": 0, "currency": "EUR"}, "callbackData": None}
    return {**base, **fields}


def dumps(*results: object, **top) -> bytes:
    """A JSON body with these results."""
    body = {"results": list(results), "messageCount": len(results), "pendingMessageCount": 0}
    return json.dumps({**body, **top}).encode()


# --- Basic credentials ------------------------------------------------------------------------


def test_sample_verifies_and_parses() -> None:
    req = request(authorization=OTP["headers"]["Authorization"])
    ADAPTER.verify(req, CTX)
    [sms] = ADAPTER.parse(req)
    expect = OTP["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text, sms.segments) == (
        expect["provider_id"], expect["from_raw"], "4915112345678", expect["text"], 1)


def test_forged_sample_is_refused() -> None:
    with pytest.raises(SignatureError, match="wrong"):
        ADAPTER.verify(request(authorization=FORGED["headers"]["Authorization"]), CTX)


@pytest.mark.parametrize(
    ("user", "password"),
    [(USER, "nope"), ("infobip", PASSWORD), (USER, PASSWORD[:-1]), (USER + " ", PASSWORD),
     (USER, ""), ("", ""), (PASSWORD, USER)],
)
def test_wrong_credentials_are_refused(user: str, password: str) -> None:
    with pytest.raises(SignatureError, match="wrong"):
        ADAPTER.verify(request(authorization=basic(user, password)), CTX)


@pytest.mark.parametrize(
    "header",
    [
        "", "Basic", "Basic    ", "Token " + basic(USER, PASSWORD)[6:], "Basic ===",
        "Basic aW5mb2JpcC1tbw==",  # no colon
        "Basic aW5mb2JpcC1tbzpJYjc4ODIxY2Q3ODc3NDQ0YmRiNQ",  # truncated padding
        "Basic aW5mb2JpcC1tbzpJYjc4ODIxY2Q3ODc3NDQ0YmRiNQ=%3D",  # URL-encoded
        "Basic " + base64.b64encode(b"infobip-mo:\xc3\x28").decode(),  # invalid UTF-8
        "Basic ñ", "Basic\t" + basic(USER, PASSWORD)[6:],
    ],
)
def test_malformed_authorization_is_a_signature_error(header: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request(authorization=header), CTX)


def test_both_secrets_are_required() -> None:
    ctx = VerifyContext(secrets={"INFOBIP_PASSWORD": PASSWORD}, now=0)
    with pytest.raises(NotConfigured, match="INFOBIP_USERNAME"):
        ADAPTER.verify(request(), ctx)


# --- results and payloads ---------------------------------------------------------------------


def test_every_result_is_a_message_in_order() -> None:
    body = dumps(result("a-1"), result("a-2", text="Second: 7070", smsCount=2),
                 result("a-3", **{"from": "InfoSMS"}))
    messages = ADAPTER.parse(request(body))
    assert [(m.provider_id, m.sender, m.text, m.segments) for m in messages] == [
        ("a-1", "447400123456", "Your code is 6060", 1),
        ("a-2", "447400123456", "Second: 7070", 2),
        ("a-3", "InfoSMS", "Your code is 6060", 1),
    ]


def test_text_with_keyword_is_kept_whole() -> None:
    body = dumps(result(text="CODE 4321", cleanText="4321", keyword="CODE"))
    assert [m.text for m in ADAPTER.parse(request(body))] == ["CODE 4321"]


def test_empty_results_store_nothing() -> None:
    assert ADAPTER.parse(request(dumps())) == []


def test_sms_count_is_optional() -> None:
    r = result()
    del r["smsCount"]
    assert [m.segments for m in ADAPTER.parse(request(dumps(r)))] == [None]


def _without(field: str) -> bytes:
    r = result()
    del r[field]
    return dumps(r)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (json.dumps([result()]).encode(), "JSON object"),
        (b'"results"', "JSON object"),
        (b"{}", "results"),
        (json.dumps({"results": result()}).encode(), "results"),
        (dumps("not an object"), r"results\[0\] must be a JSON object"),
        (dumps(result(), None), r"results\[1\] must be a JSON object"),
        (_without("messageId"), r"results\[0\]\.messageId"),
        (_without("from"), r"results\[0\]\.from"),
        (_without("to"), r"results\[0\]\.to"),
        (_without("text"), r"results\[0\]\.text"),
        (dumps(result(messageId=416533214022207864)), "messageId"),
        (dumps(result(to=4915112345678)), r"\.to"),
        (dumps(result(text=["a"])), r"\.text"),
        (dumps(result(), result("x", **{"from": " "})), r"results\[1\]\.from"),
        (dumps(result(smsCount="1")), "smsCount"),
        (dumps(result(smsCount=False)), "smsCount"),
        (dumps(result(smsCount=-1)), "smsCount"),
        (dumps(result(smsCount=2**40)), "smsCount"),
        (b'{"results": [{"smsCount": Infinity}]}', "Infinity"),
        (b'{"results": [], "results": [{}]}', "more than once"),
        (b'{"results": [{"text": "\xe9"}]}', "UTF-8"),
        (b'{"results": ' + b"[" * 40 + b"]" * 40 + b"}", "nested"),
        (b"{", "not valid JSON"),
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
    """POST a body to the Infobip route with the right credentials unless told otherwise."""
    auth = basic(USER, PASSWORD) if authorization is None else authorization
    return app.test_client().post("/webhooks/infobip", data=body,
                                  headers={"Authorization": auth},
                                  content_type="application/json")


def test_retry_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    first, again = post_sample(app, OTP), post_sample(app, OTP)
    assert first.status_code == again.status_code == 200
    assert [m.provider_id for m in stored_messages(app)] == [OTP["expect"]["provider_id"]]


def test_several_results_are_each_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    body = dumps(result("m-1"), result("m-2", text="Your code is 1212"))
    assert post(app, body).status_code == 200
    # a retry that repeats one message and adds a new one stores only the new one
    again = dumps(result("m-2", text="Your code is 1212"), result("m-3", text="Code 3434"))
    assert post(app, again).status_code == 200
    rows = stored_messages(app)
    assert [(m.provider_id, m.code, m.recipient) for m in rows] == [
        ("m-1", "6060", "+4915112345678"), ("m-2", "1212", "+4915112345678"),
        ("m-3", "3434", "+4915112345678")]


@pytest.mark.parametrize(
    ("authorization", "body"),
    [
        ("", OTP["body"].encode()),
        (FORGED["headers"]["Authorization"], OTP["body"].encode()),
        ("Basic aW5mb2JpcC1tbw==", OTP["body"].encode()),
        ("Basic %%%", OTP["body"].encode()),
        (None, json.dumps([result()]).encode()),
        (None, b"\xff"),
        (None, b'{"results": [{"smsCount": NaN}]}'),
        (None, dumps(result("ok-1"), result("bad", text=None))),
    ],
    ids=["no-credentials", "wrong-password", "no-colon", "bad-base64", "array-not-object",
         "non-utf8-body", "nan", "one-bad-result"],
)
def test_malformed_requests_are_4xx_and_store_nothing(make_app, frozen_clock, authorization,
                                                      body) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    resp = post(app, body, authorization)
    assert 400 <= resp.status_code < 500
    assert stored_messages(app) == []
