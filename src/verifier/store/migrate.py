"""Create or migrate a database to the newest schema with Alembic; safe to run again and again."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from .db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(db: Database, revision: str = "head", *, vault: Any = None) -> None:
    """Migrate `db` to `revision` (tests stop at an older one to put data in first). `vault`: the deployment's Vault,
    for a migration that fills a column from sealed values (0043's blind indexes of payee accounts); without it
    such a column is left empty on the rows already there."""
    cfg = alembic_config()
    cfg.attributes["vault"] = vault
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        # SQLite alters a table by copying it and dropping the old one, which foreign keys from other tables' rows
        # refuse: they are switched off for the migration (outside any transaction, as SQLite requires) and every
        # reference is checked before the migration commits (SQLite's own procedure for altering a table).
        raw = conn.connection.driver_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                before = _broken_references(conn) if sqlite else Counter()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    added = _broken_references(conn) - before  # references already broken are not the migration's
                    if added:
                        raise RuntimeError(f"the migration would break {sum(added.values())} references "
                                           f"({', '.join(f'{t} → {p}' for t, p in sorted(added))}); nothing was changed")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def _broken_references(conn: Connection) -> Counter[tuple[str, str]]:
    """SQLite's foreign_key_check as (table, parent table) counts (rowids change when a table is copied)."""
    return Counter((row[0], row[2]) for row in conn.exec_driver_sql("PRAGMA foreign_key_check"))


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def autogenerate(db: Database, message: str) -> None:
    """Developers' tool: write a new revision from the difference between the models and `db`."""
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
