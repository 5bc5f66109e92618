"""The operators' CLI, driven through `app.test_cli_runner()` like `flask --app wsgi …`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update

from tests.conftest import WEBHOOK_SAMPLES
from webapp import demo, retention
from webapp.apikeys import find_active_key
from webapp.extensions import db
from webapp.models import ApiKey, Message, MessagePart, Number
from webapp.providers import PROVIDERS
from webapp.timeutil import utcnow

UNSIGNED = {"WEBHOOK_ALLOW_UNSIGNED": True}
GENERIC_SECRET = "whsec_" + base64.b64encode(b"cli-test-secret-of-32-bytes-long").decode()


def count(app: Flask, model: type) -> int:
    """Rows of a table."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def number_row(app: Flask, e164: str) -> Number | None:
    """A stored number, detached from its session."""
    with app.app_context():
        number = db.session.scalar(select(Number).where(Number.e164 == e164))
        if number is not None:
            db.session.expunge(number)
        return number


def post_generic(app: Flask, to: str, text: str, msg_id: str) -> None:
    """Deliver one unsigned message through the generic webhook."""
    payload = {"type": "sms.received", "timestamp": "2024-01-01T00:00:00Z",
               "data": {"id": msg_id, "from": "Google", "to": to, "text": text}}
    response = app.test_client().post("/webhooks/generic", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)


def age_messages(app: Flask, ids: list[str], days: int) -> None:
    """Move messages (by provider id) `days` into the past."""
    with app.app_context():
        db.session.execute(
            update(Message).where(Message.provider_id.in_(ids))
            .values(received_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def write_csv(tmp_path: Path, text: str) -> str:
    """An import file with `text`."""
    path = tmp_path / "numbers.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def unsigned_app(make_app: Callable[..., Flask]) -> Flask:
    """An app that accepts unsigned webhooks, as the demo script runs it."""
    return make_app(UNSIGNED)


# numbers add ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["+447400123456", "+44 7400 123456", "00447400123456",
                                      "+44 (7400) 123-456"])
def test_add_accepts_any_international_spelling(app: Flask, runner: FlaskCliRunner,
                                                spelling: str) -> None:
    result = runner.invoke(args=["numbers", "add", spelling, "--provider", "twilio"])
    assert result.exit_code == 0, result.output
    assert "+447400123456" in result.stdout and "GB" in result.stdout
    assert "twilio" in result.stdout
    stored = number_row(app, "+447400123456")
    assert stored is not None and stored.country == "GB" and stored.status == "active"


def test_add_reports_the_region_phonenumbers_gives(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["numbers", "add", "+447911123456"])
    assert result.exit_code == 0
    assert "GG" in result.stdout
    assert number_row(app, "+447911123456").provider is None


@pytest.mark.parametrize("text", ["12345", "+44 12", "not a number", "+999 1234567", "",
                                  "+80012345678"])
def test_add_refuses_invalid_numbers(app: Flask, runner: FlaskCliRunner, text: str) -> None:
    result = runner.invoke(args=["numbers", "add", text])
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "number" in result.stderr
    assert count(app, Number) == 0


def test_add_refuses_a_duplicate_in_another_spelling(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["numbers", "add", "+34622184937"]).exit_code == 0
    result = runner.invoke(args=["numbers", "add", "0034 622 18 49 37"])
    assert result.exit_code == 1
    assert "+34622184937 is already provisioned" in result.stderr
    assert count(app, Number) == 1


def test_add_refuses_an_unknown_provider(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["numbers", "add", "+34622184937", "--provider", "carrier-x"])
    assert result.exit_code == 1
    assert "unknown provider 'carrier-x'" in result.stderr
    assert count(app, Number) == 0


# numbers import ------------------------------------------------------------------------------


def test_import_stores_every_row(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "number,provider\n+34622184937,generic\n\n"
                               "+44 7400 123456,twilio\n00573154827391\n  \n")
    result = runner.invoke(args=["numbers", "import", path])
    assert result.exit_code == 0, result.output
    assert "imported 3 numbers" in result.stdout
    assert "Checking numbers" in result.stderr  # the progress bar
    assert number_row(app, "+447400123456").provider == "twilio"
    assert number_row(app, "+573154827391").provider is None
    assert count(app, Number) == 3


def test_import_with_one_bad_row_imports_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "number,provider\n+34622184937,generic\n+44 12,twilio\n"
                               "+573154827391,nope\n+12025550143\n")
    result = runner.invoke(args=["numbers", "import", path])
    assert result.exit_code == 1
    assert "line 3: '+44 12,twilio'" in result.stderr
    assert "line 4: '+573154827391,nope': unknown provider 'nope'" in result.stderr
    assert "2 of 4 rows refused; nothing imported" in result.stderr
    assert count(app, Number) == 0


def test_import_refuses_a_number_repeated_in_the_file(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "+34622184937\n+12025550143\n0034622184937\n")
    result = runner.invoke(args=["numbers", "import", path])
    assert result.exit_code == 1
    assert "line 3: '0034622184937': +34622184937 already appears on line 1" in result.stderr
    assert count(app, Number) == 0


def test_import_refuses_a_number_already_provisioned(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    runner.invoke(args=["numbers", "add", "+12025550143"])
    path = write_csv(tmp_path, "+34622184937\n+1 202 555 0143\n")
    result = runner.invoke(args=["numbers", "import", path])
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "already provisioned" in result.stderr
    assert count(app, Number) == 1


@pytest.mark.parametrize(("text", "message"), [
    ("+34622184937,generic,extra\n", "found 3 columns"),
    (",generic\n", "the number is missing"),
    ("+80012345678\n", "belongs to no country"),
])
def test_import_refuses_malformed_rows(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, text: str, message: str
) -> None:
    result = runner.invoke(args=["numbers", "import", write_csv(tmp_path, text)])
    assert result.exit_code == 1
    assert f"line 1: {text.strip()!r}: " in result.stderr and message in result.stderr
    assert count(app, Number) == 0


@pytest.mark.parametrize("content", [b"number,provider\n\n", b"\xff\xfe+\x003\x004\x00\n"])
def test_import_refuses_empty_and_unreadable_files(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "numbers.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["numbers", "import", str(path)])
    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert count(app, Number) == 0


def test_import_of_the_shared_recipients_file(app: Flask, runner: FlaskCliRunner) -> None:
    path = WEBHOOK_SAMPLES / "recipients.csv"
    rows = [line.split(",") for line in path.read_text().splitlines()[1:] if line.strip()]
    result = runner.invoke(args=["numbers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert count(app, Number) == len(rows) == 16
    with app.app_context():
        stored = {(n.e164, n.provider) for n in db.session.scalars(select(Number))}
    assert stored == {(number, provider) for number, provider in rows}


# numbers list / retire / unrouted ------------------------------------------------------------


def test_list_shows_every_number_with_status_and_last_message(
    unsigned_app: Flask, tmp_path: Path
) -> None:
    runner = unsigned_app.test_cli_runner()
    for number in ("+34622184937", "+447400123456", "+447418362901"):
        runner.invoke(args=["numbers", "add", number])
    post_generic(unsigned_app, "+447400123456", "G-482913 is your Google verification code.", "a")
    result = runner.invoke(args=["numbers", "list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NUMBER", "COUNTRY", "PROVIDER", "STATUS", "LAST", "MESSAGE"]
    assert [line.split()[0] for line in lines[1:]] == [
        "+34622184937", "+447400123456", "+447418362901"]
    assert lines[1].split()[1:] == ["ES", "-", "active", "never"]
    assert "UTC" in lines[2] and "never" not in lines[2]


def test_list_filters_by_country(runner: FlaskCliRunner) -> None:
    for number in ("+34622184937", "+447400123456"):
        runner.invoke(args=["numbers", "add", number])
    result = runner.invoke(args=["numbers", "list", "--country", "gb"])
    assert result.exit_code == 0
    assert "+447400123456" in result.stdout and "+34622184937" not in result.stdout
    assert runner.invoke(args=["numbers", "list", "--country", "FR"]).stdout == "no numbers in FR\n"
    bad = runner.invoke(args=["numbers", "list", "--country", "GBR"])
    assert bad.exit_code == 1 and "two-letter" in bad.stderr


def test_list_says_so_when_there_are_no_numbers(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["numbers", "list"]).stdout == "no numbers\n"


def test_retire_then_list_shows_it_retired(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=["numbers", "add", "+34622184937"])
    result = runner.invoke(args=["numbers", "retire", "+34 622 184 937"])
    assert result.exit_code == 0 and "retired +34622184937" in result.stdout
    listed = runner.invoke(args=["numbers", "list"]).stdout.splitlines()[1].split()
    assert listed[:4] == ["+34622184937", "ES", "-", "retired"]
    assert number_row(app, "+34622184937").retired_at is not None


def test_retire_refuses_unknown_and_already_retired_numbers(runner: FlaskCliRunner) -> None:
    unknown = runner.invoke(args=["numbers", "retire", "+34622184937"])
    assert unknown.exit_code == 1 and "is not provisioned" in unknown.stderr
    runner.invoke(args=["numbers", "add", "+34622184937"])
    runner.invoke(args=["numbers", "retire", "+34622184937"])
    again = runner.invoke(args=["numbers", "retire", "+34622184937"])
    assert again.exit_code == 1 and "already retired" in again.stderr
    invalid = runner.invoke(args=["numbers", "retire", "nonsense"])
    assert invalid.exit_code == 1 and "Error:" in invalid.stderr


def test_unrouted_lists_recipients_nobody_provisioned(unsigned_app: Flask) -> None:
    runner = unsigned_app.test_cli_runner()
    runner.invoke(args=["numbers", "add", "+34622184937"])
    post_generic(unsigned_app, "+34622184937", "routed", "r1")
    post_generic(unsigned_app, "+447418362901", "lost 1", "u1")
    post_generic(unsigned_app, "447418362901", "lost 2", "u2")  # same number, no plus
    post_generic(unsigned_app, "+12025550143", "lost 3", "u3")
    result = runner.invoke(args=["numbers", "unrouted"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["RECIPIENT", "MESSAGES", "LAST", "MESSAGE"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["+447418362901", "2"], ["+12025550143", "1"]]


def test_unrouted_says_so_when_there_are_none(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["numbers", "unrouted"])
    assert result.exit_code == 0 and result.stdout == "no unrouted messages\n"


# messages purge ------------------------------------------------------------------------------


def last_message(app: Flask, e164: str) -> tuple[str | None, bool]:
    """The provider id of a number's last message and whether its time is set."""
    with app.app_context():
        number = db.session.scalar(select(Number).where(Number.e164 == e164))
        last = db.session.get(Message, number.last_message_id) if number.last_message_id else None
        assert (last is None) == (number.last_message_id is None)  # never dangling
        return (last.provider_id if last else None), number.last_message_at is not None


def test_purge_deletes_only_old_messages_and_repairs_numbers(unsigned_app: Flask) -> None:
    runner = unsigned_app.test_cli_runner()
    for number in ("+34622184937", "+447418362901"):
        runner.invoke(args=["numbers", "add", number])
    for msg_id in ("es-new", "es-old-1", "es-old-2"):
        post_generic(unsigned_app, "+34622184937", f"code 1234 {msg_id}", msg_id)
    post_generic(unsigned_app, "+447418362901", "code 9876", "gb-old")
    post_generic(unsigned_app, "+12025550143", "unrouted", "us-old")
    age_messages(unsigned_app, ["es-old-1", "es-old-2", "gb-old", "us-old"], days=40)
    result = runner.invoke(args=["messages", "purge", "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert "deleted 4 messages" in result.stdout
    with unsigned_app.app_context():
        assert list(db.session.scalars(select(Message.provider_id))) == ["es-new"]
    assert last_message(unsigned_app, "+34622184937") == ("es-new", True)
    assert last_message(unsigned_app, "+447418362901") == (None, False)


def test_purge_keeps_messages_younger_than_the_age(unsigned_app: Flask) -> None:
    post_generic(unsigned_app, "+12025550143", "hello", "m1")
    age_messages(unsigned_app, ["m1"], days=1)
    for age in ("2w", "36h", "1500m"):
        result = unsigned_app.test_cli_runner().invoke(
            args=["messages", "purge", "--older-than", age])
        assert result.exit_code == 0 and "deleted 0 messages" in result.stdout
    assert count(unsigned_app, Message) == 1
    runner = unsigned_app.test_cli_runner()
    result = runner.invoke(args=["messages", "purge", "--older-than", "12h"])
    assert "deleted 1 messages" in result.stdout
    assert count(unsigned_app, Message) == 0


def test_purge_defaults_to_the_configured_retention(make_app: Callable[..., Flask]) -> None:
    app = make_app({**UNSIGNED, "MESSAGE_RETENTION_DAYS": 7})
    post_generic(app, "+12025550143", "old", "old")
    post_generic(app, "+12025550143", "recent", "recent")
    age_messages(app, ["old"], days=8)
    age_messages(app, ["recent"], days=6)
    result = app.test_cli_runner().invoke(args=["messages", "purge"])
    assert result.exit_code == 0 and "deleted 1 messages" in result.stdout
    with app.app_context():
        assert list(db.session.scalars(select(Message.provider_id))) == ["recent"]


def test_purge_deletes_old_parts_of_long_messages(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        for part_no, days in ((1, 40), (2, 1)):
            db.session.add(MessagePart(
                provider="generic", provider_id=f"p{part_no}", group_key="g", part_no=part_no,
                part_total=3, recipient="+12025550143", sender="x", sender_raw="x", text="t",
                received_at=utcnow() - timedelta(days=days)))
        db.session.commit()
    result = runner.invoke(args=["messages", "purge", "--older-than", "30d"])
    assert "1 message parts" in result.stdout
    assert count(app, MessagePart) == 1


@pytest.mark.parametrize("age", ["5x", "0d", "-3d", "30", "d", "1.5d", "999999999w"])
def test_purge_refuses_bad_ages(unsigned_app: Flask, age: str) -> None:
    post_generic(unsigned_app, "+12025550143", "old", "old")
    age_messages(unsigned_app, ["old"], days=400)
    result = unsigned_app.test_cli_runner().invoke(args=["messages", "purge", "--older-than", age])
    assert result.exit_code == 1
    assert "--older-than" in result.stderr
    assert count(unsigned_app, Message) == 1


def test_purge_works_in_batches(unsigned_app: Flask) -> None:
    ids = [f"m{i}" for i in range(7)]
    for msg_id in ids:
        post_generic(unsigned_app, "+12025550143", msg_id, msg_id)
    age_messages(unsigned_app, ids[:5], days=2)
    with unsigned_app.app_context():
        result = retention.purge_older_than(timedelta(days=1), batch=2)
    assert result.messages == 5
    assert count(unsigned_app, Message) == 2


# apikeys -------------------------------------------------------------------------------------


def test_apikeys_create_shows_the_key_once_and_stores_a_hash(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["apikeys", "create", "partner"])
    assert result.exit_code == 0
    plain = result.stdout.strip()
    assert plain.startswith("sk_") and "\n" not in plain
    assert "not be shown again" in result.stderr
    with app.app_context():
        assert find_active_key(plain) is not None
        row = db.session.scalar(select(ApiKey))
        assert plain not in (row.name, row.key_hash) and len(row.key_hash) == 64
    listed = runner.invoke(args=["apikeys", "list"])
    assert listed.exit_code == 0 and "partner" in listed.stdout and "active" in listed.stdout
    assert plain not in listed.output and plain[3:] not in listed.output


def test_apikeys_revoke_disables_the_key(app: Flask, runner: FlaskCliRunner) -> None:
    plain = runner.invoke(args=["apikeys", "create", "partner"]).stdout.strip()
    result = runner.invoke(args=["apikeys", "revoke", "partner"])
    assert result.exit_code == 0 and "revoked partner" in result.stdout
    with app.app_context():
        assert find_active_key(plain) is None
    assert "revoked 20" in runner.invoke(args=["apikeys", "list"]).stdout


def test_apikeys_refusals_exit_1(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["apikeys", "list"]).stdout == "no API keys\n"
    runner.invoke(args=["apikeys", "create", "partner"])
    for args in (["create", "partner"], ["create", " "], ["revoke", "nobody"]):
        result = runner.invoke(args=["apikeys", *args])
        assert result.exit_code == 1 and "Error:" in result.stderr
    runner.invoke(args=["apikeys", "revoke", "partner"])
    again = runner.invoke(args=["apikeys", "revoke", "partner"])
    assert again.exit_code == 1 and "already revoked" in again.stderr


# demo ----------------------------------------------------------------------------------------


def test_demo_numbers_are_valid_and_cover_the_asked_for_countries() -> None:
    regions = set()
    for e164, provider in demo.NUMBERS:
        parsed = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(parsed), e164
        assert provider in PROVIDERS
        regions.add(phonenumbers.region_code_for_number(parsed))
    assert {"US", "GB", "ES", "CO", "UZ", "HR", "CN", "RU", "DE", "FR"} <= regions
    assert set(demo.MESSAGES) <= {e164 for e164, _ in demo.NUMBERS}


def test_demo_messages_cover_the_awkward_cases() -> None:
    messages = demo.demo_messages()
    texts = [text for *_, text in messages]
    senders = {sender for _, _, sender, _ in messages}
    assert 40 <= len(messages) <= 60
    assert {"Google", "TELEGRAM", "WhatsApp"} <= senders
    assert any(len(text) > 300 for text in texts)
    assert any("https://" in text for text in texts)
    assert any("【腾讯科技】验证码：583920" in text for text in texts)
    assert any("Tu código de WhatsApp es 284-193" in text for text in texts)
    assert len({demo.message_id(*message) for message in messages}) == len(messages)


def test_demo_posts_through_the_webhooks_and_is_idempotent(unsigned_app: Flask) -> None:
    runner = unsigned_app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    total = len(demo.demo_messages())
    assert f"provisioned {len(demo.NUMBERS)} numbers in 12 countries" in first.stdout
    assert f"posted {total} messages ({total} new)" in first.stdout
    with unsigned_app.app_context():
        countries = set(db.session.scalars(select(Number.country)))
        providers = set(db.session.scalars(select(Message.provider)))
        tencent = db.session.scalar(select(Message).where(Message.body.contains("腾讯")))
        unrouted = db.session.scalar(select(func.count()).where(Message.number_id.is_(None)))
        assert len(countries) >= 10 and providers == {"generic", "twilio"}
        assert tencent.code == "583920" and unrouted == 0
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "(0 new), posted" in second.stdout and "(0 new)\n" in second.stdout
    assert count(unsigned_app, Message) == total
    assert count(unsigned_app, Number) == len(demo.NUMBERS)


def test_demo_keeps_going_when_some_numbers_exist(unsigned_app: Flask) -> None:
    runner = unsigned_app.test_cli_runner()
    runner.invoke(args=["numbers", "add", demo.NUMBERS[0][0], "--provider", demo.NUMBERS[0][1]])
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0
    assert f"({len(demo.NUMBERS) - 1} new)" in result.stdout


def test_demo_refuses_when_it_could_neither_sign_nor_post_unsigned(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "WEBHOOK_ALLOW_UNSIGNED=1" in result.stderr
    assert "GENERIC_WEBHOOK_SECRET" in result.stderr and "TWILIO_AUTH_TOKEN" in result.stderr
    assert count(app, Number) == 0 and count(app, Message) == 0


def test_demo_refuses_when_one_provider_has_no_secret(make_app: Callable[..., Flask]) -> None:
    app = make_app({"GENERIC_WEBHOOK_SECRET": GENERIC_SECRET})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "TWILIO_AUTH_TOKEN" in result.stderr and "GENERIC_WEBHOOK_SECRET" not in result.stderr
    assert count(app, Number) == 0


def test_demo_signs_its_requests_when_secrets_are_configured(
    make_app: Callable[..., Flask],
) -> None:
    secrets: dict[str, Any] = {"GENERIC_WEBHOOK_SECRET": f"{GENERIC_SECRET} whsec_b2xkLWtleQ==",
                               "TWILIO_AUTH_TOKEN": "twilio-test-token"}
    app = make_app(secrets)
    assert app.config["WEBHOOK_ALLOW_UNSIGNED"] is False
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert count(app, Message) == len(demo.demo_messages())
    # the webhooks did verify: a request signed with another key is refused
    payload = json.dumps({"type": "sms.received", "data": {}})
    refused = app.test_client().post("/webhooks/generic", data=payload, headers={
        "webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"})
    assert refused.status_code in (401, 403)


def test_demo_reports_a_wrong_site_url_signature_as_an_error(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app({"GENERIC_WEBHOOK_SECRET": GENERIC_SECRET, "TWILIO_AUTH_TOKEN": "token"})
    monkeypatch.setattr(demo, "signature", lambda *_: "forged")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "/webhooks/twilio answered 401" in result.stderr
