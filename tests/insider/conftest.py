"""The insider tests: each tries, over the HTTP API, what one person could do alone (helpers in insider_kit.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402
from insider_kit import closed_misdirected, given_to, kept_flow, misdirected_closing, paid_onto_sly  # noqa: E402

# The flows most follow-up tests start from, built over HTTP by the process's first test that asks for one and kept
# (the tests only add to them): the next start from a copy of its rows, keys, log and time (insider_kit.kept_flow).
sly_paid_kept = kept_flow("sly_paid_kept", paid_onto_sly)
misdirected_closed_kept = kept_flow("misdirected_closed_kept", misdirected_closing)
closed_misdirected_kept = kept_flow("closed_misdirected_kept", closed_misdirected)


@pytest.fixture
def sly_paid(users, sly_paid_kept):  # type: ignore[no-untyped-def]
    """`paid_onto_sly`: the cases and each one's item (id, amount)."""
    return given_to(users, sly_paid_kept)


@pytest.fixture
def misdirected_closed(users, misdirected_closed_kept):  # type: ignore[no-untyped-def]
    """`misdirected_closing` (the supplement confirmed): the case, the follow-up, the recovery and the supplement."""
    return given_to(users, misdirected_closed_kept)


@pytest.fixture
def closed_misdirected_case(users, closed_misdirected_kept):  # type: ignore[no-untyped-def]
    """`closed_misdirected`: the case."""
    return given_to(users, closed_misdirected_kept)
