"""The command line on a home and database `verifier init --contracts contracts/` has made ready.

Each test process runs that init (with the same options, e.g. `--demo`) once and copies its result for the next test:
the same keys, rows and log (migrating an empty database costs more than most command line tests). On SQLite the home
(keys) and the database file are copied; on PostgreSQL the home, and a new database made from the first one as its
template (`CREATE DATABASE … TEMPLATE …`), which the test's environment then names."""

from __future__ import annotations

import atexit
import secrets
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from verifier.cli import main
from verifier.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
_READY: dict[tuple[object, ...], tuple[Path, str, str]] = {}
"""Per test process: (folder with the home, the database's URL, what init printed), by init's options and the
environment's other VERIFIER_ settings."""
_ADMIN: list[Engine] = []
_MADE: list[str] = []  # the PostgreSQL databases made here, dropped when the process ends


def _init(env: dict[str, str], options: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, ["init", *options, "--contracts", str(ROOT / "contracts")], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _admin(url: str) -> Engine:
    if not _ADMIN:
        _ADMIN.append(create_engine(_plain(url), isolation_level="AUTOCOMMIT"))
        atexit.register(_drop_made)
    return _ADMIN[0]


def _plain(url: str, database: str | None = None) -> str:
    """`url` without a schema of its own (`options=-csearch_path=…`), naming `database` if given."""
    plain = make_url(url).difference_update_query(["options"])
    return (plain.set(database=database) if database else plain).render_as_string(hide_password=False)


def _new_database(url: str, template: str | None = None) -> str:
    """A new PostgreSQL database beside the one `url` names (copied from `template`, else empty): its URL."""
    name = f"{make_url(url).database}_{secrets.token_hex(5)}"
    with _admin(url).connect() as conn:
        # an empty one from template0: template1 may have someone connected, and then CREATE DATABASE fails
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template or "template0"}"'))
    _MADE.append(name)
    return _plain(url, database=name)


def _drop_made() -> None:
    """Drops the databases made here (conftest's pytest_sessionfinish: an xdist worker ends without atexit)."""
    while _MADE:  # each drop on its own: one that fails leaves the others to be dropped (.ci/run drops what is left)
        name = _MADE.pop()
        try:
            with _ADMIN[0].connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception:
            pass


def init_home(env: dict[str, str], factory: pytest.TempPathFactory, *options: str) -> str:
    """`verifier init [options] --contracts contracts/` for `env`'s home and database: what it printed (a copy of an
    earlier one). On PostgreSQL `env`'s VERIFIER_DATABASE_URL is changed to name the test's copy."""
    settings = Settings.from_env(env)
    url = settings.database_url
    sqlite = url.startswith("sqlite:///")
    # the deployment's own settings name the init (not the rest of the process's environment, which differs per test)
    key = (options, sqlite, *sorted((k, v) for k, v in env.items()
                                    if k.startswith("VERIFIER_") and k not in ("VERIFIER_HOME", "VERIFIER_DATABASE_URL")))
    ready = _READY.get(key)
    if ready is None:
        folder = factory.mktemp("initialised")
        made = f"sqlite:///{folder / 'test.db'}" if sqlite else _new_database(url)
        said = _init({**env, "VERIFIER_HOME": str(folder / "home"), "VERIFIER_DATABASE_URL": made}, options)
        ready = _READY[key] = (folder, made, said)
    folder, made, said = ready
    shutil.copytree(folder / "home", settings.home, dirs_exist_ok=True)
    if not sqlite:
        env["VERIFIER_DATABASE_URL"] = _new_database(url, template=make_url(made).database)
        return said
    target = Path(url.removeprefix("sqlite:///"))
    source, copy = sqlite3.connect(folder / "test.db"), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    shutil.copymode(folder / "test.db", target)  # private, as init leaves it
    return said
