"""Vonage Messages API adapter: JWT bearer with the body's hash, samples, refusals, the app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from functools import partial

import pytest

from tests.conftest import load_sample
from tests.signing import vonage_messages_token
from tests.test_providers import sample_context, sample_request
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers import PROVIDERS
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)

ADAPTER = PROVIDERS["vonage-messages"]
SECRET = "Q7wd5ec06cc789bfe461be032c3cf38a"
CLOCK = 1741944415
URL = "https://sms.example.com/webhooks/vonage-messages"


def body_of(**fields: object) -> bytes:
    """An inbound SMS body to the sample recipient."""
    payload = {
        "channel": "sms", "message_uuid": str(uuid.uuid4()), "to": "447400123457",
        "from": "447911123456", "timestamp": "2025-03-14T09:26:53Z",
        "text": "Your code is 246810", "sms": {"num_messages": "2"}, "message_type": "text",
        **fields,
    }
    return json.dumps(payload).encode()


#: A Vonage-style JWT for a body, signed with the sample's secret two seconds before CLOCK.
token_for = partial(vonage_messages_token, issued_at=CLOCK - 2)


def request_with(body: bytes, authorization: str | None) -> WebhookRequest:
    """A POST of a body with an Authorization header (none when None)."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return WebhookRequest("POST", URL, b"", headers, body, "application/json")


def context(now: float = CLOCK) -> VerifyContext:
    """The sample secret at `now`."""
    return VerifyContext(secrets={"VONAGE_SIGNATURE_SECRET": SECRET}, now=now)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JWT segments are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_sample_verifies_and_parses() -> None:
    fx = load_sample("vonage-messages", "otp_plain")
    req = sample_request(fx)
    ADAPTER.verify(req, sample_context(fx))
    [sms] = ADAPTER.parse(req)
    expect = fx["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text, sms.segments) == (
        expect["provider_id"], expect["from_raw"], "447400123457", expect["text"], 1)


def test_forged_sample_is_refused() -> None:
    fx = load_sample("vonage-messages", "forged_payload_hash_mismatch")
    with pytest.raises(SignatureError, match="payload_hash"):
        ADAPTER.verify(sample_request(fx), sample_context(fx))


@pytest.mark.parametrize("offset", [301, -301, -100_000])
def test_stale_iat_is_refused(offset: int) -> None:
    fx = load_sample("vonage-messages", "otp_plain")
    iat = fx["clock"] - 2  # the sample was signed two seconds before its clock
    with pytest.raises(SignatureError, match="replay window"):
        ADAPTER.verify(sample_request(fx), sample_context(fx, iat + offset))
    ADAPTER.verify(sample_request(fx), sample_context(fx, iat + 299))
    ADAPTER.verify(sample_request(fx), sample_context(fx, iat - 299))


def test_fresh_token_for_another_body_verifies() -> None:
    body = body_of(text="Another code: 1357")
    ADAPTER.verify(request_with(body, f"Bearer {token_for(body)}"), context())
    ADAPTER.verify(request_with(body, f"bearer  {token_for(body)} "), context())


def test_token_of_another_body_is_refused() -> None:
    with pytest.raises(SignatureError, match="payload_hash"):
        ADAPTER.verify(request_with(body_of(), f"Bearer {token_for(body_of())}"), context())


def test_payload_hash_hex_case_is_ignored() -> None:
    body = body_of()
    token = token_for(body, payload_hash=hashlib.sha256(body).hexdigest().upper())
    ADAPTER.verify(request_with(body, f"Bearer {token}"), context())


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"payload_hash": None}, "payload_hash"),
        ({"iat": None}, "iat"),
        ({"iat": "1741944413"}, "iat"),
        ({"iat": True}, "iat"),
        ({"iat": 1e300}, "iat"),
        ({"exp": CLOCK - 400}, "expired"),
        ({"nbf": CLOCK + 400}, "not valid yet"),
        ({"payload_hash": 12}, "payload_hash"),
    ],
)
def test_bad_claims_are_refused(claims: dict, reason: str) -> None:
    body = body_of()
    with pytest.raises(SignatureError, match=reason):
        ADAPTER.verify(request_with(body, f"Bearer {token_for(body, **claims)}"), context())


def _none_token(body: bytes) -> str:
    header = b64url(b'{"alg":"none","typ":"JWT"}')
    claims = b64url(json.dumps({"iat": CLOCK, "payload_hash":
                                hashlib.sha256(body).hexdigest()}).encode())
    return f"{header}.{claims}."


def _relabelled(body: bytes, alg: str) -> str:
    """A valid HS256 token whose header claims another algorithm."""
    _, claims, sig = token_for(body).split(".")
    return f"{b64url(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{claims}.{sig}"


def _nan_iat(body: bytes) -> str:
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    claims = b64url(b'{"iat": NaN, "payload_hash": "%s"}' % hashlib.sha256(body).hexdigest()
                    .encode())
    sig = hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64url(sig)}"


@pytest.mark.parametrize(
    "authorization",
    [
        None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "garbage",
        "Bearer garbage", "Bearer a.b.c", "Bearer !!!.???.***", "Bearer e30.e30",
        "TRUNCATED", "NONE", "HS512", "WRONGKEY", "RS256", "NANIAT", "Bearer " + "A" * 5000,
    ],
)
def test_malformed_authorization_is_refused(authorization: str | None) -> None:
    body = body_of()
    special = {
        "TRUNCATED": lambda: "Bearer " + token_for(body)[:-10],
        "NONE": lambda: "Bearer " + _none_token(body),
        "HS512": lambda: "Bearer " + token_for(body, key=SECRET * 2, algorithm="HS512"),
        "WRONGKEY": lambda: "Bearer " + token_for(body, key="another-secret-of-32-characters!"),
        "RS256": lambda: "Bearer " + _relabelled(body, "RS256"),
        "NANIAT": lambda: "Bearer " + _nan_iat(body),
    }
    header = special[authorization]() if authorization in special else authorization
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_with(body, header), context())


def test_missing_secret_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(request_with(body_of(), "Bearer x"), VerifyContext(secrets={}, now=0))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (body_of(message_uuid=None), "message_uuid"),
        (body_of(**{"from": None}), "from"),
        (body_of(to=""), "to"),
        (body_of(text=None), "text"),
        (body_of(text=["a"]), "text"),
        (body_of(**{"from": {"type": "sms", "number": "447911123456"}}), "from"),
        (body_of(channel=None), "channel"),
        (b"[]", "JSON object"),
        (b'{"channel": "sms", "text": NaN}', "NaN"),
        (b'{"channel": "sms", "channel": "sms"}', "more than once"),
        (b"\xff\xfe", "UTF-8"),
        (b"", "not valid JSON"),
        (b"[" * 100 + b"]" * 100, "nested"),
    ],
)
def test_malformed_payloads_are_payload_errors(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(request_with(body, None))


@pytest.mark.parametrize(("value", "segments"), [("3", 3), (2, 2), (None, None), ("", None)])
def test_segments_come_from_sms_num_messages(value: object, segments: int | None) -> None:
    [sms] = ADAPTER.parse(request_with(body_of(sms={"num_messages": value}), None))
    assert sms.segments == segments


@pytest.mark.parametrize("value", ["x", True, "99999", 0, "0", 256, 1.5])
def test_impossible_segment_counts_are_refused(value: object) -> None:
    with pytest.raises(PayloadError, match="num_messages"):
        ADAPTER.parse(request_with(body_of(sms={"num_messages": value}), None))


def test_other_channels_are_acknowledged_and_not_stored() -> None:
    assert ADAPTER.parse(request_with(body_of(channel="whatsapp"), None)) == []


def test_reply_is_an_empty_200() -> None:
    assert (ADAPTER.reply().status, ADAPTER.reply().body) == (200, "")


# Through the app ------------------------------------------------------------------------------


def test_retry_is_stored_once(make_app, frozen_clock) -> None:
    fx = load_sample("vonage-messages", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    assert [post_sample(app, fx).status_code for _ in range(2)] == [200, 200]
    assert len(stored_messages(app)) == 1


def test_fresh_signed_request_is_accepted(make_app, frozen_clock) -> None:
    fx = load_sample("vonage-messages", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    body = body_of(message_uuid="7c1a2f8e-0000-4000-8000-00000000beef", text="PIN 8080 now")
    resp = app.test_client().post("/webhooks/vonage-messages", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token_for(body)}"})
    assert resp.status_code == 200
    [row] = stored_messages(app)
    assert (row.provider_id, row.body, row.code, row.segments, row.sender) == (
        "7c1a2f8e-0000-4000-8000-00000000beef", "PIN 8080 now", "8080", 2, "+447911123456")


def test_stale_request_through_the_app_is_401(make_app, frozen_clock) -> None:
    fx = load_sample("vonage-messages", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    frozen_clock.set(fx["clock"] + 400)
    assert post_sample(app, fx).status_code == 401
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    ("body", "signed"),
    [
        (b"", False), (b"{}", False), (b"not json", True), (b"[]", True),
        (b'{"channel": "sms", "text": NaN}', True), (b"\xff", True),
        (body_of(message_uuid=7), True), (body_of(channel=7), True),
        (b'{"a": 1, "a": 1}', True), (b"{" * 5000, True),
    ],
)
def test_malformed_requests_are_4xx(make_app, frozen_clock, body: bytes, signed: bool) -> None:
    fx = load_sample("vonage-messages", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["Authorization"] = f"Bearer {token_for(body)}"
    resp = app.test_client().post("/webhooks/vonage-messages", data=body, headers=headers)
    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)
    assert resp.status_code == (400 if signed else 401)
    assert stored_messages(app) == []
