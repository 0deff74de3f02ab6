"""The tests hash passwords cheaply (tests/conftest.py); the application itself hashes them at the full cost."""

from __future__ import annotations

import subprocess
import sys

from verifier.accounts.passwords import verify_password


def test_the_application_hashes_at_the_full_scrypt_cost() -> None:
    made = subprocess.run([sys.executable, "-c", "from verifier.accounts.passwords import hash_password;"
                           "print(hash_password('correct horse battery'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    scheme, n, r, p, _salt, _digest = made.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert verify_password("correct horse battery", made) and not verify_password("correct horse batterx", made)
