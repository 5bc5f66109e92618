"""MessageBird legacy adapter: the official JWT vectors, the samples, refusals, the app."""

from __future__ import annotations

import uuid
from functools import partial
from urllib.parse import urlencode

import pytest

from tests.conftest import load_sample
from tests.signing import messagebird_token
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

ADAPTER = PROVIDERS["messagebird"]
HEADER = "MessageBird-Signature-JWT"
KEY = "e7a83c47203cb5d325290341ce7503861fa6a84fb9c6349117e99157163bb2f3"
CLOCK = 1741944418
BASE = "https://sms.example.com/webhooks/messagebird"

# messagebird/python-rest-api:tests/test_request_validator/webhook_signature_test_data.json
# (one case per kind; the SDK repeats several for every HTTP method). All at 2021-07-05 10:00 UTC.
VECTOR_KEY = "36efdd1aace2e26cd490f0d951138253bef2f7c6d34d18981da781555cc4cebb"
VECTOR_NOW = 1625479200
HELLO = "Hello, World!"
SPECIAL = "Some text containg & < >, & and \\u0026"
VECTORS = [  # (name, url, payload, token, the refusal's reason or None when valid)
    ("no URL parameters or payload", "https://example.com/", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.6Fp0rVOsRr1fj9S2GidXAfkmPVofKr8_RTffC6G6r2E",
     None),
    ("URL parameters, no payload", "https://example.com/path?bar=1&foo=2", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJjOTQ2YWY3Ny1lMTgyLTRlYWEtYjJmZi0xYTU0NWI1ZTk5MWEiLCJ1cmxfaGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAifQ.huo2ou6JDoDc7sV25d75UMWeYhBeavQlLsqIibSZuac",
     None),
    ("URL parameters and payload", "https://example.com/path?bar=1&foo=2", HELLO,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI5M2U1NTAwNi1hMGU4LTQ1MjYtYTE5MC1mYTVmZjAwZWExMTYiLCJ1cmxfaGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAiLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzdmNzBhNGIyODY4OGEzNjIxODI5ODZmIn0._H--TOuYFLpeEH39-rg5E3IHVkjHozBcaKVWPRC5m9I",
     None),
    ("received before it was issued", "https://example.com/", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ4MjgwMCwiZXhwIjoxNjI1NDgyODYwLCJqdGkiOiJmOWY4YzM4Mi0yNDQ5LTQzMTEtYjcyYi0xZGY3MTY4NzkzMWUiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.ZELgDFNGhjZH9CffQKcq3sytBe2I0KciLxpBhcfstHQ",
     "not valid yet"),
    ("received after it expired", "https://example.com/", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3NTYwMCwiZXhwIjoxNjI1NDc1NjYwLCJqdGkiOiI1ZjAyZjUyMi02MDMwLTQ2YzgtYjVhMy0wMTI0NjQ3OGQ4YmMiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.45MSST3B_2PsjNUeiuW54_vUQgVw4rBXrdWrOUEz3lM",
     "expired"),
    ("received on another URL (parameters reordered)", "https://example.com/path?foo=1&bar=2", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJhNzVjOTA5Ni1lODIzLTQ0MmItODVmMi03ZDNjOWQ5YjcyNmIiLCJ1cmxfaGFzaCI6IjZhMDIyZDgzNGMxODMzMGJhYWQ4YTJiZDYxMzUxNzNlZDIxNjEwYTQ1NDUxNmJlMGRmM2YxY2MwMTUxNjEwZWEifQ.z6Sw1XQIM0wuEQGBhXBdawDIIrtMg2XnmA_bpDq53pE",
     "url_hash"),
    ("payload does not match", "https://example.com/", HELLO,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIxNDUwMTUzMi05NmYyLTQ2ODQtOTgzMi02OGYwOTUxYWUzNDIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiJmYjYyZjAyYWNkYTdkNzQxNzdhNzAxYTFjZTAwNmU2YmFjZDkwYzdkNGQ3YWI0ODE2OTJjMWRhNDdjODEwNzZiIn0.m79RCwO6dGa9pvzsQypkVuXQ6eM0CkRl6_U7MfWg6TM",
     "payload_hash"),
    ("different secret", "https://example.com/", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIyNDNjMjdhZS0yZjAyLTQ2YTAtODg1Mi1jNjZmMzdlYTlmNDYiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.JgSeYyOtlEKAXk8bz30iJI4tXgf4lxknoiezawuVhb4",
     "Signature verification failed"),
    ("payload removed in transit", "https://example.com/", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIxNDUwMTUzMi05NmYyLTQ2ODQtOTgzMi02OGYwOTUxYWUzNDIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzdmNzBhNGIyODY4OGEzNjIxODI5ODZmIn0.bHfsjj3tljfzTufoG3EU3p_yFrQh9CufyzRSaRMd4ss",
     "payload_hash is set"),
    ("payload added in transit", "https://example.com/", HELLO,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.6Fp0rVOsRr1fj9S2GidXAfkmPVofKr8_RTffC6G6r2E",
     "payload_hash is missing"),
    ("port number in URL", "https://example.com:8080/", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjA3Zjc4NjFhNjliMTNjMjI5YzZhZTU5NmQxOThiMjc2M2IwNTRjZjVlMDAwZDczNmQxYzQ4MTAyZDc3MGNmZmMifQ.vcpa0IicGAbpo064dOjiA2VbVOR2S5uZBEaBOP16sS8",
     None),
    ("special characters in URL",
     "https://example.com/?obj%5Bfield1%5D=val1&obj%5Bfield2%5D=val2&param=value+with+spaces", "",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjhhZmYzNzQ4ZDc4OWM0MzMzNTczZTFjMzFmZTViMDA0OTQwY2I1ZmM0NzQ2MGVkM2QwZTY1NGY3ZmM0ZTVmYWUifQ.mJBCMfEjKmN3IMuzqPXPHktWETrcu0iNdF3agE8PDyI",
     None),
    ("special characters in the payload", "https://example.com/", SPECIAL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiIyNDMxYmQ5Y2NiNDhlZDAxNmZhZDU2N2IwNzcxMjAzOGI1Y2RkOTQ5YWM5ZDQxZmU0NjkzZDVhMzg0NWNmN2U4In0.IQiKzeEPaO3A48lhKmBDSmxZyCESPCGxdSKFdi0dEJs",
     None),
    ("HS384", "https://example.com/", "",
     "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.KNMW-29X77lZeuPmThmHWc_RUAvTkaDkpxIZK6mqE08v8mWKiU9Edh4QXwAJO2nv",
     None),
    ("HS512", "https://example.com/", "",
     "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.rd6r0iMyNGnVPCwurETphE3Y8rpAyvvnUK0S8WvGUkt2E1QSRAZ7NZJZBHw1Y_Wb5W-sK9HJr_PRL2vz4jRT3Q",
     None),
    ("alg none", "https://example.com/", "",
     "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJNZXNzYWdlQmlyZCIsImlhdCI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.",
     "alg value is not allowed"),
]


def vector_request(url: str, payload: str, token: str) -> WebhookRequest:
    """A vector as a request: POST when it has a payload, else GET."""
    method = "POST" if payload else "GET"
    query = url.partition("?")[2].encode()
    return WebhookRequest(method, url, query, {HEADER: token}, payload.encode())


@pytest.mark.parametrize(("name", "url", "payload", "token", "reason"), VECTORS,
                         ids=[v[0] for v in VECTORS])
def test_official_vectors(name: str, url: str, payload: str, token: str,
                          reason: str | None) -> None:
    ctx = VerifyContext(secrets={"MESSAGEBIRD_SIGNING_KEY": VECTOR_KEY}, now=VECTOR_NOW)
    req = vector_request(url, payload, token)
    if reason is None:
        ADAPTER.verify(req, ctx)
    else:
        with pytest.raises(SignatureError, match=reason):
            ADAPTER.verify(req, ctx)


def query_of(**fields: str) -> str:
    """The query string of an inbound message to the sample recipient."""
    return urlencode({"id": uuid.uuid4().hex, "recipient": "31612345678",
                      "originator": "4915112345678", "body": "Your code: 4711",
                      "createdDatetime": "2025-03-14T09:26:53+00:00", **fields})


#: A MessageBird-style JWT for a URL (and a body), signed five seconds before CLOCK.
token_for = partial(messagebird_token, issued_at=CLOCK - 5)


def get_request(query: str, token: str | None) -> WebhookRequest:
    """A GET forward of a query with the signature header (none when None)."""
    headers = {} if token is None else {HEADER: token}
    return WebhookRequest("GET", f"{BASE}?{query}", query.encode(), headers, b"")


def context(now: float = CLOCK) -> VerifyContext:
    """The sample key at `now`."""
    return VerifyContext(secrets={"MESSAGEBIRD_SIGNING_KEY": KEY}, now=now)


def test_sample_verifies_and_parses() -> None:
    fx = load_sample("messagebird", "otp_get_jwt")
    req = sample_request(fx)
    ADAPTER.verify(req, sample_context(fx))
    [sms] = ADAPTER.parse(req)
    expect = fx["expect"]
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        expect["provider_id"], expect["from_raw"], "31612345678", expect["text"])


def test_forged_url_changed_is_refused() -> None:
    fx = load_sample("messagebird", "forged_url_changed")
    with pytest.raises(SignatureError, match="url_hash"):
        ADAPTER.verify(sample_request(fx), sample_context(fx))


@pytest.mark.parametrize("offset", [301, -301, 100_000])
def test_stale_request_is_refused(offset: int) -> None:
    fx = load_sample("messagebird", "otp_get_jwt")
    nbf = fx["clock"] - 5  # the sample was signed five seconds before its clock
    with pytest.raises(SignatureError):
        ADAPTER.verify(sample_request(fx), sample_context(fx, nbf + offset))
    ADAPTER.verify(sample_request(fx), sample_context(fx, nbf + 299))


def test_fresh_token_verifies_and_any_change_to_the_url_is_refused() -> None:
    query = query_of()
    token = token_for(f"{BASE}?{query}")
    ADAPTER.verify(get_request(query, token), context())
    with pytest.raises(SignatureError, match="url_hash"):
        ADAPTER.verify(get_request(query + "&x=1", token), context())
    other_host = WebhookRequest("GET", f"http://sms.example.com/webhooks/messagebird?{query}",
                                query.encode(), {HEADER: token}, b"")
    with pytest.raises(SignatureError, match="url_hash"):
        ADAPTER.verify(other_host, context())


def test_a_post_body_must_be_covered_by_payload_hash() -> None:
    body = query_of().encode()
    signed = WebhookRequest("POST", BASE, b"", {HEADER: token_for(BASE, body)}, body)
    ADAPTER.verify(signed, context())
    assert ADAPTER.parse(signed)[0].text == "Your code: 4711"
    unsigned = WebhookRequest("POST", BASE, b"", {HEADER: token_for(BASE)}, body)
    with pytest.raises(SignatureError, match="payload_hash"):
        ADAPTER.verify(unsigned, context())


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "Someone"}, "issuer"),
        ({"iss": None}, "iss"),
        ({"url_hash": None}, "url_hash"),
        ({"exp": None}, "exp"),
        ({"nbf": "soon"}, "nbf"),
        ({"exp": float("inf")}, "exp"),
        ({"url_hash": ["a"]}, "url_hash"),
    ],
)
def test_bad_claims_are_refused(claims: dict, reason: str) -> None:
    query = query_of()
    token = token_for(f"{BASE}?{query}", **claims)
    with pytest.raises(SignatureError, match=reason):
        ADAPTER.verify(get_request(query, token), context())


@pytest.mark.parametrize(
    "header",
    [None, "", "   ", "garbage", "a.b.c", "e30.e30.e30", "Bearer x", "TRUNCATED", "WRONGKEY",
     "RS256", "!!!." * 3, "A" * 5000],
)
def test_malformed_signature_header_is_refused(header: str | None) -> None:
    query = query_of()
    url = f"{BASE}?{query}"
    special = {
        "TRUNCATED": lambda: token_for(url)[:-8],
        "WRONGKEY": lambda: token_for(url, key="f" * 64),
        "RS256": lambda: token_for(url).replace(token_for(url).split(".")[0],
                                                "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"),
    }
    token = special[header]() if header in special else header
    with pytest.raises(SignatureError):
        ADAPTER.verify(get_request(query, token), context())


def test_missing_key_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(get_request(query_of(), "x"), VerifyContext(secrets={}, now=0))


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (query_of(id=""), "id"),
        ("recipient=31612345678&originator=49151&body=x", "id"),
        ("id=1&recipient=31612345678&body=x", "originator"),
        ("id=1&originator=49151&body=x", "recipient"),
        ("id=1&recipient=31612345678&originator=49151", "body"),
        (query_of() + "&body=again", "more than once"),
        ("id=1&body=%FF", "malformed"),
    ],
)
def test_malformed_payloads_are_payload_errors(query: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(get_request(query, None))


def test_non_utf8_query_is_a_payload_error() -> None:
    req = WebhookRequest("GET", BASE, b"id=1&body=\xff", {}, b"")
    with pytest.raises(PayloadError, match="UTF-8"):
        ADAPTER.parse(req)


def test_reply_is_an_empty_200() -> None:
    assert (ADAPTER.reply().status, ADAPTER.reply().body) == (200, "")


# Through the app ------------------------------------------------------------------------------


def test_retry_is_stored_once(make_app, frozen_clock) -> None:
    fx = load_sample("messagebird", "otp_get_jwt")
    app = sample_app(make_app, frozen_clock, fx)
    assert [post_sample(app, fx).status_code for _ in range(2)] == [200, 200]
    assert len(stored_messages(app)) == 1


def test_fresh_signed_request_is_accepted(make_app, frozen_clock) -> None:
    fx = load_sample("messagebird", "otp_get_jwt")
    app = sample_app(make_app, frozen_clock, fx)
    query = query_of(id="feedfacefeedfacefeedfacefeedface", originator="Bolt",
                     body="Bolt code 9931")
    resp = app.test_client().get(f"/webhooks/messagebird?{query}",
                                 headers={HEADER: token_for(f"{BASE}?{query}")})
    assert resp.status_code == 200
    [row] = stored_messages(app)
    assert (row.provider_id, row.sender, row.body, row.code) == (
        "feedfacefeedfacefeedfacefeedface", "Bolt", "Bolt code 9931", "9931")


def test_stale_request_through_the_app_is_401(make_app, frozen_clock) -> None:
    fx = load_sample("messagebird", "otp_get_jwt")
    app = sample_app(make_app, frozen_clock, fx)
    frozen_clock.set(fx["clock"] + 301)
    assert post_sample(app, fx).status_code == 401
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    ("query", "signed", "status"),
    [
        ("", False, 401), ("id=1", False, 401), ("body=%FF%FE", True, 400),
        ("id=1&recipient=31612345678&originator=4915", True, 400),
        (query_of() + "&id=2", True, 400), ("%%%", True, 400),
    ],
)
def test_malformed_requests_are_4xx(make_app, frozen_clock, query: str, signed: bool,
                                    status: int) -> None:
    fx = load_sample("messagebird", "otp_get_jwt")
    app = sample_app(make_app, frozen_clock, fx)
    url = f"{BASE}?{query}" if query else BASE
    headers = {HEADER: token_for(url)} if signed else {}
    resp = app.test_client().get(f"/webhooks/messagebird?{query}" if query else
                                 "/webhooks/messagebird", headers=headers)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert stored_messages(app) == []
