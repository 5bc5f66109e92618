"""Migrations are code: an empty database upgraded to head matches the models exactly."""

from __future__ import annotations

import uuid

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import TEST_DATABASE_URL, _with_search_path
from webapp import create_app
from webapp.config import database_url
from webapp.extensions import db


def _fresh_database(tmp_path) -> tuple[str, str | None]:
    """An empty database URL: a new SQLite file, or a new PostgreSQL schema."""
    if not TEST_DATABASE_URL:
        return "sqlite:///" + str(tmp_path / "migrated.sqlite3"), None
    schema = "mig_" + uuid.uuid4().hex[:12]
    engine = sqlalchemy.create_engine(database_url(TEST_DATABASE_URL, ""))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return _with_search_path(TEST_DATABASE_URL, schema), schema


def _drop_schema(schema: str | None) -> None:
    if schema:
        engine = sqlalchemy.create_engine(database_url(TEST_DATABASE_URL, ""))
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def test_upgrade_to_head_has_no_drift_from_the_models(tmp_path) -> None:
    url, schema = _fresh_database(tmp_path)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    try:
        with app.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"numbers", "messages", "message_parts", "api_keys"} <= tables
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == []
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        _drop_schema(schema)
