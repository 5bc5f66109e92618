"""The one writer of messages: exactly once by a unique constraint; long messages joined."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import Insert, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import Message, MessagePart, Number
from ..otp import extract_code, find_code_span
from ..phone import normalize_address
from ..providers.base import (
    InboundSms,
    NotConfigured,
    PayloadError,
    Provider,
    Reply,
    VerifyContext,
    WebhookRequest,
)
from ..sanitize import render_body
from ..services import detect_service
from ..timeutil import utcnow

_SURROGATE_OR_NUL = re.compile("[\ud800-\udfff\x00]")
_LIMITS = {"provider_id": 255, "sender": 64, "recipient": 64}


def accept_webhook(
    adapter: Provider, request: WebhookRequest, ctx: VerifyContext, allow_unsigned: bool
) -> tuple[Reply, int]:
    """Verify, parse and store a provider's request; the reply and how many messages were new."""
    if all(ctx.secrets.get(name) for name in adapter.secret_names):
        adapter.verify(request, ctx)
    elif not allow_unsigned:
        names = ", ".join(adapter.secret_names)
        raise NotConfigured(f"{adapter.name}: {names} not configured; unsigned requests refused")
    created = sum(record_inbound(adapter.name, sms) for sms in adapter.parse(request))
    db.session.commit()  # acknowledge only what is committed
    return adapter.reply(), created


def storable_text(text: str) -> str:
    """Text a database can hold: NUL and lone surrogates become U+FFFD (PostgreSQL refuses NUL)."""
    return _SURROGATE_OR_NUL.sub("\ufffd", text)


def _checked(sms: InboundSms) -> InboundSms:
    for field, limit in _LIMITS.items():
        value = getattr(sms, field)
        if len(value) > limit:
            raise PayloadError(f"{field} is longer than {limit} characters")
        if _SURROGATE_OR_NUL.search(value):
            raise PayloadError(f"{field} holds NUL or invalid characters")
    return sms


def record_inbound(provider: str, sms: InboundSms) -> bool:
    """Store one message or part; True when it is new (False for a retry already stored)."""
    sms = _checked(sms)
    if sms.part is not None:
        return _record_part(provider, sms)
    return _insert_message(
        provider, sms.provider_id, sms.sender, sms.recipient, sms.text, sms.segments, utcnow()
    )


def _dialect_insert(model: type):
    """INSERT … ON CONFLICT support for the database in use."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


@cache
def _message_insert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING (id, number_id), built once per dialect.

    The number's id and country come from subqueries on its unique E.164, so storing a
    message is one statement (and one round trip) whether or not the number is provisioned.
    """
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    numbers = Number.__table__
    recipient = numbers.c.e164 == bindparam("to_e164")
    table = Message.__table__
    return (
        insert(table)
        .values(
            number_id=select(numbers.c.id).where(recipient).scalar_subquery(),
            country=select(numbers.c.country).where(recipient).scalar_subquery(),
        )
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.number_id)
    )


_TOUCH_NUMBER = (
    update(Number.__table__)
    .where(Number.__table__.c.id == bindparam("number"))
    .where(
        Number.__table__.c.last_message_id.is_(None)
        | (Number.__table__.c.last_message_id < bindparam("newest_id"))
    )
    .values(last_message_id=bindparam("newest_id"), last_message_at=bindparam("newest_at"))
)

# Senders and recipients repeat (the provisioned numbers, the big brands' sender ids), and
# parsing a number with phonenumbers costs ~0.15 ms: a bounded memo of the pure function.
_normalized = lru_cache(maxsize=65536)(normalize_address)


def _insert_message(
    provider: str,
    provider_id: str,
    sender_raw: str,
    recipient_raw: str,
    text: str,
    segments: int | None,
    received_at: datetime,
) -> bool:
    text = storable_text(text)
    recipient = _normalized(recipient_raw)
    span = find_code_span(text)
    stmt = _message_insert(db.session.get_bind().dialect.name)
    row = db.session.execute(stmt, {
        "to_e164": recipient,
        "provider": provider,
        "provider_id": provider_id,
        "recipient": recipient,
        "sender": _normalized(sender_raw),
        "sender_raw": sender_raw,
        "body": text,
        "body_html": str(render_body(text, span)),
        "code": extract_code(text),
        "service": detect_service(sender_raw, text),
        "segments": segments,
        "received_at": received_at,
    }).first()
    if row is None:
        return False
    message_id, number_id = row
    if number_id is not None:
        _touch_number(number_id, message_id, received_at)
    return True


def _touch_number(number_id: int, message_id: int, received_at: datetime) -> None:
    """Keep the number's last-message columns current without scanning messages."""
    db.session.execute(
        _TOUCH_NUMBER, {"number": number_id, "newest_id": message_id, "newest_at": received_at}
    )


def _record_part(provider: str, sms: InboundSms) -> bool:
    part = sms.part
    assert part is not None
    if not (1 <= part.number <= part.total <= 255):
        raise PayloadError(f"part {part.number} of {part.total} is out of range")
    sender, recipient = _normalized(sms.sender), _normalized(sms.recipient)
    group_key = f"{sender}|{recipient}|{part.ref}|{part.total}"[:255]
    stmt = (
        _dialect_insert(MessagePart)
        .values(
            provider=provider,
            provider_id=sms.provider_id,
            group_key=group_key,
            part_no=part.number,
            part_total=part.total,
            recipient=recipient,
            sender=sender,
            sender_raw=sms.sender,
            text=storable_text(sms.text),
            received_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(MessagePart.id)
    )
    if db.session.scalar(stmt) is None:
        return False
    _join_parts_if_complete(provider, group_key, part.total, sms)
    return True


def _join_parts_if_complete(provider: str, group_key: str, total: int, sms: InboundSms) -> None:
    """Once every part is in, store the whole message once (the unique key settles races)."""
    where = (MessagePart.provider == provider, MessagePart.group_key == group_key)
    count = db.session.scalar(select(func.count()).select_from(MessagePart).where(*where))
    if count != total:
        return
    texts = db.session.scalars(
        select(MessagePart.text).where(*where).order_by(MessagePart.part_no)
    ).all()
    _insert_message(
        provider,
        f"concat:{group_key}",
        sms.sender,
        sms.recipient,
        "".join(texts),
        total,
        utcnow(),
    )
