"""Telnyx adapter: Ed25519 over `timestamp|body`, `message.received` only; bare and in the app."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import load_sample
from tests.signing import SECRETS, telnyx_headers
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers import PROVIDERS
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.telnyx import signed_content

ADAPTER = PROVIDERS["telnyx"]
FX = load_sample("telnyx", "otp_plain")
CLOCK = FX["clock"]
SIGNED_AT = int(FX["headers"]["telnyx-timestamp"])

# Our own key pair (tests/signing.py): the samples' private half is not published
# (README "Fresh signatures").
OUR_PUBLIC = SECRETS["TELNYX_PUBLIC_KEY"]


def request_of(fx: dict[str, Any], **headers: str) -> WebhookRequest:
    """A sample as the plain request an adapter sees, with some headers replaced."""
    return WebhookRequest(
        method=fx["method"], url=fx["url"], query_string=b"",
        headers={**fx["headers"], **headers}, body=fx["body"].encode("utf-8"),
        content_type=fx["content_type"] or "",
    )


def context(now: float = CLOCK, key: str | None = None) -> VerifyContext:
    """The sample's key (or another) at a given time."""
    return VerifyContext(secrets={"TELNYX_PUBLIC_KEY": key or FX["env"]["TELNYX_PUBLIC_KEY"]},
                         now=now)


def signed_headers(body: bytes, timestamp: int = SIGNED_AT) -> dict[str, str]:
    """Headers of a request we sign ourselves with our key pair."""
    return telnyx_headers(body, timestamp)


def event(**payload: Any) -> dict[str, Any]:
    """A `message.received` event like the sample's, with payload fields replaced."""
    body = json.loads(FX["body"])
    body["data"]["payload"].update(payload)
    return body


def ours(body: bytes, timestamp: int = SIGNED_AT) -> dict[str, Any]:
    """A sample-shaped request for a UTF-8 `body`, signed with our key, for an app trusting it."""
    return {**FX, "body": body.decode("utf-8"), "headers": signed_headers(body, timestamp),
            "env": {"TELNYX_PUBLIC_KEY": OUR_PUBLIC}}


def post_raw(app, body: bytes, headers: dict[str, str]):
    """POST raw bytes (which need not be UTF-8) to the Telnyx route."""
    return app.test_client().post(FX["path_hint"], headers=headers, data=body)


# --- signature ----------------------------------------------------------------------------

def test_signed_content_is_timestamp_pipe_raw_body() -> None:
    assert signed_content("1741944413", b'{"a": 1}') == b'1741944413|{"a": 1}'


def test_sample_verifies_and_parses() -> None:
    ADAPTER.verify(request_of(FX), context())
    [sms] = ADAPTER.parse(request_of(FX))
    expect = FX["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        expect["provider_id"], expect["from_raw"], expect["to"], expect["text"])
    assert (sms.segments, sms.event_id, sms.part) == (expect["segments"], expect["event_id"], None)


def test_forged_sample_is_refused() -> None:
    forged = load_sample("telnyx", "forged_other_key")
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(forged), context())


def test_our_key_pair_signs_requests_the_adapter_accepts() -> None:
    body = FX["body"].encode()
    req = request_of(FX, **signed_headers(body))
    ADAPTER.verify(req, context(key=OUR_PUBLIC))
    with pytest.raises(SignatureError):
        ADAPTER.verify(req, context())  # the sample's key did not sign it


def test_tampered_body_is_refused() -> None:
    req = request_of(FX)
    tampered = WebhookRequest(req.method, req.url, b"", req.headers,
                              req.body.replace(b"645 201", b"999 999"))
    with pytest.raises(SignatureError):
        ADAPTER.verify(tampered, context())


def test_timestamp_is_signed_too() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(FX, **{"telnyx-timestamp": str(SIGNED_AT + 1)}), context())


@pytest.mark.parametrize("now", [SIGNED_AT + 301, SIGNED_AT - 301, SIGNED_AT + 86400])
def test_stale_or_future_timestamp_is_refused(now: int) -> None:
    with pytest.raises(SignatureError, match="replay window"):
        ADAPTER.verify(request_of(FX), context(now))


def test_timestamp_at_the_edge_of_the_window_is_accepted() -> None:
    ADAPTER.verify(request_of(FX), context(SIGNED_AT + 300))
    ADAPTER.verify(request_of(FX), context(SIGNED_AT - 300))


@pytest.mark.parametrize(
    "signature",
    ["", "garbage", "!!!notbase64!!!", "AAAA", base64.b64encode(b"x" * 63).decode(),
     base64.b64encode(b"x" * 65).decode(), FX["headers"]["telnyx-signature-ed25519"][:-4],
     "é" * 88, " " + FX["headers"]["telnyx-signature-ed25519"]],
)
def test_malformed_signature_header_is_a_signature_error(signature: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, **{"telnyx-signature-ed25519": signature}), context())


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1e9", "-5", "1741944413.0", " 1741944413", "+1741944413",
                  "1_741_944_413", "١٧٤١٩٤٤٤١٣", "9" * 40],
)
def test_malformed_timestamp_is_a_signature_error(timestamp: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, **{"telnyx-timestamp": timestamp}), context())


@pytest.mark.parametrize("header", ["telnyx-signature-ed25519", "telnyx-timestamp"])
def test_missing_header_is_a_signature_error(header: str) -> None:
    fx = {**FX, "headers": {k: v for k, v in FX["headers"].items() if k != header}}
    with pytest.raises(SignatureError, match=header):
        ADAPTER.verify(request_of(fx), context())


@pytest.mark.parametrize("key", ["not base64!", "AAAA", base64.b64encode(b"k" * 33).decode(), "é"])
def test_unreadable_configured_key_is_a_signature_error(key: str) -> None:
    with pytest.raises(SignatureError, match="TELNYX_PUBLIC_KEY"):
        ADAPTER.verify(request_of(FX), context(key=key))


def test_missing_key_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(request_of(FX), VerifyContext(secrets={}, now=CLOCK))


# --- payload ------------------------------------------------------------------------------

def parse(body: bytes | dict | list) -> list:
    """Parse a body (JSON-encoded when not bytes)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ADAPTER.parse(WebhookRequest("POST", FX["url"], b"", {}, raw))


def without(path: list[str]) -> dict[str, Any]:
    """The sample's event without the field at `path`."""
    body = json.loads(FX["body"])
    node = body
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return body


@pytest.mark.parametrize(
    ("path", "named"),
    [(["data"], "data"), (["data", "event_type"], "data.event_type"),
     (["data", "payload"], "data.payload"), (["data", "payload", "id"], "data.payload.id"),
     (["data", "payload", "from"], "data.payload.from"),
     (["data", "payload", "to"], "data.payload.to"),
     (["data", "payload", "text"], "data.payload.text")],
)
def test_missing_field_is_named(path: list[str], named: str) -> None:
    with pytest.raises(PayloadError, match=named.replace(".", r"\.")):
        parse(without(path))


@pytest.mark.parametrize(
    ("payload", "named"),
    [({"id": 42}, "data.payload.id"), ({"id": ""}, "data.payload.id"),
     ({"from": "+447400123456"}, "data.payload.from"),
     ({"from": {"phone_number": ["+44"]}}, "data.payload.from.phone_number"),
     ({"to": {"phone_number": "+19195551234"}}, "data.payload.to"),
     ({"to": []}, "data.payload.to"), ({"to": ["+19195551234"]}, "data.payload.to[0]"),
     ({"to": [{"phone_number": None}]}, "data.payload.to[0].phone_number"),
     ({"text": 645201}, "data.payload.text"), ({"text": ["a"]}, "data.payload.text"),
     ({"parts": "1"}, "data.payload.parts"), ({"parts": 0}, "data.payload.parts"),
     ({"parts": True}, "data.payload.parts")],
)
def test_wrong_type_is_named(payload: dict[str, Any], named: str) -> None:
    with pytest.raises(PayloadError, match=named.replace(".", r"\.").replace("[", r"\[")):
        parse(event(**payload))


@pytest.mark.parametrize(
    "body",
    [[], [json.loads(FX["body"])], "message.received", 1, None, {"data": []},
     {"data": {"event_type": "message.received", "payload": []}},
     {"data": {"event_type": ["message.received"]}}],
)
def test_wrong_json_shape_is_a_payload_error(body: Any) -> None:
    with pytest.raises(PayloadError):
        parse(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(FX["body"].encode().replace(b'"parts":1', b'"parts":NaN'), "NaN"),
     (FX["body"].encode().replace(b'"parts":1', b'"parts":Infinity'), "Infinity"),
     (FX["body"].encode().replace(b'"parts":1', b'"parts":1,"text":"x"'), "more than once"),
     (FX["body"].encode().replace(b"Revolut", b"Rev\xffolut"), "UTF-8"),
     (b"{" * 5, "not valid JSON"), (b"", "not valid JSON"), (b"[" * 100 + b"]" * 100, "nested")],
)
def test_hostile_body_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse(body)


def test_media_only_mms_has_empty_text() -> None:
    [sms] = parse(event(text=None))
    assert sms.text == ""


def test_parts_null_means_segments_unknown() -> None:
    [sms] = parse(event(parts=None))
    assert sms.segments is None


@pytest.mark.parametrize("event_type", ["message.sent", "message.finalized", "fax.received"])
def test_other_events_are_not_messages(event_type: str) -> None:
    body = json.loads(FX["body"])
    body["data"]["event_type"] = event_type
    assert parse(body) == []


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


def test_retry_as_a_new_event_attempt_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, ours(FX["body"].encode()))
    retry = json.loads(FX["body"])
    retry["data"]["id"], retry["meta"]["attempt"] = "another-event-id", 2
    assert post_sample(app, ours(FX["body"].encode())).status_code == 200
    assert post_sample(app, ours(json.dumps(retry).encode(), SIGNED_AT + 60)).status_code == 200
    assert len(stored_messages(app)) == 1


def test_fresh_request_signed_with_our_key_is_stored(make_app, frozen_clock) -> None:
    body = json.dumps(event(id="msg-2", text="Your code is 123456", parts=2)).encode()
    fx = ours(body, timestamp=CLOCK + 100)
    app = sample_app(make_app, frozen_clock, fx)
    resp = post_sample(app, fx)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [row] = stored_messages(app)
    assert (row.provider_id, row.sender, row.recipient, row.body, row.code, row.segments) == (
        "msg-2", "+447400123456", "+19195551234", "Your code is 123456", "123456", 2)


def test_stale_request_is_401_and_stores_nothing(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    frozen_clock.set(SIGNED_AT + 301)
    resp = post_sample(app, FX)
    assert resp.status_code == 401
    assert stored_messages(app) == []


def test_other_event_is_acknowledged_and_stores_nothing(make_app, frozen_clock) -> None:
    body = json.loads(FX["body"])
    body["data"]["event_type"] = "message.finalized"
    fx = ours(json.dumps(body).encode())
    app = sample_app(make_app, frozen_clock, fx)
    assert post_sample(app, fx).status_code == 200
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "application/json"},
     {**FX["headers"], "telnyx-signature-ed25519": ""},
     {**FX["headers"], "telnyx-signature-ed25519": "%%%"},
     {**FX["headers"], "telnyx-signature-ed25519": "AAAA"},
     {**FX["headers"], "telnyx-timestamp": "soon"},
     {**FX["headers"], "telnyx-timestamp": "9" * 30},
     {**FX["headers"], "telnyx-timestamp": ""}],
)
def test_malformed_headers_are_401_never_5xx(make_app, frozen_clock, headers) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    resp = post_sample(app, {**FX, "headers": headers})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'{"data": null}', b'{"data": {"event_type": "message.received"}}',
     b'{"a": NaN}', b'{"a": 1, "a": 2}', b"\xff\xfe", b"[" * 5000 + b"]" * 5000,
     json.dumps(event(to=[{"phone_number": 19195551234}])).encode(),
     json.dumps(event(id="x" * 300)).encode()],
)
def test_malformed_signed_payloads_are_400_never_5xx(make_app, frozen_clock, body) -> None:
    app = sample_app(make_app, frozen_clock, {**FX, "env": {"TELNYX_PUBLIC_KEY": OUR_PUBLIC}})
    resp = post_raw(app, body, signed_headers(body))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["detail"]
    assert stored_messages(app) == []


def test_nul_in_text_is_stored_visibly_not_a_5xx(make_app, frozen_clock) -> None:
    fx = ours(json.dumps(event(text="code 1234\u0000")).encode())
    app = sample_app(make_app, frozen_clock, fx)
    assert post_sample(app, fx).status_code == 200
    assert [m.body for m in stored_messages(app)] == ["code 1234\ufffd"]
