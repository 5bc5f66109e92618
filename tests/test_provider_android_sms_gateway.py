"""SMS Gateway for Android adapter: hex HMAC-SHA256 of body + timestamp; bare and in the app."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from tests.conftest import load_sample
from tests.signing import android_sms_gateway_headers
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers import PROVIDERS
from webapp.providers.android_sms_gateway import signature
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)

ADAPTER = PROVIDERS["android-sms-gateway"]
FX = load_sample("android-sms-gateway", "otp_plain")
KEY = FX["env"]["ANDROID_SMS_GATEWAY_SIGNING_KEY"]
CLOCK = FX["clock"]
SIGNED_AT = int(FX["headers"]["X-Timestamp"])


def request_of(fx: dict[str, Any], body: bytes | None = None, **headers: str) -> WebhookRequest:
    """A sample as the plain request an adapter sees, with headers (or the body) replaced."""
    return WebhookRequest(
        method=fx["method"], url=fx["url"], query_string=b"",
        headers={**fx["headers"], **headers},
        body=fx["body"].encode("utf-8") if body is None else body,
        content_type=fx["content_type"] or "",
    )


def context(now: float = CLOCK, key: str = KEY) -> VerifyContext:
    """The sample's key at a given time."""
    return VerifyContext(secrets={"ANDROID_SMS_GATEWAY_SIGNING_KEY": key}, now=now)


def signed_headers(body: bytes, timestamp: int = SIGNED_AT) -> dict[str, str]:
    """Headers of a request we sign ourselves with the sample's key."""
    return android_sms_gateway_headers(body, timestamp, KEY)


def event(**payload: Any) -> dict[str, Any]:
    """The sample's `sms:received` event with payload fields replaced."""
    body = json.loads(FX["body"])
    body["payload"].update(payload)
    return body


def ours(body: bytes, timestamp: int = SIGNED_AT) -> dict[str, Any]:
    """A sample-shaped request for a UTF-8 `body`, signed with the sample's key."""
    return {**FX, "body": body.decode("utf-8"), "headers": signed_headers(body, timestamp)}


# --- signature ----------------------------------------------------------------------------

def test_signature_follows_the_documented_construction() -> None:
    # docs/features/webhooks.md (Python): hmac.new(key.encode(), (payload + timestamp).encode(),
    # hashlib.sha256).hexdigest()
    expected = hmac.new(b"k3y", b'{"event":"sms:received"}1700000000', hashlib.sha256).hexdigest()
    assert signature("k3y", b'{"event":"sms:received"}', "1700000000") == expected


def test_sample_verifies_and_parses() -> None:
    ADAPTER.verify(request_of(FX), context())
    [sms] = ADAPTER.parse(request_of(FX))
    expect = FX["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        expect["provider_id"], expect["from_raw"], expect["to"], expect["text"])
    assert (sms.segments, sms.event_id, sms.part) == (None, None, None)


def test_idempotency_key_is_the_event_id_not_the_content_derived_message_id() -> None:
    [sms] = ADAPTER.parse(request_of(FX))
    assert sms.provider_id == json.loads(FX["body"])["id"]
    assert sms.provider_id != json.loads(FX["body"])["payload"]["messageId"]


def test_forged_sample_is_refused() -> None:
    forged = load_sample("android-sms-gateway", "forged_wrong_key")
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(forged), context())


def test_upper_case_hex_is_the_same_signature() -> None:
    ADAPTER.verify(request_of(FX, **{"X-Signature": FX["headers"]["X-Signature"].upper()}),
                   context())


def test_headers_are_found_whatever_their_case() -> None:
    headers = {k.lower(): v for k, v in FX["headers"].items()}
    ADAPTER.verify(request_of({**FX, "headers": headers}), context())


def test_tampered_body_is_refused() -> None:
    body = FX["body"].encode().replace(b"771903", b"000000")
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, body), context())


def test_timestamp_is_signed_too() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request_of(FX, **{"X-Timestamp": str(SIGNED_AT + 1)}), context())


@pytest.mark.parametrize("now", [SIGNED_AT + 301, SIGNED_AT - 301, SIGNED_AT + 86400])
def test_stale_or_future_timestamp_is_refused(now: int) -> None:
    with pytest.raises(SignatureError, match="replay window"):
        ADAPTER.verify(request_of(FX), context(now))


def test_timestamp_at_the_edge_of_the_window_is_accepted() -> None:
    ADAPTER.verify(request_of(FX), context(SIGNED_AT + 300))
    ADAPTER.verify(request_of(FX), context(SIGNED_AT - 300))


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "zz" * 32, "ab" * 31, "ab" * 33, FX["headers"]["X-Signature"][:-1],
     "sha256=" + FX["headers"]["X-Signature"], " " + FX["headers"]["X-Signature"],
     " ".join(FX["headers"]["X-Signature"][i:i + 2] for i in range(0, 64, 2)),
     "é" * 64, "v1,AAAA"],
)
def test_malformed_signature_header_is_a_signature_error(value: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, **{"X-Signature": value}), context())


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1e9", "-5", "1741944413.0", " 1741944413", "+1741944413",
                  "1_741_944_413", "١٧٤١٩٤٤٤١٣", "9" * 40],
)
def test_malformed_timestamp_is_a_signature_error(timestamp: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_of(FX, **{"X-Timestamp": timestamp}), context())


@pytest.mark.parametrize("header", ["X-Signature", "X-Timestamp"])
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
    return ADAPTER.parse(WebhookRequest("POST", FX["url"], b"", {}, raw))


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
    [(("event",), "event"), (("id",), "id"), (("payload",), "payload"),
     (("payload", "message"), "payload.message")],
)
def test_missing_field_is_named(path: tuple[str, ...], named: str) -> None:
    with pytest.raises(PayloadError, match=named.replace(".", r"\.")):
        parse(without(*path))


def test_missing_sender_and_phone_number_is_named() -> None:
    body = without("payload", "sender")
    del body["payload"]["phoneNumber"]
    with pytest.raises(PayloadError, match=r"payload\.sender"):
        parse(body)


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"id": 42}, "id"), ({"id": ""}, "id"), ({"event": 1}, "event"),
     ({"payload": "Your Monzo code"}, "payload"), ({"payload": []}, "payload")],
)
def test_wrong_top_level_type_is_named(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(PayloadError, match=named):
        parse({**json.loads(FX["body"]), **fields})


@pytest.mark.parametrize(
    ("payload", "named"),
    [({"message": 771903}, "payload.message"), ({"message": None}, "payload.message"),
     ({"sender": 4915112345678}, "payload.sender"), ({"sender": ""}, "payload.sender"),
     ({"recipient": ["+4917612345678"]}, "payload.recipient"),
     ({"recipient": ""}, "payload.recipient")],
)
def test_wrong_payload_type_is_named(payload: dict[str, Any], named: str) -> None:
    with pytest.raises(PayloadError, match=named.replace(".", r"\.")):
        parse(event(**payload))


@pytest.mark.parametrize("body", [[], [json.loads(FX["body"])], "sms:received", 1, None])
def test_wrong_json_shape_is_a_payload_error(body: Any) -> None:
    with pytest.raises(PayloadError, match="JSON object"):
        parse(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(FX["body"].encode().replace(b'"simNumber":1', b'"simNumber":NaN'), "NaN"),
     (FX["body"].encode().replace(b'"simNumber":1', b'"simNumber":Infinity'), "Infinity"),
     (FX["body"].encode().replace(b'"simNumber"', b'"message":"x","simNumber"'),
      "more than once"),
     (FX["body"].encode().replace(b"Monzo", b"M\xf6nzo"), "UTF-8"),
     (b"{" * 5, "not valid JSON"), (b"", "not valid JSON"), (b"[" * 100 + b"]" * 100, "nested")],
)
def test_hostile_body_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse(body)


def test_alphanumeric_sender_is_kept_as_written() -> None:
    [sms] = parse(event(sender="Google", phoneNumber="Google"))
    assert sms.sender == "Google"


def test_older_app_versions_name_the_sender_phone_number() -> None:
    body = without("payload", "sender")
    body["payload"]["phoneNumber"] = "6505551212"
    [sms] = parse(body)
    assert sms.sender == "6505551212"


@pytest.mark.parametrize("recipient", ["absent", None])
def test_unknown_recipient_is_kept_under_the_device_id(recipient: Any) -> None:
    body = without("payload", "recipient") if recipient == "absent" else event(recipient=None)
    [sms] = parse(body)
    assert sms.recipient == json.loads(FX["body"])["deviceId"]


def test_unknown_recipient_and_device_is_refused() -> None:
    body = event(recipient=None)
    del body["deviceId"]
    with pytest.raises(PayloadError, match=r"payload\.recipient"):
        parse(body)


def test_empty_text_is_a_message() -> None:
    [sms] = parse(event(message=""))
    assert sms.text == ""


@pytest.mark.parametrize(
    "name", ["sms:sent", "sms:delivered", "sms:failed", "system:ping", "sms:data-received"]
)
def test_other_events_are_not_messages(name: str) -> None:
    assert parse({**json.loads(FX["body"]), "event": name, "payload": {"health": {}}}) == []


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


def test_retry_signed_later_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    retry = ours(FX["body"].encode(), SIGNED_AT + 40)
    assert post_sample(app, FX).status_code == post_sample(app, retry).status_code == 200
    assert len(stored_messages(app)) == 1


def test_same_text_twice_is_two_messages(make_app, frozen_clock) -> None:
    # payload.messageId is derived from the content: only the event id tells them apart.
    again = json.loads(FX["body"])
    again["id"] = "second-delivery-id"
    fx = ours(json.dumps(again).encode())
    app = sample_app(make_app, frozen_clock, FX)
    assert post_sample(app, FX).status_code == post_sample(app, fx).status_code == 200
    assert len(stored_messages(app)) == 2


def test_fresh_request_signed_in_the_test_is_stored(make_app, frozen_clock) -> None:
    body = {**event(message="G-482913 is your Google verification code.", sender="Google"),
            "id": "fresh-1"}
    fx = ours(json.dumps(body).encode(), timestamp=CLOCK + 250)
    app = sample_app(make_app, frozen_clock, fx)
    resp = post_sample(app, fx)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [row] = stored_messages(app)
    assert (row.provider_id, row.sender, row.sender_raw, row.recipient, row.code) == (
        "fresh-1", "Google", "Google", "+4917612345678", "482913")


def test_unknown_recipient_is_kept_unrouted(make_app, frozen_clock) -> None:
    fx = ours(json.dumps(event(recipient=None)).encode())
    app = sample_app(make_app, frozen_clock, fx)
    assert post_sample(app, fx).status_code == 200
    [row] = stored_messages(app)
    assert (row.number_id, row.recipient) == (None, json.loads(FX["body"])["deviceId"])


def test_stale_request_is_401_and_stores_nothing(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    frozen_clock.set(SIGNED_AT + 301)
    resp = post_sample(app, FX)
    assert resp.status_code == 401
    assert stored_messages(app) == []


def test_other_event_is_acknowledged_and_stores_nothing(make_app, frozen_clock) -> None:
    fx = ours(json.dumps({**json.loads(FX["body"]), "event": "sms:delivered"}).encode())
    app = sample_app(make_app, frozen_clock, fx)
    assert post_sample(app, fx).status_code == 200
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "application/json"}, {**FX["headers"], "X-Signature": ""},
     {**FX["headers"], "X-Signature": "%%%"}, {**FX["headers"], "X-Signature": "ab" * 31},
     {**FX["headers"], "X-Timestamp": "soon"}, {**FX["headers"], "X-Timestamp": "9" * 30},
     {**FX["headers"], "X-Timestamp": ""}],
)
def test_malformed_headers_are_401_never_5xx(make_app, frozen_clock, headers) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    resp = post_sample(app, {**FX, "headers": headers})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'{"event": "sms:received"}', b'{"a": NaN}', b'{"a": 1, "a": 2}',
     b"\xff\xfe", b"[" * 5000 + b"]" * 5000,
     json.dumps(event(sender=None, phoneNumber=None)).encode(),
     json.dumps({**event(), "id": "x" * 300}).encode(),
     json.dumps(event(sender="S" * 100)).encode()],
)
def test_malformed_signed_payloads_are_400_never_5xx(make_app, frozen_clock, body) -> None:
    app = sample_app(make_app, frozen_clock, FX)
    resp = app.test_client().post(FX["path_hint"], headers=signed_headers(body), data=body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["detail"]
    assert stored_messages(app) == []
