"""Logs for machines: one JSON object a line on stdout, one line per request, nothing raw.

Every string a log line holds may come from an attacker (paths, headers, exception texts),
so no formatter here writes a control character as it is: JSON escapes them (`ensure_ascii`
turns every non-ASCII character, bidi controls and U+2028/2029 included, into `\\uXXXX`),
and the text format escapes whatever Python does not call printable. Message bodies are
never logged: a webhook's request line says provider, outcome and how many messages were
new, not what they said.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

#: An incoming X-Request-ID is echoed only when it is this harmless; otherwise we make one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_PATH = 256
FORMATS = ("json", "text")

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def escape_controls(text: str) -> str:
    """`text` with every unprintable character (C0, C1, DEL, bidi, U+2028/9) as `\\uXXXX`."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def rfc3339(created: float) -> str:
    """A record's time as RFC 3339 UTC with milliseconds."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields of one log line: time, level, logger, message, then the extras."""
    fields: dict[str, Any] = {
        "time": rfc3339(record.created),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    fields.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
    if record.exc_info:
        fields["exception"] = logging.Formatter().formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object a line; json.dumps escapes every control and non-ASCII character."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of ASCII JSON."""
        return json.dumps(record_fields(record), ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key="value" …`, for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line; the message and traceback escaped, extras as JSON values."""
        fields = record_fields(record)
        head = f"{fields.pop('time')} {fields.pop('level')} {fields.pop('logger')}: "
        words = [escape_controls(str(fields.pop("message")))]
        words += [f"{escape_controls(k)}={json.dumps(v, default=str)}" for k, v in fields.items()]
        return escape_controls(head) + " ".join(words)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is at the time (pytest and click swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        """The current standard output."""
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; annotate it when inside a request."""
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


def install_handler(log_format: str) -> logging.Handler:
    """Our one stdout handler on the root logger, added once per process, format updated."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, StdoutHandler)), None)
    if handler is None:
        handler = StdoutHandler()
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def request_id() -> str:
    """This request's id: a safe incoming X-Request-ID, else a new random one."""
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    return g.request_id


def annotate(**fields: Any) -> None:
    """Add fields to this request's log line (e.g. a webhook's provider and outcome)."""
    g.setdefault("log_fields", {}).update(fields)


def request_seconds() -> float:
    """Seconds since this request started being handled."""
    return time.perf_counter() - g.get("request_started", time.perf_counter())


def start_request() -> None:
    """Note when the request started and settle its id."""
    g.request_started = time.perf_counter()
    request_id()


def log_request(response: Response) -> Response:
    """One line per request; the request id is echoed to the caller."""
    response.headers["X-Request-ID"] = request_id()
    fields = {
        "request_id": request_id(),
        "method": request.method,
        "path": request.path[:MAX_PATH],
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round(request_seconds() * 1000, 1),
        **g.get("log_fields", {}),
    }
    logging.getLogger("webapp.request").info("request", extra=fields)
    return response


def register(app: Flask) -> None:
    """Log to stdout in LOG_FORMAT at LOG_LEVEL; time and log every request."""
    install_handler(app.config["LOG_FORMAT"])
    logging.getLogger("webapp").setLevel(app.config["LOG_LEVEL"].upper())
    # Flask's own handler would print a second, unescaped copy of app.logger's lines.
    logging.getLogger("webapp").removeHandler(default_handler)
    app.before_request(start_request)
    app.after_request(log_request)
