"""Shared fixtures. Tests use SQLite files by default; set VERIFIER_TEST_DATABASE_URL to run them on PostgreSQL.

On PostgreSQL each test gets a schema of its own (dropped afterwards), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from verifier.settings import Settings, normalise_database_url
from verifier.store.base import Base
from verifier.store.db import Database

PG_URL = os.environ.get("VERIFIER_TEST_DATABASE_URL")


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (files under tmp)'}"


def _import_all_models() -> None:
    # Every table must be registered on Base.metadata before create_all.
    from verifier.store import models  # noqa: F401


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database of the kind under test."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = normalise_database_url(PG_URL)
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    home = tmp_path / "home"
    home.mkdir()
    return Settings(home=home, database_url=database_url)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A Database with every table created (from the models; migrations are tested on their own)."""
    _import_all_models()
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()
