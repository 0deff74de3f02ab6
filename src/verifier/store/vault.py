"""Personal data at rest: AES-256-GCM per value, and a keyed blind index for lookups.

A sealed value is `nonce(12) || ciphertext+tag`; the column's name is the associated data, so a value
copied into another column fails to open. Files (evidence) are sealed the same way, labelled by their hash. The blind index is HMAC-SHA-256 over the normalised value,
hex, so a household can be found by any member's ID number without decrypting anything.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import load_or_create_secret, load_secret


class Vault:
    def __init__(self, data_key: bytes, index_key: bytes) -> None:
        if len(data_key) != 32 or len(index_key) != 32:
            raise ValueError("vault keys must be 32 bytes")
        self._aead = AESGCM(data_key)
        self._index_key = index_key
        self._index_mac = hmac.new(index_key, digestmod=hashlib.sha256)  # keyed once, copied for each value

    @classmethod
    def from_dir(cls, keys_dir: Path, *, create: bool = False) -> "Vault":
        load = load_or_create_secret if create else load_secret
        return cls(load(keys_dir / "data.key"), load(keys_dir / "index.key"))

    def seal(self, value: str, column: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode("utf-8"), column.encode("ascii"))

    def seal_many(self, values: Sequence[str], column: str) -> list[bytes]:
        """`seal` for many values of one column (same output), the randomness for all nonces drawn at once."""
        associated = column.encode("ascii")
        encrypt = self._aead.encrypt
        nonces = os.urandom(12 * len(values))
        sealed = []
        for i, value in enumerate(values):
            nonce = nonces[12 * i:12 * i + 12]
            sealed.append(nonce + encrypt(nonce, value.encode("utf-8"), associated))
        return sealed

    def open(self, sealed: bytes, column: str) -> str:
        return self._aead.decrypt(sealed[:12], sealed[12:], column.encode("ascii")).decode("utf-8")

    def seal_bytes(self, data: bytes, label: str) -> bytes:
        """`seal` for bytes (a file's content); `label` is the associated data, naming what the bytes are."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, label.encode("ascii"))

    def open_bytes(self, sealed: bytes, label: str) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], label.encode("ascii"))

    def seal_optional(self, value: str | None, column: str) -> bytes | None:
        return None if value in (None, "") else self.seal(value, column)

    def open_optional(self, sealed: bytes | None, column: str) -> str | None:
        return None if sealed is None else self.open(sealed, column)

    def blind_index(self, value: str, kind: str) -> str:
        normalised = "".join(value.split()).upper()
        mac = self._index_mac.copy()
        mac.update(f"{kind}:{normalised}".encode("utf-8"))
        return mac.hexdigest()
