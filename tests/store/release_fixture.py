"""A database as the previous release left it: every row `verifier init --demo` wrote at that release's migration
head, kept as a gzip'd JSON file beside this module (dialect-neutral, so it loads into SQLite and PostgreSQL alike),
with the demo home's keys.

Made at release time, before the next release's migrations are added:

    .venv/bin/python tests/store/release_fixture.py     # writes tests/store/fixtures/release-<head>-demo.json.gz

The migration test loads the newest such file into an empty database migrated to the file's revision and upgrades it
to today's head.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, select, text

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag == "$b64":
            return base64.b64decode(raw)
        if tag == "$dt":
            return datetime.fromisoformat(raw)
        if tag == "$d":
            return date.fromisoformat(raw)
        if tag == "$dec":
            return Decimal(raw)
    return value


def dump(conn: Connection, revision: str, keys_dir: Path) -> dict[str, Any]:
    meta = MetaData()
    meta.reflect(conn)
    tables = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        rows = conn.execute(select(table).order_by(*order)).mappings().all()
        tables[table.name] = [{k: _encode(v) for k, v in row.items()} for row in rows]
    keys = {p.name: base64.b64encode(p.read_bytes()).decode("ascii") for p in sorted(keys_dir.iterdir())}
    return {"revision": revision, "tables": tables, "keys": keys}


def latest() -> Path:
    files = sorted(FIXTURES.glob("release-*-demo.json.gz"))
    if not files:
        raise FileNotFoundError(f"no release fixture in {FIXTURES}")
    return files[-1]


def read(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def load(conn: Connection, doc: dict[str, Any]) -> dict[str, int]:
    """Insert the fixture's rows into a database at the fixture's revision; returns rows per table."""
    meta = MetaData()
    meta.reflect(conn)
    counts = {}
    for table in meta.sorted_tables:
        rows = doc["tables"].get(table.name)
        if rows is None:
            continue
        if rows:
            conn.execute(table.insert(), [{k: _decode(v) for k, v in row.items()} for row in rows])
        counts[table.name] = len(rows)
        if conn.dialect.name == "postgresql":  # explicit ids leave serial sequences behind: move them on
            for column in table.primary_key.columns:
                if column.autoincrement is True or (column.autoincrement == "auto" and column.type.python_type is int):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false) "
                        f"WHERE pg_get_serial_sequence('{table.name}', '{column.name}') IS NOT NULL"))
    return counts


def write_keys(doc: dict[str, Any], keys_dir: Path) -> None:
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, raw in doc["keys"].items():
        path = keys_dir / name
        path.write_bytes(base64.b64decode(raw))
        os.chmod(path, 0o600)


def make() -> Path:
    """Run `verifier init --demo` in a scratch home on SQLite and write its rows at the current head."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from verifier.store.db import Database
    from verifier.store.migrate import current_revision

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "VERIFIER_DATABASE_URL"}
        env["VERIFIER_HOME"] = tmp
        subprocess.run([sys.executable, "-c", "from verifier.cli import main; main()", "init", "--demo"], env=env,
                       check=True, capture_output=True)
        db = Database(f"sqlite:///{Path(tmp) / 'verifier.db'}")
        try:
            revision = current_revision(db)
            assert revision is not None
            with db.engine.connect() as conn:
                doc = dump(conn, revision, Path(tmp) / "keys")
        finally:
            db.dispose()
    FIXTURES.mkdir(exist_ok=True)
    out = FIXTURES / f"release-{revision}-demo.json.gz"
    with gzip.GzipFile(out, "wb", mtime=0) as f:
        f.write(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return out


if __name__ == "__main__":
    print(make())
