"""API keys for feed clients: shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from .extensions import db
from .models import ApiKey
from .timeutil import utcnow

KEY_PREFIX = "sk_"


class ApiKeyError(ValueError):
    """A key operation that cannot be done, with the reason."""


def hash_key(plain: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(name: str) -> tuple[ApiKey, str]:
    """A new key for `name` and its plain text, which is never stored."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ApiKeyError("a key needs a name of 1 to 64 characters")
    if db.session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise ApiKeyError(f"a key named {name!r} already exists")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, key_hash=hash_key(plain))
    db.session.add(key)
    db.session.commit()
    return key, plain


def list_keys() -> list[ApiKey]:
    """Every key, newest first."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def revoke_key(name: str) -> ApiKey:
    """Revoke the key named `name`."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise ApiKeyError(f"no key named {name!r}")
    if key.revoked_at is not None:
        raise ApiKeyError(f"the key {name!r} is already revoked")
    key.revoked_at = utcnow()
    db.session.commit()
    return key


def find_active_key(plain: str) -> ApiKey | None:
    """The unrevoked key whose plain text is `plain`, or None."""
    if not plain.startswith(KEY_PREFIX) or len(plain) > 128:
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plain)))
    return key if key is not None and key.revoked_at is None else None
