"""A context of a test module's own, for tests that only read what the module builds once (instead of building it
again for each test on the `ctx` fixture's fresh database): a database of its own (SQLite: a file; PostgreSQL: a
schema of its own, dropped afterwards) with every table, keys, the checkpoint hook, and the demo contract loaded and
accepted at a fixed time, as `ctx` starts."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import copykit
from verifier.settings import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2020, 6, 1, 2, 0, tzinfo=timezone.utc)  # the `clock` fixture's time: 10:00 in Asia/Shanghai


@contextmanager
def own_database_url(factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of the kind under test (VERIFIER_TEST_DATABASE_URL, else SQLite), for the block."""
    pg_url = os.environ.get("VERIFIER_TEST_DATABASE_URL")
    if not pg_url:
        yield f"sqlite:///{factory.mktemp('module-db') / 'test.db'}"
        return
    with copykit.own_schema(normalise_database_url(pg_url), "m") as url:
        yield url


@contextmanager
def module_context(factory: pytest.TempPathFactory, at: datetime = AT) -> Iterator[Any]:
    """A started Context on a database of its own, its clock fixed at `at`, for the block."""
    from engine_sharing import share_compiled_statements
    from factories import accept_contract

    from verifier.audit import checkpoints
    from verifier.bootstrap import bootstrap
    from verifier.clock import FixedClock
    from verifier.context import Context
    from verifier.contract import load_contract
    from verifier.settings import Settings
    from verifier.store.base import Base
    from verifier.store.db import Database
    from verifier.store.vault import Vault

    with own_database_url(factory) as url:
        home = factory.mktemp("module-home")
        settings = Settings(home=home, database_url=url)
        db = Database(url)
        share_compiled_statements(db)
        try:
            importlib.import_module("verifier.store.models")  # every table registered on Base.metadata
            Base.metadata.create_all(db.engine)
            signer = checkpoints.Signer.load(settings, create=True)
            context = Context(settings=settings, db=db, vault=Vault.from_dir(settings.keys_dir, create=True),
                              clock=FixedClock(at), signer=signer)
            checkpoints.install(db, signer)
            bootstrap(context, [load_contract(ROOT / "contracts" / "demo-2020.toml")])
            with db.begin() as session:  # loaded contracts are pending until the county accepts them
                accept_contract(session, "demo-2020", context.clock)
            yield context
        finally:
            db.dispose()
