"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

#: Environment variables holding provider secrets, copied into the config as they are.
PROVIDER_SECRETS = (
    "TWILIO_AUTH_TOKEN",
    "SIGNALWIRE_SIGNING_KEY",
    "VONAGE_SIGNATURE_SECRET",
    "VONAGE_SIGNATURE_METHOD",
    "PLIVO_AUTH_TOKEN",
    "TELNYX_PUBLIC_KEY",
    "SINCH_WEBHOOK_SECRET",
    "BANDWIDTH_USERNAME",
    "BANDWIDTH_PASSWORD",
    "MESSAGEBIRD_SIGNING_KEY",
    "BIRD_SIGNING_KEY",
    "INFOBIP_USERNAME",
    "INFOBIP_PASSWORD",
    "KANNEL_TOKEN",
    "JASMIN_TOKEN",
    "ANDROID_SMS_GATEWAY_SIGNING_KEY",
    "HTTPSMS_SIGNING_KEY",
    "GENERIC_WEBHOOK_SECRET",
)

_INT_SETTINGS = {
    "AD_EVERY": 5,
    "MESSAGE_RETENTION_DAYS": 30,
    "TRUSTED_PROXIES": 0,
    "MAX_CONTENT_LENGTH": 65536,
    "WEBHOOK_TOLERANCE_SECONDS": 300,
    # A number with no message for this many days is marked "Silent" and listed last.
    "NUMBER_SILENT_DAYS": 7,
    # A service page lists the numbers that received a message from it in this many days.
    "SERVICE_RECENT_DAYS": 7,
}

_STR_SETTINGS = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "FEED_RATE_LIMIT": "60/minute",
    "FEED_RATE_LIMIT_KEYED": "600/minute",
    # "Worked"/"didn't work" votes, per client address (Flask-Limiter, `;` between limits).
    "VOTE_RATE_LIMIT": "10/minute;50/day",
    "RATELIMIT_KEY_PREFIX": "",
    "SITE_NAME": "Receive SMS Online",
    "SITE_URL": "http://localhost:5000",
    "AD_CLIENT": "",
    "AD_SLOT_HTML": "",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    "METRICS_ALLOW_FROM": "127.0.0.1/8,::1",
    "PROMETHEUS_MULTIPROC_DIR": "",
}


#: Seconds; a Redis that does not connect or answer within it counts as down (see the README).
_FLOAT_SETTINGS = {
    "RATELIMIT_REDIS_TIMEOUT": 0.25,
}

#: Storage schemes of the `limits` library served by redis-py (or its fork valkey):
#: redis, rediss, redis+unix, redis+sentinel, redis+cluster and their valkey twins.
_REDIS_SCHEMES = ("redis", "valkey")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def database_url(raw: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL for DATABASE_URL, defaulting to a SQLite file in the instance folder."""
    if not raw:
        return "sqlite:///" + os.path.join(instance_path, "sms.sqlite3")
    # psycopg 3 is the driver; operators write the plain libpq form.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def load(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the app config from an environment mapping, with the SPEC's defaults."""
    cfg: dict[str, Any] = {}
    for name, default in _INT_SETTINGS.items():
        raw = environ.get(name, "").strip()
        cfg[name] = int(raw) if raw else default
    for name, default in _STR_SETTINGS.items():
        cfg[name] = environ.get(name) or default
    for name, default in _FLOAT_SETTINGS.items():
        raw = environ.get(name, "").strip()
        cfg[name] = float(raw) if raw else default
    cfg["SITE_URL"] = cfg["SITE_URL"].rstrip("/")
    cfg["WEBHOOK_ALLOW_UNSIGNED"] = _flag(environ.get("WEBHOOK_ALLOW_UNSIGNED"))
    cfg["PROVIDER_SECRETS"] = {k: environ[k] for k in PROVIDER_SECRETS if environ.get(k)}
    production = environ.get("FLASK_ENV") == "production" or _flag(environ.get("PRODUCTION"))
    secret = environ.get("SECRET_KEY")
    if not secret and production:
        raise RuntimeError("SECRET_KEY is required in production")
    cfg["SECRET_KEY"] = secret or secrets.token_hex(32)
    cfg["SQLALCHEMY_DATABASE_URI"] = database_url(environ.get("DATABASE_URL"), instance_path)
    return cfg


def finish(cfg: dict[str, Any]) -> None:
    """Derive settings that depend on others (after test overrides were applied)."""
    secrets_ = dict(cfg.get("PROVIDER_SECRETS", {}))
    for name in PROVIDER_SECRETS:
        if cfg.get(name):  # a test override given by its environment name
            secrets_[name] = cfg[name]
    cfg["PROVIDER_SECRETS"] = secrets_
    cfg["SITE_URL"] = str(cfg["SITE_URL"]).rstrip("/")
    if cfg.get("DATABASE_URL"):  # a test override given by its environment name
        cfg["SQLALCHEMY_DATABASE_URI"] = database_url(cfg["DATABASE_URL"], "")
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(cfg["SQLALCHEMY_DATABASE_URI"]))
    cfg.setdefault("RATELIMIT_STORAGE_OPTIONS", limit_storage_options(
        cfg["RATELIMIT_STORAGE_URI"], cfg["RATELIMIT_REDIS_TIMEOUT"]))
    # Redis down: each worker limits on its own in memory until Redis answers again.
    cfg.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)


def engine_options(url: str) -> dict[str, Any]:
    """Connection pool settings for the database in use."""
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        return {"connect_args": {"timeout": 30}}
    # A bounded connect so that /healthz and requests fail fast when the server is unreachable.
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_recycle": 1800,
            "connect_args": {"connect_timeout": 5}}


def limit_storage_options(uri: str, timeout: float) -> dict[str, Any]:
    """Options for the rate-limit storage: short socket timeouts for redis-py, else none."""
    if not uri.partition("://")[0].startswith(_REDIS_SCHEMES):
        return {}
    if not timeout > 0:
        raise RuntimeError("RATELIMIT_REDIS_TIMEOUT must be a positive number of seconds")
    # They reach redis-py's connection pool through limits' RedisStorage(**options).
    return {"socket_connect_timeout": timeout, "socket_timeout": timeout}
