"""`verifier backup DEST` and `verifier restore SRC`: a consistent copy of one deployment, and a home made from it.

A backup is a directory:

    manifest.json        what was copied, when, from which schema revision, and the audit log's size, root and
                         latest signed checkpoint in the copied database; the SHA-256 and size of every file
    database.sqlite      SQLite: made with SQLite's online backup API (one consistent snapshot, writers go on)
    database.pgdump      PostgreSQL: `pg_dump --format=custom` of the same snapshot the manifest's figures were read in
    evidence/...         the sealed evidence files, as stored
    keys/...             the data, blind-index and checkpoint-signing keys (0600), unless `--keys-to` put them elsewhere

Keys and data belong in different places: whoever holds both reads every ID number. `--keys-to DIR` writes the keys
there instead; the manifest still lists their hashes, so a restore notices a wrong or damaged key file.

A restore goes into an empty home (no keys, no evidence, an empty database) and checks every file against the
manifest before it writes anything. Then it verifies the restored audit log from its first entry, checks that its
latest checkpoint is the one the manifest recorded, and, given a checkpoint note saved earlier (`--since`), proves
that the restored log extends it (an RFC 6962 consistency proof). Anything refused or failed leaves the home as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from ..audit import merkle
from ..audit.checkpoints import KEY_FILE, Signer, known_keys, latest_checkpoint
from ..audit.log import consistency_proof, read_head
from ..audit.notes import NoteError, open_checkpoint
from ..audit.verify import verify_log
from ..settings import Settings
from ..store.db import Database
from ..store.home import DIR_MODE, FILE_MODE, sqlite_files

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
CHUNK = 1 << 20


class BackupError(Exception):
    """Refused or failed, with what to do; nothing was left half-written."""


@dataclass(frozen=True)
class AuditState:
    size: int
    root: str  # hex of the root of the whole log at `size`
    checkpoint: str | None  # the latest signed checkpoint note, if any
    checkpoint_size: int


@dataclass
class Manifest:
    format: int
    created: str
    database: str  # "sqlite" or "postgresql"
    schema_revision: str | None
    audit: AuditState
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path → {sha256, bytes}
    keys_elsewhere: bool = False

    def to_json(self) -> str:
        doc = {"format": self.format, "created": self.created, "database": self.database,
               "schema_revision": self.schema_revision, "keys_elsewhere": self.keys_elsewhere,
               "audit": {"size": self.audit.size, "root": self.audit.root, "checkpoint": self.audit.checkpoint,
                         "checkpoint_size": self.audit.checkpoint_size},
               "files": self.files}
        return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            doc = json.loads(path.read_text("utf-8"))
            audit = doc["audit"]
            manifest = cls(format=int(doc["format"]), created=str(doc["created"]), database=str(doc["database"]),
                           schema_revision=doc.get("schema_revision"),
                           audit=AuditState(int(audit["size"]), str(audit["root"]), audit.get("checkpoint"),
                                            int(audit.get("checkpoint_size", 0))),
                           files=dict(doc["files"]), keys_elsewhere=bool(doc.get("keys_elsewhere")))
        except FileNotFoundError:
            raise BackupError(f"{path.parent} is not a backup: it has no {MANIFEST}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{path} cannot be read as a backup manifest: {exc}") from None
        if manifest.format != FORMAT:
            raise BackupError(f"{path} is a backup of format {manifest.format}; this version reads format {FORMAT}")
        if manifest.database not in ("sqlite", "postgresql"):
            raise BackupError(f"{path} names an unknown database kind {manifest.database!r}")
        return manifest


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    entries: int
    checkpoints: int
    since_size: int | None  # the size of the `--since` checkpoint proven to be a prefix, if one was given


# --- small file helpers ----------------------------------------------------------------------------------------

def _sha256(path: Path) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _private_dir(path: Path) -> None:
    """Create `path` and any missing parents 0700 (mkdir's mode applies to the last level only)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for level in reversed(missing):
        level.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(level, DIR_MODE)


def _copy_private(src: Path, dst: Path) -> None:
    _private_dir(dst.parent)
    with src.open("rb") as fin, open(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as fout:
        shutil.copyfileobj(fin, fout, CHUNK)
        fout.flush()
        os.fsync(fout.fileno())
    os.chmod(dst, FILE_MODE)


def _files_under(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield Path(base) / name


def _empty_or_absent(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _libpq_url(database_url: str) -> tuple[str, str | None]:
    """The URL pg_dump and pg_restore take, and the schema named by `options=-csearch_path=…` if any."""
    url = make_url(database_url)
    options = url.query.get("options")
    schema = None
    if isinstance(options, str) and "search_path" in options:
        schema = options.split("search_path", 1)[1].lstrip("=").split()[0].split(",")[0]
    plain = url.set(drivername="postgresql").difference_update_query(["options"])
    return plain.render_as_string(hide_password=False), schema


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"`{name}` is needed for a PostgreSQL database and is not installed "
                          f"(Debian: apt-get install postgresql-client, the server's major version or newer)")
    return path


def _run(args: list[str], what: str) -> None:
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        raise BackupError(f"{what} failed (exit {run.returncode}): {(run.stderr or run.stdout).strip()[:2000]}")


def _audit_state(session: Any) -> AuditState:
    head = read_head(session)
    latest = latest_checkpoint(session)
    return AuditState(size=head.size, root=head.root().hex(),
                      checkpoint=None if latest is None else latest.note,
                      checkpoint_size=0 if latest is None else latest.tree_size)


def _revision(conn: Any) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# --- backup ---------------------------------------------------------------------------------------------------

def backup(settings: Settings, dest: Path, *, keys_to: Path | None = None, now: datetime | None = None) -> Manifest:
    """Write a backup of the deployment `settings` names into `dest` (absent or empty). All or nothing: the files
    are written into a temporary directory beside `dest` and moved into place at the end."""
    dest = dest.resolve()
    if not _empty_or_absent(dest):
        raise BackupError(f"{dest} is not empty: a backup goes into a new or empty directory")
    if keys_to is not None:
        keys_to = keys_to.resolve()
        if not _empty_or_absent(keys_to):
            raise BackupError(f"{keys_to} is not empty: the keys go into a new or empty directory")
        if keys_to == dest or dest in keys_to.parents:
            raise BackupError("--keys-to must be outside the backup: the point is to keep keys and data apart")
    if not (settings.keys_dir / "data.key").exists():
        raise BackupError(f"{settings.keys_dir} holds no keys: is VERIFIER_HOME the deployment's home?")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    keys_work = None if keys_to is None else Path(tempfile.mkdtemp(prefix=f".{keys_to.name}-",
                                                                    dir=_made(keys_to.parent)))
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
        for path in _files_under(settings.evidence_dir):
            _copy_private(path, work / "evidence" / path.relative_to(settings.evidence_dir))
        keys_root = keys_work if keys_work is not None else work / "keys"
        for path in _files_under(settings.keys_dir):
            _copy_private(path, keys_root / path.relative_to(settings.keys_dir))
        manifest = Manifest(format=FORMAT, created=(now or datetime.now(timezone.utc)).isoformat(), database=kind,
                            schema_revision=revision, audit=state, keys_elsewhere=keys_to is not None)
        for path in _files_under(work):
            manifest.files[path.relative_to(work).as_posix()] = _entry(path)
        if keys_work is not None:
            for path in _files_under(keys_work):
                manifest.files["keys/" + path.relative_to(keys_work).as_posix()] = _entry(path)
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


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _entry(path: Path) -> dict[str, Any]:
    digest, size = _sha256(path)
    return {"sha256": digest, "bytes": size}


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
            revision = _revision(conn)
        with snapshot.read() as session:
            state = _audit_state(session)
    finally:
        snapshot.dispose()
    return revision, state


def _pg_snapshot(db: Database, database_url: str, target: Path) -> tuple[str | None, AuditState]:
    """Read the manifest's figures in a repeatable-read transaction and have pg_dump copy that same snapshot."""
    from sqlalchemy.orm import Session

    pg_dump = _pg_tool("pg_dump")
    url, schema = _libpq_url(database_url)
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            revision = _revision(conn)
            with Session(bind=conn) as session:
                state = _audit_state(session)
            args = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
                    f"--file={target}", f"--dbname={url}"]
            if schema:
                args.append(f"--schema={schema}")
            _run(args, "pg_dump")
    os.chmod(target, FILE_MODE)
    return revision, state


# --- restore --------------------------------------------------------------------------------------------------

def restore(settings: Settings, src: Path, *, keys_from: Path | None = None, since: str | None = None) -> RestoreResult:
    """Make the empty home `settings` names from the backup in `src`; see the module's description."""
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
            _copy_private(source, target)
            written.append(target)
        if manifest.database == "sqlite":
            target = sqlite_files(settings.database_url)[0]
            _private_dir(target.parent)
            tmp = target.with_name(target.name + ".restoring")
            _copy_private(src / SQLITE_FILE, tmp)
            written.append(tmp)
            os.replace(tmp, target)
            written.append(target)
        else:
            url, _ = _libpq_url(settings.database_url)
            _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
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
        digest, size = _sha256(path)
        if digest != want.get("sha256") or size != want.get("bytes"):
            problems.append(f"{path}: changed since the backup (SHA-256 or size differs)")
    if problems:
        raise BackupError("the backup is not intact; nothing was restored:\n  " + "\n  ".join(problems))


def _refuse_unless_empty(settings: Settings) -> None:
    problems = []
    if any(_files_under(settings.keys_dir)):
        problems.append(f"{settings.keys_dir} holds keys")
    if any(_files_under(settings.evidence_dir)):
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
            state = _audit_state(session)
        if (settings.keys_dir / KEY_FILE).exists():
            keys.append(Signer.load(settings).verifier)
        verified = verify_log(db, keys)
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
