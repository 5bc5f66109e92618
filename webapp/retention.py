"""Message retention: delete what is older than the retention, in short batches.

Numbers keep correct `last_message_*` columns: after deleting, every number whose
`last_message_id` no longer exists is recomputed from the messages it still has (NULL,
shown as "never", when none is left). So these columns always point at a message a
visitor can see. The repair looks for dangling ids rather than remembering which numbers
were touched, so a purge that was interrupted is repaired by the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update

from .extensions import db
from .models import Message, MessagePart, Number
from .timeutil import utcnow

BATCH_SIZE = 5000
_AGE = re.compile(r"^\s*(\d{1,9})\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class RetentionError(ValueError):
    """An age that cannot be used as a retention, with the reason."""


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted, and the instant before which it deleted."""

    cutoff: datetime
    messages: int
    parts: int
    numbers_repaired: int


def parse_age(text: str) -> timedelta:
    """A positive age written `90m`, `12h`, `30d` or `2w`; else RetentionError."""
    match = _AGE.match(text or "")
    if not match:
        raise RetentionError(f"{text!r} is not an age: write a number and m, h, d or w (e.g. 30d)")
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount == 0:
        raise RetentionError("the age must be more than zero")
    try:
        return timedelta(**{_UNITS[unit]: amount})
    except OverflowError:
        raise RetentionError(f"{text!r} is too long ago") from None


def cutoff_for(age: timedelta, now: datetime | None = None) -> datetime:
    """The instant `age` before now; RetentionError when that is before year 1."""
    try:
        return (now or utcnow()) - age
    except OverflowError:
        raise RetentionError("the age reaches back before year 1") from None


def _delete_batches(model: type[Message] | type[MessagePart], cutoff: datetime, batch: int) -> int:
    """Delete rows received before `cutoff`, `batch` ids per statement, committing each."""
    total = 0
    while True:
        ids = select(model.id).where(model.received_at < cutoff).limit(batch)
        deleted = db.session.execute(
            delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()  # short transactions: webhooks keep writing meanwhile
        total += deleted
        if deleted < batch:
            return total


def repair_last_message() -> int:
    """Point every number whose last message is gone at its newest remaining one (or NULL)."""
    newest = (
        select(Message.id, Message.received_at)
        .where(Message.number_id == Number.id)
        .order_by(Message.id.desc())
        .limit(1)
        .correlate(Number)
    )
    dangling = ~exists().where(Message.id == Number.last_message_id)
    result = db.session.execute(
        update(Number)
        .where(Number.last_message_id.is_not(None), dangling)
        .values(
            last_message_id=newest.with_only_columns(Message.id).scalar_subquery(),
            last_message_at=newest.with_only_columns(Message.received_at).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def purge_older_than(age: timedelta, batch: int = BATCH_SIZE) -> PurgeResult:
    """Delete messages and message parts received more than `age` ago."""
    cutoff = cutoff_for(age)
    messages = _delete_batches(Message, cutoff, batch)
    parts = _delete_batches(MessagePart, cutoff, batch)
    return PurgeResult(cutoff, messages, parts, repair_last_message())
