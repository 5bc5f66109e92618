"""Jasmin: URL token, `binary`/`content` bytes decoded by SMPP data_coding, `ACK/Jasmin` reply."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import load_sample
from tests.signing import jasmin_body
from tests.test_webhooks import post_sample, sample_app, stored_messages
from webapp.providers import PROVIDERS
from webapp.providers.base import (
    NotConfigured,
    PayloadError,
    SignatureError,
    VerifyContext,
    WebhookRequest,
)
from webapp.providers.jasmin import decode_text

ADAPTER = PROVIDERS["jasmin"]
OTP = load_sample("jasmin", "otp_plain")
TOKEN = OTP["env"]["JASMIN_TOKEN"]
CTX = VerifyContext(secrets=OTP["env"], now=0)
HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/plain",
           "User-Agent": "Jasmin gateway/1.0 deliverSmHttpThrower"}


def post(body: bytes, query: str = f"token={TOKEN}") -> WebhookRequest:
    """A POST as the adapter sees it."""
    return WebhookRequest("POST", "https://sms.example.com/webhooks/jasmin?" + query,
                          query.encode("latin-1"), HEADERS, body)


def get(query: str) -> WebhookRequest:
    """A GET as the adapter sees it."""
    return WebhookRequest("GET", "https://sms.example.com/webhooks/jasmin?" + query,
                          query.encode("latin-1"), HEADERS, b"")


def sample_request(fx: dict) -> WebhookRequest:
    """A sample as the adapter sees it."""
    return post(fx["body"].encode(), fx["path_hint"].partition("?")[2])


def parse_one(request: WebhookRequest):
    [sms] = ADAPTER.parse(request)
    return sms


# --- samples and reply -------------------------------------------------------------------------


def test_sample_verifies_and_parses() -> None:
    request = sample_request(OTP)
    ADAPTER.verify(request, CTX)
    sms = parse_one(request)
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        OTP["expect"]["provider_id"], OTP["expect"]["from_raw"], "2348031234567",
        OTP["expect"]["text"])
    assert sms.part is None


def test_forged_sample_is_refused() -> None:
    with pytest.raises(SignatureError, match="wrong token"):
        ADAPTER.verify(sample_request(load_sample("jasmin", "forged_wrong_token")), CTX)


def test_reply_is_exactly_ack_jasmin() -> None:
    reply = ADAPTER.reply()
    assert (reply.status, reply.body) == (200, "ACK/Jasmin")


# --- the token ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", "token=", "token", "token=guessed", f"token={TOKEN}&token={TOKEN}",
     f"token={TOKEN[:-1]}", "token=%", "token=%4", f"TOKEN={TOKEN}"],
)
def test_missing_wrong_or_malformed_token_is_a_signature_error(query: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(post(jasmin_body(), query), CTX)


def test_token_in_the_body_does_not_count() -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(post(jasmin_body(token=TOKEN), ""), CTX)


def test_unset_token_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(sample_request(OTP), VerifyContext(secrets={}, now=0))


def test_get_connector_appends_a_second_question_mark() -> None:
    # Jasmin builds `baseurl + "?" + args` and the connector URL already holds `?token=`.
    request = get(f"token={TOKEN}?" + jasmin_body(id="get-1").decode())
    ADAPTER.verify(request, CTX)
    sms = parse_one(request)
    assert (sms.provider_id, sms.text) == ("get-1", "Your OTP is 530981.")


# --- text encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "coding", "shown"),
    [
        ("您的验证码是 482913".encode("utf-16-be"), 8, "您的验证码是 482913"),
        ("Ваш код: 7741".encode("utf-16-be"), 8, "Ваш код: 7741"),
        ("OTP 1234 🔐😀".encode("utf-16-be"), 8, "OTP 1234 🔐😀"),
        (b"Sign in as ade\x00mail.ng with 5521", 0, "Sign in as ade@mail.ng with 5521"),
        (b"Fee 5\x1be \x1b<ok\x1b> \x1b(x\x1b)", 0, "Fee 5€ [ok] {x}"),
        (b"Balance \x01 20 \x02 3", 0, "Balance £ 20 $ 3"),
        (b"Votre code 8812, d\xe9j\xe0 vu", 3, "Votre code 8812, déjà vu"),
        (b"Plain ASCII 4471 @ [x]", 1, "Plain ASCII 4471 @ [x]"),
        ("Код 9".encode("iso8859-5"), 6, "Код 9"),
        (b"", 0, ""),
    ],
    ids=["ucs2-chinese", "ucs2-cyrillic", "ucs2-emoji", "gsm-at-as-nul", "gsm-extension",
         "gsm-pound-dollar", "latin-1", "ascii", "iso-8859-5", "empty"],
)
def test_text_is_decoded_by_data_coding(content: bytes, coding: int, shown: str) -> None:
    assert parse_one(post(jasmin_body(content, coding))).text == shown
    assert parse_one(post(jasmin_body(content, coding, with_hex=False))).text == shown


def test_missing_coding_means_the_smsc_default_alphabet() -> None:
    assert parse_one(post(jasmin_body(b"a\x00b", coding=None))).text == "a@b"


def test_binary_wins_over_a_content_mangled_on_the_way() -> None:
    body = jasmin_body("你好".encode("utf-16-be"), 8, content="")
    with pytest.raises(PayloadError, match="disagree"):
        ADAPTER.parse(post(body))
    body = jasmin_body("你好".encode("utf-16-be"), 8)
    assert parse_one(post(body.replace(b"content=", b"ignored="))).text == "你好"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (jasmin_body(b"\x01\x02", 4), "binary data"),
        (jasmin_body(b"\x01\x02", 2), "binary data"),
        (jasmin_body(b"abc", 5), "not supported"),
        (jasmin_body(b"abc", 99), "not supported"),
        (jasmin_body(coding="eight"), "coding must be a number"),
        (jasmin_body(coding="-1"), "coding must be a number"),
        (jasmin_body(binary="zz"), "not hexadecimal"),
        (jasmin_body(binary="abc"), "not hexadecimal"),
        (jasmin_body(b"ok\x1b", 0), "escape"),
        (jasmin_body(b"caf\xe9", 1), "not valid"),
        (jasmin_body("Код".encode("utf-16-be")[:-1], 8), "odd"),
        (jasmin_body(b"\xdc\x00\x00A", 8), "surrogate"),
        (jasmin_body(b"x", with_hex=False).replace(b"content=x", b"content=%E"), "percent"),
        (jasmin_body(b"x", with_hex=False).replace(b"content=x", b"content=%%41"), "percent"),
    ],
)
def test_undecodable_text_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(post(body))


# --- fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["id", "from", "to", "content"])
def test_missing_field_is_named(name: str) -> None:
    body = jasmin_body(with_hex=False)
    body = b"&".join(p for p in body.split(b"&") if not p.startswith(name.encode() + b"="))
    with pytest.raises(PayloadError, match=name):
        ADAPTER.parse(post(body))


def test_duplicated_field_is_refused() -> None:
    with pytest.raises(PayloadError, match="'to' appears more than once"):
        ADAPTER.parse(post(jasmin_body() + b"&to=2348000000000"))


def test_non_utf8_recipient_is_refused() -> None:
    with pytest.raises(PayloadError, match="to"):
        ADAPTER.parse(post(jasmin_body(to=b"\xff")))


def test_national_and_alphanumeric_numbers_are_kept_as_given() -> None:
    sms = parse_one(post(jasmin_body(**{"from": "MTN", "to": "08031234567"})))
    assert (sms.sender, sms.recipient) == ("MTN", "08031234567")


def test_empty_post_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="id"):
        ADAPTER.parse(post(b""))


# --- through the app ---------------------------------------------------------------------------


@pytest.fixture
def app(make_app, frozen_clock) -> Flask:
    """An app with the sample's token and +2348031234567 provisioned for Jasmin."""
    return sample_app(make_app, frozen_clock, OTP)


def send(app: Flask, body: bytes, query: str = f"token={TOKEN}"):
    return app.test_client().post("/webhooks/jasmin?" + query, data=body, headers=HEADERS)


def test_retry_is_acknowledged_and_stored_once(app: Flask) -> None:
    first, again = post_sample(app, OTP), post_sample(app, OTP)
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data() == b"ACK/Jasmin"
    assert [m.provider_id for m in stored_messages(app)] == [OTP["expect"]["provider_id"]]


def test_fresh_ucs2_message_is_accepted(app: Flask) -> None:
    body = jasmin_body("您的验证码是 731904 😀".encode("utf-16-be"), 8, id="fresh-1")
    resp = send(app, body)
    assert (resp.status_code, resp.get_data()) == (200, b"ACK/Jasmin")
    [row] = stored_messages(app)
    assert (row.body, row.code, row.provider_id) == ("您的验证码是 731904 😀", "731904", "fresh-1")
    assert (row.sender, row.recipient) == ("+2348061234567", "+2348031234567")


def test_get_connector_through_the_app(app: Flask) -> None:
    query = f"token={TOKEN}?" + jasmin_body(b"Code 4471 at a\x00b.ng", 0, id="get-2").decode()
    resp = app.test_client().get("/webhooks/jasmin?" + query)
    assert (resp.status_code, resp.get_data()) == (200, b"ACK/Jasmin")
    assert [m.body for m in stored_messages(app)] == ["Code 4471 at a@b.ng"]


def test_national_sender_is_stored_as_given(app: Flask) -> None:
    assert send(app, jasmin_body(**{"from": "08061234567"})).status_code == 200
    [row] = stored_messages(app)
    assert (row.sender, row.sender_raw) == ("08061234567", "08061234567")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not a form",
        jasmin_body(coding=4),
        jasmin_body(binary="0g"),
        jasmin_body(b"\x00", 8),
        jasmin_body(b"\xd8\x00\x00A", 8),
        jasmin_body(id=""),
        jasmin_body(id="a\x00b"),
        jasmin_body(**{"from": "1" * 300}),
        jasmin_body() + b"&id=2",
        jasmin_body() + b"&x=%",
        jasmin_body(coding="1e3"),
        b"&".join([b"a=1"] * 600),
    ],
)
def test_malformed_requests_are_400_without_ack(app: Flask, body: bytes) -> None:
    resp = send(app, body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert b"ACK/Jasmin" not in resp.get_data()
    assert stored_messages(app) == []


@pytest.mark.parametrize("query", ["", "token=guessed", f"token={TOKEN}&token={TOKEN}"])
def test_bad_token_through_the_app_is_401_without_ack(app: Flask, query: str) -> None:
    resp = send(app, jasmin_body(), query)
    assert resp.status_code == 401
    assert b"ACK/Jasmin" not in resp.get_data()
    assert stored_messages(app) == []


@pytest.mark.parametrize(
    ("octets", "text"),
    [
        (b"mail me@example.com $5 [x]_", "mail me@example.com $5 [x]_"),  # converted ASCII
        (b"\x00 is at, \x02 is dollar", "@ is at, $ is dollar"),  # raw GSM septets
        ("Código 4821".encode(), "Código 4821"),  # UTF-8
        (b"caf\xe9 4821", "café 4821"),  # Latin-1
    ],
)
def test_coding_0_reads_what_the_smsc_actually_sent(octets: bytes, text: str) -> None:
    assert decode_text(octets, 0) == text
