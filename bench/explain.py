"""EXPLAIN (ANALYZE, BUFFERS) of every statement the hot requests run, on PostgreSQL.

Usage:  DATABASE_URL=postgresql://…?options=-csearch_path%3D<schema> \\
        .venv/bin/python bench/explain.py [--number +14155552671] > explain.md

Fill the database first (bench/generate.py). Each request goes through the real app (the
test client); every statement it sends is recorded, then explained with the parameters it
was sent with, inside a transaction that is rolled back (EXPLAIN ANALYZE runs writes too).
Prints Markdown: per request, each statement and its plan.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import HOT_NUMBER, WEBHOOK_NUMBER  # noqa: E402


def requests(digits: str, country: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(title, method, path, options) of the requests worth explaining."""
    hook = {"type": "sms.received", "timestamp": "2025-03-14T09:26:53Z",
            "data": {"id": "explain-" + uuid.uuid4().hex, "from": "+447400123499",
                     "to": WEBHOOK_NUMBER, "text": "Your WhatsApp code is 123-456"}}
    return [
        ("Number page", "GET", f"/number/{digits}", {}),
        ("Number page, revalidated (304)", "GET", f"/number/{digits}", {"etag": True}),
        ("Number page, an older page", "GET", f"/number/{digits}?before=%(cursor)s", {}),
        ("Feed: a number's messages", "GET", f"/api/v1/numbers/{digits}/messages", {}),
        ("Feed: a number's messages, revalidated (304)", "GET",
         f"/api/v1/numbers/{digits}/messages", {"etag": True}),
        ("Feed: every message", "GET", "/api/v1/messages", {}),
        ("Feed: a country's messages", "GET", f"/api/v1/messages?country={country}", {}),
        ("Home page", "GET", "/", {}),
        ("Country page", "GET", f"/country/{country.lower()}", {}),
        ("Webhook (generic)", "POST", "/webhooks/generic", {"json": hook}),
    ]


def capture(app: Any, client: Any, method: str, path: str, options: dict[str, Any]) -> list:
    """The (statement, parameters) a request sends, in order."""
    from sqlalchemy import event

    from webapp.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    headers = {}
    if options.get("etag"):
        headers["If-None-Match"] = client.get(path).headers.get("ETag", "")
    app.extensions.pop("page_cache", None)  # explain what a first request runs
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.open(path, method=method, headers=headers, json=options.get("json"))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    seen.insert(0, ("-- answered", response.status_code))
    return seen


def capture_purge(app: Any) -> list:
    """The statements of `flask messages purge` (an age that deletes nothing: the plans show)."""
    from sqlalchemy import event

    from webapp.extensions import db
    from webapp.retention import parse_age, purge_older_than

    seen: list[tuple[str, Any]] = [("-- purged", "nothing")]

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            purge_older_than(parse_age("3650d"))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    return seen


def explain(app: Any, statement: str, parameters: Any) -> str:
    """The plan of one statement, run for real in a transaction rolled back afterwards."""
    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        try:
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                return "\n".join(row[0] for row in cur.fetchall())
        finally:
            raw.rollback()


def main() -> None:
    """Explain every request's statements; print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", default=HOT_NUMBER)
    parser.add_argument("--country", default="US")
    args = parser.parse_args()

    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"WEBHOOK_ALLOW_UNSIGNED": True, "FEED_RATE_LIMIT": "1000000/minute"})
    logging.getLogger("webapp").setLevel(logging.WARNING)  # request lines are not plans
    client = app.test_client()
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit("explain.py needs DATABASE_URL=postgresql://…")
        with db.engine.connect() as conn:
            counts = conn.exec_driver_sql(
                "SELECT (SELECT count(*) FROM numbers), (SELECT count(*) FROM messages)"
            ).one()
    cursor = json.loads(client.get(f"/api/v1/numbers/{args.number[1:]}/messages").data)
    print(f"{counts[0]:,} numbers, {counts[1]:,} messages.\n")
    runs = []
    for title, method, path, options in requests(args.number[1:], args.country):
        path = path % {"cursor": cursor.get("next_before") or 0} if "%(" in path else path
        found = capture(app, client, method, path, options)
        runs.append((f"{title}: `{method} {path}` → {found[0][1]}", found[1:]))
    runs.append(("`flask messages purge --older-than 3650d` (batches of 5000)",
                 capture_purge(app)[1:]))
    for title, found in runs:
        print(f"### {title}\n")
        for statement, parameters in found:
            if statement.strip().upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1", ";"):
                continue
            print("```sql\n" + " ".join(statement.split()) + "\n```")
            if parameters:
                print(f"parameters: `{parameters!r}`\n")
            print("```\n" + explain(app, statement, parameters) + "\n```\n")


if __name__ == "__main__":
    main()
