"""The commit-reveal seed: its documented byte layout, commitments, secrets, the public value and the deadline."""

from __future__ import annotations

import hashlib
import struct
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.domain.errors import ValidationFailed
from verifier.domain.sampling import (
    commitment_of,
    draw_sample,
    may_pass_over,
    normalise_public_value,
    parse_commitment,
    parse_secret,
    population_digest,
    reveal_deadline,
    reveal_matches,
    round_seed,
)

POPULATION = [f"case_{i:03d}" for i in range(200)]
DIGEST = population_digest(POPULATION)
ROOT = hashlib.sha256(b"checkpoint root").digest()
COUNTY = bytes(range(32))
INSURER = bytes(range(100, 132))


def _framed(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def test_seed_layout_is_the_documented_length_prefixed_concatenation() -> None:
    expected = hashlib.sha256(_framed(DIGEST, ROOT, COUNTY, INSURER, "双色球 03 07".encode())).digest()
    assert round_seed(DIGEST, ROOT, COUNTY, INSURER, "  双色球   03 07 ") == expected
    # A withheld secret and an absent public value are zero bytes, framed like the others.
    assert round_seed(DIGEST, ROOT, COUNTY, None, None) == hashlib.sha256(_framed(DIGEST, ROOT, COUNTY, b"", b"")).digest()
    assert round_seed(DIGEST, ROOT, None, INSURER, None) == hashlib.sha256(_framed(DIGEST, ROOT, b"", INSURER, b"")).digest()


def test_same_inputs_same_sample_and_every_input_counts() -> None:
    seed = round_seed(DIGEST, ROOT, COUNTY, INSURER, "5 8 1")
    assert seed == round_seed(DIGEST, ROOT, COUNTY, INSURER, "5 8 1")
    assert draw_sample(seed, POPULATION, 59) == draw_sample(round_seed(DIGEST, ROOT, COUNTY, INSURER, "5 8 1"),
                                                            POPULATION, 59)
    others = {
        round_seed(population_digest(POPULATION[1:]), ROOT, COUNTY, INSURER, "5 8 1"),
        round_seed(DIGEST, hashlib.sha256(b"other").digest(), COUNTY, INSURER, "5 8 1"),
        round_seed(DIGEST, ROOT, COUNTY[:-1] + b"\xff", INSURER, "5 8 1"),
        round_seed(DIGEST, ROOT, COUNTY, INSURER[:-1] + b"\xff", "5 8 1"),
        round_seed(DIGEST, ROOT, COUNTY, INSURER, "5 8 2"),
        round_seed(DIGEST, ROOT, COUNTY, INSURER, None),
        round_seed(DIGEST, ROOT, COUNTY, None, "5 8 1"),
        round_seed(DIGEST, ROOT, INSURER, COUNTY, "5 8 1"),  # the parties' order is fixed
    }
    assert seed not in others and len(others) == 8


@given(st.binary(min_size=16, max_size=64), st.binary(min_size=16, max_size=64))
def test_the_parts_cannot_be_shifted_between_the_secrets(a: bytes, b: bytes) -> None:
    if len(b) > 16:  # moving the last byte of one secret into the other gives another seed
        assert round_seed(DIGEST, ROOT, a, b, None) != round_seed(DIGEST, ROOT, a + b[:1], b[1:], None)


def test_seed_refusals() -> None:
    with pytest.raises(ValidationFailed, match="至少须有一方的秘密值"):
        round_seed(DIGEST, ROOT, None, None, "x")
    with pytest.raises(ValidationFailed, match="county_secret"):
        round_seed(DIGEST, ROOT, b"short", INSURER, None)
    with pytest.raises(ValidationFailed, match="checkpoint_root"):
        round_seed(DIGEST, b"", COUNTY, INSURER, None)


def test_commitments_and_reveals() -> None:
    assert commitment_of(COUNTY) == hashlib.sha256(COUNTY).digest()  # of the bytes, not of the hex text
    assert reveal_matches(COUNTY, commitment_of(COUNTY))
    assert not reveal_matches(INSURER, commitment_of(COUNTY))
    assert not reveal_matches(COUNTY.hex().encode(), commitment_of(COUNTY))
    assert parse_commitment(commitment_of(COUNTY).hex().upper()) == commitment_of(COUNTY)
    for bad in ("", "zz" * 32, "ab" * 31, "ab" * 33, "a" * 63):
        with pytest.raises(ValidationFailed):
            parse_commitment(bad)


def test_secrets_are_hex_of_16_to_512_bytes() -> None:
    assert parse_secret(" " + COUNTY.hex().upper() + "\n") == COUNTY
    with pytest.raises(ValidationFailed, match=r"至少 32 位（现为 30 位）"):
        parse_secret("ab" * 15)
    with pytest.raises(ValidationFailed, match=r"位数须为偶数（现为 33 位）"):
        parse_secret("a" * 33)
    with pytest.raises(ValidationFailed, match="只能包含十六进制数字"):
        parse_secret("g" * 32)
    with pytest.raises(ValidationFailed, match=r"最多 1024 位（现为 1026 位）"):
        parse_secret("ab" * 513)


def test_public_value_is_normalised_and_bounded() -> None:
    assert normalise_public_value("\t1  2\n3 ") == "1 2 3"
    with pytest.raises(ValidationFailed):
        normalise_public_value("   ")
    with pytest.raises(ValidationFailed):
        normalise_public_value("x" * 501)


def test_pass_over_only_after_the_last_day() -> None:
    last = reveal_deadline(date(2020, 6, 1), 7)
    assert last == date(2020, 6, 8)
    assert not may_pass_over(date(2020, 6, 8), last)
    assert may_pass_over(date(2020, 6, 9), last)
