"""`verifier backup DEST`: a consistent copy of one deployment (see the package's docstring)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from ..audit.lastsigned import LOCK_FILE, SAVED_FILE, LastSigned, save
from ..settings import Settings
from ..store.db import Database
from ..store.home import DIR_MODE, FILE_MODE, sqlite_files
from .files import (
    audit_state,
    copy_private,
    empty_or_absent,
    file_entry,
    files_under,
    libpq_url,
    made,
    pg_tool,
    run_tool,
    schema_revision_of,
)
from .manifest import FORMAT, MANIFEST, PG_FILE, SQLITE_FILE, AuditState, BackupError, Manifest


def backup(settings: Settings, dest: Path, *, keys_to: Path | None = None, now: datetime | None = None) -> Manifest:
    """Write a backup of the deployment `settings` names into `dest` (absent or empty). All or nothing: the files
    are written into a temporary directory beside `dest` and moved into place at the end."""
    dest = dest.resolve()
    if not empty_or_absent(dest):
        raise BackupError(f"{dest} is not empty: a backup goes into a new or empty directory")
    if keys_to is not None:
        keys_to = keys_to.resolve()
        if not empty_or_absent(keys_to):
            raise BackupError(f"{keys_to} is not empty: the keys go into a new or empty directory")
        if keys_to == dest or dest in keys_to.parents:
            raise BackupError("--keys-to must be outside the backup: the point is to keep keys and data apart")
    if not (settings.keys_dir / "data.key").exists():
        raise BackupError(f"{settings.keys_dir} holds no keys: is VERIFIER_HOME the deployment's home?")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    keys_work = None if keys_to is None else Path(tempfile.mkdtemp(prefix=f".{keys_to.name}-",
                                                                    dir=made(keys_to.parent)))
    try:
        os.chmod(work, DIR_MODE)
        db = Database(settings.database_url)
        try:
            if db.is_sqlite:
                kind, revision, state = "sqlite", *_sqlite_snapshot(db, work / SQLITE_FILE)
            else:
                kind, revision, state = "postgresql", *_pg_snapshot(db, settings.database_url, work / PG_FILE)
        finally:
            db.dispose()
        # Evidence after the database: a file is written before its row, so every row in the snapshot has its file.
        for path in files_under(settings.evidence_dir):
            copy_private(path, work / "evidence" / path.relative_to(settings.evidence_dir))
        keys_root = keys_work if keys_work is not None else work / "keys"
        for path in files_under(settings.keys_dir):
            if path.name != LOCK_FILE and not path.name.startswith(f".{SAVED_FILE}."):
                copy_private(path, keys_root / path.relative_to(settings.keys_dir))
        _last_signed_of_snapshot(keys_root, state)
        manifest = Manifest(format=FORMAT, created=(now or datetime.now(timezone.utc)).isoformat(), database=kind,
                            schema_revision=revision, audit=state, keys_elsewhere=keys_to is not None)
        for path in files_under(work):
            manifest.files[path.relative_to(work).as_posix()] = file_entry(path)
        if keys_work is not None:
            for path in files_under(keys_work):
                manifest.files["keys/" + path.relative_to(keys_work).as_posix()] = file_entry(path)
        with open(os.open(work / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "w",
                  encoding="utf-8") as f:
            f.write(manifest.to_json())
        _move_into_place(work, dest)
        if keys_work is not None and keys_to is not None:
            _move_into_place(keys_work, keys_to)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if keys_work is not None:
            shutil.rmtree(keys_work, ignore_errors=True)




def _last_signed_of_snapshot(keys_root: Path, state: AuditState) -> None:
    """The backup's last signed checkpoint is the snapshot's latest one, not the live file: that may have been signed
    after the snapshot, and a home restored from this backup must sign on from its own database."""
    (keys_root / SAVED_FILE).unlink(missing_ok=True)
    if state.checkpoint is not None:
        save(keys_root, LastSigned.from_note(state.checkpoint))


def _move_into_place(work: Path, dest: Path) -> None:
    if dest.exists():
        dest.rmdir()  # empty, checked before
    os.replace(work, dest)


def _sqlite_snapshot(db: Database, target: Path) -> tuple[str | None, AuditState]:
    source_path = sqlite_files(db.url)[0]
    if not source_path.exists():
        raise BackupError(f"the database {source_path} does not exist: was `verifier init` run?")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    os.chmod(target, FILE_MODE)
    snapshot = Database(f"sqlite:///{target}")
    try:
        with snapshot.engine.connect() as conn:
            revision = schema_revision_of(conn)
        with snapshot.read() as session:
            state = audit_state(session)
    finally:
        snapshot.dispose()
    return revision, state


def _pg_snapshot(db: Database, database_url: str, target: Path) -> tuple[str | None, AuditState]:
    """Read the manifest's figures in a repeatable-read transaction and have pg_dump copy that same snapshot."""
    from sqlalchemy.orm import Session

    pg_dump = pg_tool("pg_dump")
    url, schema = libpq_url(database_url)
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            revision = schema_revision_of(conn)
            with Session(bind=conn) as session:
                state = audit_state(session)
            args = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
                    f"--file={target}", f"--dbname={url}"]
            if schema:
                args.append(f"--schema={schema}")
            run_tool(args, "pg_dump")
    os.chmod(target, FILE_MODE)
    return revision, state


