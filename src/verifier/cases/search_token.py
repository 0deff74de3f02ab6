"""A whole ID number typed into a search box never goes into an address.

Addresses are kept where nobody means to keep an ID number: the browser's history, a proxy's log, the Referer a
page sends. So the case search form is POSTed (web/cases.py `search`), and a search text that is a whole ID number
comes back in the address as a *search token* instead: the number, the user and an expiry sealed by the vault
(AES-GCM, a fresh nonce each time: the same number gives a different token each search, and a token says nothing
about the number without the vault's key). Nothing is stored: the token is opened again by whoever asks with it, and
only by the user it was made for, until `LIFETIME` has passed. Searches by name, case number or the last four
characters stay plain `q` (the list shows those).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag

from ..store.vault import Vault

LIFETIME = timedelta(minutes=30)
_LABEL = "case_search_token"
MAX_TOKEN = 200  # characters of the address parameter


def make(vault: Vault, user_id: str, q: str, now: datetime) -> str:
    """The token standing for search text `q` of `user_id`, good until `now + LIFETIME`."""
    expires = int((now + LIFETIME).timestamp())
    sealed = vault.seal(f"{user_id}\n{expires}\n{q}", _LABEL)
    return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def open_token(vault: Vault, user_id: str, token: str, now: datetime) -> str | None:
    """The search text a token stands for, or None: not a token, made for another user, or expired."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        owner, expires, q = vault.open(raw, _LABEL).split("\n", 2)
        if owner != user_id or now.timestamp() > int(expires):
            return None
    except (binascii.Error, ValueError, InvalidTag):
        return None
    return q
