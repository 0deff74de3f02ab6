"""Shared fixtures. Tests use SQLite files by default; set VERIFIER_TEST_DATABASE_URL to run them on PostgreSQL.

On PostgreSQL each test gets a schema of its own (dropped afterwards), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from verifier.settings import Settings, normalise_database_url
from verifier.store.base import Base
from verifier.store.db import Database

PG_URL = os.environ.get("VERIFIER_TEST_DATABASE_URL")

# The suite gates every landing: property tests draw the same examples on every run, so a result never depends on
# luck. Set HYPOTHESIS_PROFILE=explore to search with fresh random examples instead.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Passwords: the tests hash and check thousands, so they hash them cheaply. A hash names its own cost, so servers
# started by tests (at the full cost) still check these; tests/accounts/test_passwords.py checks the full cost.
from verifier.accounts import passwords as _passwords  # noqa: E402

_passwords.N = 2**8


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


# --- The application, on a fresh database, with the demo contract and a fixed clock ---------------------------

from datetime import datetime, timezone  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONTRACT = ROOT / "contracts" / "demo-2020.toml"
PASSWORD = "correct horse battery"


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    from verifier.clock import FixedClock

    return FixedClock(datetime(2020, 6, 1, 2, 0, tzinfo=timezone.utc))  # 10:00 in Asia/Shanghai


@pytest.fixture
def ctx(settings: Settings, db: Database, clock):  # type: ignore[no-untyped-def]
    from verifier.audit import checkpoints
    from verifier.bootstrap import bootstrap
    from verifier.context import Context
    from verifier.contract import load_contract
    from verifier.store.vault import Vault

    signer = checkpoints.Signer.load(settings, create=True)
    context = Context(settings=settings, db=db, vault=Vault.from_dir(settings.keys_dir, create=True), clock=clock,
                      signer=signer)
    checkpoints.install(db, signer)
    bootstrap(context, [load_contract(DEMO_CONTRACT)])
    yield context


class Users:
    """Creates users on demand and logs them in; `headers(name)` gives the Authorization header."""

    def __init__(self, ctx, client) -> None:  # type: ignore[no-untyped-def]
        self.ctx, self.client = ctx, client
        self.ids: dict[str, str] = {}
        self._tokens: dict[str, str] = {}

    def add(self, username: str, *roles: str, counties: tuple[str, ...] = ()) -> str:
        """A user limited to `counties`; named without any, a user with no county limit, on purpose."""
        from verifier.accounts.service import add_user

        with self.ctx.db.begin() as session:
            user = add_user(session, username=username, password=PASSWORD, roles=list(roles), counties=list(counties),
                            all_counties=not counties, clock=self.ctx.clock)
        self.ids[username] = user.id
        return user.id

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}


def _current_context():  # type: ignore[no-untyped-def]
    from verifier.context import Context

    class CurrentContext(Context):
        """Stands for the running test's Context: the one application a test process builds (see `client`) reads its
        context through this, so each test's requests reach that test's database, keys, clock and settings. A
        Context itself, so the application's typed dependencies accept it."""

        target: Context | None = None

        def __init__(self) -> None:  # no fields of its own: every attribute is the target's
            pass

        def __getattribute__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(type(self).target, name)

        def __setattr__(self, name: str, value) -> None:  # type: ignore[no-untyped-def]
            setattr(type(self).target, name, value)

    return CurrentContext


_APP: list = []


@pytest.fixture
def client(ctx):  # type: ignore[no-untyped-def]
    """A test client of the application on this test's context.

    Building the application (its routes, signature models, templates) costs more than most tests, and nothing in it
    depends on the test: it is built once per test process and reads the context through a CurrentContext. A test that
    needs an application of its own (other settings at start-up) calls `create_app(ctx)` itself."""
    from litestar.testing import TestClient

    from verifier.app import create_app

    if not _APP:
        current = _current_context()
        current.target = ctx
        _APP.append((create_app(current()), current))
    app, current = _APP[0]
    current.target = ctx
    app.state.ctx = ctx
    try:
        with TestClient(app=app) as test_client:
            yield test_client
    finally:
        current.target = None


@pytest.fixture
def users(ctx, client) -> Users:  # type: ignore[no-untyped-def]
    return Users(ctx, client)
