"""Read queries for pages and the feed; every one is served from an index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import g
from sqlalchemy import Connection, Row, Select, bindparam, func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import ACTIVE, RETIRED, Message, Number, Vote
from ..timeutil import utcnow

# The hot paths (number page, feed) run prebuilt Core statements on one read connection per
# app context: building an ORM select and loading entities cost 4 to 5 times the query.
_numbers = Number.__table__
_messages = Message.__table__


@dataclass(frozen=True)
class CountryRow:
    """A country with active numbers."""

    country: str
    numbers: int
    last_message_at: datetime | None


@dataclass(frozen=True)
class NumberRow:
    """A number as pages and the feed show it: plain values, no ORM object."""

    id: int
    e164: str
    country: str
    status: str
    last_message_at: datetime | None
    last_message_id: int | None

    @property
    def digits(self) -> str:
        """The number as it appears in URLs: E.164 without the plus."""
        return self.e164[1:]

    @property
    def active(self) -> bool:
        """Whether the number is listed and shows its messages."""
        return self.status == ACTIVE


@dataclass(frozen=True)
class Page:
    """One page of messages (rows with Message's columns), newest first, and the next cursor."""

    messages: list[Row[Any]]
    next_before: int | None


_NUMBER_COLUMNS = (
    _numbers.c.id, _numbers.c.e164, _numbers.c.country, _numbers.c.status,
    _numbers.c.last_message_at, _numbers.c.last_message_id,
)
_NUMBER_BY_E164 = select(*_NUMBER_COLUMNS).where(_numbers.c.e164 == bindparam("e164"))
_OTHER_ACTIVE = (
    select(*_NUMBER_COLUMNS)
    .where(
        _numbers.c.status == ACTIVE,
        _numbers.c.country == bindparam("country"),
        _numbers.c.id != bindparam("exclude"),
    )
    .order_by(_numbers.c.last_message_at.desc().nulls_last(), _numbers.c.id.desc())
    .limit(bindparam("limit"))
)
_OLDEST_MESSAGE_ID = select(func.min(_messages.c.id))
# The number page's ETag state in one statement: the number and its visitors' votes (how
# many, the latest change), through the votes' unique index that starts with number_id.
_votes = Vote.__table__
_NUMBER_AND_VOTES = select(
    *_NUMBER_COLUMNS,
    select(func.count()).where(_votes.c.number_id == _numbers.c.id).scalar_subquery(),
    select(func.max(_votes.c.updated_at))
    .where(_votes.c.number_id == _numbers.c.id)
    .scalar_subquery(),
).where(_numbers.c.e164 == bindparam("e164"))
# The feed's ETag state in one statement: the number and the oldest id (moved by purges).
_NUMBER_AND_OLDEST = select(*_NUMBER_COLUMNS, _OLDEST_MESSAGE_ID.scalar_subquery()).where(
    _numbers.c.e164 == bindparam("e164")
)


def _reader() -> Connection:
    """This app context's read connection, opened on first use (see `close_reader`).

    On PostgreSQL it runs in autocommit: each read is one round trip, with no BEGIN before
    and no ROLLBACK when it goes back to the pool. (SQLite reads take no snapshot anyway.)
    """
    conn = g.get("read_connection")
    if conn is None:
        conn = g.read_connection = db.engine.connect()
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def close_reader(_exc: BaseException | None = None) -> None:
    """Give the app context's read connection back to the pool (an app teardown hook)."""
    conn = g.pop("read_connection", None)
    if conn is not None:
        conn.close()


def _rows(stmt: Select, **params: object) -> list[Row[Any]]:
    return list(_reader().execute(stmt, params))


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


def number_by_e164(e164: str) -> NumberRow | None:
    """A provisioned number, active or retired."""
    rows = _rows(_NUMBER_BY_E164, e164=e164)
    return NumberRow(*rows[0]) if rows else None


def number_and_votes(e164: str) -> tuple[NumberRow | None, tuple[Any, ...]]:
    """A provisioned number and the state of its votes (count, latest change): one query."""
    rows = _rows(_NUMBER_AND_VOTES, e164=e164)
    return (NumberRow(*rows[0][:6]), tuple(rows[0][6:])) if rows else (None, ())


def number_and_oldest_message(e164: str) -> tuple[NumberRow | None, int | None]:
    """A provisioned number and the smallest stored message id, in one small query."""
    rows = _rows(_NUMBER_AND_OLDEST, e164=e164)
    return (NumberRow(*rows[0][:6]), rows[0][6]) if rows else (None, None)


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


@cache
def _window_statement(scope: str, before: bool, since: str) -> Select:
    """The messages of a number, of a country or of all (`scope`), newest first, by cursor."""
    m = _messages.c
    stmt = select(
        m.id, m.recipient, m.sender, m.body, m.body_html, m.code, m.received_at, m.service
    )
    if scope == "number":
        stmt = stmt.where(m.number_id == bindparam("number_id"))
    else:
        stmt = stmt.join(_numbers, m.number_id == _numbers.c.id).where(
            _numbers.c.status == ACTIVE
        )
        if scope == "country":  # ix_messages_country_id, not a walk through every message
            stmt = stmt.where(m.country == bindparam("country"))
    if before:
        stmt = stmt.where(m.id < bindparam("before"))
    if since == "time":
        # Ids follow arrival, so the first id after `since` less a margin bounds the scan;
        # without it a `since` close to now walked every message newest first.
        floor = (
            select(m.id).where(m.received_at > bindparam("since_floor"))
            .order_by(m.received_at).limit(1).scalar_subquery()
        )
        stmt = stmt.where(m.received_at > bindparam("since"), m.id >= floor)
    elif since == "id":
        stmt = stmt.where(m.id > bindparam("since"))
    return stmt.order_by(m.id.desc()).limit(bindparam("limit"))


#: How far arrival order and id order can disagree: a message's time is taken and its id
#: given within one request, and gunicorn stops a request after GUNICORN_TIMEOUT (30 s).
ARRIVAL_SKEW = timedelta(minutes=5)


def _window(
    scope: str, before: int | None, since: int | datetime | None, limit: int, **params: object
) -> Page:
    kind = "time" if isinstance(since, datetime) else "" if since is None else "id"
    stmt = _window_statement(scope, before is not None, kind)
    if isinstance(since, datetime):
        params["since_floor"] = since - ARRIVAL_SKEW
    rows = _rows(stmt, before=before, since=since, limit=limit + 1, **params)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


def number_messages(
    number_id: int, before: int | None = None, since: int | datetime | None = None,
    limit: int = 50,
) -> Page:
    """A number's messages, newest first, older than `before`, newer than `since`."""
    return _window("number", before, since, limit, number_id=number_id)


def public_messages(
    country: str | None = None, before: int | None = None,
    since: int | datetime | None = None, limit: int = 50,
) -> Page:
    """Messages of every active number (optionally of one country), newest first."""
    if country:
        return _window("country", before, since, limit, country=country.upper())
    return _window("all", before, since, limit)


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


@cache
def _fingerprint_statement(by_country: bool, with_oldest: bool) -> Select:
    n = _numbers.c
    columns = [func.count(), func.max(n.id), func.max(n.last_message_id)]
    if with_oldest:
        columns.append(_OLDEST_MESSAGE_ID.scalar_subquery())
    stmt = select(*columns).where(n.status == ACTIVE)
    return stmt.where(n.country == bindparam("country")) if by_country else stmt


# Every public message: the newest and oldest ids (the primary key's two ends) and how many
# numbers were retired (retiring hides messages; through ix_numbers_status_country). Three
# index lookups, whatever the number of numbers: an ETag, not a scan of the numbers.
_ALL_MESSAGES_STATE = select(
    select(func.max(_messages.c.id)).scalar_subquery(),
    _OLDEST_MESSAGE_ID.scalar_subquery(),
    select(func.count()).where(_numbers.c.status == RETIRED).scalar_subquery(),
)
# All active numbers, the same way: the newest number (primary key), how many were retired,
# the newest message (it moves every "last message" time). Was a scan of the numbers.
_ALL_NUMBERS_STATE = select(
    select(func.max(_numbers.c.id)).scalar_subquery(),
    select(func.count()).where(_numbers.c.status == RETIRED).scalar_subquery(),
    select(func.max(_messages.c.id)).scalar_subquery(),
)


def numbers_fingerprint(country: str | None = None) -> tuple[int | None, ...]:
    """What moves when the active numbers change (who, how many, their last messages): ETags.

    Of one country: count, newest id and newest message id of its active numbers (through
    ix_numbers_status_country); of all: index lookups only (see `_ALL_NUMBERS_STATE`).
    """
    if not country:
        return tuple(_rows(_ALL_NUMBERS_STATE)[0])
    return tuple(_rows(_fingerprint_statement(True, False), country=country.upper())[0])


def messages_fingerprint(country: str | None = None) -> tuple[int | None, ...]:
    """What moves when a feed list of messages can change, with the oldest stored id.

    Of one country: `numbers_fingerprint` (its numbers, through the status and country
    index); of all: the newest message id and the count of retired numbers.
    """
    if country:
        stmt = _fingerprint_statement(True, True)
        return tuple(_rows(stmt, country=country.upper())[0])
    return tuple(_rows(_ALL_MESSAGES_STATE)[0])


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
    return _rows(_OLDEST_MESSAGE_ID)[0][0]


def other_active_numbers(country: str, exclude_id: int, limit: int) -> list[NumberRow]:
    """A country's active numbers other than one, most recently used first."""
    rows = _rows(_OTHER_ACTIVE, country=country.upper(), exclude=exclude_id, limit=limit)
    return [NumberRow(*row) for row in rows]


def numbers_with_digits(patterns: list[str], limit: int = 50) -> list[NumberRow]:
    """Active numbers whose E.164 digits contain one of `patterns`, most recently used first.

    A `LIKE '%…%'` scan of the numbers table: no index serves it, and none is needed at the
    scale of this table (10 000 numbers scan in a few milliseconds).
    """
    if not patterns:
        return []
    stmt = (
        select(*_NUMBER_COLUMNS)
        .where(_numbers.c.status == ACTIVE, or_(*(_numbers.c.e164.contains(p) for p in patterns)))
        .order_by(_numbers.c.last_message_at.desc().nulls_last(), _numbers.c.id.desc())
        .limit(limit)
    )
    return [NumberRow(*row) for row in _rows(stmt)]
