"""Evidence files at rest: sealed with AES-256-GCM under the vault's data key, opened only for a permitted download.

A file lives at `VERIFIER_HOME/evidence/<sha[:2]>/<sha>`, `sha` being the SHA-256 of the plain file (what a check
references and the audit log records). On disk it is `MAGIC || nonce || ciphertext+tag`, with `evidence:<sha>` as the
associated data, so a sealed file moved to another hash's name fails to open. Files written before evidence was
sealed are plain (a photo or a PDF never begins with MAGIC): they are still read, and `verifier init` seals them
(`seal_plain_files`). Whatever is read must hash to its name, or it is not served.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag

from ..store.vault import Vault

MAGIC = b"VFYSEAL1"


def path_of(evidence_dir: Path, sha256: str) -> Path:
    return evidence_dir / sha256[:2] / sha256


def _label(sha256: str) -> str:
    return f"evidence:{sha256}"


def _write_atomically(path: Path, data: bytes) -> None:
    # A half-written file must never carry the hash's name.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store(evidence_dir: Path, vault: Vault, data: bytes, sha256: str) -> Path:
    """Seal `data` (whose SHA-256 is `sha256`) under its hash's name, unless a file is already there: then it is
    touched, so that a save in flight (its row not committed yet) reads as young to `verifier evidence sweep`. A file
    missing (or renamed aside by the sweep, about to be removed) is absent: it is written anew."""
    path = path_of(evidence_dir, sha256)
    try:
        os.utime(path)
    except FileNotFoundError:
        _write_atomically(path, MAGIC + vault.seal_bytes(data, _label(sha256)))
    return path


def read(evidence_dir: Path, vault: Vault, sha256: str) -> bytes | None:
    """The plain bytes of the evidence `sha256`; None when the file is missing, cannot be opened or does not hash
    to its name (then it is not what the check referenced)."""
    path = path_of(evidence_dir, sha256)
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if raw.startswith(MAGIC):
        try:
            raw = vault.open_bytes(raw[len(MAGIC):], _label(sha256))
        except (InvalidTag, ValueError):
            return None
    return raw if hashlib.sha256(raw).hexdigest() == sha256 else None


def seal_plain_files(evidence_dir: Path, vault: Vault) -> tuple[int, list[Path]]:
    """Seal every plain evidence file in place. Returns how many were sealed and the files left alone because
    they do not hash to their names (kept as found, for someone to look at)."""
    sealed, odd = 0, []
    if not evidence_dir.is_dir():
        return 0, []
    for path in sorted(evidence_dir.glob("??/*")):
        if path.is_symlink() or not path.is_file() or len(path.name) != 64 or path.name.startswith("tmp"):
            continue
        raw = path.read_bytes()
        if raw.startswith(MAGIC):
            continue
        if hashlib.sha256(raw).hexdigest() != path.name:
            odd.append(path)
            continue
        _write_atomically(path, MAGIC + vault.seal_bytes(raw, _label(path.name)))
        sealed += 1
    return sealed, odd


def response(evidence_dir: Path, vault: Vault, sha256: str, content_type: str) -> Any:
    """The sealed file `sha256` as an HTTP response of its recorded type, never cached nor sniffed (404 when the
    file is missing or does not open): what every download of a sealed photo or scan answers."""
    from litestar import Response

    from ..domain.errors import NotFound

    content = read(evidence_dir, vault, sha256)
    if content is None:
        raise NotFound("要找的内容不存在，或不在您的权限范围内")
    return Response(content=content, media_type=content_type,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
