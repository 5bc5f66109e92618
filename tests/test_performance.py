"""Cheap when nothing changed: what the hot requests ask the database, and the page cache.

The benchmark (bench/run.py) measures speed; these tests hold the shape that makes it:
revalidations read no message, a page or feed body is built once per version, a webhook
stores a message in one INSERT and one UPDATE, and the data generator keeps every
number's last-message columns right.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.conftest import TEST_DATABASE_URL, _with_search_path
from webapp.config import database_url
from webapp.extensions import db
from webapp.numbers import service

US = "+14155552671"
ROOT = Path(__file__).resolve().parent.parent
_ids = itertools.count(1)


@pytest.fixture
def app(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """An app taking unsigned webhooks, its clock frozen on one minute (stable ETags)."""
    from webapp.numbers import helpers
    from webapp.timeutil import utcnow

    moment = utcnow()
    monkeypatch.setattr(helpers, "utcnow", lambda: moment)
    app = make_app({"WEBHOOK_ALLOW_UNSIGNED": True})
    with app.app_context():
        service.provision(US)
    return app


def send_sms(client: FlaskClient, text: str) -> None:
    """One SMS through the generic webhook."""
    payload = {"type": "sms.received", "timestamp": "2025-03-14T09:26:53Z",
               "data": {"id": f"perf-{next(_ids)}", "from": "+447400123456", "to": US,
                        "text": text}}
    assert client.post("/webhooks/generic", json=payload).status_code == 200


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (transaction control left out)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1"):
            seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_messages(sql: list[str]) -> bool:
    """Whether one of the statements loads message rows (their bodies)."""
    return any("messages.body" in s for s in sql)


def test_number_page_revalidation_reads_no_message(app: Flask) -> None:
    client = app.test_client()
    send_sms(client, "Your code is 123456")
    etag = client.get("/number/14155552671").headers["ETag"]

    with statements(app) as sql:
        response = client.get("/number/14155552671", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert len(sql) == 1 and not reads_messages(sql)  # the number and its votes' state


def test_number_page_is_built_once_per_version(app: Flask) -> None:
    client = app.test_client()
    send_sms(client, "Your code is 123456")
    first = client.get("/number/14155552671")

    with statements(app) as sql:
        again = client.get("/number/14155552671")

    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert not reads_messages(sql)


def test_a_new_message_shows_at_once_despite_the_page_cache(app: Flask) -> None:
    client = app.test_client()
    send_sms(client, "first message")
    client.get("/number/14155552671")

    send_sms(client, "second message")
    page = client.get("/number/14155552671").get_data(as_text=True)

    assert "second message" in page and "first message" in page


def test_feed_revalidation_is_one_small_query(app: Flask) -> None:
    client = app.test_client()
    send_sms(client, "Your code is 123456")
    etag = client.get("/api/v1/numbers/14155552671/messages").headers["ETag"]

    with statements(app) as sql:
        response = client.get(
            "/api/v1/numbers/14155552671/messages", headers={"If-None-Match": etag}
        )

    assert response.status_code == 304
    assert len(sql) == 1 and "FROM numbers" in sql[0]


def test_feed_body_is_built_once_per_version_and_follows_new_messages(app: Flask) -> None:
    client = app.test_client()
    send_sms(client, "first message")
    first = client.get("/api/v1/numbers/14155552671/messages")

    with statements(app) as sql:
        again = client.get("/api/v1/numbers/14155552671/messages")
    send_sms(client, "second message")
    later = client.get("/api/v1/numbers/14155552671/messages").get_json()

    assert again.get_data() == first.get_data() and not reads_messages(sql)
    assert [m["body"] for m in later["data"]] == ["second message", "first message"]


def test_every_message_feed_revalidation_reads_no_message_row(app: Flask) -> None:
    client = app.test_client()
    send_sms(client, "Your code is 123456")
    etag = client.get("/api/v1/messages").headers["ETag"]

    with statements(app) as sql:
        response = client.get("/api/v1/messages", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert len(sql) == 1


def test_webhook_stores_a_message_in_one_insert_and_one_update(app: Flask) -> None:
    client = app.test_client()

    with statements(app) as sql:
        send_sms(client, "Your code is 123456")

    writes = [s for s in sql if s.startswith(("INSERT", "UPDATE"))]
    assert [s.split()[0] for s in writes] == ["INSERT", "UPDATE"]
    assert "FROM numbers" in writes[0]  # the number's id is a subquery of the INSERT
    assert len(sql) == 2


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own for the generator: a SQLite file, or a new PostgreSQL schema."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path}/gen.sqlite3"
        return
    schema = "gen_" + uuid.uuid4().hex[:12]
    engine = sqlalchemy.create_engine(database_url(TEST_DATABASE_URL, ""))
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    yield _with_search_path(TEST_DATABASE_URL, schema)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def test_generator_keeps_last_message_columns_right(empty_database: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/generate.py"), "--numbers", "40", "--messages",
         "600", "--workers", "1"],
        cwd=ROOT, env={"DATABASE_URL": empty_database, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    engine = sqlalchemy.create_engine(database_url(empty_database, ""))
    with engine.connect() as conn:
        per_number = conn.execute(sqlalchemy.text(
            "SELECT number_id, max(id), count(*) FROM messages GROUP BY number_id")).all()
        numbers = conn.execute(sqlalchemy.text(
            "SELECT id, last_message_id, country FROM numbers")).all()
    engine.dispose()
    newest = {number_id: last for number_id, last, _ in per_number}
    assert [n.id for n in numbers if n.last_message_id != newest.get(n.id)] == []
    assert len(numbers) == 40 and len({n.country for n in numbers}) > 10
    assert sum(count for *_, count in per_number) == 600
    assert dict((n, c) for n, _, c in per_number)[min(n.id for n in numbers)] >= 200  # hot
