"""The one writer of messages: exactly once by a unique constraint; long messages joined."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select, update

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
    recipient = normalize_address(recipient_raw)
    number_id = db.session.scalar(select(Number.id).where(Number.e164 == recipient))
    span = find_code_span(text)
    stmt = (
        _dialect_insert(Message)
        .values(
            provider=provider,
            provider_id=provider_id,
            number_id=number_id,
            recipient=recipient,
            sender=normalize_address(sender_raw),
            sender_raw=sender_raw,
            body=text,
            body_html=str(render_body(text, span)),
            code=extract_code(text),
            segments=segments,
            received_at=received_at,
        )
        .on_conflict_do_nothing()
        .returning(Message.id)
    )
    message_id = db.session.scalar(stmt)
    if message_id is None:
        return False
    if number_id is not None:
        _touch_number(number_id, message_id, received_at)
    return True


def _touch_number(number_id: int, message_id: int, received_at: datetime) -> None:
    """Keep the number's last-message columns current without scanning messages."""
    db.session.execute(
        update(Number)
        .where(Number.id == number_id)
        .where((Number.last_message_id.is_(None)) | (Number.last_message_id < message_id))
        .values(last_message_id=message_id, last_message_at=received_at)
    )


def _record_part(provider: str, sms: InboundSms) -> bool:
    part = sms.part
    assert part is not None
    if not (1 <= part.number <= part.total <= 255):
        raise PayloadError(f"part {part.number} of {part.total} is out of range")
    sender, recipient = normalize_address(sms.sender), normalize_address(sms.recipient)
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
