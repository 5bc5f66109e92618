"""Fill a database with many numbers and messages for the benchmark, fast.

Usage:  DATABASE_URL=… .venv/bin/python bench/generate.py [--numbers 10000]
        [--messages 1000000] [--seed 1] [--days 14] [--workers 2] [--reset] [--cache DIR]

The schema is migrated to head first (`flask db upgrade`). Numbers are valid numbers of
every region (phonenumbers' example numbers plus offsets, each checked) with a few
retired; messages are spread over the last `--days`, ids in time order like ingest gives
them, 1 % to unprovisioned recipients, and `Number.last_message_at/_id` are set to the
newest message of each number. Every body is rendered exactly as ingest does
(`sanitize.render_body` with `otp.find_code_span`, `otp.extract_code`,
`services.detect_service`), in worker processes, while the main process writes:
`executemany` on SQLite, `COPY` on PostgreSQL (secondary indexes built after the load).

The number `HOT_NUMBER` gets `max(200, messages / 100)` messages (the benchmark's page),
`WEBHOOK_NUMBER` is where the benchmark's webhooks deliver.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import multiprocessing
import os
import pickle
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import corpus  # noqa: E402

HOT_NUMBER = "+14155552671"
WEBHOOK_NUMBER = "+447400123456"
PROVIDERS = ("generic", "twilio", "vonage", "telnyx", "plivo", "sinch")
CHUNK = 10_000
NUMBER_COLUMNS = ("id", "e164", "country", "provider", "status", "created_at", "retired_at",
                  "last_message_at", "last_message_id")
MESSAGE_COLUMNS = ("id", "provider", "provider_id", "number_id", "country", "recipient",
                   "sender", "sender_raw", "body", "body_html", "code", "service", "segments",
                   "received_at")


@dataclass
class Plan:
    """Who receives each message and when; everything but the rendered texts."""

    numbers: list[tuple[str, str]]  # (e164, country), id = position + 1
    retired: set[int]
    owner: list[int | None]  # number id per message (index = message id - 1)
    recipients: list[str]  # unprovisioned recipients
    senders: list[tuple[str, str]]  # (raw, normalized)
    start: datetime
    span: timedelta

    def received_at(self, message_id: int) -> datetime:
        """The time of a message: evenly spread, increasing with the id."""
        return self.start + self.span * (message_id / len(self.owner))


def make_plan(n_numbers: int, n_messages: int, seed: int, days: int) -> Plan:
    """Numbers, who gets which message, senders and the time span."""
    from webapp.phone import normalize_address

    rng = random.Random(seed)
    fixed = [(HOT_NUMBER, "US"), (WEBHOOK_NUMBER, "GB")]
    others = corpus.many_numbers(n_numbers - len(fixed), {e for e, _ in fixed})
    numbers = fixed + others
    retired = set(rng.sample(range(3, n_numbers + 1), n_numbers // 50))
    strangers = [e for e, _ in corpus.many_numbers(600, set(dict(numbers)), skip=1000)]
    owner = _owners(rng, n_numbers, n_messages)
    raw_senders = list(itertools.islice(corpus.senders(rng, strangers[:400]), 600))
    senders = [(raw, normalize_address(raw)) for raw in dict.fromkeys(raw_senders)]
    now = datetime.now(UTC).replace(microsecond=0)
    span = timedelta(days=days)
    return Plan(numbers, retired, owner, strangers[400:], senders, now - span, span)


def _owners(rng: random.Random, n_numbers: int, n_messages: int) -> list[int | None]:
    """The number id of each message: the hot number a fixed share, 1 % none, Zipf-like rest."""
    hot = min(n_messages, max(200, n_messages // 100))
    weights = [1 / (rank + 20) for rank in range(n_numbers - 1)]
    ids = list(range(2, n_numbers + 1))
    rng.shuffle(ids)
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    owner: list[int | None] = [
        ids[bisect.bisect(cumulative, rng.random() * total)] for _ in range(n_messages)
    ]
    for index in rng.sample(range(n_messages), hot):
        owner[index] = 1
    for index in rng.sample(range(n_messages), n_messages // 100):
        if owner[index] != 1:
            owner[index] = None
    return owner


def render_chunk(job: tuple[int, int, int, str, list[tuple[str, str]]]) -> list[tuple]:
    """Senders and texts of messages `start`..`start+count-1`, rendered as ingest renders them.

    Each item is (sender_raw, sender, text, body_html, code, service). With a cache folder,
    a chunk rendered before (same seed, start and count) is read back instead: the
    benchmark fills two databases with the same data.
    """
    from webapp.otp import extract_code, find_code_span
    from webapp.sanitize import render_body
    from webapp.services import detect_service

    seed, start, count, cache, senders = job
    path = Path(cache, f"{seed}-{start}-{count}.pickle") if cache else None
    if path and path.exists():
        return pickle.loads(path.read_bytes())
    rng = random.Random(seed * 1_000_003 + start)
    out = []
    for _ in range(count):
        raw, sender = rng.choice(senders)
        text = corpus.message_text(rng)
        html = str(render_body(text, find_code_span(text)))
        out.append((raw, sender, text, html, extract_code(text), detect_service(raw, text)))
    if path:
        path.write_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def number_rows(plan: Plan) -> list[tuple[Any, ...]]:
    """Rows of the numbers table, with the newest message of each."""
    last: dict[int, int] = {}
    for index, number_id in enumerate(plan.owner):
        if number_id is not None:
            last[number_id] = index + 1
    created = plan.start - timedelta(days=30)
    rows = []
    for number_id, (e164, country) in enumerate(plan.numbers, start=1):
        gone = number_id in plan.retired
        last_id = last.get(number_id)
        rows.append((
            number_id, e164, country, PROVIDERS[number_id % len(PROVIDERS)],
            "retired" if gone else "active", created, plan.start if gone else None,
            plan.received_at(last_id) if last_id else None, last_id,
        ))
    return rows


def message_rows(
    plan: Plan, seed: int, workers: int, cache: str = ""
) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of message rows; texts are rendered by `workers` processes meanwhile."""
    total = len(plan.owner)
    if cache:
        os.makedirs(cache, exist_ok=True)
    jobs = [(seed, start, min(CHUNK, total - start), cache, plan.senders)
            for start in range(0, total, CHUNK)]
    rng = random.Random(seed + 7)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        for job, rendered in zip(jobs, pool.imap(render_chunk, jobs), strict=True):
            rows = []
            for offset, (raw, sender, text, html, code, service) in enumerate(rendered):
                message_id = job[1] + offset + 1
                number_id = plan.owner[message_id - 1]
                recipient, country = (plan.numbers[number_id - 1] if number_id
                                      else (rng.choice(plan.recipients), None))
                provider = PROVIDERS[message_id % len(PROVIDERS)]
                rows.append((
                    message_id, provider, f"bench-{message_id}", number_id, country, recipient,
                    sender, raw, text, html, code, service, max(1, math.ceil(len(text) / 153)),
                    plan.received_at(message_id),
                ))
            yield rows


class Writer:
    """Bulk writes through the DBAPI connection under SQLAlchemy's engine."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.postgres = engine.dialect.name == "postgresql"

    def empty(self, reset: bool) -> None:
        """Refuse a database with rows in it, or empty it with `reset`."""
        cur = self.conn.cursor()
        if not self.postgres:
            cur.execute("PRAGMA synchronous=OFF")  # a load: durability comes at the end
        cur.execute("SELECT (SELECT count(*) FROM numbers) + (SELECT count(*) FROM messages)")
        if cur.fetchone()[0] and not reset:
            raise SystemExit("the database holds numbers or messages; pass --reset to empty it")
        if self.postgres:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tablename != 'alembic_version'")
            tables = [row[0] for row in cur.fetchall()]
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite%' AND name != 'alembic_version'")
            for (table,) in cur.fetchall():
                cur.execute(f'DELETE FROM "{table}"')
        self.conn.commit()

    def drop_message_indexes(self) -> list[str]:
        """PostgreSQL: drop the messages' secondary indexes and constraints for the load.

        Building an index once at the end is several times faster than maintaining it row
        by row; the statements that recreate them exactly are returned (DDL is
        transactional, so a failed load leaves them in place).
        """
        if not self.postgres:
            return []
        cur = self.conn.cursor()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'messages'::regclass AND contype IN ('f', 'u')"
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'messages' "
            "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname AND c.conrelid = 'messages'::regclass)"
        )
        indexes = cur.fetchall()
        for name, _ in constraints:
            cur.execute(f'ALTER TABLE messages DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in indexes] + [
            f'ALTER TABLE messages ADD CONSTRAINT "{name}" {definition}'
            for name, definition in constraints
        ]

    def recreate(self, statements: list[str]) -> None:
        """Run the statements `drop_message_indexes` returned."""
        if not statements:
            return
        cur = self.conn.cursor()
        cur.execute("SET maintenance_work_mem = '512MB'")
        for statement in statements:
            cur.execute(statement)

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Append rows to a table: COPY on PostgreSQL, executemany on SQLite."""
        cur = self.conn.cursor()
        if self.postgres:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        [tuple(_sqlite_value(v) for v in row) for row in rows])

    def finish(self) -> None:
        """Commit; move PostgreSQL's id sequences past the ids given; refresh statistics."""
        self.conn.commit()
        cur = self.conn.cursor()
        if self.postgres:
            for table in ("numbers", "messages"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
            self.conn.commit()
            self.conn.autocommit = True
            cur.execute("VACUUM ANALYZE numbers")
            cur.execute("VACUUM ANALYZE messages")
            self.conn.autocommit = False
        else:
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.raw.close()


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite DateTime stores UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def generate(args: argparse.Namespace) -> float:
    """Migrate, plan, write numbers, render and write messages; the seconds it took."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db

    started = time.perf_counter()
    app = create_app()
    with app.app_context():
        upgrade()
        writer = Writer(db.engine)
        writer.empty(args.reset)
        plan = make_plan(args.numbers, args.messages, args.seed, args.days)
        writer.insert("numbers", NUMBER_COLUMNS, number_rows(plan))
        dropped = writer.drop_message_indexes()
        for rows in message_rows(plan, args.seed, args.workers, args.cache):
            writer.insert("messages", MESSAGE_COLUMNS, rows)
        writer.recreate(dropped)
        writer.finish()
        db.engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    """Parse the options, generate, print the time it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--reset", action="store_true", help="empty the tables first")
    parser.add_argument("--cache", default="", help="a folder keeping rendered texts for reuse")
    args = parser.parse_args()
    if args.numbers < 3 or args.messages < 1:
        raise SystemExit("--numbers must be at least 3 and --messages at least 1")
    seconds = generate(args)
    print(f"generated {args.numbers} numbers and {args.messages} messages in {seconds:.1f} s",
          flush=True)


if __name__ == "__main__":
    main()
