"""`verifier restore SRC`: a home made from a backup, checked before anything is written (see the package's
docstring)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from ..audit import merkle
from ..audit.checkpoints import KEY_FILE, Signer, known_keys
from ..audit.lastsigned import read_saved
from ..audit.proofs import consistency_proof
from ..audit.notes import NoteError, open_checkpoint
from ..audit.verify import verify_log
from ..settings import Settings
from ..store.db import Database
from ..store.home import sqlite_files
from .files import audit_state, copy_private, files_under, libpq_url, pg_tool, private_dir, run_tool, sha256_of
from .manifest import MANIFEST, PG_FILE, SQLITE_FILE, AuditState, BackupError, Manifest, RestoreResult


def restore(settings: Settings, src: Path, *, keys_from: Path | None = None, since: str | None = None) -> RestoreResult:
    """Make the empty home `settings` names from the backup in `src`; see the package's description (backups/__init__.py)."""
    src = src.resolve()
    manifest = Manifest.read(src / MANIFEST)
    keys_root = keys_from.resolve() if keys_from is not None else src / "keys"
    if manifest.keys_elsewhere and keys_from is None:
        raise BackupError("this backup's keys were written elsewhere (--keys-to): give their directory with --keys-from")
    _check_files(manifest, src, keys_root)
    db_kind = "sqlite" if settings.database_url.startswith("sqlite") else "postgresql"
    if db_kind != manifest.database:
        raise BackupError(f"the backup holds a {manifest.database} database but VERIFIER_DATABASE_URL is {db_kind}: "
                          "restore into the same kind of database")
    _refuse_unless_empty(settings)
    existed = {p for p in (settings.home, settings.keys_dir, settings.evidence_dir) if p.exists()}
    written: list[Path] = []
    try:
        for rel in manifest.files:
            if rel.startswith("keys/"):
                source, target = keys_root / rel[5:], settings.keys_dir / rel[5:]
            elif rel.startswith("evidence/"):
                source, target = src / rel, settings.evidence_dir / rel[9:]
            else:
                continue
            copy_private(source, target)
            written.append(target)
        if manifest.database == "sqlite":
            target = sqlite_files(settings.database_url)[0]
            private_dir(target.parent)
            tmp = target.with_name(target.name + ".restoring")
            copy_private(src / SQLITE_FILE, tmp)
            written.append(tmp)
            os.replace(tmp, target)
            written.append(target)
        else:
            url, _ = libpq_url(settings.database_url)
            run_tool([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                  f"--dbname={url}", str(src / PG_FILE)], "pg_restore")
        result = _check_restored(settings, manifest, since)
    except BaseException:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        _remove_empty_dirs([settings.keys_dir, settings.evidence_dir, settings.home], keep=existed)
        if manifest.database == "postgresql":
            _drop_restored_tables(settings)
        raise
    return result


def _remove_empty_dirs(roots: list[Path], *, keep: set[Path]) -> None:
    """Take away the directories a failed restore made (they hold nothing now); those that were there stay."""
    for root in roots:
        if not root.is_dir():
            continue
        for base, dirs, _ in sorted(os.walk(root, topdown=False), key=lambda w: -len(w[0])):
            for name in dirs:
                try:
                    (Path(base) / name).rmdir()
                except OSError:
                    pass
        if root not in keep:
            try:
                root.rmdir()
            except OSError:
                pass


def _check_files(manifest: Manifest, src: Path, keys_root: Path) -> None:
    problems = []
    needed = SQLITE_FILE if manifest.database == "sqlite" else PG_FILE
    if needed not in manifest.files:
        problems.append(f"the manifest lists no {needed}")
    for rel, want in sorted(manifest.files.items()):
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"{rel}: not a path inside the backup")
            continue
        path = keys_root / rel[5:] if rel.startswith("keys/") else src / rel
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        digest, size = sha256_of(path)
        if digest != want.get("sha256") or size != want.get("bytes"):
            problems.append(f"{path}: changed since the backup (SHA-256 or size differs)")
    if problems:
        raise BackupError("the backup is not intact; nothing was restored:\n  " + "\n  ".join(problems))


def _refuse_unless_empty(settings: Settings) -> None:
    problems = []
    if any(files_under(settings.keys_dir)):
        problems.append(f"{settings.keys_dir} holds keys")
    if any(files_under(settings.evidence_dir)):
        problems.append(f"{settings.evidence_dir} holds evidence")
    if settings.database_url.startswith("sqlite"):
        path = sqlite_files(settings.database_url)[0]
        if path.exists() and path.stat().st_size > 0:
            problems.append(f"the database {path} exists")
    else:
        db = Database(settings.database_url)
        try:
            with db.engine.connect() as conn:
                tables = inspect(conn).get_table_names()
        finally:
            db.dispose()
        if tables:
            problems.append(f"the database already has {len(tables)} tables")
    if problems:
        raise BackupError("a restore goes into an empty home and an empty database; here "
                          + "; ".join(problems) + ". Nothing was changed.")


def _drop_restored_tables(settings: Settings) -> None:
    # pg_restore ran in one transaction, so it either restored everything or nothing; after a failed check the
    # restored tables are dropped so the database is as empty as it was.
    db = Database(settings.database_url)
    try:
        with db.engine.begin() as conn:
            for table in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    except Exception:  # the original failure is what the operator needs to see
        pass
    finally:
        db.dispose()


def _check_restored(settings: Settings, manifest: Manifest, since: str | None) -> RestoreResult:
    db = Database(settings.database_url)
    try:
        with db.read() as session:
            keys = known_keys(session)
            state = audit_state(session)
        if (settings.keys_dir / KEY_FILE).exists():
            keys.append(Signer.load(settings).verifier)
        verified = verify_log(db, keys, last_signed=read_saved(settings.keys_dir))
        if not verified.ok and verified.first_bad_index is None:  # intact in itself, not what the key signed
            raise BackupError(f"the restored audit log is intact in itself but not the log the signing key last "
                              f"signed: {verified.message}")
        if not verified.ok:
            raise BackupError(f"the restored audit log does not verify: first bad index {verified.first_bad_index}: "
                              f"{verified.message}")
        if (state.size, state.root, state.checkpoint) != (manifest.audit.size, manifest.audit.root,
                                                          manifest.audit.checkpoint):
            raise BackupError(f"the restored audit log ({state.size} entries, root {state.root[:16]}…) is not the one "
                              f"the manifest recorded ({manifest.audit.size} entries, root {manifest.audit.root[:16]}…)")
        since_size = None
        if since is not None:
            since_size = _prove_extends(db, keys, since, state)
        return RestoreResult(manifest, verified.entries, verified.checkpoints, since_size)
    finally:
        db.dispose()


def _prove_extends(db: Database, keys: list[Any], note: str, state: AuditState) -> int:
    """Prove the restored log extends the log a checkpoint saved before the backup signed."""
    try:
        old, _ = open_checkpoint(note, keys)
    except NoteError as exc:
        raise BackupError(f"the --since checkpoint cannot be checked with this log's keys: {exc}") from None
    if old.size > state.size:
        raise BackupError(f"the --since checkpoint covers {old.size} entries but the restored log has only "
                          f"{state.size}: this backup is older than that checkpoint")
    with db.read() as session:
        proof = consistency_proof(session, old.size, state.size)
    try:
        merkle.verify_consistency(old.size, state.size, proof, old.root, bytes.fromhex(state.root))
    except merkle.ProofError as exc:
        raise BackupError(f"the restored log does not extend the --since checkpoint of {old.size} entries: {exc}") \
            from None
    return old.size
