"""`verifier backup` / `verifier restore`: a restored copy holds every row and evidence file, passes the full audit
check, ends at the checkpoint the backup recorded and extends a checkpoint taken before the backup; a damaged backup,
a home that is not empty and a checkpoint from another log are refused with nothing written. Both databases."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from verifier.accounts.auth import principal_of
from verifier.audit.service import checkpoint_text
from verifier.backups.backup import backup
from verifier.backups.manifest import BackupError
from verifier.backups.restore import restore
from verifier.cases.service import active_visit
from verifier.checks import evidence_files
from verifier.checks.service import store_evidence
from verifier.settings import Settings, normalise_database_url
from verifier.store.base import Base
from verifier.store.db import Database
from verifier.store.tables import User
from verifier.store.vault import Vault

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _row_counts(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        with db.read() as session:
            return {name: session.scalar(select(func.count()).select_from(table)) or 0
                    for name, table in Base.metadata.tables.items()}
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def restore_database() -> Iterator[str | None]:
    """PostgreSQL: a database the module's restores go into, made once (each test's restore recreates its source's
    schema there, dropped after the test: `target`); None on SQLite."""
    pg_url = os.environ.get("VERIFIER_TEST_DATABASE_URL")
    if not pg_url:
        yield None
        return
    root = normalise_database_url(pg_url).split("?")[0]
    name = f"restore_{secrets.token_hex(5)}"
    admin = create_engine(root, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{root.rsplit('/', 1)[0]}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def target(tmp_path: Path, database_url: str, restore_database: str | None) -> Iterator[Settings]:
    """An empty home, and an empty database of the same kind (PostgreSQL: the module's restore database, without the
    source's schema, which the dump recreates in it, so the URL names that schema; dropped after the test, with
    whatever a restore left in it)."""
    home = tmp_path / "restored-home"
    if restore_database is None:
        yield Settings(home=home, database_url=f"sqlite:///{home / 'verifier.db'}")
        return
    query = normalise_database_url(database_url).partition("?")[2]
    source = create_engine(database_url)
    with source.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    source.dispose()
    assert schema and schema != "public", schema
    yield Settings(home=home, database_url=f"{restore_database}?{query}")
    admin = create_engine(restore_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # as DROP DATABASE WITH (FORCE): no connection a restore left holds the schema
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _with_evidence(ctx) -> str:  # type: ignore[no-untyped-def]
    from factories import make_case

    case_id = make_case(ctx, stage="scheduled")
    with ctx.db.read() as session:
        officer = principal_of(session.scalar(select(User).where(User.id == active_visit(session, case_id).officer_ids[0])))
    with ctx.db.begin() as session:
        store_evidence(session, case_id, data=PNG, declared_type="image/png", evidence_dir=ctx.settings.evidence_dir,
                       vault=ctx.vault, max_bytes=ctx.settings.max_upload_bytes, principal=officer, clock=ctx.clock)
    return hashlib.sha256(PNG).hexdigest()


def test_a_restored_copy_holds_everything_and_extends_an_earlier_checkpoint(ctx, tmp_path, target) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    make_case(ctx, stage="determined")
    earlier = checkpoint_text(ctx.db, ctx.signer)  # saved by the county before the backup
    sha = _with_evidence(ctx)
    make_case(ctx, stage="checked")
    checkpoint_text(ctx.db, ctx.signer)

    manifest = backup(ctx.settings, tmp_path / "backup", keys_to=tmp_path / "keys-apart")
    assert manifest.schema_revision is None  # the fixture's tables come from the models, not from migrations
    assert not (tmp_path / "backup" / "keys").exists() and (tmp_path / "keys-apart" / "data.key").exists()
    for path in [*(tmp_path / "backup").rglob("*"), *(tmp_path / "keys-apart").rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert f"evidence/{sha[:2]}/{sha}" in manifest.files

    result = restore(target, tmp_path / "backup", keys_from=tmp_path / "keys-apart", since=earlier)
    assert result.entries == manifest.audit.size > 0 and result.since_size is not None
    assert result.since_size < result.entries
    assert _row_counts(target.database_url) == _row_counts(ctx.settings.database_url)
    vault = Vault.from_dir(target.keys_dir)
    assert evidence_files.read(target.evidence_dir, vault, sha) == PNG  # sealed file and key arrived together
    assert stat.S_IMODE(target.keys_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in target.keys_dir.iterdir())


def test_a_damaged_backup_is_refused_before_anything_is_written(ctx, tmp_path, target) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    make_case(ctx, stage="determined")
    backup(ctx.settings, tmp_path / "backup")
    dump = next(p for p in (tmp_path / "backup").iterdir() if p.name.startswith("database."))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="(?s)not intact.*changed since the backup"):
        restore(target, tmp_path / "backup")
    assert not target.keys_dir.exists() and not target.evidence_dir.exists()
    assert _row_counts_if_any(target) == {}


def _row_counts_if_any(settings: Settings) -> dict[str, int]:
    """The tables the target database has (none, after a refused restore)."""
    if settings.database_url.startswith("sqlite") and not (settings.home / "verifier.db").exists():
        return {}
    db = Database(settings.database_url)
    try:
        with db.engine.connect() as conn:
            from sqlalchemy import inspect

            return {t: 1 for t in inspect(conn).get_table_names()}
    finally:
        db.dispose()


def test_a_failed_check_after_writing_leaves_the_home_empty(ctx, tmp_path, target) -> None:  # type: ignore[no-untyped-def]
    """The manifest says the log was other than the database holds (a backup mixed from two): refused after the
    copy, and what was copied is taken away again."""
    from factories import make_case

    make_case(ctx, stage="determined")
    backup(ctx.settings, tmp_path / "backup")
    manifest_path = tmp_path / "backup" / "manifest.json"
    doc = json.loads(manifest_path.read_text("utf-8"))
    doc["audit"]["root"] = "00" * 32
    manifest_path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(BackupError, match="is not the one the manifest recorded"):
        restore(target, tmp_path / "backup")
    assert not any(p.is_file() for p in target.home.rglob("*")) if target.home.exists() else True
    assert _row_counts_if_any(target) == {}


def test_a_backup_whose_keys_signed_a_later_log_is_refused_without_a_bad_index(ctx, tmp_path, target) -> None:  # type: ignore[no-untyped-def]
    """The keys carry the last checkpoint of a later log than the database's (keys from another day's backup, the
    manifest made to agree): the log is intact in itself, so no entry is named as the first bad one."""
    from factories import make_case

    from verifier.audit.lastsigned import SAVED_FILE

    make_case(ctx, stage="received")
    checkpoint_text(ctx.db, ctx.signer)
    backup(ctx.settings, tmp_path / "backup")
    make_case(ctx, stage="received")
    checkpoint_text(ctx.db, ctx.signer)
    later = (ctx.settings.keys_dir / SAVED_FILE).read_bytes()
    (tmp_path / "backup" / "keys" / SAVED_FILE).write_bytes(later)
    manifest_path = tmp_path / "backup" / "manifest.json"
    doc = json.loads(manifest_path.read_text("utf-8"))
    doc["files"][f"keys/{SAVED_FILE}"] = {"sha256": hashlib.sha256(later).hexdigest(), "bytes": len(later)}
    manifest_path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(BackupError, match="not the log the signing key last signed: the log's head holds") as refused:
        restore(target, tmp_path / "backup")
    assert "None" not in str(refused.value)
    assert _row_counts_if_any(target) == {}


def test_a_home_in_use_and_a_stranger_checkpoint_are_refused(ctx, tmp_path, target) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    make_case(ctx, stage="determined")
    backup(ctx.settings, tmp_path / "backup")
    with pytest.raises(BackupError, match="empty home"):
        restore(ctx.settings, tmp_path / "backup")  # the live deployment itself
    with pytest.raises(BackupError, match="not empty"):
        backup(ctx.settings, tmp_path / "backup")

    # A checkpoint signed by another log's key proves nothing about this one.
    from verifier.audit.checkpoints import Signer

    stranger = Signer.load(replace(ctx.settings, home=tmp_path / "other"), create=True)
    foreign = stranger.sign_checkpoint(1, b"\x11" * 32)
    with pytest.raises(BackupError, match="cannot be checked with this log's keys"):
        restore(target, tmp_path / "backup", since=foreign)
    assert not target.keys_dir.exists()


def test_a_home_restored_from_an_older_backup_signs_on(ctx, tmp_path, target) -> None:  # type: ignore[no-untyped-def]
    """The backup's last signed checkpoint is its database's latest, not the live one signed since; the restored home
    signs its next checkpoint, and a log rewritten in it is still refused."""
    from factories import make_case

    from verifier.audit import log, merkle
    from verifier.audit.checkpoints import Signer, issue_checkpoint
    from verifier.audit.lastsigned import SAVED_FILE, SigningRefused, read_saved

    make_case(ctx, stage="determined")
    checkpoint_text(ctx.db, ctx.signer)
    manifest = backup(ctx.settings, tmp_path / "backup")
    make_case(ctx, stage="checked")  # the live home signs on past the backup
    checkpoint_text(ctx.db, ctx.signer)
    live = read_saved(ctx.settings.keys_dir)
    kept = read_saved(tmp_path / "backup" / "keys")
    assert live is not None and kept is not None and kept.tree_size < live.tree_size
    assert kept.note == manifest.audit.checkpoint and f"keys/{SAVED_FILE}" in manifest.files

    restore(target, tmp_path / "backup")
    assert read_saved(target.keys_dir) == kept
    db = Database(target.database_url)
    try:
        with db.begin() as session:
            log.append_many(session, [{"actor": "u_clerk", "role": "town_clerk", "action": "case.screen",
                                       "subject": "case_x", "payload": {}, "contract_hash": None}])
        signed = issue_checkpoint(db, Signer.load(target))
        assert signed.tree_size == kept.tree_size + 1 == read_saved(target.keys_dir).tree_size  # type: ignore[union-attr]
        with db.begin() as session:  # the restored database rolled back behind what its key signed
            session.execute(text("DELETE FROM audit_entry WHERE idx = :i"), {"i": signed.tree_size - 1})
            session.execute(text("DELETE FROM audit_checkpoint"))
            compact = merkle.CompactRange()
            for (leaf,) in session.execute(text("SELECT leaf_hash FROM audit_entry ORDER BY idx")):
                compact.append(bytes(leaf))
            session.execute(text("UPDATE audit_head SET size = :s, compact = :c"),
                            {"s": compact.size, "c": compact.to_bytes()})
        with pytest.raises(SigningRefused):
            issue_checkpoint(db, Signer.load(target))
    finally:
        db.dispose()
