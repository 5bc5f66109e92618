"""Fixtures: one schema per test session, emptied after each test.

The suite runs on SQLite by default. With `TEST_DATABASE_URL` (PostgreSQL) and
`TEST_REDIS_URL` set it runs against those real servers instead.
"""

from __future__ import annotations

import json
import os
import pathlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy
from flask import Flask
from sqlalchemy import text

from webapp import create_app
from webapp.config import database_url as database_url_for
from webapp.extensions import db

ROOT = pathlib.Path(__file__).resolve().parent.parent
WEBHOOK_SAMPLES = (ROOT.parent / "shared" / "webhooks").resolve()
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

TABLES = ("messages", "message_parts", "numbers", "api_keys")


class FrozenClock:
    """An injectable clock for signature verifiers (unix seconds)."""

    def __init__(self) -> None:
        self.value: float | None = None

    def set(self, value: float) -> None:
        """Freeze the clock at `value`."""
        self.value = float(value)

    def __call__(self) -> float:
        import time

        return self.value if self.value is not None else time.time()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database of this test session, schema created from the models.

    On PostgreSQL each session gets a schema of its own (through `search_path`), so two
    test runs on one server do not empty each other's tables.
    """
    if not TEST_DATABASE_URL:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        _create_schema(url)
        yield url
        return
    schema = "test_" + uuid.uuid4().hex[:12]
    with sqlalchemy.create_engine(database_url_for(TEST_DATABASE_URL, "")).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = _with_search_path(TEST_DATABASE_URL, schema)
    _create_schema(url)
    yield url
    engine = sqlalchemy.create_engine(database_url_for(TEST_DATABASE_URL, ""))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _create_schema(url: str) -> None:
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        db.create_all()
        db.engine.dispose()


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """A clock the verifiers read; unset, it is the real time."""
    return FrozenClock()


@pytest.fixture
def base_config(database_url: str, frozen_clock: FrozenClock) -> dict[str, Any]:
    """Overrides every test app gets: its database, its own rate-limit key space, the clock."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
        "RATELIMIT_KEY_PREFIX": "test-" + uuid.uuid4().hex,
        "SITE_URL": "https://sms.example.com",
        "SECRET_KEY": "test",
        "CLOCK": frozen_clock,
    }


@pytest.fixture
def make_app(base_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Build apps with extra overrides; their tables are emptied afterwards."""
    apps: list[Flask] = []

    def build(overrides: dict[str, Any] | None = None) -> Flask:
        app = create_app({**base_config, **(overrides or {})})
        apps.append(app)
        return app

    yield build
    for app in apps[:1]:
        with app.app_context():
            empty_tables()
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def empty_tables() -> None:
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    else:
        for table in TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app with default test configuration."""
    return make_app()


@pytest.fixture
def client(app: Flask):
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner of `app`."""
    return app.test_cli_runner()


def load_sample(provider: str, name: str) -> dict[str, Any]:
    """One request sample of ../shared/webhooks."""
    return json.loads((WEBHOOK_SAMPLES / provider / f"{name}.json").read_text(encoding="utf-8"))


def all_samples() -> list[pathlib.Path]:
    """Every request sample of ../shared/webhooks."""
    return sorted(WEBHOOK_SAMPLES.glob("*/*.json"))
