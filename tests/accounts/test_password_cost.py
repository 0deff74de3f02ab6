"""The tests hash passwords cheaply (tests/conftest.py); the application itself hashes them at the full cost."""

from __future__ import annotations

import subprocess
import sys

from verifier.accounts.login import dummy_hash
from verifier.accounts.passwords import hash_password, verify_password


def test_the_application_hashes_at_the_full_scrypt_cost() -> None:
    made = subprocess.run([sys.executable, "-c", "from verifier.accounts.passwords import hash_password;"
                           "print(hash_password('correct horse battery'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    scheme, n, r, p, _salt, _digest = made.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert verify_password("correct horse battery", made) and not verify_password("correct horse batterx", made)


def test_an_unknown_username_costs_what_a_users_password_costs() -> None:
    """Login checks an unknown username (or a disabled account) against a dummy hash made with the parameters users'
    hashes are made with: the full cost in the application, the tests' lower cost here (as their users')."""
    made = subprocess.run([sys.executable, "-c", "from verifier.accounts.login import dummy_hash; print(dummy_hash())"],
                          check=True, capture_output=True, text=True).stdout.strip()
    assert made.split("$")[:4] == ["scrypt", str(2**14), "8", "1"]
    assert dummy_hash().split("$")[:4] == hash_password("correct horse battery").split("$")[:4]
    assert not verify_password("", dummy_hash()) and not verify_password("correct horse battery", dummy_hash())
