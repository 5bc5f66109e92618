"""Database models: numbers, messages, parts of long messages, API keys, service votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import utcnow

# 64-bit ids on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ACTIVE = "active"
RETIRED = "retired"


class Number(db.Model):
    """A provisioned public number; `last_message_*` are kept up to date by the ingest service."""

    __tablename__ = "numbers"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'retired')", name="status"),
        Index("ix_numbers_status_country", "status", "country"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    provider: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(8), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_message_id: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def digits(self) -> str:
        """The number as it appears in URLs: E.164 without the plus."""
        return self.e164.lstrip("+")

    @property
    def active(self) -> bool:
        """Whether the number is listed and shows its messages."""
        return self.status == ACTIVE


class Message(db.Model):
    """One received SMS as a phone shows it; `number_id` is NULL for unprovisioned recipients."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id"),
        Index("ix_messages_number_id_id", "number_id", "id"),
        Index("ix_messages_number_id_received_at", "number_id", "received_at"),
        Index("ix_messages_received_at", "received_at"),
        # Service pages: a service's messages of the last days (number_id: index-only counts).
        Index("ix_messages_service_received_at", "service", "received_at", "number_id"),
        # The feed of one country, newest first, read from one index however few it has.
        Index("ix_messages_country_id", "country", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str] = mapped_column(String(255))
    number_id: Mapped[int | None] = mapped_column(ForeignKey("numbers.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64))
    sender_raw: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # Derived from body at ingest (sanitize.render_body), so pages never sanitize at render time.
    body_html: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(16))
    segments: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The sender's brand (a `services` slug) detected at ingest; NULL when unknown.
    service: Mapped[str | None] = mapped_column(String(32))
    # The number's country, copied at ingest (a number never changes country); NULL when
    # unprovisioned. Without it a sparse country's feed scanned every message (1.8 s at 1M).
    country: Mapped[str | None] = mapped_column(String(2))


class MessagePart(db.Model):
    """One part of a long SMS delivered part by part; joined into a Message once all arrived."""

    __tablename__ = "message_parts"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id"),
        UniqueConstraint("provider", "group_key", "part_no"),
        Index("ix_message_parts_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str] = mapped_column(String(255))
    # sender, recipient and the concatenation reference: what makes parts one message.
    group_key: Mapped[str] = mapped_column(String(255))
    part_no: Mapped[int] = mapped_column(Integer)
    part_total: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64))
    sender_raw: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(db.Model):
    """A feed client's key; only its SHA-256 is stored, the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Vote(db.Model):
    """A visitor's "worked" or "didn't work" for a service on a number: one per visitor.

    `voter_hash` is an HMAC (SECRET_KEY) of the visitor's address and cookie; neither is stored.
    """

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("number_id", "service", "voter_hash"),
        Index("ix_votes_service_updated_at", "service", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("numbers.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(32))
    voter_hash: Mapped[str] = mapped_column(String(64))
    worked: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
