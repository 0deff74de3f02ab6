"""For random trees: every proof verifies, and no tampered, truncated, extended or misdirected proof does."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.audit import merkle
from verifier.audit.merkle import ProofError, verify_consistency, verify_inclusion

MAX = 1100
LEAVES = [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()[: i % 40]) for i in range(MAX)]
TREE = merkle.MemoryTree(LEAVES)  # complete nodes never change, so one tree serves every prefix
ROOTS: dict[int, bytes] = {}


def root(size: int) -> bytes:
    if size not in ROOTS:
        ROOTS[size] = TREE.root(size)
    return ROOTS[size]


def inclusion_fails(leaf: bytes, index: int, size: int, proof: list[bytes], root_hash: bytes) -> bool:
    try:
        verify_inclusion(leaf, index, size, proof, root_hash)
    except ProofError:
        return True
    return False


def consistency_fails(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> bool:
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except ProofError:
        return True
    return False


def flip(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    out = list(proof)
    h = bytearray(out[element])
    h[bit // 8] ^= 1 << (bit % 8)
    out[element] = bytes(h)
    return out


@st.composite
def leaf_in_tree(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    second = draw(st.integers(1, MAX))
    return draw(st.integers(0, second)), second


@settings(max_examples=300, deadline=None)
@given(leaf_in_tree(), st.data())
def test_inclusion_proofs_verify_and_tampering_fails(position: tuple[int, int], data: st.DataObject) -> None:
    index, size = position
    leaf, proof = LEAVES[index], merkle.inclusion_proof(index, size, TREE)
    verify_inclusion(leaf, index, size, proof, root(size))
    assert len(proof) <= size.bit_length()

    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        assert inclusion_fails(leaf, index, size, flip(proof, element, bit), root(size))
        assert inclusion_fails(leaf, index, size, proof[:-1], root(size))  # truncated
        assert inclusion_fails(leaf, index, size, proof[1:], root(size))
    extra = data.draw(st.sampled_from([root(size), leaf, merkle.EMPTY_ROOT]))
    assert inclusion_fails(leaf, index, size, proof + [extra], root(size))  # extended
    assert inclusion_fails(leaf, index, size, [extra] + proof, root(size))
    assert inclusion_fails(merkle.leaf_hash(b"not this entry"), index, size, proof, root(size))

    other = data.draw(st.integers(0, size))  # `size` itself is out of range
    if other != index:
        assert inclusion_fails(leaf, other, size, proof, root(size))
    # Another size, with that size's real root (what a checkpoint of that size would commit to).
    wrong_size = data.draw(st.integers(1, MAX).filter(lambda s: s != size))
    if index < wrong_size:
        assert inclusion_fails(leaf, index, wrong_size, proof, root(wrong_size))
    assert inclusion_fails(leaf, index, size * 2, proof, root(size))
    assert inclusion_fails(leaf, index, size // 2, proof, root(size))


@settings(max_examples=300, deadline=None)
@given(two_sizes(), st.data())
def test_consistency_proofs_verify_and_tampering_fails(sizes: tuple[int, int], data: st.DataObject) -> None:
    first, second = sizes
    proof = merkle.consistency_proof(first, second, TREE)
    verify_consistency(first, second, proof, root(first), root(second))
    assert proof == merkle.reference_consistency_proof(LEAVES[:second], first) or second > 300

    extra = data.draw(st.sampled_from([root(first), root(second), merkle.EMPTY_ROOT]))
    assert consistency_fails(first, second, proof + [extra], root(first), root(second))
    assert consistency_fails(first, second, [extra] + proof, root(first), root(second))
    if not proof:
        return
    element = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    assert consistency_fails(first, second, flip(proof, element, bit), root(first), root(second))
    assert consistency_fails(first, second, proof[:-1], root(first), root(second))
    assert consistency_fails(first, second, proof[1:], root(first), root(second))
    assert consistency_fails(first, second, proof, root(second), root(first))
    assert consistency_fails(first, second, proof, root(first), merkle.leaf_hash(b"x"))
    # Other sizes, each with its own real root.
    wrong_first = data.draw(st.integers(1, second).filter(lambda s: s != first))
    assert consistency_fails(wrong_first, second, proof, root(wrong_first), root(second))
    wrong_second = data.draw(st.integers(first, MAX).filter(lambda s: s != second))
    if wrong_second != first:
        assert consistency_fails(first, wrong_second, proof, root(first), root(wrong_second))
    assert consistency_fails(first, second * 2, proof, root(first), root(second))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 300))
def test_production_proofs_equal_the_rfc_definitions(size: int) -> None:
    assert merkle.root_of(LEAVES[:size]) == root(size)
    for index in {0, size // 3, size // 2, size - 1} - {-1}:
        if 0 <= index < size:
            assert merkle.inclusion_proof(index, size, TREE) == merkle.reference_inclusion_proof(LEAVES[:size], index)
    for first in {0, 1, size // 2, size - 1, size}:
        if 0 <= first <= size:
            assert merkle.consistency_proof(first, size, TREE) == merkle.reference_consistency_proof(LEAVES[:size], first)
