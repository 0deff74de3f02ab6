"""The published RFC 6962 test vectors of transparency-dev/merkle, with the same corrupted probes that must fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.audit import merkle
from verifier.audit.merkle import ProofError, verify_consistency, verify_inclusion

V = json.loads((Path(__file__).parent / "data" / "merkle_vectors.json").read_text())
LEAVES = [bytes.fromhex(x) for x in V["leaves"]]
LEAF_HASHES = [merkle.leaf_hash(x) for x in LEAVES]
ROOTS = [bytes.fromhex(x) for x in V["roots"]]
SOME_HASH = bytes.fromhex(V["some_hash"])
EMPTY_TREE_HASH = bytes.fromhex(V["empty_tree_hash"])


def _proof(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def _fails_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    try:
        verify_inclusion(leaf, index, size, proof, root)
    except ProofError:
        return True
    return False


def _fails_consistency(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> bool:
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except ProofError:
        return True
    return False


def corrupt_inclusion(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    """The probes of the source's corruptInclusionProof."""
    yield "leafIndex - 1", (leaf, index - 1, size, proof, root)
    yield "leafIndex + 1", (leaf, index + 1, size, proof, root)
    yield "leafIndex ^ 2", (leaf, index ^ 2, size, proof, root)
    yield "treeSize * 2", (leaf, index, size * 2, proof, root)
    yield "treeSize / 2", (leaf, index, size // 2, proof, root)
    yield "wrong leaf", (b"WrongLeaf", index, size, proof, root)
    yield "empty root", (leaf, index, size, proof, EMPTY_TREE_HASH)
    yield "random root", (leaf, index, size, proof, SOME_HASH)
    yield "trailing garbage", (leaf, index, size, proof + [b""], root)
    yield "trailing root", (leaf, index, size, proof + [root], root)
    yield "preceding garbage", (leaf, index, size, [b""] + proof, root)
    yield "preceding root", (leaf, index, size, [root] + proof, root)
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        yield f"modified proof[{i}] bit 3", (leaf, index, size, wrong, root)
    if proof:
        yield "removed component", (leaf, index, size, proof[:-1], root)
    if len(proof) > 1:
        yield "inserted component", (leaf, index, size, [proof[0], SOME_HASH] + proof[1:], root)


def corrupt_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]):
    """The probes of the source's corruptConsistencyProof."""
    yield "size1 - 1", (size1 - 1, size2, proof, root1, root2)
    yield "size1 + 1", (size1 + 1, size2, proof, root1, root2)
    yield "size1 ^ 2", (size1 ^ 2, size2, proof, root1, root2)
    yield "size2 * 2", (size1, size2 * 2, proof, root1, root2)
    yield "size2 / 2", (size1, size2 // 2, proof, root1, root2)
    yield "wrong root1", (size1, size2, proof, b"WrongRoot", root2)
    yield "wrong root2", (size1, size2, proof, root1, b"WrongRoot")
    yield "swapped roots", (size1, size2, proof, root2, root1)
    yield "empty proof", (size1, size2, [], root1, root2)
    yield "trailing garbage", (size1, size2, proof + [b""], root1, root2)
    yield "trailing root1", (size1, size2, proof + [root1], root1, root2)
    yield "trailing root2", (size1, size2, proof + [root2], root1, root2)
    yield "preceding garbage", (size1, size2, [b""] + proof, root1, root2)
    yield "preceding root1", (size1, size2, [root1] + proof, root1, root2)
    yield "preceding root2", (size1, size2, [root2] + proof, root1, root2)
    yield "preceding proof[0]", (size1, size2, [proof[0]] + proof, root1, root2)
    if proof:
        yield "truncated proof", (size1, size2, proof[:-1], root1, root2)
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        yield f"modified proof[{i}] bit 4", (size1, size2, wrong, root1, root2)


def test_roots_of_the_eight_standard_leaves() -> None:
    for size in range(1, 9):
        assert merkle.root_of(LEAF_HASHES[:size]) == ROOTS[size - 1]
        assert merkle.MemoryTree(LEAF_HASHES[:size]).root() == ROOTS[size - 1]
        compact = merkle.CompactRange()
        for leaf in LEAF_HASHES[:size]:
            compact.append(leaf)
        assert compact.root() == ROOTS[size - 1]
    assert ROOTS[7].hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle.root_of([]) == EMPTY_TREE_HASH == merkle.CompactRange().root()


@pytest.mark.parametrize("vector", V["inclusion_proofs"][1:], ids=lambda v: f"leaf{v['leaf']}-size{v['size']}")
def test_inclusion_vectors_verify_and_every_corruption_fails(vector: dict) -> None:
    index, size, proof = vector["leaf"] - 1, vector["size"], _proof(vector["proof"])
    leaf, root = LEAF_HASHES[index], ROOTS[size - 1]
    assert merkle.root_from_inclusion_proof(leaf, index, size, proof) == root
    verify_inclusion(leaf, index, size, proof, root)
    # Both the RFC's recursive definition and the node-source generator produce exactly the vector.
    assert merkle.reference_inclusion_proof(LEAF_HASHES[:size], index) == proof
    assert merkle.inclusion_proof(index, size, merkle.MemoryTree(LEAF_HASHES[:size])) == proof
    wrongly_accepted = [desc for desc, args in corrupt_inclusion(index, size, proof, root, leaf)
                        if not _fails_inclusion(*args)]
    assert wrongly_accepted == []


def test_inclusion_single_entry() -> None:
    h = merkle.leaf_hash(b"data")
    verify_inclusion(h, 0, 1, [], h)
    for root, leaf in ((h, b""), (b"", h), (b"", b"")):
        assert _fails_inclusion(leaf, 0, 1, [], root)


def test_inclusion_impossible_positions_fail() -> None:
    for index, size in ((0, 0), (0, 1), (1, 0), (2, 1)):
        assert _fails_inclusion(SOME_HASH, index, size, [], b"")
        assert _fails_inclusion(b"", index, size, [], EMPTY_TREE_HASH)
        assert _fails_inclusion(SOME_HASH, index, size, [], EMPTY_TREE_HASH)


@pytest.mark.parametrize("vector", V["consistency_proofs"], ids=lambda v: f"{v['size1']}-{v['size2']}")
def test_consistency_vectors_verify_and_every_corruption_fails(vector: dict) -> None:
    size1, size2, proof = vector["size1"], vector["size2"], _proof(vector["proof"])
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    verify_consistency(size1, size2, proof, root1, root2)
    assert merkle.reference_consistency_proof(LEAF_HASHES[:size2], size1) == proof
    assert merkle.consistency_proof(size1, size2, merkle.MemoryTree(LEAF_HASHES[:size2])) == proof
    if not proof:
        return
    wrongly_accepted = [desc for desc, args in corrupt_consistency(size1, size2, root1, root2, proof)
                        if not _fails_consistency(*args)]
    assert wrongly_accepted == []


def _root(spec: str) -> bytes:
    if spec == "empty":
        return EMPTY_TREE_HASH
    return spec.removeprefix("text:").encode()


@pytest.mark.parametrize("case", V["consistency_table"], ids=lambda c: f"{c['size1']}-{c['size2']}-{c['want_error']}")
def test_consistency_edge_cases(case: dict) -> None:
    proof = [EMPTY_TREE_HASH if p == "empty" else bytes.fromhex(p) for p in case["proof"]]
    failed = _fails_consistency(case["size1"], case["size2"], proof, _root(case["root1"]), _root(case["root2"]))
    assert failed is case["want_error"]


def test_range_nodes_decompose_subtrees() -> None:
    assert merkle.range_nodes(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert merkle.range_nodes(8, 13) == [(2, 2), (0, 12)]
    assert merkle.range_nodes(0, 0) == []
    with pytest.raises(ValueError):
        merkle.range_nodes(3, 7)  # not a subtree of any left-balanced tree


def test_compact_range_reports_the_nodes_each_append_completes() -> None:
    compact = merkle.CompactRange()
    created = [compact.append(leaf) for leaf in LEAF_HASHES]
    assert [[(lvl, i) for lvl, i, _ in c] for c in created] == [
        [], [(1, 0)], [], [(1, 1), (2, 0)], [], [(1, 2)], [], [(1, 3), (2, 1), (3, 0)],
    ]
    assert created[-1][-1][2] == ROOTS[7]
    packed = merkle.CompactRange.from_bytes(compact.size, compact.to_bytes())
    assert packed.root() == ROOTS[7] and packed.nodes() == [(3, 0)]
