"""Vonage SMS API adapter: the official signature vectors, the samples, refusals, long messages."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import load_sample
from tests.signing import vonage_signed as signed
from tests.test_providers import sample_context, sample_request
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.extensions import db
from webapp.models import MessagePart
from webapp.providers import PROVIDERS
from webapp.providers.base import (
    NotConfigured,
    Part,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.vonage import signature

ADAPTER = PROVIDERS["vonage"]
SECRET = "Q7wd5ec06cc789bfe461be032c3cf38a"
CLOCK = 1741944413
URL = "https://sms.example.com/webhooks/vonage"

# Vonage/vonage-ruby-sdk:test/vonage/signature_test.rb
VECTOR_SECRET = "my_secret_key_for_testing"
VECTOR_PARAMS = {
    "message-timestamp": "2013-11-21 15:27:30",
    "messageId": "020000001B0FE827",
    "msisdn": "14843472194",
    "text": "Test again",
    "timestamp": "1385047698",
    "to": "13239877404",
    "type": "text",
}
VECTOR_SIGNATURES = {
    "md5hash": "d2e7b1dc968737c5998ad624e02f90b7",
    "md5": "DDEBD46008C2D4E93CCE578A332A52D5",
    "sha1": "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A",
    "sha256": "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330",
    "sha512": "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481C"
    "D3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
}


def message_params(**fields: str) -> dict[str, str]:
    """The parameters of an inbound message to the sample recipient, unsigned."""
    return {
        "msisdn": "4915112345678", "to": "447400123456", "messageId": "1FTEST0000000001",
        "text": "Your code is 424242", "type": "text", "keyword": "YOUR",
        "message-timestamp": "2025-03-14 09:26:53", "timestamp": str(CLOCK),
        "nonce": "6f1c0b3a-0000-4000-8000-000000000001", **fields,
    }


def get_request(params: dict[str, str]) -> WebhookRequest:
    """A GET delivery of the parameters."""
    query = urlencode(params)
    return WebhookRequest("GET", f"{URL}?{query}", query.encode(), {}, b"")


def post_request(body: bytes, content_type: str) -> WebhookRequest:
    """A POST delivery of a body."""
    return WebhookRequest("POST", URL, b"", {"Content-Type": content_type}, body, content_type)


def context(now: float = CLOCK, method: str | None = "sha256") -> VerifyContext:
    """The sample secret (and method) at `now`."""
    secrets = {"VONAGE_SIGNATURE_SECRET": SECRET}
    if method is not None:
        secrets["VONAGE_SIGNATURE_METHOD"] = method
    return VerifyContext(secrets=secrets, now=now)


@pytest.mark.parametrize(("method", "expected"), VECTOR_SIGNATURES.items())
def test_official_vectors(method: str, expected: str) -> None:
    assert signature(VECTOR_PARAMS, VECTOR_SECRET, method) == expected.lower()
    req = get_request({**VECTOR_PARAMS, "sig": expected})
    ctx = VerifyContext(
        secrets={"VONAGE_SIGNATURE_SECRET": VECTOR_SECRET, "VONAGE_SIGNATURE_METHOD": method},
        now=1385047698,
    )
    ADAPTER.verify(req, ctx)


@pytest.mark.parametrize("value", ["_", "&", "="])
def test_official_vector_ampersand_and_equals_become_underscores(value: str) -> None:
    assert signature({"k": value}, VECTOR_SECRET, "md5hash") == "c3d6a686ab9c7e7408bb1c0506e9629a"


@pytest.mark.parametrize("name", ["otp_get_signed_sha256", "concat_part_1_of_2",
                                  "concat_part_2_of_2"])
def test_samples_verify_and_parse(name: str) -> None:
    fx = load_sample("vonage", name)
    req = sample_request(fx)
    ADAPTER.verify(req, sample_context(fx))
    [sms] = ADAPTER.parse(req)
    expect = fx["expect"]
    assert (sms.provider_id, sms.sender, sms.text) == (
        expect["provider_id"], expect["from_raw"], expect["text"])
    assert sms.recipient == expect["to"].lstrip("+")
    multipart = expect.get("multipart")
    assert sms.part == (multipart and Part(multipart["ref"], multipart["total"], multipart["part"]))


def test_forged_sample_is_refused() -> None:
    fx = load_sample("vonage", "forged_tampered_text")
    with pytest.raises(SignatureError, match="sig"):
        ADAPTER.verify(sample_request(fx), sample_context(fx))


@pytest.mark.parametrize("offset", [301, -301, 100_000])
def test_stale_timestamp_is_refused(offset: int) -> None:
    fx = load_sample("vonage", "otp_get_signed_sha256")
    with pytest.raises(SignatureError, match="replay window"):
        ADAPTER.verify(sample_request(fx), sample_context(fx, fx["clock"] + offset))
    ADAPTER.verify(sample_request(fx), sample_context(fx, fx["clock"] + 299))


def test_hex_case_is_ignored() -> None:
    params = signed(message_params())
    ADAPTER.verify(get_request({**params, "sig": params["sig"].lower()}), context())
    ADAPTER.verify(get_request(params), context())


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_every_signature_method_is_accepted_when_configured(method: str) -> None:
    ADAPTER.verify(get_request(signed(message_params(), method)), context(method=method))
    with pytest.raises(SignatureError):
        other = "sha512" if method != "sha512" else "sha256"
        ADAPTER.verify(get_request(signed(message_params(), other)), context(method=method))


def test_method_defaults_to_sha256_and_an_unknown_one_is_not_configured() -> None:
    ADAPTER.verify(get_request(signed(message_params())), context(method=None))
    with pytest.raises(NotConfigured, match="VONAGE_SIGNATURE_METHOD"):
        ADAPTER.verify(get_request(signed(message_params())), context(method="sha3"))
    assert ADAPTER.secret_names == ("VONAGE_SIGNATURE_SECRET",)


def test_missing_secret_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(get_request(signed(message_params())), VerifyContext(secrets={}, now=0))


@pytest.mark.parametrize(
    "sig", ["", "garbage", "zz" * 32, "520367BA46C7C51E", "é" * 64, "0" * 64, None]
)
def test_malformed_or_missing_sig_is_refused(sig: str | None) -> None:
    params = message_params()
    if sig is not None:
        params["sig"] = sig
    with pytest.raises(SignatureError):
        ADAPTER.verify(get_request(params), context())


@pytest.mark.parametrize("timestamp", [None, "", "abc", "1e10", "-5", "1.5", "9" * 20, "١٢٣"])
def test_missing_or_malformed_signed_timestamp_is_refused(timestamp: str | None) -> None:
    params = message_params()
    del params["timestamp"]
    if timestamp is not None:
        params["timestamp"] = timestamp
    with pytest.raises(SignatureError, match="timestamp"):
        ADAPTER.verify(get_request(signed(params)), context())


def test_post_form_and_post_json_are_verified_and_read() -> None:
    params = signed(message_params(messageId="1FPOSTFORM"))
    form = post_request(urlencode(params).encode(), "application/x-www-form-urlencoded")
    ADAPTER.verify(form, context())
    assert ADAPTER.parse(form)[0].provider_id == "1FPOSTFORM"
    params = signed(message_params(messageId="1FPOSTJSON"))
    as_json = post_request(json.dumps(params).encode(), "application/json")
    ADAPTER.verify(as_json, context())
    assert ADAPTER.parse(as_json)[0].provider_id == "1FPOSTJSON"


def test_json_numbers_and_booleans_are_signed_as_their_json_text() -> None:
    params = message_params(messageId="1FJSONTYPES")
    params.update({"concat": "true", "concat-ref": "9", "concat-total": "2", "concat-part": "1"})
    body = dict(signed(params), **{"concat": True, "concat-total": 2, "concat-part": 1})
    req = post_request(json.dumps(body).encode(), "application/json")
    ADAPTER.verify(req, context())
    assert ADAPTER.parse(req)[0].part == Part("9", 2, 1)


def test_parameters_in_the_query_of_a_post_are_not_read() -> None:
    query = urlencode(signed(message_params()))
    req = WebhookRequest("POST", f"{URL}?{query}", query.encode(), {}, b"", "")
    with pytest.raises(SignatureError, match="missing sig"):
        ADAPTER.verify(req, context())


@pytest.mark.parametrize(
    ("missing", "field"), [("msisdn", "msisdn"), ("to", "to"), ("messageId", "messageId"),
                           ("text", "text")]
)
def test_missing_field_is_named(missing: str, field: str) -> None:
    params = message_params()
    del params[missing]
    with pytest.raises(PayloadError, match=field):
        ADAPTER.parse(get_request(params))


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"[1, 2]", "application/json", "JSON object"),
        (b'{"msisdn": NaN}', "application/json", "NaN"),
        (b'{"msisdn": "1", "msisdn": "2"}', "application/json", "more than once"),
        (b'{"msisdn": {"a": 1}}', "application/json", "must be a string"),
        (b'{"msisdn": null}', "application/json", "must be a string"),
        (b'{"msisdn": 1.5}', "application/json", "must be a string"),
        (b"\xff\xfe{}", "application/json", "UTF-8"),
        (b"msisdn=1&msisdn=2", "application/x-www-form-urlencoded", "more than once"),
        (b"msisdn=\xff", "application/x-www-form-urlencoded", "UTF-8"),
        (b"text=%FF", "application/x-www-form-urlencoded", "malformed"),
    ],
)
def test_malformed_payloads_are_payload_errors(body: bytes, content_type: str, reason: str) -> None:
    req = post_request(body, content_type)
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(req)
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.verify(req, context())  # the signed parameters cannot be read either


@pytest.mark.parametrize(
    ("concat", "reason"),
    [
        ({"concat-total": "2", "concat-part": "1"}, "concat-ref"),
        ({"concat-ref": "7", "concat-total": "two", "concat-part": "1"}, "concat-total"),
        ({"concat-ref": "7", "concat-total": "2", "concat-part": "3"}, "not within"),
        ({"concat-ref": "7", "concat-total": "2", "concat-part": "0"}, "not within"),
        ({"concat-ref": "7", "concat-total": "99999", "concat-part": "1"}, "concat-total"),
        ({"concat-ref": "7", "concat-total": "2"}, "concat-part"),
    ],
)
def test_malformed_concat_fields_are_payload_errors(concat: dict, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(get_request(message_params(concat="true", **concat)))


def test_part_one_of_one_is_a_plain_message() -> None:
    concat = {"concat": "true", "concat-ref": "7", "concat-total": "1", "concat-part": "1"}
    [sms] = ADAPTER.parse(get_request(message_params(**concat)))
    assert (sms.part, sms.provider_id) == (None, "1FTEST0000000001")


def test_binary_message_is_acknowledged_and_not_stored() -> None:
    params = message_params(type="binary", data="0605040B8423F0", udh="050003CC0201")
    del params["text"]
    assert ADAPTER.parse(get_request(params)) == []


def test_reply_is_an_empty_200() -> None:
    assert (ADAPTER.reply().status, ADAPTER.reply().body) == (200, "")


# Through the app ------------------------------------------------------------------------------


def concat_app(make_app, frozen_clock) -> tuple[Flask, dict, dict]:
    """An app for the two parts of the concatenated sample, and the two samples."""
    first = load_sample("vonage", "concat_part_1_of_2")
    second = load_sample("vonage", "concat_part_2_of_2")
    return sample_app(make_app, frozen_clock, first), first, second


@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_both_parts_in_either_order_make_one_message(make_app, frozen_clock, order) -> None:
    app, first, second = concat_app(make_app, frozen_clock)
    for fx in [first, second] if order == "in order" else [second, first]:
        frozen_clock.set(fx["clock"])
        assert post_sample(app, fx).status_code == 200
    [row] = stored_messages(app)
    assert (row.body, row.segments) == (first["expect"]["reassembled_text"], 2)
    assert (row.sender, row.recipient) == ("+33612345678", "+447400123456")
    assert row.code == "662810"
    feed = app.test_client().get("/api/v1/numbers/447400123456/messages").get_json()
    assert [m["body"] for m in feed["data"]] == [first["expect"]["reassembled_text"]]


def test_a_lone_part_is_kept_but_not_public(make_app, frozen_clock) -> None:
    app, first, _ = concat_app(make_app, frozen_clock)
    assert post_sample(app, first).status_code == 200
    assert stored_messages(app) == []
    with app.app_context():
        [part] = db.session.scalars(select(MessagePart)).all()
        assert (part.provider_id, part.part_no, part.part_total, part.text) == (
            first["expect"]["provider_id"], 1, 2, first["expect"]["text"])
    feed = app.test_client().get("/api/v1/numbers/447400123456/messages").get_json()
    assert feed["data"] == []


def test_retried_part_is_stored_once(make_app, frozen_clock) -> None:
    app, first, second = concat_app(make_app, frozen_clock)
    for fx in (first, first, second, second):
        frozen_clock.set(fx["clock"])
        assert post_sample(app, fx).status_code == 200
    assert len(stored_messages(app)) == 1
    with app.app_context():
        assert len(db.session.scalars(select(MessagePart)).all()) == 2


def test_retry_of_a_message_is_stored_once(make_app, frozen_clock) -> None:
    fx = load_sample("vonage", "otp_get_signed_sha256")
    app = sample_app(make_app, frozen_clock, fx)
    assert [post_sample(app, fx).status_code for _ in range(3)] == [200, 200, 200]
    assert len(stored_messages(app)) == 1


def test_fresh_signed_post_json_is_accepted(make_app, frozen_clock) -> None:
    fx = load_sample("vonage", "otp_get_signed_sha256")
    app = sample_app(make_app, frozen_clock, fx)
    body = json.dumps(signed(message_params(messageId="1FFRESH", text="Code 5150 for you")))
    resp = app.test_client().post("/webhooks/vonage", data=body,
                                  content_type="application/json")
    assert resp.status_code == 200
    [row] = stored_messages(app)
    assert (row.provider_id, row.body, row.code, row.sender) == (
        "1FFRESH", "Code 5150 for you", "5150", "+4915112345678")


def test_stale_request_through_the_app_is_401(make_app, frozen_clock) -> None:
    fx = load_sample("vonage", "otp_get_signed_sha256")
    app = sample_app(make_app, frozen_clock, fx)
    frozen_clock.set(fx["clock"] + 301)
    assert post_sample(app, fx).status_code == 401
    assert stored_messages(app) == []


def _fresh_query(**fields: str) -> str:
    return urlencode(signed(message_params(**fields)))


@pytest.mark.parametrize(
    ("method", "query", "body", "content_type"),
    [
        ("GET", "", b"", None),
        ("GET", "sig=abc", b"", None),
        ("GET", "msisdn=%FF%FE&sig=1", b"", None),
        ("GET", _fresh_query() + "&text=again", b"", None),
        ("GET", _fresh_query(**{"concat-ref": "1", "concat-total": "x"}), b"", None),
        ("POST", "", b"\xff\xfe", "application/json"),
        ("POST", "", b'{"a": NaN}', "application/json"),
        ("POST", "", b"[" * 5000 + b"]" * 5000, "application/json"),
        ("POST", "", json.dumps(signed(message_params()))[:-5].encode(), "application/json"),
        ("POST", "", b"sig=" + b"A" * 70000, "application/x-www-form-urlencoded"),
        ("POST", "", b"&&&===", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_requests_are_4xx(make_app, frozen_clock, method, query, body,
                                    content_type) -> None:
    fx = load_sample("vonage", "otp_get_signed_sha256")
    app = sample_app(make_app, frozen_clock, fx)
    resp = app.test_client().open(
        "/webhooks/vonage" + (f"?{query}" if query else ""), method=method, data=body,
        content_type=content_type)
    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)
    assert stored_messages(app) == []
