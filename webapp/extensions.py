"""Flask extensions, created unbound and bound in the application factory."""

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic revisions name the same thing on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()


class AppLimiter(Limiter):
    """Flask-Limiter that takes each bound app's settings (the factory builds many in tests).

    Flask-Limiter keeps some settings of the first app it is bound to, and merges storage
    options across apps; each app gets its own key prefix, storage options (the Redis socket
    timeouts of `config.limit_storage_options`), in-memory fallback and storage health here.
    """

    def init_app(self, app: Flask) -> None:
        """Bind to `app` with its RATELIMIT_KEY_PREFIX, storage options and fallback."""
        self._key_prefix = app.config.get("RATELIMIT_KEY_PREFIX", "")
        self._storage_options = {}
        self._in_memory_fallback_enabled = None  # read again from RATELIMIT_IN_MEMORY_FALLBACK_*
        self._storage_dead = False
        super().init_app(app)


# Limits are declared on the feed only; pages and webhooks are not limited by default.
# Headers and error swallowing are set here, not from app config: Flask-Limiter reads those
# settings from the first app it is bound to only. When the storage fails (Redis down), the
# in-memory fallback (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED, on by default) limits each worker
# on its own; swallowing errors is the last resort, so a storage error never answers 500.
limiter = AppLimiter(
    key_func=get_remote_address, default_limits=[], headers_enabled=True, swallow_errors=True
)
