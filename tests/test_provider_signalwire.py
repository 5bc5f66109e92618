"""SignalWire cXML adapter: Twilio's algorithm under SignalWire's header and Signing Key."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from tests.conftest import load_sample
from tests.signing import signalwire_headers
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.signalwire import ADAPTER
from webapp.providers.twilio import signature

OTP = load_sample("signalwire", "otp_plain")
KEY = OTP["env"]["SIGNALWIRE_SIGNING_KEY"]
URL = OTP["url"]

TWILIO_VECTOR_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]


def as_request(fx: dict, **changes) -> WebhookRequest:
    """A sample as the plain request the adapter sees, with fields replaced."""
    fields = {
        "method": fx["method"],
        "url": fx["url"],
        "query_string": fx["path_hint"].partition("?")[2].encode("latin-1"),
        "headers": fx["headers"],
        "body": fx["body"].encode(),
        "content_type": fx["content_type"] or "",
    }
    return WebhookRequest(**{**fields, **changes})


def context(key: str = KEY) -> VerifyContext:
    """The Signing Key (no clock: the scheme has no timestamp)."""
    return VerifyContext(secrets={"SIGNALWIRE_SIGNING_KEY": key}, now=0)


def signed(params: list[tuple[str, str]], url: str = URL, key: str = KEY) -> WebhookRequest:
    """A POST form request signed the way SignalWire signs cXML webhooks."""
    return WebhookRequest("POST", url, b"", signalwire_headers(url, params, key),
                          urlencode(params).encode())


def message_params(sid: str = "6f2c9a57-1b0e-4d4a-9c55-0d6f1f1f3a10", **extra) -> list:
    """The fields of an inbound message, as SignalWire posts them."""
    base = {"MessageSid": sid, "AccountSid": "8bcd4147-7825-4068-815d-e858789ea256",
            "From": "+61412345678", "To": "+13105551234", "Body": "Your code is 908070",
            "NumMedia": "0"}
    return list({**base, **extra}.items())


# --- official vectors -------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["X-SignalWire-Signature", "X-Twilio-Signature"])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ],
)
def test_form_vector_is_twilios_under_either_header(header: str, url: str, expected: str) -> None:
    body = urlencode(TWILIO_VECTOR_PARAMS).encode()
    req = WebhookRequest("POST", url, b"foo=1&bar=2", {header: expected}, body)
    ADAPTER.verify(req, context("12345"))
    with pytest.raises(SignatureError):
        ADAPTER.verify(req, context("12346"))


def test_relay_json_scheme_is_not_accepted_on_the_messaging_route() -> None:
    # The official vector of SignalWire's other scheme (hex HMAC-SHA1 over URL + raw body):
    # genuinely signed, yet refused here (see the module docstring).
    key, url = "PSKtest1234567890abcdef", "https://example.ngrok.io/webhook"
    body = b'{"event":"call.state","params":{"call_id":"abc-123","state":"answered"}}'
    hex_sig = hmac.new(key.encode(), url.encode() + body, hashlib.sha1).hexdigest()
    assert hex_sig == "c3c08c1fefaf9ee198a100d5906765a6f394bf0f"
    req = WebhookRequest("POST", url, b"", {"X-SignalWire-Signature": hex_sig}, body)
    with pytest.raises(SignatureError):
        ADAPTER.verify(req, context(key))


# --- samples ----------------------------------------------------------------------------------


def test_sample_verifies_and_parses() -> None:
    req = as_request(OTP)
    ADAPTER.verify(req, context())
    [sms] = ADAPTER.parse(req)
    expect = OTP["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        expect["provider_id"], expect["from_raw"], "+13105551234", expect["text"])
    assert sms.segments is None and sms.part is None


def test_forged_sample_is_refused() -> None:
    fx = load_sample("signalwire", "forged_wrong_key")
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(as_request(fx), context())


def test_only_the_legacy_header_is_enough() -> None:
    headers = {"X-Twilio-Signature": OTP["headers"]["X-Twilio-Signature"]}
    ADAPTER.verify(as_request(OTP, headers=headers), context())


def test_signalwire_header_decides_when_both_are_sent() -> None:
    headers = {**OTP["headers"], "X-SignalWire-Signature": "oURqZzllBFH/P+kdEpU+x33FTlY="}
    with pytest.raises(SignatureError):
        ADAPTER.verify(as_request(OTP, headers=headers), context())


def test_twilio_auth_token_does_not_configure_signalwire() -> None:
    ctx = VerifyContext(secrets={"TWILIO_AUTH_TOKEN": KEY}, now=0)
    with pytest.raises(NotConfigured, match="SIGNALWIRE_SIGNING_KEY"):
        ADAPTER.verify(as_request(OTP), ctx)


@pytest.mark.parametrize(
    "changes",
    [
        {"body": OTP["body"].replace("384756", "000000").encode()},
        {"body": OTP["body"].encode() + b"&Extra=1"},
        {"url": URL + "?x=1"},
        {"url": URL.replace("sms.example.com", "evil.example.com")},
        {"url": URL.replace("https://", "http://")},
    ],
    ids=["text", "extra-field", "query", "host", "scheme"],
)
def test_tampered_request_is_refused(changes: dict) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(as_request(OTP, **changes), context())


def test_default_port_variant_is_accepted() -> None:
    req = signed(message_params(), url="https://sms.example.com:443/webhooks/signalwire")
    ADAPTER.verify(WebhookRequest("POST", URL, b"", req.headers, req.body), context())


@pytest.mark.parametrize(
    "value",
    ["", " ", "garbage", "!!!notbase64", "P9zNJReMHtxj++ZVKxfgdhJF0ZI", "P9zNJReMHtxj",
     "P9zNJReMHtxj++ZVKxfgdhJF0ZI=P9zN", "3fdcc9251...", "é", "\x00"],
)
def test_malformed_signature_headers_are_signature_errors(value: str) -> None:
    headers = {"X-SignalWire-Signature": value, "X-Twilio-Signature": value}
    with pytest.raises(SignatureError):
        ADAPTER.verify(as_request(OTP, headers=headers), context())


def test_missing_signature_header_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing"):
        ADAPTER.verify(as_request(OTP, headers={}), context())


def test_get_webhook_signs_the_url_with_its_query() -> None:
    query = urlencode(message_params(sid="a1b2"))
    url = f"{URL}?{query}"
    sig = signature(KEY, url, [])
    req = WebhookRequest("GET", url, query.encode(), {"X-SignalWire-Signature": sig}, b"")
    ADAPTER.verify(req, context())
    [sms] = ADAPTER.parse(req)
    assert (sms.provider_id, sms.text) == ("a1b2", "Your code is 908070")


# --- payloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["MessageSid", "From", "To"])
def test_missing_field_is_named(field: str) -> None:
    params = [(k, v) for k, v in message_params() if k != field]
    with pytest.raises(PayloadError, match=field):
        ADAPTER.parse(signed(params))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"MessageSid=1&From=%2B1&To=%2B2&Body=a&Body=b", "more than once"),
        (b"MessageSid=1&From=%2B1&To=%2B2&Body=%FF", "(?i)utf-8"),
        (b"MessageSid=1&From=%2B1&To=%2B2&Body=\xff", "UTF-8"),
        (b"MessageSid=1&From=%2B1&To=%2B2&Body=a&NumSegments=%C2%B2", "NumSegments"),
        (b"MessageSid=1&From=%2B1&To=%2B2&Body=a&NumSegments=99999999999", "NumSegments"),
        (b"MessageSid=1&From=%2B1&To=%2B2&Body=a&NumSegments=0", "NumSegments"),
        (b"MessageSid=1&From=%2B1&To=%2B2&Body=a&NumSegments=" + b"9" * 5000, "NumSegments"),
    ],
)
def test_malformed_payload_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(WebhookRequest("POST", URL, b"", {}, body))


def test_segments_are_reported() -> None:
    [sms] = ADAPTER.parse(signed(message_params(NumSegments="2")))
    assert sms.segments == 2


def test_reply_is_empty_cxml() -> None:
    reply = ADAPTER.reply()
    assert reply.status == 200 and reply.content_type.startswith("text/xml")
    assert reply.body == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


# --- through the app --------------------------------------------------------------------------


def test_retry_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    first, again = post_sample(app, OTP), post_sample(app, OTP)
    assert first.status_code == again.status_code == 200
    assert again.mimetype == "text/xml"
    assert [m.provider_id for m in stored_messages(app)] == [OTP["expect"]["provider_id"]]


def test_fresh_request_signed_in_the_test_is_accepted(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    req = signed(message_params(Body="Your code is 246810"))
    resp = app.test_client().post(OTP["path_hint"], headers=dict(req.headers), data=req.body,
                                  content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [row] = stored_messages(app)
    assert (row.body, row.code, row.sender) == ("Your code is 246810", "246810", "+61412345678")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, OTP["body"].encode()),
        ({"X-SignalWire-Signature": "garbage"}, OTP["body"].encode()),
        (OTP["headers"], b"\xff\xfe"),
        (OTP["headers"], OTP["body"].encode() + b"&Body=again"),
        ({"X-SignalWire-Signature": signature(KEY, URL, [("From", "+1")])}, b"From=%2B1"),
    ],
    ids=["unsigned", "garbage-signature", "non-utf8", "duplicate-field", "signed-no-sid"],
)
def test_malformed_requests_are_4xx_and_store_nothing(make_app, frozen_clock, headers, body):
    app = sample_app(make_app, frozen_clock, OTP)
    resp = app.test_client().post(OTP["path_hint"], headers=headers, data=body,
                                  content_type="application/x-www-form-urlencoded")
    assert 400 <= resp.status_code < 500
    assert stored_messages(app) == []
