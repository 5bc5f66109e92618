"""Error answers by audience: problem+json for carriers and API clients, HTML for people."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .metrics import webhook_refused
from .providers.base import WebhookError

log = logging.getLogger(__name__)

_MACHINE_PREFIXES = ("/api/", "/webhooks/", "/healthz")


def wants_json() -> bool:
    """Whether the caller is a machine (feed, webhook, health check)."""
    return request.path.startswith(_MACHINE_PREFIXES)


def problem(status: int, title: str, detail: str, **extra: object) -> Response:
    """An RFC 9457 problem document; `error` repeats the detail for simple clients."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "error": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _webhook_error(exc: WebhookError) -> Response:
    db.session.rollback()
    log.info("webhook refused: %s %s", exc.status, ascii(str(exc)))
    webhook_refused(exc)
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
    response = problem(exc.status, titles.get(exc.status, "Refused"), str(exc))
    response.headers.update(exc.headers)
    return response


def _http_error(exc: HTTPException) -> Response | HTTPException | tuple[str, int]:
    if wants_json():
        response = problem(exc.code or 500, exc.name, exc.description or exc.name)
        for name in ("Retry-After", "Allow", "Location"):
            if exc.get_response().headers.get(name):
                response.headers[name] = exc.get_response().headers[name]
        return response
    detail = page_detail(exc)
    return render_template("errors/error.html", error=exc, detail=detail), exc.code or 500


def page_detail(exc: HTTPException) -> str | None:
    """What a view said about the error (translated where raised); None for Werkzeug's text."""
    if not exc.description or exc.description == type(exc).description:
        return None
    return exc.description


def _database_error(exc: SQLAlchemyError) -> Response | tuple[str, int]:
    # A 5xx (never a 2xx) so that carriers retry what we could not store.
    db.session.rollback()
    log.exception("database error")
    if wants_json():
        response = problem(503, "Service Unavailable", "the database is not answering; retry")
        response.headers["Retry-After"] = "5"
        return response
    return render_template("errors/error.html", error=None), 503


def register_errors(app: Flask) -> None:
    """Install the error handlers."""
    app.register_error_handler(WebhookError, _webhook_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(SQLAlchemyError, _database_error)
