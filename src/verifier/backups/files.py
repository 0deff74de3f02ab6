"""Small pieces a backup and a restore share: private files and directories, hashes, the PostgreSQL tools, the
copied database's audit state and schema revision."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from ..audit.checkpoints import latest_checkpoint
from ..audit.log import read_head
from ..store.home import DIR_MODE, FILE_MODE
from .manifest import CHUNK, AuditState, BackupError


def sha256_of(path: Path) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def private_dir(path: Path) -> None:
    """Create `path` and any missing parents 0700 (mkdir's mode applies to the last level only)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for level in reversed(missing):
        level.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(level, DIR_MODE)


def copy_private(src: Path, dst: Path) -> None:
    private_dir(dst.parent)
    with src.open("rb") as fin, open(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as fout:
        shutil.copyfileobj(fin, fout, CHUNK)
        fout.flush()
        os.fsync(fout.fileno())
    os.chmod(dst, FILE_MODE)


def files_under(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield Path(base) / name


def empty_or_absent(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def libpq_url(database_url: str) -> tuple[str, str | None]:
    """The URL pg_dump and pg_restore take, and the schema named by `options=-csearch_path=…` if any."""
    url = make_url(database_url)
    options = url.query.get("options")
    schema = None
    if isinstance(options, str) and "search_path" in options:
        schema = options.split("search_path", 1)[1].lstrip("=").split()[0].split(",")[0]
    plain = url.set(drivername="postgresql").difference_update_query(["options"])
    return plain.render_as_string(hide_password=False), schema


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"`{name}` is needed for a PostgreSQL database and is not installed "
                          f"(Debian: apt-get install postgresql-client, the server's major version or newer)")
    return path


def run_tool(args: list[str], what: str) -> None:
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        raise BackupError(f"{what} failed (exit {run.returncode}): {(run.stderr or run.stdout).strip()[:2000]}")


def audit_state(session: Any) -> AuditState:
    head = read_head(session)
    latest = latest_checkpoint(session)
    return AuditState(size=head.size, root=head.root().hex(),
                      checkpoint=None if latest is None else latest.note,
                      checkpoint_size=0 if latest is None else latest.tree_size)


def schema_revision_of(conn: Any) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_entry(path: Path) -> dict[str, Any]:
    digest, size = sha256_of(path)
    return {"sha256": digest, "bytes": size}

