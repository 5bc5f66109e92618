"""Read and write queries of the service pages and the votes; every one is served from an index.

- `ix_messages_service_received_at` (service, received_at, number_id): a service's messages
  of the last days, counted without reading the table on PostgreSQL.
- `uq_votes_number_id_service_voter_hash`: a number's votes grouped by service; one vote
  per visitor, service and number.
- `ix_votes_service_updated_at`: a service's votes per number, and the latest vote's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, literal, select

from ..extensions import db
from ..models import ACTIVE, Message, Number, Vote
from ..timeutil import utcnow


@dataclass(frozen=True)
class Tally:
    """Visitors' votes for one service on one number."""

    worked: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """Every vote."""
        return self.worked + self.failed

    @property
    def ratio(self) -> int | None:
        """The share of "worked" votes in per cent, None without votes."""
        return round(100 * self.worked / self.total) if self.total else None


@dataclass(frozen=True)
class ServiceNumber:
    """An active number that received messages from a service lately."""

    id: int
    e164: str
    country: str
    last_message_at: datetime | None
    last_service_at: datetime
    messages: int
    tally: Tally

    @property
    def digits(self) -> str:
        """The number as it appears in URLs: E.164 without the plus."""
        return self.e164[1:]


@dataclass(frozen=True)
class ServiceActivity:
    """A service with recent messages: on how many numbers, how many, and the latest."""

    slug: str
    numbers: int
    messages: int
    last_at: datetime


_WORKED = func.sum(case((Vote.worked, 1), else_=0))


def vote_summary(number_id: int) -> dict[str, Tally]:
    """A number's votes per service: one grouped query on the votes' unique index."""
    rows = db.session.execute(
        select(Vote.service, _WORKED, func.count())
        .where(Vote.number_id == number_id)
        .group_by(Vote.service)
    ).all()
    return {service: Tally(int(worked or 0), count - int(worked or 0))
            for service, worked, count in rows}


def service_numbers(slug: str, since: datetime) -> list[ServiceNumber]:
    """Active numbers with messages from a service since `since`, latest first, with votes."""
    recent = (
        select(Message.number_id, func.count().label("messages"),
               func.max(Message.received_at).label("last_at"))
        .where(Message.service == slug, Message.received_at >= since,
               Message.number_id.is_not(None))
        .group_by(Message.number_id)
        .subquery()
    )
    votes = (
        select(Vote.number_id, _WORKED.label("worked"), func.count().label("total"))
        .where(Vote.service == slug)
        .group_by(Vote.number_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Number.id, Number.e164, Number.country, Number.last_message_at,
               recent.c.last_at, recent.c.messages,
               func.coalesce(votes.c.worked, 0), func.coalesce(votes.c.total, 0))
        .join(recent, recent.c.number_id == Number.id)
        .outerjoin(votes, votes.c.number_id == Number.id)
        .where(Number.status == ACTIVE)
        .order_by(recent.c.last_at.desc(), Number.id.desc())
    ).all()
    return [
        ServiceNumber(*row[:6], Tally(int(row[6]), int(row[7]) - int(row[6]))) for row in rows
    ]


def active_services(since: datetime) -> list[ServiceActivity]:
    """Services with messages to active numbers since `since`, busiest first."""
    count = func.count()
    rows = db.session.execute(
        select(Message.service, func.count(Message.number_id.distinct()), count,
               func.max(Message.received_at))
        .join(Number, Number.id == Message.number_id)
        .where(Message.service.is_not(None), Message.received_at >= since,
               Number.status == ACTIVE)
        .group_by(Message.service)
        .order_by(count.desc(), Message.service)
    ).all()
    return [ServiceActivity(*row) for row in rows]


def latest_service_message(slug: str) -> datetime | None:
    """When a service's newest message arrived (an index lookup, for ETags)."""
    return db.session.scalar(select(func.max(Message.received_at)).where(Message.service == slug))


def latest_vote(slug: str) -> datetime | None:
    """When a vote for a service was last cast or changed (an index lookup, for ETags)."""
    return db.session.scalar(select(func.max(Vote.updated_at)).where(Vote.service == slug))


def service_seen(number_id: int, slug: str) -> bool:
    """Whether a number has a stored message from a service."""
    stmt = select(literal(1)).where(Message.service == slug, Message.number_id == number_id)
    return db.session.scalar(stmt.limit(1)) is not None


def _dialect_insert():
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(Vote)


def record_vote(number_id: int, slug: str, voter_hash: str, worked: bool) -> None:
    """Cast or change a visitor's vote (one row per visitor, number and service) and commit."""
    now = utcnow()
    stmt = _dialect_insert().values(
        number_id=number_id, service=slug, voter_hash=voter_hash, worked=worked,
        created_at=now, updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Vote.number_id, Vote.service, Vote.voter_hash],
        set_={"worked": stmt.excluded.worked, "updated_at": stmt.excluded.updated_at},
    )
    db.session.execute(stmt)
    db.session.commit()
