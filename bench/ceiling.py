"""The practical ceiling: the site's number page, its 304, the feed and the generic webhook
as a minimal raw WSGI program (no Flask, no ORM, no templates), served by gunicorn:

    DATABASE_URL=… RATELIMIT_STORAGE_URI=… gunicorn -w 2 bench.ceiling:app

It runs the same SQL on the same tables, sends pages of the same shape and size (50
messages with their stored `body_html`, sender, times and code, ad slots, the sidebar of
other numbers), the same feed JSON and headers, counts each feed request in the same
rate-limit storage (a dict or Redis), and stores webhooks the way ingest does: the same
pure functions (`phone`, `otp`, `sanitize`), `INSERT … ON CONFLICT DO NOTHING`, the
number's last-message columns, one commit. What it leaves out is the framework.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from html import escape

from webapp.otp import extract_code, find_code_span
from webapp.phone import format_international, normalize_address
from webapp.sanitize import render_body
from webapp.services import detect_service

URL = os.environ.get("DATABASE_URL", "")
POSTGRES = URL.startswith(("postgresql://", "postgres://"))
RATE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
PAGE = 50
MARK = "%s" if POSTGRES else "?"
_local = threading.local()
_counts: dict[str, int] = {}


def connection():
    """This thread's database connection (reads in autocommit, writes in a transaction)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        if POSTGRES:
            import psycopg

            conn = psycopg.connect(URL, autocommit=True)
        else:
            import sqlite3

            conn = sqlite3.connect(URL.removeprefix("sqlite:///"), timeout=30,
                                   isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                           "cache_size=-65536", "mmap_size=268435456"):
                conn.execute(f"PRAGMA {pragma}")
        _local.conn = conn
    return conn


def query(sql: str, *args: object) -> list[tuple]:
    """Rows of one statement (`?` placeholders, rewritten for psycopg)."""
    return connection().execute(sql.replace("?", MARK), args).fetchall()


def as_datetime(value: object) -> datetime:
    """Aware UTC datetime from psycopg's datetime or SQLite's text."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value  # type: ignore[return-value]


def rfc3339(value: datetime) -> str:
    """RFC 3339 with milliseconds and Z."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ago(value: datetime, now: datetime) -> str:
    """`5 minutes ago`, the largest unit that fits."""
    seconds = int((now - value).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


@lru_cache(maxsize=65536)
def sender_text(value: str) -> str:
    """A phone sender formatted, a sender id as given."""
    if value.startswith("+") and value[1:].isdigit():
        return format_international(value)
    return value


def etag_for(*parts: object) -> str:
    """A quoted ETag from cheap values and the minute."""
    key = repr((parts, int(time.time() // 60))).encode()
    return '"' + hashlib.sha256(key).hexdigest()[:32] + '"'


def matches(environ: dict, etag: str) -> bool:
    """Whether If-None-Match holds the ETag (weak comparison)."""
    header = environ.get("HTTP_IF_NONE_MATCH", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def find_number(digits: str) -> tuple | None:
    """id, e164, country, status, last_message_id, last_message_at of a canonical number."""
    rows = query("SELECT id, e164, country, status, last_message_id, last_message_at "
                 "FROM numbers WHERE e164 = ?", "+" + digits)
    return rows[0] if rows else None


COPY_SVG = ('<svg class="copy__icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" '
            'focusable="false"><path fill="currentColor" d="M16 1H6a2 2 0 0 0-2 2v12h2V3h10V1zm3 '
            '4H10a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h9a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16h-9V7h9v14z"'
            '/></svg>')
AD = ('<aside class="ad ad--placeholder" aria-label="Advertisement" data-ad-position="{}">\n'
      '  <span class="ad__label">Advertisement</span>\n</aside>\n')
HEAD = ('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" '
        'content="width=device-width, initial-scale=1">\n<title>{n}: receive SMS online &middot; '
        'Receive SMS Online</title>\n<meta name="description" content="Receive SMS online at the '
        'free number {n}. Read the newest text messages and verification codes sent to it, no '
        'sign-up.">\n<link rel="canonical" href="{site}/number/{d}">\n<meta property="og:url" '
        'content="{site}/number/{d}">\n<link rel="stylesheet" href="/static/site.css?v=1">\n'
        '<script src="/static/site.js?v=1" defer></script>\n</head>\n<body>\n<header '
        'class="site-header"><a class="brand" href="/">Receive SMS Online</a></header>\n<main '
        'id="main" class="wrap main">\n<section class="number-hero"><h1 class="number-hero__number"'
        '><span data-number>{n}</span></h1>\n<button type="button" class="copy copy--primary" '
        'data-copy="{e}" aria-label="Copy number {e}" hidden>' + COPY_SVG + '<span class="copy__'
        'text">Copy</span></button>\n<p class="number-hero__meta">Last message <time datetime='
        '"{lt}">{la}</time>. Everything sent to this number is public.</p></section>\n')
FOOT = ('<section class="tips"><h2 class="section__title">Good to know</h2><ul><li><strong>'
        'Messages are public.</strong> Anyone can read what this number receives.</li><li>'
        '<strong>Nothing arriving?</strong> Wait a minute and press Refresh.</li></ul></section>\n'
        '</main>\n<footer class="site-footer"><p>Every message sent to these numbers is '
        '<strong>public</strong>.</p>'
        '<a href="/sitemap.xml">Sitemap</a></footer>\n</body>\n</html>\n')


def message_html(row: tuple, now: datetime) -> str:
    """One message article, as the site's template writes it."""
    message_id, sender, received, body_html, code, length = row
    received = as_datetime(received)
    out = [f'<article class="message" id="m{message_id}"><header class="message__head"><span '
           f'class="message__from"><span class="visually-hidden">From </span><bdi class="sender">'
           f'{escape(sender_text(sender))}</bdi></span><time class="message__time" datetime="'
           f'{rfc3339(received)}" title="{received:%d %b %Y, %H:%M:%S} UTC">{ago(received, now)}'
           f'</time></header>\n']
    if code:
        out.append(f'<div class="otp-box"><span class="otp-box__label">Code</span><code class="'
                   f'otp-box__code">{escape(code)}</code><button type="button" class="copy" data-'
                   f'copy="{escape(code)}" aria-label="Copy code {escape(code)}" hidden>{COPY_SVG}'
                   f'<span class="copy__text">Copy</span></button></div>\n')
    long = " message__body--long" if length > 1200 else ""
    out.append(f'<div class="message__body{long}" dir="auto">{body_html}</div></article>\n')
    return "".join(out)


def number_page(environ: dict, digits: str) -> tuple[str, list, bytes]:
    """The number page: the newest 50 messages, ad slots, other numbers of the country."""
    number = find_number(digits)
    if number is None or number[3] != "active":
        return "404 Not Found", [("Content-Type", "text/plain")], b"not found"
    number_id, e164, country, _, last_id, last_at = number
    etag = etag_for("number", number_id, last_id)
    headers = [("ETag", etag), ("Cache-Control", "public, max-age=30")]
    if matches(environ, etag):
        return "304 Not Modified", headers, b""
    rows = query("SELECT id, sender, received_at, body_html, code, length(body) FROM messages "
                 "WHERE number_id = ? ORDER BY id DESC LIMIT ?", number_id, PAGE + 1)
    others = query("SELECT e164, last_message_at FROM numbers WHERE status = 'active' AND "
                   "country = ? AND id != ? ORDER BY last_message_at DESC NULLS LAST, id DESC "
                   "LIMIT 6", country, number_id)
    now = datetime.now(UTC)
    last = as_datetime(last_at) if last_at else now
    out = [HEAD.format(n=format_international(e164), d=digits, e=e164, site="http://127.0.0.1",
                       lt=rfc3339(last), la=ago(last, now)), AD.format("top")]
    for index, row in enumerate(rows[:PAGE], start=1):
        out.append(message_html(row, now))
        if index % 5 == 0 and index < PAGE:
            out.append(AD.format(f"after-{index}"))
    out.append(AD.format("bottom"))
    if len(rows) > PAGE:
        out.append(f'<nav class="pager"><a rel="next" href="/number/{digits}?before='
                   f'{rows[PAGE - 1][0]}">Older messages</a></nav>\n')
    out.append('<section class="section"><ul class="number-list">')
    for other, other_last in others:
        when = ago(as_datetime(other_last), now) if other_last else "No messages yet"
        out.append(f'<li><a class="number-card" href="/number/{other[1:]}"><span class="number-'
                   f'card__number">{format_international(other)}</span><span class="number-card'
                   f'__meta">Last message {when}</span></a></li>')
    out.append("</ul></section>\n" + FOOT)
    headers.append(("Content-Type", "text/html; charset=utf-8"))
    return "200 OK", headers, "".join(out).encode()


def count_request(environ: dict) -> int:
    """Count a feed request in a one-minute window of the rate-limit storage; the count."""
    key = f"ceiling/{environ.get('REMOTE_ADDR')}/{int(time.time() // 60)}"
    if RATE_URI.startswith("redis"):
        if getattr(_local, "redis", None) is None:
            import redis

            _local.redis = redis.Redis.from_url(RATE_URI)
        pipe = _local.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 60)
        return int(pipe.execute()[0])
    _counts[key] = _counts.get(key, 0) + 1
    return _counts[key]


def feed(environ: dict, digits: str) -> tuple[str, list, bytes]:
    """A number's newest 50 messages as the feed's JSON, with its headers."""
    used = count_request(environ)
    number = find_number(digits)
    if number is None or number[3] != "active":
        return "404 Not Found", [("Content-Type", "application/problem+json")], b"{}"
    oldest = query("SELECT min(id) FROM messages")[0][0]
    etag = etag_for("feed", number[0], number[4], oldest)
    headers = [("ETag", etag), ("Cache-Control", "public, max-age=10"), ("Vary", "Authorization"),
               ("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff"),
               ("X-RateLimit-Limit", "100000000"), ("X-RateLimit-Remaining", str(10**8 - used)),
               ("RateLimit-Limit", "100000000"), ("RateLimit-Remaining", str(10**8 - used))]
    if matches(environ, etag):
        return "304 Not Modified", headers, b""
    rows = query("SELECT id, recipient, sender, body, body_html, code, received_at FROM messages "
                 "WHERE number_id = ? ORDER BY id DESC LIMIT ?", number[0], PAGE + 1)
    data = [{"body": r[3], "body_html": r[4], "code": r[5], "from": r[2], "id": r[0],
             "received_at": rfc3339(as_datetime(r[6])), "to": r[1]} for r in rows[:PAGE]]
    before = rows[PAGE - 1][0] if len(rows) > PAGE else None
    next_url = (f"http://127.0.0.1/api/v1/numbers/{digits}/messages?limit=50&before={before}"
                if before else None)
    body = json.dumps({"data": data, "next": next_url, "next_before": before},
                      separators=(",", ":")).encode()
    headers.append(("Content-Type", "application/json"))
    return "200 OK", headers, body


normalized = lru_cache(maxsize=65536)(normalize_address)
UPDATE_LAST = ("UPDATE numbers SET last_message_id = ?, last_message_at = ? WHERE id = ? "
               "AND (last_message_id IS NULL OR last_message_id < ?)")


def webhook(environ: dict) -> tuple[str, list, bytes]:
    """Store a generic webhook's message exactly once; reply after the commit."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        data = json.loads(environ["wsgi.input"].read(min(size, 65536)))["data"]
        provider_id, sender, recipient, text = data["id"], data["from"], data["to"], data["text"]
    except (ValueError, KeyError, TypeError):
        return "400 Bad Request", [("Content-Type", "application/problem+json")], b"{}"
    recipient = normalized(recipient)
    now = datetime.now(UTC)
    html = str(render_body(text, find_code_span(text)))
    conn = connection()
    sql = ("INSERT INTO messages (provider, provider_id, number_id, country, recipient, sender, "
           "sender_raw, body, body_html, code, service, segments, received_at) SELECT 'generic', "
           "?, n.id, n.country, ?, ?, ?, ?, ?, ?, ?, NULL, ? FROM (SELECT 1) AS one LEFT JOIN "
           "numbers n ON n.e164 = ? WHERE true ON CONFLICT DO NOTHING "
           "RETURNING id, number_id").replace("?", MARK)
    stamp = now if POSTGRES else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.execute("BEGIN")
    try:
        row = conn.execute(sql, (provider_id, recipient, normalized(sender), sender, text, html,
                                 extract_code(text), detect_service(sender, text), stamp,
                                 recipient)).fetchone()
        if row and row[1] is not None:
            conn.execute(UPDATE_LAST.replace("?", MARK), (row[0], stamp, row[1], row[0]))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return "200 OK", [("Content-Type", "application/json")], b'{"status":"accepted"}'


def app(environ: dict, start_response) -> list[bytes]:
    """Route by path."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/number/"):
        status, headers, body = number_page(environ, path[8:])
    elif path.startswith("/api/v1/numbers/") and path.endswith("/messages"):
        status, headers, body = feed(environ, path[16:-9])
    elif path == "/webhooks/generic" and environ.get("REQUEST_METHOD") == "POST":
        status, headers, body = webhook(environ)
    elif path == "/healthz":
        query("SELECT 1")
        status, headers, body = "200 OK", [("Content-Type", "application/json")], b'{"ok":1}'
    else:
        status, headers, body = "404 Not Found", [("Content-Type", "text/plain")], b"not found"
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]
