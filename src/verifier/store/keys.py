"""Secrets kept as files under `VERIFIER_HOME/keys`, created once with mode 0600."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_secret_file(path: Path, data: bytes) -> None:
    """Write `data` to a new file readable only by its owner; refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def load_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    if not path.exists():
        try:
            write_secret_file(path, secrets.token_bytes(nbytes))
        except FileExistsError:  # another process created it first
            pass
    data = path.read_bytes()
    if len(data) != nbytes:
        raise RuntimeError(f"key file {path} should hold {nbytes} bytes, holds {len(data)}")
    return data


def load_secret(path: Path, nbytes: int = 32) -> bytes:
    if not path.exists():
        raise RuntimeError(f"key file {path} is missing: run `verifier init` first")
    data = path.read_bytes()
    if len(data) != nbytes:
        raise RuntimeError(f"key file {path} should hold {nbytes} bytes, holds {len(data)}")
    return data
