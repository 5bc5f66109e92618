"""Read queries for pages and the feed; every one is served from an index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import ACTIVE, Message, Number
from ..timeutil import utcnow


@dataclass(frozen=True)
class CountryRow:
    """A country with active numbers."""

    country: str
    numbers: int
    last_message_at: datetime | None


@dataclass(frozen=True)
class Page:
    """One page of messages, newest first, and the cursor of the next (older) page."""

    messages: list[Message]
    next_before: int | None


def active_countries() -> list[CountryRow]:
    """Countries that have active numbers, with counts and last activity."""
    rows = db.session.execute(
        select(Number.country, func.count(), func.max(Number.last_message_at))
        .where(Number.status == ACTIVE)
        .group_by(Number.country)
        .order_by(Number.country)
    ).all()
    return [CountryRow(country, count, last) for country, count, last in rows]


def active_numbers(country: str | None = None, limit: int | None = None) -> list[Number]:
    """Active numbers, most recently used first, optionally of one country."""
    stmt = select(Number).where(Number.status == ACTIVE)
    if country:
        stmt = stmt.where(Number.country == country.upper())
    stmt = stmt.order_by(Number.last_message_at.desc().nulls_last(), Number.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def newest_numbers(limit: int = 8) -> list[Number]:
    """The most recently provisioned active numbers."""
    stmt = (
        select(Number).where(Number.status == ACTIVE).order_by(Number.id.desc()).limit(limit)
    )
    return list(db.session.scalars(stmt))


def number_by_e164(e164: str) -> Number | None:
    """A provisioned number, active or retired."""
    return db.session.scalar(select(Number).where(Number.e164 == e164))


def counts_last_24h(number_ids: list[int], now: datetime | None = None) -> dict[int, int]:
    """Messages received in the last 24 hours, per number id."""
    if not number_ids:
        return {}
    since = (now or utcnow()) - timedelta(hours=24)
    rows = db.session.execute(
        select(Message.number_id, func.count())
        .where(Message.number_id.in_(number_ids), Message.received_at >= since)
        .group_by(Message.number_id)
    ).all()
    return {number_id: count for number_id, count in rows}


def _window(stmt: Select, before: int | None, since: int | datetime | None, limit: int) -> Page:
    if before is not None:
        stmt = stmt.where(Message.id < before)
    if isinstance(since, datetime):
        stmt = stmt.where(Message.received_at > since)
    elif since is not None:
        stmt = stmt.where(Message.id > since)
    rows = list(db.session.scalars(stmt.order_by(Message.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


def number_messages(
    number_id: int, before: int | None = None, since: int | datetime | None = None,
    limit: int = 50,
) -> Page:
    """A number's messages, newest first, older than `before`, newer than `since`."""
    stmt = select(Message).where(Message.number_id == number_id)
    return _window(stmt, before, since, limit)


def public_messages(
    country: str | None = None, before: int | None = None,
    since: int | datetime | None = None, limit: int = 50,
) -> Page:
    """Messages of every active number (optionally of one country), newest first."""
    stmt = select(Message).join(Number, Message.number_id == Number.id).where(
        Number.status == ACTIVE
    )
    if country:
        stmt = stmt.where(Number.country == country.upper())
    return _window(stmt, before, since, limit)


@dataclass(frozen=True)
class UnroutedRow:
    """A recipient that received messages without being provisioned."""

    recipient: str
    messages: int
    last_received_at: datetime


def all_numbers(country: str | None = None) -> list[Number]:
    """Every provisioned number, active or retired, by country then number."""
    stmt = select(Number).order_by(Number.country, Number.e164)
    if country:
        stmt = stmt.where(Number.country == country.upper())
    return list(db.session.scalars(stmt))


def unrouted_recipients() -> list[UnroutedRow]:
    """Recipients of messages that reached no provisioned number, most messages first."""
    count, last = func.count(Message.id), func.max(Message.received_at)
    rows = db.session.execute(
        select(Message.recipient, count, last)
        .where(Message.number_id.is_(None))
        .group_by(Message.recipient)
        .order_by(count.desc(), last.desc(), Message.recipient)
    ).all()
    return [UnroutedRow(recipient, n, latest) for recipient, n, latest in rows]


def numbers_fingerprint(country: str | None = None) -> tuple[int, int | None, int | None]:
    """Cheap summary of the active numbers (count, newest id, newest message id) for ETags."""
    stmt = select(func.count(), func.max(Number.id), func.max(Number.last_message_id)).where(
        Number.status == ACTIVE
    )
    if country:
        stmt = stmt.where(Number.country == country.upper())
    count, newest, last_message = db.session.execute(stmt).one()
    return count, newest, last_message


def database_answers() -> bool:
    """Whether the database answers `SELECT 1`."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True


def oldest_message_id() -> int | None:
    """The smallest stored message id: it moves whenever old messages are purged."""
    return db.session.scalar(select(func.min(Message.id)))


def other_active_numbers(country: str, exclude_id: int, limit: int) -> list[Number]:
    """A country's active numbers other than one, most recently used first."""
    stmt = (
        select(Number)
        .where(Number.status == ACTIVE, Number.country == country.upper(), Number.id != exclude_id)
        .order_by(Number.last_message_at.desc().nulls_last(), Number.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
