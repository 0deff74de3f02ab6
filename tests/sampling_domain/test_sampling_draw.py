"""The seeded draw: digests, seed derivation, rejection sampling, Fisher-Yates, strata and monetary units."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.domain.errors import ValidationFailed
from verifier.domain.sample_draw import _mus_pick, _rejection_sample
from verifier.domain.sampling import (
    allocate,
    derive_seed,
    draw_sample,
    draw_stratified,
    mus_select,
    population_digest,
    stratum_seed,
    uniform_below,
)

POPULATION = [f"case-{i:04d}" for i in range(1000)]
ROOT = hashlib.sha256(b"checkpoint root").digest()
RANDOMNESS = bytes.fromhex("3141592653589793238462643383279502884197169399375105820974944592")


def seed_for(randomness: bytes = RANDOMNESS) -> bytes:
    return derive_seed(population_digest(POPULATION), ROOT, randomness)


SEED = seed_for()


# ---------------------------------------------------------------------------------------------------- byte layouts


def test_population_digest_hashes_the_sorted_ids_joined_by_newlines() -> None:
    assert population_digest(["c2", "a1", "b3"]) == hashlib.sha256(b"a1\nb3\nc2").digest()
    assert population_digest([]) == hashlib.sha256(b"").digest()
    assert population_digest(POPULATION) == population_digest(list(reversed(POPULATION)))


@pytest.mark.parametrize("ids", [["a", "a"], ["a", ""], ["a\nb"], ["a", 3]])
def test_population_digest_refuses_ambiguous_ids(ids: list) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationFailed):
        population_digest(ids)


def test_seed_is_sha256_over_length_prefixed_parts() -> None:
    digest = population_digest(POPULATION)
    message = b"".join(len(part).to_bytes(4, "big") + part for part in (digest, ROOT, RANDOMNESS))
    assert SEED == hashlib.sha256(message).digest()
    # the length prefixes keep the parts apart: moving a byte across a boundary changes the seed
    assert derive_seed(digest, ROOT, b"\x01\x02") != derive_seed(digest, ROOT + b"\x01", b"\x02")
    with pytest.raises(ValidationFailed):
        derive_seed(digest, ROOT, b"")


def test_uniform_below_follows_the_specified_counter_hashes() -> None:
    bound = 1000
    limit = 2**256 - 2**256 % bound
    counter = 7
    while True:
        word = int.from_bytes(hashlib.sha256(SEED + counter.to_bytes(8, "big")).digest(), "big")
        counter += 1
        if word < limit:
            break
    assert uniform_below(SEED, 7, bound) == (word % bound, counter)


def test_uniform_below_rejects_words_above_the_last_whole_multiple() -> None:
    bound = 2**255 + 1  # the largest multiple not above 2^256 is the bound itself: about half the words are rejected
    counters = []
    counter = 0
    for _ in range(64):
        value, after = uniform_below(SEED, counter, bound)
        assert 0 <= value < bound
        word = int.from_bytes(hashlib.sha256(SEED + (after - 1).to_bytes(8, "big")).digest(), "big")
        assert word == value  # accepted words are below the bound, so taken as they are
        counters.append(after - counter)
        counter = after
    assert max(counters) > 1  # some words were rejected
    assert uniform_below(SEED, 0, 1) == (0, 1)
    with pytest.raises(ValidationFailed):
        uniform_below(SEED, 0, 0)
    with pytest.raises(ValidationFailed):
        uniform_below(b"short", 0, 10)


def test_rejection_sampling_is_exactly_uniform_over_every_two_bit_source() -> None:
    # With 2-bit words and bound 3, word 3 is rejected and 0, 1, 2 map to themselves. Over every sequence of
    # three words, the values returned for each are counted by their probability under a uniform source.
    outcomes: Counter[int] = Counter()
    for words in itertools.product(range(4), repeat=3):
        try:
            value, _ = _rejection_sample(lambda i: words[i], 2, 0, 3)
        except IndexError:  # all three words rejected: probability 1/64, no value
            continue
        outcomes[value] += 1
    assert outcomes[0] == outcomes[1] == outcomes[2] == 21
    # no modulo bias with a power-of-two bound either: nothing is rejected
    assert [_rejection_sample(lambda i: w, 2, 0, 2)[0] for w in range(4)] == [0, 1, 0, 1]


def test_uniform_below_passes_a_chi_square_test() -> None:
    bound, draws = 6, 30_000
    counts: Counter[int] = Counter()
    counter = 0
    for _ in range(draws):
        value, counter = uniform_below(SEED, counter, bound)
        counts[value] += 1
    expected = draws / bound
    chi_square = sum((counts[v] - expected) ** 2 / expected for v in range(bound))
    assert chi_square < 20.52  # 5 degrees of freedom, p = 0.001


# ---------------------------------------------------------------------------------------------------- draw


def test_same_seed_same_sample() -> None:
    first = draw_sample(SEED, POPULATION, 59)
    assert draw_sample(seed_for(), list(reversed(POPULATION)), 59) == first
    assert len(set(first)) == 59 and set(first) <= set(POPULATION)


def test_flipping_any_bit_of_the_randomness_changes_the_sample() -> None:
    original = set(draw_sample(SEED, POPULATION, 59))
    for bit in range(len(RANDOMNESS) * 8):
        flipped = bytearray(RANDOMNESS)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert set(draw_sample(seed_for(bytes(flipped)), POPULATION, 59)) != original, bit


def test_population_or_checkpoint_changes_the_sample() -> None:
    original = draw_sample(SEED, POPULATION, 59)
    other_root = hashlib.sha256(b"another checkpoint").digest()
    assert draw_sample(derive_seed(population_digest(POPULATION), other_root, RANDOMNESS), POPULATION, 59) != original


def test_a_larger_draw_extends_the_smaller_one() -> None:
    first = draw_sample(SEED, POPULATION, 59)
    both = draw_sample(SEED, POPULATION, 59 + 34)
    assert both[:59] == first
    assert not set(both[59:]) & set(first)


def test_draw_edges() -> None:
    assert draw_sample(SEED, POPULATION, 0) == []
    assert sorted(draw_sample(SEED, POPULATION[:20], 20)) == POPULATION[:20]
    with pytest.raises(ValidationFailed):
        draw_sample(SEED, POPULATION[:20], 21)
    with pytest.raises(ValidationFailed):
        draw_sample(SEED, ["a", "a"], 1)


@settings(max_examples=100, deadline=None)
@given(size=st.integers(0, 60), data=st.data(), seed=st.binary(min_size=32, max_size=32))
def test_draw_gives_distinct_members(size: int, data: st.DataObject, seed: bytes) -> None:
    ids = [f"id{i}" for i in range(size)]
    n = data.draw(st.integers(0, size))
    sample = draw_sample(seed, ids, n)
    assert len(sample) == n == len(set(sample)) and set(sample) <= set(ids)


def test_every_position_is_equally_likely() -> None:
    # Drawing 1 of 4 under 4,000 different seeds: each id about a quarter of the time.
    ids = ["a", "b", "c", "d"]
    counts = Counter(draw_sample(hashlib.sha256(i.to_bytes(4, "big")).digest(), ids, 1)[0] for i in range(4000))
    chi_square = sum((counts[x] - 1000) ** 2 / 1000 for x in ids)
    assert chi_square < 16.27  # 3 degrees of freedom, p = 0.001


# ---------------------------------------------------------------------------------------------------- strata


def test_stratified_draw_uses_a_seed_per_stratum() -> None:
    strata = {"town-b": POPULATION[600:], "town-a": POPULATION[:600]}
    allocation = allocate({name: len(ids) for name, ids in strata.items()}, 59)
    assert allocation == {"town-a": 35, "town-b": 24}
    drawn = draw_stratified(SEED, strata, allocation)
    assert list(drawn) == ["town-a", "town-b"]
    assert drawn["town-a"] == draw_sample(stratum_seed(SEED, "town-a"), POPULATION[:600], 35)
    assert drawn["town-a"] == draw_sample(SEED, POPULATION[:600], 35, stratum_label="town-a")
    assert stratum_seed(SEED, "town-a") == hashlib.sha256(SEED + "town-a".encode()).digest()
    assert {len(ids) for ids in drawn.values()} == {35, 24}
    assert draw_stratified(SEED, strata, allocation) == drawn


def test_stratified_draw_refusals() -> None:
    with pytest.raises(ValidationFailed):
        draw_stratified(SEED, {"a": ["x"], "b": ["x"]}, {"a": 1, "b": 1})  # a case in two strata
    with pytest.raises(ValidationFailed):
        draw_stratified(SEED, {"a": ["x"]}, {"z": 1})
    assert draw_stratified(SEED, {"a": ["x"], "b": ["y"]}, {"a": 1}) == {"a": ["x"], "b": []}


# ---------------------------------------------------------------------------------------------------- monetary units


def test_mus_selection_by_hand() -> None:
    items = [("c", 500), ("a", 100), ("b", 400), ("d", 0)]  # in id order: a 1-100, b 101-500, c 501-1000
    # total 1000, n 2: interval 500, start in [1, 500]
    start = 1 + uniform_below(SEED, 0, 500)[0]
    chosen = mus_select(SEED, items, 2)
    assert "c" in chosen and "d" not in chosen
    assert chosen == (["a", "c"] if start <= 100 else ["b", "c"])
    assert _mus_pick([("a", 100), ("b", 400), ("c", 500)], 500, 100) == ["a", "c"]
    assert _mus_pick([("a", 100), ("b", 400), ("c", 500)], 500, 101) == ["b", "c"]


def test_mus_edges() -> None:
    assert mus_select(SEED, [("a", 5), ("b", 0)], 0) == []
    assert mus_select(SEED, [("a", 0), ("b", 0)], 3) == []
    assert mus_select(SEED, [("a", 1), ("b", 0), ("c", 2)], 10) == ["a", "c"]  # interval 0: every positive item
    with pytest.raises(ValidationFailed):
        mus_select(SEED, [("a", 1.5)], 1)  # type: ignore[list-item]
    with pytest.raises(ValidationFailed):
        mus_select(SEED, [("a", 1), ("a", 2)], 1)


def test_mus_inclusion_is_proportional_to_the_amount_over_every_start() -> None:
    items = [("a", 3), ("b", 10), ("c", 1), ("d", 7), ("e", 4), ("f", 0), ("g", 15)]
    interval = 40 // 4
    hits: Counter[str] = Counter()
    for start in range(1, interval + 1):
        hits.update(_mus_pick(items, interval, start))
    for case_id, amount in items:
        assert hits[case_id] == min(amount, interval)


@settings(max_examples=150, deadline=None)
@given(
    amounts=st.lists(st.integers(0, 10**7), min_size=1, max_size=40),
    n=st.integers(1, 30),
    seed=st.binary(min_size=32, max_size=32),
)
def test_mus_always_takes_items_at_or_above_the_interval(amounts: list[int], n: int, seed: bytes) -> None:
    items = [(f"pay-{i:03d}", amount) for i, amount in enumerate(amounts)]
    chosen = mus_select(seed, items, n)
    total = sum(amounts)
    assert len(chosen) == len(set(chosen))
    assert chosen == sorted(chosen)
    if total == 0:
        assert chosen == []
        return
    interval = total // n
    if interval == 0:
        assert chosen == [case_id for case_id, amount in items if amount > 0]
        return
    assert len(chosen) <= n + 1
    for case_id, amount in items:
        if amount >= interval:
            assert case_id in chosen
        if amount == 0:
            assert case_id not in chosen
    assert mus_select(seed, list(reversed(items)), n) == chosen
