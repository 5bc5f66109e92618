"""Service pages and votes: `/services`, `/service/<slug>`, `POST /number/<digits>/vote`.

Pages get an ETag from cheap index lookups before the grouped queries run (304 without
them), like the number pages. A vote answers 303 back to the number page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from .. import services
from ..extensions import limiter
from ..numbers import queries as number_queries
from ..numbers.caching import cacheable, not_modified, page_etag, permanent_redirect
from ..numbers.helpers import now
from . import queries, votes

bp = Blueprint("services", __name__)


@bp.app_template_global()
def service_info(slug: str | None) -> services.Service | None:
    """The catalogue entry of a slug, for chips and vote panels."""
    return services.get(slug) if slug else None


@bp.app_template_global()
def vote_services(
    messages: Iterable[Any], votes: dict[str, queries.Tally]
) -> list[tuple[services.Service, queries.Tally]]:
    """The services to vote on: those of the shown messages, then others already voted on."""
    slugs = list(dict.fromkeys(m.service for m in messages if m.service))
    slugs += sorted(slug for slug in votes if slug not in slugs)
    found = [(services.get(slug), votes.get(slug, queries.Tally())) for slug in slugs]
    return [(svc, tally) for svc, tally in found if svc is not None]


def recent_since() -> datetime:
    """The start of the service pages' window (SERVICE_RECENT_DAYS)."""
    return now() - timedelta(days=current_app.config["SERVICE_RECENT_DAYS"])


@bp.get("/services")
def index() -> Response:
    """Services that sent messages to our numbers lately, busiest first."""
    etag = page_etag("services", *number_queries.numbers_fingerprint())
    if (early := not_modified(etag)) is not None:
        return early
    rows = queries.active_services(recent_since())
    html = render_template("services/index.html", rows=rows, known=len(services.CATALOGUE))
    return cacheable(make_response(html), etag)


@bp.get("/service/<slug>")
def service(slug: str) -> Response:
    """The active numbers that received a message from one service lately, with votes."""
    if slug != slug.lower() and services.get(slug.lower()):
        return permanent_redirect(url_for("services.service", slug=slug.lower()))
    found = services.get(slug) or abort(404, description=_("We do not know that service."))
    fingerprint = (queries.latest_service_message(slug), queries.latest_vote(slug))
    etag = page_etag("service", slug, *fingerprint, *number_queries.numbers_fingerprint())
    if (early := not_modified(etag)) is not None:
        return early
    numbers = queries.service_numbers(slug, recent_since())
    html = render_template("services/service.html", service=found, numbers=numbers)
    return cacheable(make_response(html), etag)


@bp.post("/number/<digits>/vote")
@limiter.limit(votes.vote_limit, key_func=votes.visitor_address, methods=["POST"],
               error_message=votes.vote_limit_message)
def vote(digits: str) -> Response:
    """Count a visitor's "worked" / "didn't work" for a service on a number; 303 back."""
    if not votes.same_origin():
        abort(403, description=_("Votes are taken from this site's own pages only."))
    slug, worked = vote_form()
    number = number_queries.number_by_e164("+" + digits) if digits.isdigit() else None
    if number is None or not number.active:
        abort(404, description=_("We do not host that number."))
    if not queries.service_seen(number.id, slug):
        abort(400, description=_("This number has received no message from that service."))
    token, new = votes.voter_token()
    queries.record_vote(number.id, slug, votes.voter_hash(token), worked)
    back = url_for("numbers.number", digits=number.digits, voted=slug, _anchor="votes")
    response = redirect(back, 303)
    return votes.remember(response, token) if new else response


def vote_form() -> tuple[str, bool]:
    """The service slug and the verdict of a vote form; 400 when either is missing or wrong."""
    slug = request.form.get("service", "")
    if services.get(slug) is None:
        abort(400, description=_("Choose a service we know to vote for."))
    worked = request.form.get("worked", "")
    if worked not in ("0", "1"):
        abort(400, description=_("A vote is “worked” (1) or “didn't work” (0)."))
    return slug, worked == "1"
