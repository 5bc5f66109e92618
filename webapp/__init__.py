"""Application factory: a list of small named steps."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, i18n, logs, metrics
from .extensions import db, limiter, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with test overrides applied last."""
    app = i18n.LanguageFlask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config.load(os.environ, app.instance_path))
    app.config["CLOCK"] = time.time
    app.config.update(overrides or {})
    config.finish(app.config)
    register_proxy_fix(app)
    register_logging(app)
    register_metrics(app)
    register_extensions(app)
    register_i18n(app)
    register_blueprints(app)
    register_errors(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from exactly TRUSTED_PROXIES proxies, and no one else."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_prefix=0)


def register_logging(app: Flask) -> None:
    """JSON lines on stdout and one line per request (before the others' hooks, to time them)."""
    logs.register(app)


def register_metrics(app: Flask) -> None:
    """Prometheus counters and timings of every response."""
    metrics.register(app)


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations and the rate limiter."""
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    limiter.init_app(app)


def register_i18n(app: Flask) -> None:
    """Flask-Babel, and the language of each page from its URL (`/es/…`; English at `/`)."""
    i18n.register(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per audience: carriers, people, API clients, machines (health, metrics)."""
    from .feed.views import bp as feed_bp
    from .health import bp as health_bp
    from .ingest.views import bp as ingest_bp
    from .numbers.views import bp as numbers_bp
    from .service_pages.views import bp as services_bp

    app.register_blueprint(ingest_bp)
    app.register_blueprint(numbers_bp)
    app.register_blueprint(services_bp)
    app.register_blueprint(feed_bp)
    app.register_blueprint(health_bp)


def register_errors(app: Flask) -> None:
    """Errors answered as JSON or HTML by audience."""
    from .errors import register_errors as install

    install(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals for templates."""
    from .numbers.helpers import install

    install(app)


def register_commands(app: Flask) -> None:
    """The operators' CLI."""
    from .cli import register

    register(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once; foreign keys on for SQLite."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
