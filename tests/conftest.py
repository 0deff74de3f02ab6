"""Shared fixtures. Tests use SQLite files by default; set VERIFIER_TEST_DATABASE_URL to run them on PostgreSQL.

On PostgreSQL a test that wants tables gets the process's schema, emptied (or, when it cannot be emptied, a schema of
its own); any other test gets a schema of its own, dropped afterwards. Tests never see each other's rows.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from verifier.settings import Settings, normalise_database_url
from verifier.store.base import Base
from verifier.store.db import Database
from engine_sharing import share_compiled_statements
import copykit
import kept_rows
from users_kit import Users

PG_URL = os.environ.get("VERIFIER_TEST_DATABASE_URL")

# The suite gates every landing: property tests draw the same examples on every run, so a result never depends on
# luck. Set HYPOTHESIS_PROFILE=explore to search with fresh random examples instead. No example has a time limit,
# and no health check fails a run for slowness: a loaded machine (other jobs on its cores) must not fail a correct test.
_unhurried = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", derandomize=True, database=None, **_unhurried)
settings.register_profile("explore", derandomize=False, **_unhurried)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Passwords: the tests hash and check thousands, so they hash them cheaply. A hash names its own cost, so servers
# started by tests (at the full cost) still check these; tests/accounts/test_passwords.py checks the full cost.
from verifier.accounts import passwords as _passwords  # noqa: E402

_passwords.N = 2**8


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (files under tmp)'}"


_NAMES_THE_DATABASE = ("database_url", "VERIFIER_TEST_DATABASE_URL", "PG_URL", "module_kit")

SPLIT = os.environ.get("VERIFIER_TEST_SPLIT") == "1"
"""Set by `.ci/run` for both of its passes: the tests of the rules and pages that reach the database (`_SHARED`)
are shared between the two passes, each run on one of the databases (`_pass_of`); a run without it (the README's
`scripts/test`, on either database) runs every one."""
_ON_BOTH = ("tests/store/", "tests/audit/", "tests/e2e/", "tests/payments/", "tests/sampling/", "tests/browser/")
"""Run whole on both databases even when SPLIT: the storage, the log, the money, the sampling, the end-to-end walks
(and the browser tests, which run on their own SQLite servers: the SQLite pass only), and the tests at the top of
tests/ (the command line, the faults, several processes on one database)."""
_AT_ONCE = ("race_kit", "threading", "Barrier", "concurrent.futures", "asyncio.gather", "multiprocessing")
"""A module sending work at the same time (its statements' locks and isolation are the database's own): on both."""
_ONE_DATABASE = ("is_sqlite", ".dialect", "PG_URL", "postgresql", "pytest.skip", "skipif")
"""A module with a test about one of the databases (asking which it runs on, or skipping on the other): on both, so
that such a test is never sent to the pass where it skips."""


def _source(sources: dict[str, str], path: str) -> str:
    if path not in sources:
        try:
            sources[path] = Path(path).read_text(encoding="utf-8")
        except OSError:
            sources[path] = "database_url"  # unreadable: kept
    return sources[path]


def _reaches(item, sources: dict[str, str]) -> bool:  # type: ignore[no-untyped-def]
    """Whether the test reaches the database under test (see `pytest_collection_modifyitems`)."""
    if item.get_closest_marker("same_on_either") is not None:
        return False
    source = _source(sources, str(item.fspath))
    return "database_url" in getattr(item, "fixturenames", ()) or any(name in source for name in _NAMES_THE_DATABASE)


def _shared(item, sources: dict[str, str]) -> bool:  # type: ignore[no-untyped-def]
    """Whether SPLIT shares the test between the passes: a test of the rules and pages (not under `_ON_BOTH`, not at
    the top of tests/, its module sending nothing at the same time and asking nothing of one database), not marked
    `both_databases`."""
    path = str(item.fspath).replace("\\", "/")
    if "/tests/" not in path:
        return False
    where = path[path.rindex("/tests/") + 1:]
    return (where.count("/") >= 2 and not where.startswith(_ON_BOTH)
            and item.get_closest_marker("both_databases") is None
            and not any(word in _source(sources, str(item.fspath)) for word in (*_AT_ONCE, *_ONE_DATABASE)))


def _pass_of(position: int, path: str) -> int:
    """0 (SQLite) or 1 (PostgreSQL): a shared module's tests alternate between the passes in the order collected
    (both passes collect the same), from a start its path picks, so each module's subject is run on both databases
    and each of its tests on one; a module of one test goes to either."""
    return (position + zlib.crc32(path.replace("\\", "/").rsplit("tests/", 1)[-1].encode())) % 2


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """On PostgreSQL, only the tests that reach the database under test: a test that asks for no database (no
    `database_url` among its fixtures, none named in its module, no module_kit context of its module) runs the same on
    either, and ran in the SQLite pass (the rules, the contract file, the Merkle vectors, the templates' guards).
    So does a test marked `same_on_either`: it reaches the database only to have something to look at, and what it
    asserts is decided above it (the pages' and the command line's wording, masks, the role guards' declarations),
    while the statements it runs are run on PostgreSQL by other tests that assert on them. `.ci/run` runs both passes.

    With SPLIT (`.ci/run`), the tests of the rules and pages that reach the database are shared between the passes
    (`_shared`, `_pass_of`): the two passes side by side on this project's two cores took 20-21 minutes running each
    on both, and about half of that was those tests run twice."""
    if not PG_URL and not SPLIT:
        return
    this_pass = 1 if PG_URL else 0
    sources: dict[str, str] = {}
    positions: dict[str, int] = {}
    kept, left = [], []
    for item in items:
        reaches = _reaches(item, sources)
        keep = reaches or not PG_URL
        if keep and reaches and SPLIT and _shared(item, sources):
            path = str(item.fspath)
            position = positions.get(path, 0)
            positions[path] = position + 1
            keep = _pass_of(position, path) == this_pass
        (kept if keep else left).append(item)
    if left:
        items[:] = kept
        config.hook.pytest_deselected(items=left)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):  # type: ignore[no-untyped-def]
    """`--dist loadfile` (scripts/test), with the browser modules as two units of work, one a worker: xdist hands out
    files largest first, which scattered the 31 browser modules among the others, so a browser module often found its
    worker's server starter and Chromium closed (tests/browser/conftest.py closes them when the worker turns to other
    tests) and started them again: 20-40 s of imports and launches a time on a busy machine. As two runs of modules
    (every other module by name, so each holds about half) each worker starts the two once; one run alone would be a
    third of the suite on one worker. Each module still gets its own server, home and contexts."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserModulesInTwoRuns(LoadFileScheduling):
        runs: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            if not scope.replace("\\", "/").startswith("tests/browser/"):
                return scope
            if self.runs is None and self.collection is not None:
                modules = sorted({super(BrowserModulesInTwoRuns, self)._split_scope(n) for n in self.collection or ()
                                  if n.replace("\\", "/").startswith("tests/browser/")})
                self.runs = {m: f"tests/browser/ (run {i % 2 + 1})" for i, m in enumerate(modules)}
            return (self.runs or {}).get(scope, scope)

    return BrowserModulesInTwoRuns(config, log)


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    """The PostgreSQL databases cli_kit made (initialised homes' copies) go with the test process."""
    kit = sys.modules.get("cli_kit")
    if kit is not None:
        kit._drop_made()


def _import_all_models() -> None:
    # Every table must be registered on Base.metadata before create_all.
    from verifier.store import models  # noqa: F401


_READY: dict[str, Any] = {}
_PREPARED: set[str] = set()  # URLs whose database already holds every table (create_all would only look again)
"""Per test process: a SQLite file holding every table (copied for each test that wants tables), and a PostgreSQL
schema holding every table (emptied for each such test). Creating 45 tables costs more than most tests."""


def _sqlite_with_tables(path: Path, factory: pytest.TempPathFactory) -> None:
    template = _READY.get("sqlite")
    if template is None:
        _import_all_models()
        template = factory.mktemp("tables") / "tables.db"
        database = Database(f"sqlite:///{template}")
        Base.metadata.create_all(database.engine)
        database.dispose()
        _READY["sqlite"] = template
    copykit.sqlite_copy(template, path)


def _postgres_with_tables(base: str) -> str | None:
    """The process's schema with every table, emptied (None when it cannot be emptied now: a fresh one is used)."""
    ready = _READY.get("pg")
    if ready is None:
        _import_all_models()
        schema = f"w_{secrets.token_hex(6)}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        database = Database(copykit.schema_url(base, schema))
        Base.metadata.create_all(database.engine)
        database.dispose()
        ready = _READY["pg"] = (admin, schema, _emptying(admin, schema))
        atexit.register(_drop_schema, admin, schema)
        _PREPARED.add(copykit.schema_url(base, schema))
        return copykit.schema_url(base, schema)
    admin, schema, emptying = ready
    try:
        with admin.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.exec_driver_sql(emptying)
    except Exception:  # a connection some earlier test left behind still holds a lock: use a schema of its own
        return None
    return copykit.schema_url(base, schema)


def _emptying(admin: Any, schema: str) -> str:
    """One round trip that empties every table of the schema and restarts its sequences.

    TRUNCATE makes new files for each of the 45 tables and their indexes (about 120 ms a test); deleting the few rows
    a test wrote takes about a millisecond. The tables are locked first against writers (EXCLUSIVE: a transaction
    some earlier test left open must end, or the lock times out and the test gets a schema of its own, as TRUNCATE's
    lock did), so no late write survives into the next test. With foreign keys' triggers off for the transaction (a
    superuser's session_replication_role) the order of the tables does not matter. Other roles keep TRUNCATE."""
    tables = [f'"{schema}"."{t.name}"' for t in Base.metadata.sorted_tables]
    with admin.connect() as conn:
        superuser = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
        sequences = conn.execute(text("SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = :s"),
                                 {"s": schema}).all()
    if not superuser:
        return f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"
    statements = [f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE",
                  "SET LOCAL session_replication_role = replica"]
    statements += [f"DELETE FROM {t}" for t in reversed(tables)]
    statements += [f"SELECT setval('\"{schema}\".\"{name}\"', {int(start)}, false)" for name, start in sequences]
    return "; ".join(statements)


def _drop_schema(admin: Any, schema: str) -> None:
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    except Exception:
        pass


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL for a database of the kind under test: empty, or, for a test that asks for `db`, holding every table
    and no rows."""
    wants_tables = "db" in request.fixturenames
    if not PG_URL:
        path = tmp_path / "test.db"
        if wants_tables:
            _sqlite_with_tables(path, tmp_path_factory)
            _PREPARED.add(f"sqlite:///{path}")
        yield f"sqlite:///{path}"
        return
    base = normalise_database_url(PG_URL)
    if wants_tables:
        url = _postgres_with_tables(base)
        if url is not None:
            yield url
            return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield copykit.schema_url(base, schema)
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
    """A Database with every table (from the models; migrations are tested on their own) and no rows."""
    _import_all_models()
    database = Database(database_url)
    share_compiled_statements(database)
    if database_url not in _PREPARED:
        Base.metadata.create_all(database.engine)
    _EVERY_TABLE.add(id(database))
    yield database
    _EVERY_TABLE.discard(id(database))
    database.dispose()


# --- The application, on a fresh database, with the demo contract and a fixed clock ---------------------------

from datetime import datetime, timezone  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONTRACT = ROOT / "contracts" / "demo-2020.toml"


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    from verifier.clock import FixedClock

    return FixedClock(datetime(2020, 6, 1, 2, 0, tzinfo=timezone.utc))  # 10:00 in Asia/Shanghai


_EVERY_TABLE: set[int] = set()  # the Databases the `db` fixture above made (every table), by id, while in use


class _Start(NamedTuple):
    folder: Path  # home/ (the keys) and, on SQLite, test.db
    url: str  # the kept database: that file, or on PostgreSQL a schema of its own
    kept: copykit.KeptSchema | None  # PostgreSQL: that schema's rows and sequences, to copy (tests/copykit.py)


_STARTED: dict[datetime, _Start] = {}
"""Per test process: a home (keys) and a database as `ctx` leaves them at each fixed time, copied for the next test at
that time. Loading, checking, storing and accepting the demo contract (and signing the log's first checkpoint) cost
more than most tests; a copy of its result is the same rows, keys and log (tests/test_conftest_sharing.py)."""


EACH_COMMIT_SIGNED = "each_commit_signed"
_SIGNED_DIRECTORIES = ("tests/audit/", "tests/e2e/")


def _start(settings: Settings, db: Database, clock, each_commit: bool = True):  # type: ignore[no-untyped-def]
    """The context of a test: its keys and signer, the demo contract loaded and accepted, its first checkpoint signed;
    with `each_commit`, the checkpoint hook that signs after every commit (`each_commit_signed`)."""
    from verifier.audit import checkpoints
    from verifier.bootstrap import bootstrap
    from verifier.context import Context
    from verifier.contract import load_contract
    from verifier.store.vault import Vault
    from factories import accept_contract

    started = _STARTED.get(clock.now()) if _copies_a_start(db, clock) else None
    if started is not None:  # the same keys, rows and log as below, copied
        shutil.copytree(started.folder / "home", settings.home, dirs_exist_ok=True)
        if started.kept is None:
            copykit.sqlite_copy(started.folder / "test.db", Path(db.engine.url.database))
        else:
            copykit.pg_restore(db.engine, started.kept)
    signer = checkpoints.Signer.load(settings, create=True)
    context = Context(settings=settings, db=db, vault=Vault.from_dir(settings.keys_dir, create=True), clock=clock,
                      signer=signer)
    hook = checkpoints.install(db, signer)
    if started is None:
        bootstrap(context, [load_contract(DEMO_CONTRACT)])
        with db.begin() as session:  # loaded contracts are pending until the county accepts them
            accept_contract(session, "demo-2020", clock)
    if not each_commit:
        hook.close()
    return context


def signs_each_commit(request: pytest.FixtureRequest) -> bool:
    """Whether the test's commits are each followed by a signed checkpoint, as a server signs them (within a second):
    the tests of the log, its checkpoints and its proofs (tests/audit, tests/e2e) and those marked
    `each_commit_signed`. The others sign the log once, at their start: signing after each of their commits (a read of
    the head, a consistency proof against the last signed checkpoint, a signature, a file and a row, on PostgreSQL a
    commit waiting for the disk) was about a quarter of their time, and what they assert never looks at it; servers the
    tests start sign as in production."""
    path = str(request.node.fspath).replace("\\", "/")
    return request.node.get_closest_marker(EACH_COMMIT_SIGNED) is not None or any(
        f"/{d}" in path for d in _SIGNED_DIRECTORIES)


def _copies_a_start(db: Database, clock) -> bool:  # type: ignore[no-untyped-def]
    """For a database with every table and no rows (the `db` fixture's) and a fixed clock, whose time names the copy."""
    from verifier.clock import FixedClock

    return type(clock) is FixedClock and id(db) in _EVERY_TABLE


def _keep_the_start(clock, factory: pytest.TempPathFactory) -> None:  # type: ignore[no-untyped-def]
    """The first test at this fixed time: `ctx` is made once more in a folder (and, on PostgreSQL, a schema) of its
    own, kept for the next ones."""
    at = clock.now()
    folder = factory.mktemp("started")
    (folder / "home").mkdir()
    if PG_URL:
        base = normalise_database_url(PG_URL)
        schema = copykit.new_schema(base, "s")
        database = Database(copykit.schema_url(base, schema))
    else:
        _sqlite_with_tables(folder / "test.db", factory)
        database = Database(f"sqlite:///{folder / 'test.db'}")
    share_compiled_statements(database)
    try:
        if PG_URL:
            _import_all_models()
            Base.metadata.create_all(database.engine)
        context = _start(Settings(home=folder / "home", database_url=database.url), database, type(clock)(at))
        kept = copykit.pg_kept(base, schema) if PG_URL else None
        context.db.dispose()
    except BaseException:
        database.dispose()
        raise
    _STARTED[at] = _Start(folder, database.url, kept)


@pytest.fixture
def ctx(request: pytest.FixtureRequest, settings: Settings, db: Database, clock,  # type: ignore[no-untyped-def]
        tmp_path_factory: pytest.TempPathFactory):
    """The test's context; for a test that asks for a kept start (tests/kept_rows.py), with its rows: copied, or
    built now and kept for the next tests that ask for them."""
    kept = kept_rows.asked(request.fixturenames)
    at = clock.now()
    each_commit = signs_each_commit(request)
    restored = kept_rows.restore(kept, at, settings, db, clock, each_commit) if kept is not None else None
    if restored is not None:
        yield restored
        return
    if _copies_a_start(db, clock) and at not in _STARTED:
        _keep_the_start(clock, tmp_path_factory)
    context = _start(settings, db, clock, each_commit)
    if kept is not None:
        kept_rows.keep(kept, at, context, tmp_path_factory)
    yield context


@pytest.fixture
def client(ctx):  # type: ignore[no-untyped-def]
    """A test client of the application on this test's context: the one application a test process builds
    (app_kit.the_app), reading this test's context."""
    from litestar.testing import TestClient

    from app_kit import the_app

    with the_app(ctx) as app, TestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def users(ctx, client) -> Users:  # type: ignore[no-untyped-def]
    return Users(ctx, client)
