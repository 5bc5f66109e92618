"""Bird adapter: HMAC-SHA256 over timestamp, public URL and body hash; bare and in the app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from tests.conftest import load_sample
from tests.signing import bird_headers
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers import PROVIDERS
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.bird import signature

ADAPTER = PROVIDERS["bird"]
FX = load_sample("bird", "otp_plain")
KEY = FX["env"]["BIRD_SIGNING_KEY"]
CLOCK = FX["clock"]
SIGNED_AT = int(FX["headers"]["messagebird-request-timestamp"])
URL = FX["url"]


def request_of(fx: dict[str, Any], body: bytes | None = None, url: str | None = None,
               **headers: str) -> WebhookRequest:
    """A sample as the plain request an adapter sees, with headers, body or URL replaced."""
    return WebhookRequest(
        method=fx["method"], url=url or fx["url"], query_string=b"",
        headers={**fx["headers"], **headers},
        body=fx["body"].encode("utf-8") if body is None else body,
        content_type=fx["content_type"] or "",
    )


def context(now: float = CLOCK, key: str = KEY) -> VerifyContext:
    """The sample's key at a given time."""
    return VerifyContext(secrets={"BIRD_SIGNING_KEY": key}, now=now)


def signed_headers(body: bytes, timestamp: int = SIGNED_AT, url: str = URL) -> dict[str, str]:
    """Headers of a request we sign ourselves with the sample's key."""
    return bird_headers(body, timestamp, url=url, key=KEY)


def event(**payload: Any) -> dict[str, Any]:
    """The sample's `sms.inbound` event with payload fields replaced."""
    body = json.loads(FX["body"])
    body["payload"].update(payload)
    return body


def ours(body: bytes, timestamp: int = SIGNED_AT) -> dict[str, Any]:
    """A sample-shaped request for a UTF-8 `body`, signed with the sample's key."""
    return {**FX, "body": body.decode("utf-8"), "headers": signed_headers(body, timestamp)}


# --- signature ----------------------------------------------------------------------------

def test_signature_follows_birds_documented_construction() -> None:
    # Bird's docs (PHP): hash_hmac('sha256', "ts\nurl\n" . hash('sha256', body, true), key, true)
    body = b'{"a":1}'
    signed = b"1700000000\nhttps://domain.com/webhook/bird\n" + hashlib.sha256(body).digest()
    expected = base64.b64encode(hmac.new(b"secureSigningKey", signed, "sha256").digest()).decode()
    assert signature("secureSigningKey", "1700000000", "https://domain.com/webhook/bird",
                     body) == expected


def test_sample_verifies_and_parses() -> None:
    ADAPTER.verify(request_of(FX), context())
    [sms] = ADAPTER.parse(request_of(FX))
    expect = FX["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        expect["provider_id"], expect["from_raw"], expect["to"], expect["text"])
    assert (sms.segments, sms.event_id, sms.part) == (1, None, None)


def test_forged_sample_is_refused() -> None:
    forged = load_sample("bird", "forged_wrong_key")
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(forged), context())


@pytest.mark.parametrize(
    "url",
    ["http://sms.example.com/webhooks/bird", "https://evil.example.com/webhooks/bird",
     "https://sms.example.com/webhooks/bird?x=1", "https://sms.example.com:443/webhooks/bird",
     "https://sms.example.com/webhooks/bird/"],
)
def test_signature_binds_the_url(url: str) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(FX, url=url), context())


def test_tampered_body_is_refused() -> None:
    body = FX["body"].encode().replace(b"8842", b"9999")
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, body), context())


def test_timestamp_is_signed_too() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(
            request_of(FX, **{"messagebird-request-timestamp": str(SIGNED_AT + 1)}), context())


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
     base64.b64encode(b"x" * 64).decode(), FX["headers"]["messagebird-signature"][:-4],
     "é" * 44, FX["headers"]["messagebird-signature"].rstrip("="),
     hmac.new(KEY.encode(), b"x", "sha256").hexdigest()],
)
def test_malformed_signature_header_is_a_signature_error(value: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, **{"messagebird-signature": value}), context())


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1e9", "-5", "1741944413.0", " 1741944413", "+1741944413",
                  "1_741_944_413", "١٧٤١٩٤٤٤١٣", "9" * 40, "1741944413000"],
)
def test_malformed_timestamp_is_a_signature_error(timestamp: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, **{"messagebird-request-timestamp": timestamp}), context())


@pytest.mark.parametrize("header", ["messagebird-signature", "messagebird-request-timestamp"])
def test_missing_header_is_a_signature_error(header: str) -> None:
    fx = {**FX, "headers": {k: v for k, v in FX["headers"].items() if k != header}}
    with pytest.raises(SignatureError, match=header):
        ADAPTER.verify(request_of(fx), context())


def test_missing_key_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(request_of(FX), VerifyContext(secrets={}, now=CLOCK))


# --- payload ------------------------------------------------------------------------------

def parse(body: bytes | dict | list | Any) -> list:
    """Parse a body (JSON-encoded when not bytes)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ADAPTER.parse(WebhookRequest("POST", URL, b"", {}, raw))


def without(*path: str) -> dict[str, Any]:
    """The sample's event without the field at `path`."""
    body = json.loads(FX["body"])
    node = body
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return body


@pytest.mark.parametrize(
    ("path", "named"),
    [(("event",), "event"), (("payload",), "payload"), (("payload", "id"), "payload.id"),
     (("payload", "sender"), "payload.sender.contact.identifierValue"),
     (("payload", "sender", "contact", "identifierValue"),
      "payload.sender.contact.identifierValue"),
     (("payload", "receiver"), "payload.receiver.connector"),
     (("payload", "body"), "payload.body"),
     (("payload", "body", "text"), "payload.body.text.text"),
     (("payload", "body", "text", "text"), "payload.body.text.text")],
)
def test_missing_field_is_named(path: tuple[str, ...], named: str) -> None:
    with pytest.raises(PayloadError, match=named.replace(".", r"\.")):
        parse(without(*path))


@pytest.mark.parametrize(
    ("payload", "named"),
    [({"id": 42}, "payload.id"), ({"id": ""}, "payload.id"),
     ({"sender": {"contact": {"identifierValue": 4915112345678}}},
      "payload.sender.contact.identifierValue"),
     ({"sender": [{"contact": {"identifierValue": "+4915112345678"}}]},
      "payload.sender.contact.identifierValue"),
     ({"receiver": {"connector": {"identifierValue": 4915112345678}}},
      "payload.receiver.connector.identifierValue"),
     ({"body": "Your Wolt code: 8842"}, "payload.body"),
     ({"body": {"type": "text", "text": "Your Wolt code"}}, "payload.body.text.text"),
     ({"body": {"type": "text", "text": {"text": 8842}}}, "payload.body.text.text"),
     ({"parts": {"platformReference": "x"}}, "payload.parts")],
)
def test_wrong_type_is_named(payload: dict[str, Any], named: str) -> None:
    with pytest.raises(PayloadError, match=named.replace(".", r"\.")):
        parse(event(**payload))


@pytest.mark.parametrize(
    "body", [[], [json.loads(FX["body"])], "sms.inbound", 1, None,
             {"event": "sms.inbound", "payload": []}, {"event": ["sms.inbound"]}],
)
def test_wrong_json_shape_is_a_payload_error(body: Any) -> None:
    with pytest.raises(PayloadError):
        parse(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(FX["body"].encode().replace(b'"delivered"', b"NaN"), "NaN"),
     (FX["body"].encode().replace(b'"delivered"', b"Infinity"), "Infinity"),
     (FX["body"].encode().replace(b'"channelId"', b'"id":"x","channelId"'), "more than once"),
     (FX["body"].encode().replace(b"Wolt", b"W\xf6lt"), "UTF-8"),
     (b"{" * 5, "not valid JSON"), (b"", "not valid JSON"), (b"[" * 100 + b"]" * 100, "nested")],
)
def test_hostile_body_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse(body)


def test_segments_are_the_parts_bird_lists() -> None:
    [sms] = parse(event(parts=[{"platformReference": "a"}, {"platformReference": "b"}]))
    assert sms.segments == 2
    assert [m.segments for m in parse(without("payload", "parts"))] == [None]


@pytest.mark.parametrize("name", ["sms.outbound", "whatsapp.inbound", "sms.status"])
def test_other_events_are_not_messages(name: str) -> None:
    assert parse({**json.loads(FX["body"]), "event": name}) == []


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


def test_retry_with_a_later_timestamp_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    retry = ours(FX["body"].encode(), SIGNED_AT + 120)
    assert post_sample(app, FX).status_code == post_sample(app, retry).status_code == 200
    assert len(stored_messages(app)) == 1


def test_fresh_request_signed_in_the_test_is_stored(make_app, frozen_clock) -> None:
    body = json.dumps(event(id="bird-2", body={"type": "text", "text": {"text": "PIN 7310"}},
                            parts=[{"platformReference": "a"}, {"platformReference": "b"}]))
    fx = ours(body.encode(), timestamp=CLOCK + 200)
    app = sample_app(make_app, frozen_clock, fx)
    resp = post_sample(app, fx)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [row] = stored_messages(app)
    assert (row.provider_id, row.sender, row.recipient, row.body, row.code, row.segments) == (
        "bird-2", "+4915112345678", "+31612345679", "PIN 7310", "7310", 2)


def test_url_is_signed_as_received_with_its_query(make_app, frozen_clock) -> None:
    body = FX["body"].encode()
    url = "https://sms.example.com/webhooks/bird?sub=a%20b&x="
    app = sample_app(make_app, frozen_clock, FX)
    client = app.test_client()
    wrong = client.post("/webhooks/bird?sub=a+b&x=", headers=signed_headers(body, url=url),
                        data=body)
    assert wrong.status_code == 401
    right = client.post("/webhooks/bird?sub=a%20b&x=", headers=signed_headers(body, url=url),
                        data=body)
    assert right.status_code == 200, right.get_data(as_text=True)
    assert len(stored_messages(app)) == 1


def test_stale_request_is_401_and_stores_nothing(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    frozen_clock.set(SIGNED_AT + 301)
    resp = post_sample(app, FX)
    assert resp.status_code == 401
    assert stored_messages(app) == []


def test_other_event_is_acknowledged_and_stores_nothing(make_app, frozen_clock) -> None:
    fx = ours(json.dumps({**json.loads(FX["body"]), "event": "sms.outbound"}).encode())
    app = sample_app(make_app, frozen_clock, fx)
    assert post_sample(app, fx).status_code == 200
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "application/json"},
     {**FX["headers"], "messagebird-signature": ""},
     {**FX["headers"], "messagebird-signature": "%%%"},
     {**FX["headers"], "messagebird-signature": "AAAA"},
     {**FX["headers"], "messagebird-request-timestamp": "soon"},
     {**FX["headers"], "messagebird-request-timestamp": "9" * 30},
     {**FX["headers"], "messagebird-request-timestamp": ""}],
)
def test_malformed_headers_are_401_never_5xx(make_app, frozen_clock, headers) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    resp = post_sample(app, {**FX, "headers": headers})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'{"event": "sms.inbound"}', b'{"a": NaN}', b'{"a": 1, "a": 2}',
     b"\xff\xfe", b"[" * 5000 + b"]" * 5000,
     json.dumps(event(id="x" * 300)).encode(), json.dumps(event(body=None)).encode()],
)
def test_malformed_signed_payloads_are_400_never_5xx(make_app, frozen_clock, body) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    resp = app.test_client().post(FX["path_hint"], headers=signed_headers(body), data=body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["detail"]
    assert stored_messages(app) == []


def test_a_picture_is_acknowledged_and_not_stored() -> None:
    assert parse(event(body={"type": "image", "image": {}})) == []
    assert parse(without("payload", "body", "type")) == []


def test_connector_without_a_number_is_kept_as_unrouted(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    connector = "79343fee-2c1b-4d8e-9a4f-0b6a1d2c3e4f"
    body = json.dumps(event(receiver={"connector": {"id": connector}})).encode()
    resp = app.test_client().post(FX["path_hint"], headers=signed_headers(body), data=body)
    assert resp.status_code == 200
    [row] = stored_messages(app)
    assert (row.recipient, row.number_id) == (f"connector:{connector}", None)
