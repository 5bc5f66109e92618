"""Kannel: URL token, raw-byte query decoding by charset, UDH concatenation, empty reply."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import load_sample
from tests.signing import kannel_query
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
from webapp.providers.kannel import concatenation, raw_fields, udh_octets

ADAPTER = PROVIDERS["kannel"]
OTP = load_sample("kannel", "otp_plain_gsm_utf8")
PART1 = load_sample("kannel", "concat_part_1_of_2")
PART2 = load_sample("kannel", "concat_part_2_of_2")
TOKEN = OTP["env"]["KANNEL_TOKEN"]
CTX = VerifyContext(secrets=OTP["env"], now=0)


def get(query: str) -> WebhookRequest:
    """A GET request as the adapter sees it."""
    return WebhookRequest("GET", "https://sms.example.com/webhooks/kannel?" + query,
                          query.encode("latin-1"), {"User-Agent": "Kannel/1.5.0"}, b"")


def post(body: bytes, headers: dict[str, str], query: str | None = None) -> WebhookRequest:
    """A `post-url` request: the message is the body, the id and token in the query."""
    query = query if query is not None else f"token={TOKEN}&id={uuid.uuid4()}"
    return WebhookRequest("POST", "https://sms.example.com/webhooks/kannel?" + query,
                          query.encode("latin-1"), headers, body)


def sample_request(fx: dict) -> WebhookRequest:
    """A sample as the adapter sees it, query bytes exactly as in `path_hint`."""
    return get(fx["path_hint"].partition("?")[2])


def parse_one(request: WebhookRequest):
    [sms] = ADAPTER.parse(request)
    return sms


# --- samples ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fx", [OTP, PART1, PART2], ids=lambda fx: fx["name"])
def test_samples_verify_and_parse(fx: dict) -> None:
    request = sample_request(fx)
    ADAPTER.verify(request, CTX)
    sms = parse_one(request)
    assert (sms.provider_id, sms.sender, sms.recipient, sms.text) == (
        fx["expect"]["provider_id"], fx["expect"]["from_raw"], fx["expect"]["to"].lstrip("+"),
        fx["expect"]["text"])
    multipart = fx["expect"].get("multipart")
    expected = Part(multipart["ref"], multipart["total"], multipart["part"]) if multipart else None
    assert sms.part == expected


def test_forged_sample_is_refused() -> None:
    with pytest.raises(SignatureError, match="wrong token"):
        ADAPTER.verify(sample_request(load_sample("kannel", "forged_wrong_token")), CTX)


def test_reply_is_an_empty_body() -> None:
    reply = ADAPTER.reply()
    assert (reply.status, reply.body) == (200, "")
    assert reply.content_type.startswith("text/plain")


# --- the token ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "from=1&id=2",
        "token=",
        "token",
        f"token={TOKEN.upper()}",
        f"token={TOKEN}x",
        f"token={TOKEN}&token={TOKEN}",
        "token=%G1",
        "token=%",
        "&".join(["a=1"] * 600) + f"&token={TOKEN}",
        f"Token={TOKEN}",
    ],
)
def test_missing_wrong_or_malformed_token_is_a_signature_error(query: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(get(query), CTX)


def test_percent_encoded_token_is_decoded_before_comparing() -> None:
    ADAPTER.verify(get("token=" + "".join(f"%{b:02X}" for b in TOKEN.encode())), CTX)


def test_token_in_a_post_body_does_not_count() -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(post(f"token={TOKEN}".encode(), {}, query="id=1"), CTX)


def test_unset_token_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ADAPTER.verify(sample_request(OTP), VerifyContext(secrets={}, now=0))


# --- text encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields", "shown"),
    [
        ("您的验证码是 482913".encode("utf-16-be"), {"coding": "2", "charset": "UTF-16BE"},
         "您的验证码是 482913"),
        ("Ваш код: 7741".encode("utf-16-be"), {"coding": "2", "charset": "UTF-16BE"},
         "Ваш код: 7741"),
        ("Code 1234 🔐✅".encode("utf-16-be"), {"coding": "2", "charset": "UTF-16BE"},
         "Code 1234 🔐✅"),
        ("Код 55".encode("utf-16-be"), {"coding": "2", "charset": ""}, "Код 55"),
        (b"Login code 9911 for me\x00example.com", {}, "Login code 9911 for me@example.com"),
        (b"Price 5\x1be \x1b<ok\x1b>", {"charset": "GSM"}, "Price 5€ [ok]"),
        (b"\x02 10 \x11 code 4410", {}, "$ 10 _ code 4410"),
        (b"Votre code: 8812 \xe0 utiliser, d\xe9j\xe0", {"charset": "ISO-8859-1"},
         "Votre code: 8812 à utiliser, déjà"),
        ("Código: 4411 ✓".encode(), {}, "Código: 4411 ✓"),
        (b"a+b=c 100%", {}, "a+b=c 100%"),
        (b"", {}, ""),
    ],
    ids=["ucs2-chinese", "ucs2-cyrillic", "ucs2-emoji", "ucs2-by-coding", "gsm-at-as-nul",
         "gsm-extension", "gsm-dollar-underscore", "latin-1", "utf-8", "plus-and-percent",
         "empty"],
)
def test_text_is_decoded_from_raw_bytes_by_the_reported_charset(text, fields, shown) -> None:
    assert parse_one(get(kannel_query(text, **fields))).text == shown


def test_sample_percent_encoding_with_plus_for_space() -> None:
    assert parse_one(sample_request(OTP)).text == "Votre code de vérification WhatsApp : 284-719"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (kannel_query(charset="KLINGON-8"), "unsupported charset"),
        (kannel_query(charset="unicode_escape"), "unsupported charset"),
        (kannel_query() + "%2", "percent-encoding"),
        (kannel_query().replace("text=Your", "text=%G1Your"), "percent-encoding"),
        (kannel_query("Код".encode("utf-16-be")[:-1], coding="2", charset="UTF-16BE"), "odd"),
        (kannel_query(b"\xd8\x3d", coding="2", charset="UTF-16BE"), "surrogate"),
        (kannel_query(b"caf\xe9"), "not valid UTF-8"),
        (kannel_query(b"\x01\x02\xff", coding="1", charset="8-BIT"), "binary"),
        (kannel_query(b"\x01\x02", coding="1", charset=""), "binary"),
        (kannel_query(coding="7"), "coding"),
        (kannel_query(coding="zero"), "coding"),
        (kannel_query(charset=b"\xff"), "charset"),
        (kannel_query(charset=b"UTF\x008"), "unsupported charset"),
    ],
)
def test_undecodable_text_is_a_payload_error(query: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(get(query))


# --- fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "label"), [("id", "%I"), ("from", "%p"), ("to", "%P"),
                                               ("text", "%b")])
def test_missing_field_is_named(name: str, label: str) -> None:
    query = "&".join(p for p in kannel_query().split("&") if not p.startswith(name + "="))
    with pytest.raises(PayloadError, match=f"{name} \\({label}\\)"):
        ADAPTER.parse(get(query))


def test_empty_id_is_refused() -> None:
    with pytest.raises(PayloadError, match="id"):
        ADAPTER.parse(get(kannel_query(id="")))


def test_duplicated_field_is_refused() -> None:
    with pytest.raises(PayloadError, match="'text' appears more than once"):
        ADAPTER.parse(get(kannel_query() + "&text=other"))


def test_non_utf8_sender_is_refused() -> None:
    with pytest.raises(PayloadError, match="from"):
        ADAPTER.parse(get(kannel_query(**{"from": b"\xff\xfe"})))


def test_numbers_are_kept_exactly_as_the_smsc_gave_them() -> None:
    sms = parse_one(get(kannel_query(**{"from": "0612345678", "to": "+33612345678"})))
    assert (sms.sender, sms.recipient) == ("0612345678", "+33612345678")


def test_alphanumeric_sender_is_kept() -> None:
    assert parse_one(get(kannel_query(**{"from": "WhatsApp"}))).sender == "WhatsApp"


def test_raw_fields_keep_bytes_and_blank_values() -> None:
    assert raw_fields(b"a=%00%FF&b=&c&d=x+y") == {"a": b"\x00\xff", "b": b"", "c": b"",
                                                  "d": b"x y"}


# --- UDH / concatenation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("udh", "part"),
    [
        (b"\x05\x00\x03\xa7\x02\x01", Part("A7", 2, 1)),
        (b"\x06\x08\x04\x12\x34\x03\x02", Part("1234", 3, 2)),
        (b"\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03\x01\x02\x02", Part("01", 2, 2)),
        (b"\x0a\x00\x03\x01\x02\x01\x00\x03\x09\x04\x04", Part("09", 4, 4)),
        (b"\x06\x05\x04\x0b\x84\x23\xf0", None),
        (b"\x05\x00\x03\x01\x01\x01", None),
        (b"\x05\x00\x03\x01\x00\x01", None),
        (b"\x05\x00\x03\x01\x02\x00", None),
        (b"\x05\x00\x03\x01\x02\x03", None),
        (b"", None),
    ],
    ids=["8-bit-ref", "16-bit-ref", "after-port-ie", "last-repeat-wins", "no-concat-ie",
         "single-part", "zero-total-ignored", "zero-number-ignored", "number-over-total-ignored",
         "no-udh"],
)
def test_concatenation_element(udh: bytes, part: Part | None) -> None:
    assert concatenation(udh) == part


@pytest.mark.parametrize(
    ("udh", "reason"),
    [
        (b"\x05\x00\x03\xa7\x02", "length octet"),
        (b"\x09\x00\x03\xa7\x02\x01", "length octet"),
        (b"\x04\x00\x03\xa7\x02", "longer than the UDH"),
        (b"\x01\x00", "truncated"),
        (b"\x04\x00\x02\xa7\x02", "must be 3 octets"),
        (b"\x05\x08\x03\x12\x02\x01", "must be 4 octets"),
        (b"\x06\x08\x03\x12\x02\x01\x00", "truncated"),
        (b"\x06\x00\x04\x12\x34\x02\x01", "must be 3 octets"),
    ],
)
def test_malformed_udh_is_a_payload_error(udh: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        concatenation(udh)


def test_udh_given_in_hex_is_read_as_octets() -> None:
    assert udh_octets(b"050003A70201") == b"\x05\x00\x03\xa7\x02\x01"
    assert udh_octets(b"\x05\x00\x03\xa7\x02\x01") == b"\x05\x00\x03\xa7\x02\x01"


def test_part_in_ucs2_with_a_surrogate_pair_cut_at_the_boundary() -> None:
    text = "A".encode("utf-16-be") + "🔐".encode("utf-16-be")[:2]
    sms = parse_one(get(kannel_query(text, coding="2", charset="UTF-16BE",
                                     udh=b"\x05\x00\x03\x01\x02\x01")))
    assert (sms.text, sms.part) == ("A\ufffd", Part("01", 2, 1))


def test_malformed_udh_in_the_query_is_refused() -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse(get(kannel_query(udh=b"\x05\x00\x03\xa7")))


# --- post-url ----------------------------------------------------------------------------------


def test_post_url_ucs2_body_with_kannel_headers() -> None:
    headers = {"Content-Type": 'text/plain; charset="UTF-16BE"', "X-Kannel-From": "447400123456",
               "X-Kannel-To": "33612345678", "X-Kannel-Coding": "2"}
    sms = parse_one(post("验证码 6671".encode("utf-16-be"), headers))
    assert (sms.sender, sms.recipient, sms.text) == ("447400123456", "33612345678", "验证码 6671")


def test_post_url_old_kannel_octet_stream_ucs2() -> None:
    headers = {"Content-Type": "application/octet-stream", "X-Kannel-Coding": "2",
               "X-Kannel-From": "4917612345678", "X-Kannel-To": "33612345678"}
    assert parse_one(post("Код 1".encode("utf-16-be"), headers)).text == "Код 1"


def test_post_url_part_with_hex_udh_header() -> None:
    headers = {"Content-Type": "text/plain; charset=UTF-8", "X-Kannel-From": "447400123456",
               "X-Kannel-To": "33612345678", "X-Kannel-UDH": "050003A70202"}
    sms = parse_one(post(b"P to opt out", headers))
    assert (sms.text, sms.part) == ("P to opt out", Part("A7", 2, 2))


def test_post_url_charset_in_rfc_2231_form() -> None:
    headers = {"Content-Type": "text/plain; charset*=us-ascii'en'UTF-16BE",
               "X-Kannel-From": "1", "X-Kannel-To": "2"}
    assert parse_one(post("Ёж".encode("utf-16-be"), headers)).text == "Ёж"


def test_post_url_query_fields_take_precedence_over_headers() -> None:
    query = f"token={TOKEN}&id=1&from=447400123456&to=33612345678"
    headers = {"Content-Type": "text/plain", "X-Kannel-From": "999"}
    assert parse_one(post(b"hi", headers, query)).sender == "447400123456"


@pytest.mark.parametrize(
    ("body", "headers", "query", "reason"),
    [
        (b"hi", {"Content-Type": "text/plain"}, f"token={TOKEN}&id=1&to=1", "from"),
        (b"hi", {"Content-Type": "application/json", "X-Kannel-From": "1", "X-Kannel-To": "2"},
         f"token={TOKEN}&id=1", "content type"),
        (b"hi", {"Content-Type": "text/plain", "X-Kannel-From": "1", "X-Kannel-To": "2"},
         f"token={TOKEN}&id=1&text=hi", "both in the query and the body"),
        (b"\x01\x02", {"Content-Type": "application/octet-stream", "X-Kannel-From": "1",
                       "X-Kannel-To": "2"}, f"token={TOKEN}&id=1", "binary"),
        (b"hi", {"Content-Type": "text/plain", "X-Kannel-From": "1", "X-Kannel-To": "2"},
         f"token={TOKEN}", "id"),
        (b"\xff", {"Content-Type": "text/plain; charset=UTF-8", "X-Kannel-From": "1",
                   "X-Kannel-To": "2"}, f"token={TOKEN}&id=1", "(?i)not valid utf-8"),
        (b"hi", {"Content-Type": "text/plain; charset*=\x00''x", "X-Kannel-From": "1",
                 "X-Kannel-To": "2"}, f"token={TOKEN}&id=1", "Content-Type"),
        (b"hi", {"Content-Type": "text/plain", "X-Kannel-From": "\u20ac", "X-Kannel-To": "2"},
         f"token={TOKEN}&id=1", "X-Kannel header"),
    ],
)
def test_malformed_post_url_request_is_a_payload_error(body, headers, query, reason) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(post(body, headers, query))


# --- through the app ---------------------------------------------------------------------------


@pytest.fixture
def app(make_app, frozen_clock) -> Flask:
    """An app with the samples' token and +33612345678 provisioned for Kannel."""
    return sample_app(make_app, frozen_clock, OTP)


def part_rows(app: Flask) -> list[MessagePart]:
    with app.app_context():
        rows = list(db.session.scalars(select(MessagePart).order_by(MessagePart.part_no)))
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("order", [(PART1, PART2), (PART2, PART1)], ids=["in-order", "reversed"])
def test_concatenated_parts_become_one_message_in_either_order(app: Flask, order) -> None:
    for fx in order:
        resp = post_sample(app, fx)
        assert resp.status_code == 200 and resp.get_data() == b""
    [row] = stored_messages(app)
    assert row.body == PART1["expect"]["reassembled_text"]
    assert (row.sender, row.sender_raw, row.segments) == ("+447400123456", "447400123456", 2)
    assert row.code == "662810"
    assert [p.part_no for p in part_rows(app)] == [1, 2]
    feed = app.test_client().get("/api/v1/numbers/33612345678/messages").get_json()
    assert [m["body"] for m in feed["data"]] == [PART1["expect"]["reassembled_text"]]


def test_first_part_alone_is_kept_but_not_shown(app: Flask) -> None:
    assert post_sample(app, PART1).status_code == 200
    assert post_sample(app, PART1).status_code == 200  # Kannel retrying the part
    assert stored_messages(app) == []
    [part] = part_rows(app)
    assert (part.part_no, part.part_total, part.text) == (1, 2, PART1["expect"]["text"])
    feed = app.test_client().get("/api/v1/numbers/33612345678/messages").get_json()
    assert feed["data"] == []


def test_retry_of_the_same_message_is_stored_once(app: Flask) -> None:
    first, again = post_sample(app, OTP), post_sample(app, OTP)
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data() == b""
    assert [m.provider_id for m in stored_messages(app)] == [OTP["expect"]["provider_id"]]


def test_fresh_ucs2_request_passes_raw_bytes_through_the_app(app: Flask) -> None:
    text = "您的验证码是 482913 🔐".encode("utf-16-be")
    query = kannel_query(text, coding="2", charset="UTF-16BE", id="fresh-1")
    resp = app.test_client().get("/webhooks/kannel?" + query)
    assert resp.status_code == 200 and resp.get_data() == b""
    [row] = stored_messages(app)
    assert (row.body, row.code, row.provider_id) == ("您的验证码是 482913 🔐", "482913", "fresh-1")


def test_fresh_gsm_request_with_at_as_nul_through_the_app(app: Flask) -> None:
    query = kannel_query(b"Code 4417 for a\x00b.example")
    resp = app.test_client().get("/webhooks/kannel?" + query)
    assert resp.status_code == 200
    assert [m.body for m in stored_messages(app)] == ["Code 4417 for a@b.example"]


def test_post_url_through_the_app(app: Flask) -> None:
    resp = app.test_client().post(
        f"/webhooks/kannel?token={TOKEN}&id=post-1", data="Ваш код 5521".encode("utf-16-be"),
        headers={"Content-Type": 'text/plain; charset="UTF-16BE"', "X-Kannel-From": "447400123456",
                 "X-Kannel-To": "33612345678", "X-Kannel-Coding": "2"})
    assert resp.status_code == 200 and resp.get_data() == b""
    assert [m.body for m in stored_messages(app)] == ["Ваш код 5521"]


@pytest.mark.parametrize(
    "query",
    [
        kannel_query(charset="NOPE"),
        kannel_query() + "%",
        kannel_query(b"\xd8\x00", coding="2", charset="UTF-16BE"),
        kannel_query(b"abc", coding="2", charset="UTF-16BE"),
        kannel_query(udh=b"\x07\x00\x03"),
        kannel_query(udh=b"zz"),
        kannel_query(id=""),
        kannel_query(**{"from": "x" * 500}),
        kannel_query(id="a\x00b"),
        kannel_query() + "&id=again",
        kannel_query(b"\xff\xfe\xfd"),
        kannel_query(coding="1", charset="8-BIT"),
        f"token={TOKEN}",
    ],
)
def test_malformed_requests_are_4xx_and_store_nothing(app: Flask, query: str) -> None:
    resp = app.test_client().get("/webhooks/kannel?" + query)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert stored_messages(app) == [] and part_rows(app) == []


@pytest.mark.parametrize(
    "query",
    ["", "token=guessed", f"token={TOKEN}&token=x", "token=%ZZ",
     f"token={TOKEN}&" + "&".join(f"f{i}=1" for i in range(600))],
)
def test_bad_token_through_the_app_is_401(app: Flask, query: str) -> None:
    resp = app.test_client().get("/webhooks/kannel?" + query)
    assert resp.status_code == 401
    assert stored_messages(app) == []


def test_forged_sample_through_the_app_stores_nothing(make_app, frozen_clock) -> None:
    fx = load_sample("kannel", "forged_wrong_token")
    app = sample_app(make_app, frozen_clock, fx)
    assert post_sample(app, fx).status_code == 401
    assert stored_messages(app) == []
