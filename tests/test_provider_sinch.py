"""Sinch adapter: HMAC-SHA256 over `body.nonce.timestamp`, MO messages only; bare and in the app."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import load_sample
from tests.signing import sinch_headers
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers import PROVIDERS
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.sinch import signature

ADAPTER = PROVIDERS["sinch"]
FX = load_sample("sinch", "otp_plain")
SECRET = FX["env"]["SINCH_WEBHOOK_SECRET"]
CLOCK = FX["clock"]
SIGNED_AT = int(FX["headers"]["x-sinch-webhook-signature-timestamp"])
NONCE = FX["headers"]["x-sinch-webhook-signature-nonce"]

# Official vectors (PROVIDERS.md §3.7): one secret, nonce and timestamp, two bodies.
VECTOR_SECRET = "foo_secret1234"
VECTOR_NONCE = "01FJA8B4A7BM43YGWSG9GBV067"
VECTOR_TS = "1634579353"
# sinch/sinch-sdk-python, Conversation webhooks test (`sample_body`).
VECTOR_PY_BODY = (
    '{"app_id":"01EB37HMH1M6SV18BSNS3G135H","accepted_time":"2020-11-17T15:09:11.659Z",'
    '"project_id":"c36f3d3d-1513-2edd-ae42-11995557ff61",'
    '"message_delivery_report":{"message_id":"01EQBC1A3BEK731GY4YXEN0C2R",'
    '"conversation_id":"01EPYATA64TMNZ1FV02JKF12JF","status":"QUEUED_ON_CHANNEL",'
    '"contact_id":"01EXA07N79THJ20WSN6AS30TMW"}}'
)
# sinch/sinch-sdk-java ConversationWebhooksAuthenticationValidationTest (also the .NET SDK).
VECTOR_JAVA_BODY = (
    '{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z",'
    '"project_id":"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":'
    '{"contact":{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS",'
    '"identity":"48123456789","app_id":""}],"display_name":"New Test Contact",'
    '"email":"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},'
    '"message_metadata":""}'
)


def request_of(fx: dict[str, Any], body: bytes | None = None, **headers: str) -> WebhookRequest:
    """A sample as the plain request an adapter sees, with headers (or the body) replaced."""
    return WebhookRequest(
        method=fx["method"], url=fx["url"], query_string=b"",
        headers={**fx["headers"], **headers},
        body=fx["body"].encode("utf-8") if body is None else body,
        content_type=fx["content_type"] or "",
    )


def context(now: float = CLOCK, secret: str = SECRET) -> VerifyContext:
    """The sample's secret at a given time."""
    return VerifyContext(secrets={"SINCH_WEBHOOK_SECRET": secret}, now=now)


def signed_headers(body: bytes, timestamp: int = SIGNED_AT, nonce: str = NONCE) -> dict[str, str]:
    """Headers of a request we sign ourselves with the sample's secret."""
    return sinch_headers(body, timestamp, nonce, SECRET)


def message(**fields: Any) -> dict[str, Any]:
    """The sample's MO message with fields replaced."""
    return {**json.loads(FX["body"]), **fields}


def ours(body: bytes, timestamp: int = SIGNED_AT) -> dict[str, Any]:
    """A sample-shaped request for a UTF-8 `body`, signed with the sample's secret."""
    return {**FX, "body": body.decode("utf-8"), "headers": signed_headers(body, timestamp)}


# --- signature ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "expected"),
    [(VECTOR_PY_BODY, "Yc+3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk="),
     (VECTOR_JAVA_BODY, "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=")],
)
def test_official_vectors(body: str, expected: str) -> None:
    assert signature(VECTOR_SECRET, body.encode(), VECTOR_NONCE, VECTOR_TS) == expected
    req = WebhookRequest("POST", "https://sms.example.com/webhooks/sinch", b"", {
        "x-sinch-webhook-signature": expected, "x-sinch-webhook-signature-nonce": VECTOR_NONCE,
        "x-sinch-webhook-signature-timestamp": VECTOR_TS}, body.encode())
    ADAPTER.verify(req, context(now=int(VECTOR_TS), secret=VECTOR_SECRET))


def test_sample_verifies_and_parses() -> None:
    ADAPTER.verify(request_of(FX), context())
    [sms] = ADAPTER.parse(request_of(FX))
    expect = FX["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        expect["provider_id"], expect["from_raw"], expect["to"], expect["text"])
    assert (sms.segments, sms.event_id, sms.part) == (None, None, None)


def test_forged_sample_is_refused() -> None:
    forged = load_sample("sinch", "forged_wrong_secret")
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(forged), context())


def test_headers_are_found_whatever_their_case() -> None:
    headers = {k.upper(): v for k, v in FX["headers"].items()}
    ADAPTER.verify(request_of({**FX, "headers": headers}), context())


def test_algorithm_header_is_optional() -> None:
    headers = {k: v for k, v in FX["headers"].items() if not k.endswith("-algorithm")}
    ADAPTER.verify(request_of({**FX, "headers": headers}), context())


@pytest.mark.parametrize("algorithm", ["HmacSHA1", "none", "", "HmacSHA512"])
def test_other_algorithm_is_refused(algorithm: str) -> None:
    with pytest.raises(SignatureError, match="algorithm"):
        ADAPTER.verify(request_of(FX, **{"x-sinch-webhook-signature-algorithm": algorithm}),
                       context())


def test_tampered_body_is_refused() -> None:
    body = FX["body"].encode().replace(b"449102", b"999999")
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, body), context())


@pytest.mark.parametrize(
    ("header", "value"),
    [("x-sinch-webhook-signature-nonce", "01JA4F1496A95A57C00D7856EC"),
     ("x-sinch-webhook-signature-timestamp", str(SIGNED_AT + 1))],
)
def test_nonce_and_timestamp_are_signed(header: str, value: str) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(FX, **{header: value}), context())


@pytest.mark.parametrize("now", [SIGNED_AT + 301, SIGNED_AT - 301, SIGNED_AT + 86400])
def test_stale_or_future_timestamp_is_refused(now: int) -> None:
    with pytest.raises(SignatureError, match="replay window"):
        ADAPTER.verify(request_of(FX), context(now))


def test_timestamp_at_the_edge_of_the_window_is_accepted() -> None:
    ADAPTER.verify(request_of(FX), context(SIGNED_AT + 300))
    ADAPTER.verify(request_of(FX), context(SIGNED_AT - 300))


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "!!!notbase64!!!", "AAAA", base64.b64encode(b"x" * 31).decode(),
     base64.b64encode(b"x" * 64).decode(), FX["headers"]["x-sinch-webhook-signature"][:-4],
     "é" * 44, FX["headers"]["x-sinch-webhook-signature"].rstrip("=")],
)
def test_malformed_signature_header_is_a_signature_error(value: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, **{"x-sinch-webhook-signature": value}), context())


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1e9", "-5", "1741944413.0", " 1741944413", "+1741944413",
                  "1_741_944_413", "١٧٤١٩٤٤٤١٣", "9" * 40],
)
def test_malformed_timestamp_is_a_signature_error(timestamp: str) -> None:
    headers = signed_headers(FX["body"].encode())
    headers["x-sinch-webhook-signature-timestamp"] = timestamp
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of({**FX, "headers": headers}), context())


@pytest.mark.parametrize("nonce", ["", "é", "a\nb", "x" * 300, "\u202e"])
def test_malformed_nonce_is_a_signature_error(nonce: str) -> None:
    with pytest.raises(SignatureError, match="nonce"):
        ADAPTER.verify(request_of(FX, **{"x-sinch-webhook-signature-nonce": nonce}), context())


@pytest.mark.parametrize(
    "header",
    ["x-sinch-webhook-signature", "x-sinch-webhook-signature-nonce",
     "x-sinch-webhook-signature-timestamp"],
)
def test_missing_header_is_a_signature_error(header: str) -> None:
    fx = {**FX, "headers": {k: v for k, v in FX["headers"].items() if k != header}}
    with pytest.raises(SignatureError, match=header):
        ADAPTER.verify(request_of(fx), context())


def test_missing_secret_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(request_of(FX), VerifyContext(secrets={}, now=CLOCK))


# --- payload ------------------------------------------------------------------------------

def parse(body: bytes | dict | list | Any) -> list:
    """Parse a body (JSON-encoded when not bytes)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ADAPTER.parse(WebhookRequest("POST", FX["url"], b"", {}, raw))


@pytest.mark.parametrize("field", ["type", "id", "from", "to", "body"])
def test_missing_field_is_named(field: str) -> None:
    body = message()
    del body[field]
    with pytest.raises(PayloadError, match=field):
        parse(body)


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"id": 42}, "id"), ({"id": ""}, "id"), ({"from": 4917612345678}, "from"),
     ({"to": ["+46701234567"]}, "to"), ({"to": None}, "to"), ({"type": 1}, "type"),
     ({"body": 449102}, "body"), ({"body": None}, "body"), ({"body": ["a"]}, "body"),
     ({"type": "mo_media", "body": "text"}, "body"),
     ({"type": "mo_media", "body": {"message": 5}}, "body.message")],
)
def test_wrong_type_is_named(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(PayloadError, match=named.replace(".", r"\.")):
        parse(message(**fields))


@pytest.mark.parametrize("body", [[], [message()], "mo_text", 1, None, True])
def test_wrong_json_shape_is_a_payload_error(body: Any) -> None:
    with pytest.raises(PayloadError, match="JSON object"):
        parse(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(FX["body"].encode().replace(b'"24001"', b"NaN"), "NaN"),
     (FX["body"].encode().replace(b'"24001"', b"-Infinity"), "Infinity"),
     (FX["body"].encode().replace(b'"type"', b'"body":"x","type"'), "more than once"),
     (FX["body"].encode().replace("ü".encode(), b"\xfc"), "UTF-8"),
     (b"{" * 5, "not valid JSON"), (b"", "not valid JSON"), (b"[" * 100 + b"]" * 100, "nested")],
)
def test_hostile_body_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse(body)


def test_mms_is_stored_as_its_text() -> None:
    media = {"subject": "Hi", "message": "Code 4242", "media": [{"url": "https://x/y.jpg"}]}
    [sms] = parse(message(type="mo_media", body=media))
    assert sms.text == "Code 4242"
    [sms] = parse(message(type="mo_media", body={"media": []}))
    assert sms.text == ""


@pytest.mark.parametrize(
    "kind", ["mo_binary", "delivery_report_sms", "recipient_delivery_report_sms"]
)
def test_binary_and_other_callbacks_are_not_messages(kind: str) -> None:
    assert parse(message(type=kind, body="SGVsbG8=", udh="050003010201")) == []


def test_reply_is_a_2xx_json_acknowledgement() -> None:
    reply = ADAPTER.reply()
    assert 200 <= reply.status < 300
    assert json.loads(reply.body) == {"status": "accepted"}


# --- through the app ----------------------------------------------------------------------

def test_retry_of_the_same_message_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    first, again = post_sample(app, FX), post_sample(app, FX)
    assert first.status_code == again.status_code == 200
    assert len(stored_messages(app)) == 1


def test_retry_with_a_new_nonce_and_timestamp_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    retry = {**FX, "headers": signed_headers(FX["body"].encode(), SIGNED_AT + 20, "01JRETRY")}
    assert post_sample(app, FX).status_code == post_sample(app, retry).status_code == 200
    assert len(stored_messages(app)) == 1


def test_fresh_request_signed_in_the_test_is_stored(make_app, frozen_clock) -> None:
    body = json.dumps(message(id="01JNEW", body="Ваш код: 5521", **{"from": "Zalando"})).encode()
    fx = ours(body, timestamp=CLOCK - 100)
    app = sample_app(make_app, frozen_clock, fx)
    resp = post_sample(app, fx)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [row] = stored_messages(app)
    assert (row.provider_id, row.sender, row.recipient, row.body, row.code) == (
        "01JNEW", "Zalando", "+46701234567", "Ваш код: 5521", "5521")


def test_stale_request_is_401_and_stores_nothing(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    frozen_clock.set(SIGNED_AT - 301)
    resp = post_sample(app, FX)
    assert resp.status_code == 401
    assert stored_messages(app) == []


def test_binary_mo_is_acknowledged_and_stores_nothing(make_app, frozen_clock) -> None:
    fx = ours(json.dumps(message(type="mo_binary", body="SGVsbG8=", udh="00")).encode())
    app = sample_app(make_app, frozen_clock, fx)
    assert post_sample(app, fx).status_code == 200
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "application/json"},
     {**FX["headers"], "x-sinch-webhook-signature": ""},
     {**FX["headers"], "x-sinch-webhook-signature": "%%%"},
     {**FX["headers"], "x-sinch-webhook-signature-nonce": ""},
     {**FX["headers"], "x-sinch-webhook-signature-timestamp": "soon"},
     {**FX["headers"], "x-sinch-webhook-signature-timestamp": "9" * 30},
     {**FX["headers"], "x-sinch-webhook-signature-algorithm": "HmacMD5"}],
)
def test_malformed_headers_are_401_never_5xx(make_app, frozen_clock, headers) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    resp = post_sample(app, {**FX, "headers": headers})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'{"type": "mo_text"}', b'{"a": NaN}', b'{"a": 1, "a": 2}',
     b"\xff\xfe", b"[" * 5000 + b"]" * 5000, json.dumps(message(to=46701234567)).encode(),
     json.dumps(message(id="x" * 300)).encode(), json.dumps(message(body=None)).encode()],
)
def test_malformed_signed_payloads_are_400_never_5xx(make_app, frozen_clock, body) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    resp = app.test_client().post(FX["path_hint"], headers=signed_headers(body), data=body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["detail"]
    assert stored_messages(app) == []
