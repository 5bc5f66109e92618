"""Plivo adapter: V3 signature where sent (it decides), else V2; official vectors and samples."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

import pytest

from tests.conftest import load_sample
from tests.signing import plivo_v3_headers
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers.base import PayloadError, SignatureError, VerifyContext, WebhookRequest
from webapp.providers.plivo import ADAPTER, signature_v2, v3_signed_url

OTP = load_sample("plivo", "otp_plain")
FORGED = load_sample("plivo", "forged_wrong_token")
TOKEN = OTP["env"]["PLIVO_AUTH_TOKEN"]
URL = OTP["url"]  # https://sms.example.com/webhooks/plivo?acct=main
V2_ONLY = ("X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2", "X-Plivo-Signature-V2-Nonce")


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


def context(token: str = TOKEN) -> VerifyContext:
    """The auth token (no clock: Plivo signs no timestamp)."""
    return VerifyContext(secrets={"PLIVO_AUTH_TOKEN": token}, now=0)


def headers_without(*names: str) -> dict[str, str]:
    """The sample's headers minus some."""
    return {k: v for k, v in OTP["headers"].items() if k not in names}


def message_params(uuid: str = "0b7f8f0e-8f7e-4a55-9a53-6f1e2b9d1c11", **extra) -> list:
    """The fields of an inbound SMS, as Plivo posts them."""
    base = {"From": "919876543210", "To": "12125551234", "Type": "sms",
            "Text": "778899 is your OTP", "MessageUUID": uuid, "Units": "1"}
    return list({**base, **extra}.items())


#: V3 headers for a request, made with the sample's token (the same as SECRETS')
signed_v3 = partial(plivo_v3_headers, url=URL, nonce="424242")


# --- official vectors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "url", "nonce", "expected"),
    [
        # plivo/plivo-python:tests/resources/test_signature.py (PROVIDERS.md §3.5)
        ("my_auth_token", "https://answer.url", "12345",
         "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="),
        # plivo/plivo-node:test/utils.js: the port is part of the signed URL
        ("my_auth_token", "https://answer.url:8000", "24725744043720739450",
         "LDphWoWimP4QM5AoWI1uwP6WmlWtt5ITPZjXIWYvCNU="),
        ("my_auth_tokens", "https://answer.url:8080", "123456",
         "xeV6S6BPIQJ/rgKCjCm/Fo2ve5zNe1fatQoHyRT8vxQ="),
    ],
)
def test_v2_official_vectors(token: str, url: str, nonce: str, expected: str) -> None:
    assert signature_v2(token, url, nonce) == expected
    headers = {"X-Plivo-Signature-V2": expected, "X-Plivo-Signature-V2-Nonce": nonce}
    ADAPTER.verify(WebhookRequest("POST", url, b"", headers, b""), context(token))
    with pytest.raises(SignatureError):
        ADAPTER.verify(WebhookRequest("POST", url, b"", headers, b""), context(token + "x"))


def test_v2_ignores_the_query() -> None:
    assert signature_v2("t", "https://a.example/p?x=1", "1") == signature_v2(
        "t", "https://a.example/p", "1")


def test_v3_signed_string_layout() -> None:
    params = [("To", "1"), ("From", "2"), ("Empty", "")]
    assert v3_signed_url("POST", "https://h/p?b=2&a=1", params) == "https://h/p?a=1&b=2.EmptyFrom2To1"
    assert v3_signed_url("POST", "https://h/p", params) == "https://h/p?EmptyFrom2To1"
    assert v3_signed_url("POST", "https://h/p?a=%20x", []) == "https://h/p?a= x"
    assert v3_signed_url("GET", "https://h/p?b=2&a=1", []) == "https://h/p?a=1&b=2"
    assert v3_signed_url("GET", "https://h/p", []) == "https://h/p"


# --- samples ----------------------------------------------------------------------------------


def test_sample_verifies_and_parses() -> None:
    req = as_request(OTP)
    ADAPTER.verify(req, context())
    [sms] = ADAPTER.parse(req)
    expect = OTP["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text, sms.segments) == (
        expect["provider_id"], expect["from_raw"], "12125551234", expect["text"], 1)


def test_forged_sample_is_refused() -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(as_request(FORGED), context())


def test_v3_decides_when_sent_even_if_v2_matches() -> None:
    headers = {**OTP["headers"], "X-Plivo-Signature-V3": FORGED["headers"]["X-Plivo-Signature-V3"],
               "X-Plivo-Signature-Ma-V3": FORGED["headers"]["X-Plivo-Signature-Ma-V3"]}
    with pytest.raises(SignatureError, match="V3"):
        ADAPTER.verify(as_request(OTP, headers=headers), context())


def test_v2_alone_is_accepted_when_no_v3_header_is_sent() -> None:
    headers = {k: v for k, v in OTP["headers"].items() if k in V2_ONLY}
    ADAPTER.verify(as_request(OTP, headers=headers), context())
    forged = {k: v for k, v in FORGED["headers"].items() if k in V2_ONLY}
    with pytest.raises(SignatureError, match="V2"):
        ADAPTER.verify(as_request(OTP, headers=forged), context())


def test_main_account_header_is_accepted_with_the_main_token() -> None:
    headers = {"X-Plivo-Signature-Ma-V3": signed_v3(message_params())["X-Plivo-Signature-V3"],
               "X-Plivo-Signature-V3-Nonce": "424242"}
    req = WebhookRequest("POST", URL, b"acct=main", headers, urlencode(message_params()).encode())
    ADAPTER.verify(req, context())


def test_any_signature_of_a_comma_separated_list_may_match() -> None:
    good = OTP["headers"]["X-Plivo-Signature-V3"]
    headers = {**OTP["headers"], "X-Plivo-Signature-V3": f"bm90IGl0=, {good}",
               "X-Plivo-Signature-Ma-V3": ""}
    ADAPTER.verify(as_request(OTP, headers=headers), context())


@pytest.mark.parametrize(
    "changes",
    [
        {"body": OTP["body"].replace("123456", "000000").encode()},
        {"body": OTP["body"].encode() + b"&Extra=1"},
        {"url": URL.replace("acct=main", "acct=other")},
        {"url": URL.replace("sms.example.com", "evil.example.com")},
        {"method": "GET"},
    ],
    ids=["text", "extra-field", "query", "host", "method"],
)
def test_tampered_v3_request_is_refused(changes: dict) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(as_request(OTP, **changes), context())


@pytest.mark.parametrize(
    "value",
    ["", " ", ",", " , ,", "garbage", "!!!notbase64", "bEXJ8nTipOpa/WjyBKC+5/ATdFUmD48y",
     "bEXJ8nTipOpa/WjyBKC+5/ATdFUmD48yWYC1wSeHesY", "é", "\x00"],
)
def test_malformed_v3_signatures_are_signature_errors(value: str) -> None:
    headers = {**headers_without("X-Plivo-Signature-Ma-V3"), "X-Plivo-Signature-V3": value}
    with pytest.raises(SignatureError):
        ADAPTER.verify(as_request(OTP, headers=headers), context())


@pytest.mark.parametrize(
    "removed",
    [
        ("X-Plivo-Signature-V3-Nonce",),
        ("X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3", "X-Plivo-Signature-V3-Nonce",
         "X-Plivo-Signature-V2-Nonce"),
        tuple(OTP["headers"]),
    ],
    ids=["v3-without-nonce", "v2-without-nonce", "no-headers"],
)
def test_missing_headers_are_refused(removed: tuple) -> None:
    with pytest.raises(SignatureError, match="missing"):
        ADAPTER.verify(as_request(OTP, headers=headers_without(*removed)), context())


def test_any_v3_header_makes_v3_decide() -> None:
    headers = {**headers_without("X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3")}
    with pytest.raises(SignatureError, match="V3"):
        ADAPTER.verify(as_request(OTP, headers=headers), context())


def test_get_webhook_signs_the_sorted_query_and_is_read_from_it() -> None:
    query = urlencode(message_params(uuid="get-1")) + "&acct=main"
    url = f"https://sms.example.com/webhooks/plivo?{query}"
    req = WebhookRequest("GET", url, query.encode(), signed_v3([], method="GET", url=url), b"")
    ADAPTER.verify(req, context())
    [sms] = ADAPTER.parse(req)
    assert (sms.provider_id, sms.text) == ("get-1", "778899 is your OTP")


# --- payloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["MessageUUID", "From", "To", "Text"])
def test_missing_field_is_named(field: str) -> None:
    body = urlencode([(k, v) for k, v in message_params() if k != field]).encode()
    with pytest.raises(PayloadError, match=field):
        ADAPTER.parse(WebhookRequest("POST", URL, b"", {}, body))


def test_mms_body_is_the_text_when_there_is_no_text_field() -> None:
    params = [(k, v) for k, v in message_params(Type="mms") if k != "Text"] + [("Body", "hi")]
    [sms] = ADAPTER.parse(WebhookRequest("POST", URL, b"", {}, urlencode(params).encode()))
    assert sms.text == "hi"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (b"&Text=again", "more than once"),
        (b"&Note=%FF", "(?i)utf-8"),
        (b"&Note=\xff", "(?i)utf-8"),
        (b"&Units=%C2%B2", "Units"),
        (b"&Units=-1", "Units"),
        (b"&Units=0", "Units"),
        (b"&Units=256", "Units"),
        (b"&Units=" + b"9" * 5000, "Units"),
    ],
)
def test_malformed_payload_is_a_payload_error(extra: bytes, reason: str) -> None:
    body = urlencode([(k, v) for k, v in message_params() if k != "Units"]).encode() + extra
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(WebhookRequest("POST", URL, b"", {}, body))


def test_empty_units_means_not_reported() -> None:
    body = urlencode(message_params(Units="")).encode()
    [sms] = ADAPTER.parse(WebhookRequest("POST", URL, b"", {}, body))
    assert sms.segments is None


def test_reply_is_an_empty_plivo_xml_document() -> None:
    reply = ADAPTER.reply()
    assert reply.status == 200 and reply.content_type.startswith("text/xml")
    assert reply.body == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


# --- through the app --------------------------------------------------------------------------


def test_retry_is_stored_once(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    first, again = post_sample(app, OTP), post_sample(app, OTP)
    assert first.status_code == again.status_code == 200
    assert [m.provider_id for m in stored_messages(app)] == [OTP["expect"]["provider_id"]]


def test_fresh_v3_request_signed_in_the_test_is_accepted(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    params = message_params(Text="Your code is 135790")
    resp = app.test_client().post(OTP["path_hint"], headers=signed_v3(params),
                                  data=urlencode(params).encode(),
                                  content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/xml"
    [row] = stored_messages(app)
    assert (row.body, row.code, row.sender, row.sender_raw) == (
        "Your code is 135790", "135790", "+919876543210", "919876543210")


def test_fresh_v2_request_signed_in_the_test_is_accepted(make_app, frozen_clock) -> None:
    app = sample_app(make_app, frozen_clock, OTP)
    headers = {"X-Plivo-Signature-V2": signature_v2(TOKEN, URL, "99"),
               "X-Plivo-Signature-V2-Nonce": "99"}
    resp = app.test_client().post(OTP["path_hint"], headers=headers,
                                  data=urlencode(message_params(uuid="v2-1")).encode(),
                                  content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [m.provider_id for m in stored_messages(app)] == ["v2-1"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, OTP["body"].encode()),
        ({"X-Plivo-Signature-V3": "garbage", "X-Plivo-Signature-V3-Nonce": "1"},
         OTP["body"].encode()),
        ({"X-Plivo-Signature-V3": "x"}, OTP["body"].encode()),
        (OTP["headers"], b"\xff\xfe"),
        (signed_v3([("From", "1")]), b"From=1"),
        (signed_v3([("From", "1"), ("From", "2")]), b"From=1&From=2"),
    ],
    ids=["unsigned", "garbage-signature", "no-nonce", "non-utf8", "signed-no-uuid",
         "signed-duplicate"],
)
def test_malformed_requests_are_4xx_and_store_nothing(make_app, frozen_clock, headers, body):
    app = sample_app(make_app, frozen_clock, OTP)
    resp = app.test_client().post(OTP["path_hint"], headers=headers, data=body,
                                  content_type="application/x-www-form-urlencoded")
    assert 400 <= resp.status_code < 500
    assert stored_messages(app) == []
