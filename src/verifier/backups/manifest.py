"""What a backup holds: its manifest (format, database, schema revision, the audit log's state, every file's hash)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any



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


