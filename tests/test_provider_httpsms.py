"""httpSMS adapter: JWT bound to the URL (not the body), samples, refusals, the app."""

from __future__ import annotations

import json
import uuid
from functools import partial

import jwt
import pytest

from tests.conftest import load_sample
from tests.signing import httpsms_token
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

ADAPTER = PROVIDERS["httpsms"]
KEY = "hs44ee858a79e35bd7d64e1a9a7156b0"
CLOCK = 1741944414
URL = "https://sms.example.com/webhooks/httpsms"


#: An httpSMS-style JWT signed a second before CLOCK: audience this URL, valid ±10 min.
token_for = partial(httpsms_token, URL, issued_at=CLOCK - 1)


def event_of(event_type: str = "message.phone.received", **data: object) -> dict:
    """A CloudEvent of a received message to the sample recipient."""
    return {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/v1/messages/receive",
        "type": event_type, "datacontenttype": "application/json",
        "time": "2025-03-14T09:26:53.123Z",
        "data": {"message_id": str(uuid.uuid4()), "user_id": "WB7DRDWrJZRGbYrv2CKGkqbzvqdC",
                 "owner": "+16465551234", "encrypted": False, "contact": "+447400123456",
                 "timestamp": "2025-03-14T09:26:52.527Z", "content": "Code: 3141",
                 "sim": "SIM1", "attachments": [], **data},
    }


def request_with(body: bytes, authorization: str | None, url: str = URL) -> WebhookRequest:
    """A POST of a body with an Authorization header (none when None)."""
    headers = {"Content-Type": "application/json", "X-Event-Type": "message.phone.received"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return WebhookRequest("POST", url, b"", headers, body, "application/json")


def context(now: float = CLOCK) -> VerifyContext:
    """The sample key at `now`."""
    return VerifyContext(secrets={"HTTPSMS_SIGNING_KEY": KEY}, now=now)


def test_sample_verifies_and_parses() -> None:
    fx = load_sample("httpsms", "otp_plain")
    req = sample_request(fx)
    ADAPTER.verify(req, sample_context(fx))
    [sms] = ADAPTER.parse(req)
    expect = fx["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text, sms.event_id) == (
        expect["provider_id"], expect["from_raw"], expect["to"], expect["text"],
        expect["event_id"])


def test_forged_sample_is_refused() -> None:
    fx = load_sample("httpsms", "forged_wrong_key")
    with pytest.raises(SignatureError, match="Signature verification failed"):
        ADAPTER.verify(sample_request(fx), sample_context(fx))


@pytest.mark.parametrize("offset", [301, -301, 601, 100_000])
def test_stale_request_is_refused(offset: int) -> None:
    fx = load_sample("httpsms", "otp_plain")
    iat = fx["clock"] - 1  # the sample was signed a second before its clock
    with pytest.raises(SignatureError):
        ADAPTER.verify(sample_request(fx), sample_context(fx, iat + offset))
    ADAPTER.verify(sample_request(fx), sample_context(fx, iat + 299))


def test_the_token_does_not_cover_the_body() -> None:
    # Documented limitation: httpSMS signs no body hash, so one token verifies any body.
    fx = load_sample("httpsms", "otp_plain")
    other = json.dumps(event_of(content="not what was sent")).encode()
    ADAPTER.verify(request_with(other, fx["headers"]["Authorization"]), sample_context(fx))


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": ["https://sms.example.com/webhooks/other"]}, "(?i)audience"),
        ({"aud": "https://evil.example.com/webhooks/httpsms"}, "(?i)audience"),
        ({"aud": None}, "aud"),
        ({"aud": [1]}, "claim format"),
        ({"iat": None}, "iat"),
        ({"exp": None}, "exp"),
        ({"nbf": None}, "nbf"),
        ({"exp": CLOCK - 400}, "expired"),
        ({"nbf": CLOCK + 400}, "not valid yet"),
        ({"iat": "now"}, "iat"),
    ],
)
def test_bad_claims_are_refused(claims: dict, reason: str) -> None:
    body = json.dumps(event_of()).encode()
    with pytest.raises(SignatureError, match=reason):
        ADAPTER.verify(request_with(body, f"Bearer {token_for(**claims)}"), context())


def test_audience_is_the_public_url_exactly() -> None:
    body = json.dumps(event_of()).encode()
    token = token_for(aud=[URL + "?x=1"])
    ADAPTER.verify(request_with(body, f"Bearer {token}", URL + "?x=1"), context())
    with pytest.raises(SignatureError, match="(?i)audience"):
        ADAPTER.verify(request_with(body, f"Bearer {token}"), context())
    with pytest.raises(SignatureError, match="(?i)audience"):
        ADAPTER.verify(request_with(body, f"Bearer {token_for()}", URL + "?x=1"), context())


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "garbage", "Bearer garbage",
     "Bearer a.b.c", "Bearer e30.e30.", "TRUNCATED", "NONE", "HS512", "WRONGKEY",
     "Bearer " + "A" * 5000],
)
def test_malformed_authorization_is_refused(authorization: str | None) -> None:
    special = {
        "TRUNCATED": lambda: "Bearer " + token_for()[:-6],
        "NONE": lambda: "Bearer " + jwt.encode({"aud": [URL], "iat": CLOCK}, None,
                                               algorithm="none"),
        "HS512": lambda: "Bearer " + token_for(key=KEY * 2, algorithm="HS512"),
        "WRONGKEY": lambda: "Bearer " + token_for(key="x" * 32),
    }
    header = special[authorization]() if authorization in special else authorization
    with pytest.raises(SignatureError):
        ADAPTER.verify(request_with(json.dumps(event_of()).encode(), header), context())


def test_missing_key_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(request_with(b"{}", "Bearer x"), VerifyContext(secrets={}, now=0))


def test_other_event_types_are_acknowledged_and_not_stored() -> None:
    body = json.dumps(event_of("message.phone.sent")).encode()
    assert ADAPTER.parse(request_with(body, None)) == []


def _without_data(event: dict) -> dict:
    return {k: v for k, v in event.items() if k != "data"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (json.dumps(event_of(message_id=None)), "data.message_id"),
        (json.dumps(event_of(contact="")), "data.contact"),
        (json.dumps(event_of(owner=16465551234)), "data.owner"),
        (json.dumps(event_of(content=None)), "data.content"),
        (json.dumps(event_of(content={"a": 1})), "data.content"),
        (json.dumps(event_of(encrypted=True)), "encrypted"),
        (json.dumps(_without_data(event_of())), "data"),
        (json.dumps({**event_of(), "data": ["x"]}), "data"),
        (json.dumps({**event_of(), "type": None}), "type"),
        (json.dumps([event_of()]), "JSON object"),
        ('{"type": "message.phone.received", "data": {"content": NaN}}', "NaN"),
        ('{"type": "a", "type": "b"}', "more than once"),
        ("", "not valid JSON"),
    ],
)
def test_malformed_payloads_are_payload_errors(payload: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(request_with(payload.encode(), None))


def test_non_utf8_body_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="UTF-8"):
        ADAPTER.parse(request_with(b'{"type": "\xff"}', None))


def test_reply_is_an_empty_200() -> None:
    assert (ADAPTER.reply().status, ADAPTER.reply().body) == (200, "")


# Through the app ------------------------------------------------------------------------------


def test_retry_is_stored_once(make_app, frozen_clock) -> None:
    fx = load_sample("httpsms", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    assert [post_sample(app, fx).status_code for _ in range(2)] == [200, 200]
    assert len(stored_messages(app)) == 1


def test_fresh_signed_request_is_accepted(make_app, frozen_clock) -> None:
    fx = load_sample("httpsms", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    event = event_of(message_id="0b7e3f00-0000-4000-8000-0000000000aa", content="PIN 2718")
    resp = app.test_client().post("/webhooks/httpsms", data=json.dumps(event), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token_for()}"})
    assert resp.status_code == 200
    [row] = stored_messages(app)
    assert (row.provider_id, row.body, row.code, row.sender, row.recipient) == (
        "0b7e3f00-0000-4000-8000-0000000000aa", "PIN 2718", "2718", "+447400123456",
        "+16465551234")


def test_stale_request_through_the_app_is_401(make_app, frozen_clock) -> None:
    fx = load_sample("httpsms", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    frozen_clock.set(fx["clock"] + 301)
    assert post_sample(app, fx).status_code == 401
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    ("body", "signed", "status"),
    [
        (b"", False, 401), (b"{}", True, 400), (b"not json", True, 400), (b"[]", True, 400),
        (b"\xff\xfe", True, 400), (b'{"a": Infinity}', True, 400),
        (json.dumps(event_of(encrypted=True)).encode(), True, 400),
        (json.dumps(event_of(message_id=["x"])).encode(), True, 400),
        (b"[" * 5000, True, 400),
    ],
)
def test_malformed_requests_are_4xx(make_app, frozen_clock, body: bytes, signed: bool,
                                    status: int) -> None:
    fx = load_sample("httpsms", "otp_plain")
    app = sample_app(make_app, frozen_clock, fx)
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["Authorization"] = f"Bearer {token_for()}"
    resp = app.test_client().post("/webhooks/httpsms", data=body, headers=headers)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert stored_messages(app) == []
