"""The command line on a home and database `verifier init --contracts contracts/` has made ready.

On SQLite, each test process runs that init once and copies its home (keys) and database file for the next test: the
same keys, rows and log (migrating an empty database costs more than most command line tests). On PostgreSQL the
init runs for each test, in the test's own schema."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from verifier.cli import main

ROOT = Path(__file__).resolve().parent.parent
_READY: dict[tuple[tuple[str, str], ...], Path] = {}


def _init(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["init", "--contracts", str(ROOT / "contracts")], env=env)
    assert result.exit_code == 0, result.output


def init_home(env: dict[str, str], factory: pytest.TempPathFactory) -> None:
    """`verifier init --contracts contracts/` for `env`'s home and database (SQLite: a copy of an earlier one)."""
    url = env["VERIFIER_DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        _init(env)
        return
    key = tuple(sorted((k, v) for k, v in env.items() if k not in ("VERIFIER_HOME", "VERIFIER_DATABASE_URL")))
    folder = _READY.get(key)
    if folder is None:
        folder = factory.mktemp("initialised")
        _init({**env, "VERIFIER_HOME": str(folder / "home"), "VERIFIER_DATABASE_URL": f"sqlite:///{folder / 'test.db'}"})
        _READY[key] = folder
    shutil.copytree(folder / "home", env["VERIFIER_HOME"], dirs_exist_ok=True)
    source, target = sqlite3.connect(folder / "test.db"), sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
