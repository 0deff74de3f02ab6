"""`VERIFIER_HOME` is private to the account that runs the service: directories 0700, files 0600.

It holds the SQLite database (every case, every sealed ID number), the keys, and the evidence. The command line
sets the umask to 077, so whatever it or the server creates (the database and SQLite's -wal and -shm beside it, keys,
evidence, temporary files) is the owner's alone; `init` and `serve` also tighten what is already there, such as a
database created before this rule or a home unpacked from a backup.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> bool:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode) or stat.S_IMODE(st.st_mode) & 0o077 == 0:
        return False  # a link is not followed: what it points at is not ours to change
    os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077 & (DIR_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE))
    return True


def sqlite_files(database_url: str) -> list[Path]:
    """The SQLite database file and its companions (-wal, -shm, -journal), wherever the URL puts them."""
    try:
        url = make_url(database_url)
    except Exception:
        return []
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return []
    db = Path(url.database)
    return [db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


def make_private(home: Path, database_url: str | None = None) -> int:
    """Create `home` (0700) if needed and take group and other access away from everything under it, and from the
    SQLite database files when they live elsewhere. Returns how many modes were changed."""
    home.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    changed = int(_tighten(home, DIR_MODE))
    for root, dirs, files in os.walk(home):
        for name in dirs:
            changed += _tighten(Path(root) / name, DIR_MODE)
        for name in files:
            changed += _tighten(Path(root) / name, FILE_MODE)
    for path in sqlite_files(database_url or ""):
        changed += _tighten(path, FILE_MODE)
    return changed
