"""Template helpers of the visitor features: liveness badges, flags, search terms, breadcrumbs.

Registered on the Jinja environment next to `helpers` (see `helpers.install`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from flask import Flask, current_app, url_for
from flask_babel import gettext as _

from ..search import terms_attribute
from ..timeutil import as_utc
from .helpers import canonical_url, now

ACTIVE, QUIET, SILENT = "active", "quiet", "silent"
ACTIVE_WINDOW = timedelta(hours=24)


class Listed(Protocol):
    """Anything with a last message time: Number, NumberRow."""

    last_message_at: datetime | None


def silent_cutoff() -> datetime:
    """Numbers whose last message is older than this (or who never had one) are silent."""
    return now() - timedelta(days=current_app.config["NUMBER_SILENT_DAYS"])


def liveness(last_message_at: datetime | None) -> str:
    """`active` (a message in 24 h), `silent` (none for NUMBER_SILENT_DAYS days), else `quiet`."""
    if last_message_at is None:
        return SILENT
    when = as_utc(last_message_at)
    if when >= now() - ACTIVE_WINDOW:
        return ACTIVE
    return SILENT if when < silent_cutoff() else QUIET


def liveness_label(state: str) -> str:
    """The badge text of a liveness state, in the page's language."""
    labels = {ACTIVE: _("Active"), QUIET: _("Quiet"), SILENT: _("Silent")}
    return labels.get(state, state)


def liveness_hint(state: str) -> str:
    """What a badge means, for its tooltip."""
    if state == ACTIVE:
        return _("Received a message in the last 24 hours")
    if state == SILENT:
        days = current_app.config["NUMBER_SILENT_DAYS"]
        return _("No message for %(days)d days or more", days=days)
    return _("No message in the last 24 hours")


def silent_last(numbers: Iterable[Listed]) -> list[Any]:
    """The same numbers, silent ones moved to the end (stable otherwise)."""
    return sorted(numbers, key=lambda number: liveness(number.last_message_at) == SILENT)


@cache
def _flag_files(folder: str) -> dict[str, str]:
    """The vendored flag image of each region code (`gb` → `flags/gb.svg`)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    return {name.partition(".")[0]: "flags/" + name for name in names
            if name.endswith((".svg", ".png"))}


def flag_src(code: str) -> str:
    """The URL of a region's flag image, '' when none is vendored (the emoji is shown then)."""
    folder = os.path.join(current_app.static_folder or "", "flags")
    filename = _flag_files(folder).get(code.lower())
    return url_for("static", filename=filename) if filename else ""


def breadcrumbs(trail: Sequence[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """schema.org BreadcrumbList data of (name, endpoint, values) steps, for `|tojson`."""
    items = [
        {"@type": "ListItem", "position": index, "name": name,
         "item": canonical_url(endpoint, **values)}
        for index, (name, endpoint, values) in enumerate(trail, start=1)
    ]
    return {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items}


FILTERS = {
    "liveness": liveness,
    "liveness_label": liveness_label,
    "liveness_hint": liveness_hint,
    "flag_src": flag_src,
    "search_terms": terms_attribute,
}

GLOBALS = {
    "breadcrumbs": breadcrumbs,
}


def install(app: Flask) -> None:
    """Register the visitor filters and globals on the app's Jinja environment."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS)
