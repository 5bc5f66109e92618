"""Adapters as pure functions: signatures against official vectors and the shared samples."""

from __future__ import annotations

import pytest

from tests.conftest import load_sample
from webapp.providers import PROVIDERS
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.forms import strict_json
from webapp.providers.twilio import signature, url_variants


def sample_request(fx: dict) -> WebhookRequest:
    """A sample as the plain request an adapter sees."""
    path, _, query = fx["path_hint"].partition("?")
    return WebhookRequest(
        method=fx["method"],
        url=fx["url"],
        query_string=query.encode("latin-1"),
        headers=fx["headers"],
        body=fx["body"].encode("utf-8"),
        content_type=fx["content_type"] or "",
    )


def sample_context(fx: dict, now: float | None = None) -> VerifyContext:
    """The sample's secrets, at the sample's clock."""
    clock = fx["clock"] if now is None else now
    return VerifyContext(secrets=fx["env"], now=float(clock or 0))


def test_twilio_official_vector() -> None:
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    port_url = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert signature("12345", port_url, params) == "kvajT1Ptam85bY51eRf/AJRuM3w="


def test_twilio_accepts_a_signature_made_with_the_default_port() -> None:
    assert url_variants("https://sms.example.com/webhooks/twilio") == [
        "https://sms.example.com/webhooks/twilio",
        "https://sms.example.com:443/webhooks/twilio",
    ]
    assert url_variants("https://sms.example.com:443/x")[1] == "https://sms.example.com/x"


def test_standard_webhooks_official_vector() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    req = WebhookRequest(
        method="POST",
        url="https://sms.example.com/webhooks/generic",
        query_string=b"",
        headers={
            "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "webhook-timestamp": "1614265330",
            "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        },
        body=b'{"test": 2432232314}',
    )
    ctx = VerifyContext(secrets={"GENERIC_WEBHOOK_SECRET": secret}, now=1614265330)
    PROVIDERS["generic"].verify(req, ctx)  # raises when wrong


@pytest.mark.parametrize("provider", ["twilio", "generic"])
def test_sample_otp_verifies_and_parses(provider: str) -> None:
    fx = load_sample(provider, "otp_plain")
    adapter = PROVIDERS[provider]
    req = sample_request(fx)
    adapter.verify(req, sample_context(fx))
    [sms] = adapter.parse(req)
    assert sms.provider_id == fx["expect"]["provider_id"]
    assert sms.sender == fx["expect"]["from_raw"]
    assert sms.text == fx["expect"]["text"]


@pytest.mark.parametrize(
    ("provider", "name"), [("twilio", "forged_tampered_body"), ("generic", "forged_unknown_key")]
)
def test_forged_samples_are_refused(provider: str, name: str) -> None:
    fx = load_sample(provider, name)
    with pytest.raises(SignatureError):
        PROVIDERS[provider].verify(sample_request(fx), sample_context(fx))


def test_generic_refuses_a_stale_timestamp() -> None:
    fx = load_sample("generic", "otp_plain")
    signed_at = int(fx["headers"]["webhook-timestamp"])
    for now in (signed_at + 301, signed_at - 301):
        with pytest.raises(SignatureError, match="replay window"):
            PROVIDERS["generic"].verify(sample_request(fx), sample_context(fx, now))
    PROVIDERS["generic"].verify(sample_request(fx), sample_context(fx, signed_at + 299))


def test_generic_second_rotation_key_is_accepted() -> None:
    fx = load_sample("generic", "otp_plain")
    first, second = fx["env"]["GENERIC_WEBHOOK_SECRET"].split()
    ctx = VerifyContext(secrets={"GENERIC_WEBHOOK_SECRET": f"{second} {first}"}, now=fx["clock"])
    PROVIDERS["generic"].verify(sample_request(fx), ctx)


@pytest.mark.parametrize(
    "header",
    ["", "v1", "v1,", "v1,!!!notbase64", "v2,abc", "garbage", "v1,a,b", "v1,==="],
)
def test_generic_malformed_signature_headers_are_401_not_crashes(header: str) -> None:
    fx = load_sample("generic", "otp_plain")
    req = sample_request({**fx, "headers": {**fx["headers"], "webhook-signature": header}})
    with pytest.raises(SignatureError):
        PROVIDERS["generic"].verify(req, sample_context(fx))


@pytest.mark.parametrize("timestamp", ["", "abc", "1e10", "-5", "99999999999999999999", "1.5"])
def test_generic_malformed_timestamps_are_refused(timestamp: str) -> None:
    fx = load_sample("generic", "otp_plain")
    req = sample_request({**fx, "headers": {**fx["headers"], "webhook-timestamp": timestamp}})
    with pytest.raises(SignatureError):
        PROVIDERS["generic"].verify(req, sample_context(fx))


def test_missing_secret_is_not_configured() -> None:
    fx = load_sample("twilio", "otp_plain")
    with pytest.raises(NotConfigured):
        PROVIDERS["twilio"].verify(sample_request(fx), VerifyContext(secrets={}, now=0))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b'{"a": 1, "a": 2}', "more than once"),
        (b"[" * 100 + b"]" * 100, "nested"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"a": ', "not valid JSON"),
    ],
)
def test_strict_json_refuses_hostile_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        strict_json(body)


def test_twilio_duplicated_field_is_refused() -> None:
    body = b"MessageSid=SM1&From=%2B4915112345678&To=%2B14155552671&Body=a&Body=b"
    req = WebhookRequest("POST", "https://x/webhooks/twilio", b"", {}, body)
    with pytest.raises(PayloadError, match="Body"):
        PROVIDERS["twilio"].parse(req)


def test_twilio_get_reads_the_query() -> None:
    query = b"MessageSid=SM9&From=%2B4915112345678&To=%2B14155552671&Body=hi+there"
    req = WebhookRequest("GET", "https://x/webhooks/twilio?" + query.decode(), query, {}, b"")
    [sms] = PROVIDERS["twilio"].parse(req)
    assert (sms.provider_id, sms.text) == ("SM9", "hi there")
