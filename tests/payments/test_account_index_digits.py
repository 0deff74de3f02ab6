"""An account number's blind index is keyed on its digits alone (`one_account.account_index`): a number of ASCII
digits only is taken as it is, anything else has its digits picked out one by one; both give the same index."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from verifier.payments import one_account
from verifier.store.vault import Vault

VAULT = Vault(b"d" * 32, b"i" * 32)


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.from_regex(r"[0-9]{0,30}", fullmatch=True)
       | st.from_regex(r"[0-9 \-٠-٩²]{0,30}", fullmatch=True))
def test_the_index_is_that_of_the_digits_picked_one_by_one(number: str) -> None:
    digits = "".join(ch for ch in number if ch.isdigit())
    assert one_account.account_index(VAULT, number) == VAULT.blind_index(digits, one_account.KIND)
