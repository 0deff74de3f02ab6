from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from verifier.store.vault import Vault


def test_seal_open_round_trip_and_random_nonce(tmp_path: Path) -> None:
    vault = Vault.from_dir(tmp_path / "keys", create=True)
    a = vault.seal("11010519491231002X", "member.id_number")
    b = vault.seal("11010519491231002X", "member.id_number")
    assert a != b  # a fresh nonce each time: equal values do not look equal at rest
    assert b"11010519491231002X" not in a
    assert vault.open(a, "member.id_number") == "11010519491231002X"


def test_a_value_moved_to_another_column_does_not_open(tmp_path: Path) -> None:
    vault = Vault.from_dir(tmp_path / "keys", create=True)
    sealed = vault.seal("6222020200112233445", "check.payee_account")
    with pytest.raises(InvalidTag):
        vault.open(sealed, "household.phone")


def test_blind_index_is_keyed_and_normalised(tmp_path: Path) -> None:
    v1 = Vault.from_dir(tmp_path / "k1", create=True)
    v2 = Vault.from_dir(tmp_path / "k2", create=True)
    assert v1.blind_index("11010519491231002x", "id") == v1.blind_index(" 11010519491231002X ", "id")
    assert v1.blind_index("11010519491231002X", "id") != v2.blind_index("11010519491231002X", "id")
    assert v1.blind_index("11010519491231002X", "id") != v1.blind_index("11010519491231002X", "phone")


def test_key_files_are_private_and_stable(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    v1 = Vault.from_dir(keys, create=True)
    for name in ("data.key", "index.key"):
        assert stat.S_IMODE(os.stat(keys / name).st_mode) == 0o600
    v2 = Vault.from_dir(keys)
    assert v2.open(v1.seal("x", "c"), "c") == "x"


def test_missing_keys_say_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="verifier init"):
        Vault.from_dir(tmp_path / "nowhere")
