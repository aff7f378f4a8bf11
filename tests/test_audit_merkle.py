"""The Merkle tree against RFC 9162 written out plainly, over random tree sizes.

The reference below is the RFC's recursive definitions transcribed line by line (MTH, PATH,
PROOF/SUBPROOF); the builder (edoc.audit.merkle) and the independent checker
(edoc.audit.check) must agree with it, and the checker must refuse every altered proof.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edoc.audit import check, merkle

# --- RFC 9162, section 2.1, transcribed -------------------------------------------------------


def ref_leaf(d: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + d).digest()


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return ref_leaf(d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# --- a built tree --------------------------------------------------------------------------------


def leaves(n: int) -> list[bytes]:
    return [f'{{"seq":{i},"x":"{"ก" * (i % 7)}"}}'.encode() for i in range(n)]


def build(d: list[bytes]) -> tuple[merkle.Frontier, dict[merkle.Node, bytes]]:
    """Append with the builder, keeping every node it reports, as storage does."""
    frontier = merkle.Frontier.empty()
    by_position: dict[int, bytes] = {}
    stored: dict[merkle.Node, bytes] = {}
    for i, leaf in enumerate(d):
        created: list[tuple[int, bytes]] = []
        h = merkle.leaf_hash(leaf)
        stored[(0, i)] = h
        frontier.append(h, created)
        by_position.update(created)
    # translate positions back to (level, index) the way storage looks them up
    for level in range(1, max(len(d), 1).bit_length() + 1):
        for index in range(len(d) >> level):
            stored[(level, index)] = by_position[merkle.node_position(level, index)]
    return frontier, stored


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(n=sizes)
def test_frontier_root_is_mth(n: int) -> None:
    d = leaves(n)
    frontier, stored = build(d)
    assert frontier.root() == ref_mth(d)
    assert merkle.root_of(n, stored.__getitem__) == ref_mth(d)
    checker = check.TreeChecker()
    for leaf in d:
        checker.add(check.hash_leaf(leaf))
    assert checker.root() == ref_mth(d)


@settings(max_examples=100, deadline=None)
@given(n=sizes, cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6))
def test_extend_equals_adding_one_by_one(n: int, cuts: list[int]) -> None:
    """The batch path of the whole-log check completes the same nodes as one leaf at a time,
    whatever the batches' boundaries."""
    digests = [check.hash_leaf(leaf) for leaf in leaves(n)]
    one = check.TreeChecker()
    expected = [(i, level, h) for i, d in enumerate(digests) for level, h in one.add(d)]
    batched = check.TreeChecker()
    got: list[tuple[int, int, bytes]] = []
    bounds = sorted({0, n, *(c for c in cuts if c < n)})
    for start, stop in itertools.pairwise(bounds):
        got += zip(*batched.extend(digests[start:stop]), strict=True)
    assert got == expected
    assert batched.size == one.size == n and batched.stack == one.stack
    assert batched.root() == ref_mth(leaves(n))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_proofs_match_the_rfc_and_verify(data: st.DataObject, n: int) -> None:
    d = leaves(n)
    _, stored = build(d)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    size = data.draw(st.integers(min_value=m + 1, max_value=n))
    path = merkle.assemble(merkle.inclusion_ranges(m, size), stored.__getitem__)
    assert path == ref_path(m, d[:size])
    assert len(path) <= (size - 1).bit_length()  # ceil(log2 n) hashes at most
    root = ref_mth(d[:size])
    assert check.verify_inclusion(ref_leaf(d[m]), m, size, path, root)
    # every alteration is refused
    assert not check.verify_inclusion(ref_leaf(d[m] + b" "), m, size, path, root)
    if size > 1:
        assert not check.verify_inclusion(ref_leaf(d[m]), (m + 1) % size, size, path, root)
        i = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        bad = list(path)
        bad[i] = bytes(32) if bad[i] != bytes(32) else b"\x01" * 32
        assert not check.verify_inclusion(ref_leaf(d[m]), m, size, bad, root)
        assert not check.verify_inclusion(ref_leaf(d[m]), m, size, path[:-1], root)
        assert not check.verify_inclusion(ref_leaf(d[m]), m, size, [*path, bytes(32)], root)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=sizes)
def test_consistency_proofs_match_the_rfc_and_verify(data: st.DataObject, n: int) -> None:
    d = leaves(n)
    _, stored = build(d)
    new = data.draw(st.integers(min_value=1, max_value=n))
    old = data.draw(st.integers(min_value=1, max_value=new))
    proof = merkle.assemble(merkle.consistency_ranges(old, new), stored.__getitem__)
    assert proof == ref_proof(old, d[:new])
    assert len(proof) <= (new - 1).bit_length() + 1
    old_root, new_root = ref_mth(d[:old]), ref_mth(d[:new])
    assert check.verify_consistency(old, new, old_root, new_root, proof)
    if old < new:
        assert not check.verify_consistency(old, new, new_root, old_root, proof)
        assert not check.verify_consistency(old, new, old_root, ref_mth([*d[:new - 1], b"forged"]), proof)
        i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = list(proof)
        bad[i] = bytes(32)
        assert not check.verify_consistency(old, new, old_root, new_root, bad)
        assert not check.verify_consistency(old, new, old_root, new_root, proof[:-1])
        # a rewritten history is not consistent with the old root
        rewritten = [*d[: old - 1], b"changed", *d[old:new]]
        _, other = build(rewritten)
        forged = merkle.assemble(merkle.consistency_ranges(old, new), other.__getitem__)
        assert not check.verify_consistency(old, new, old_root, ref_mth(rewritten), forged)


def test_edges() -> None:
    empty = hashlib.sha256(b"").digest()
    assert merkle.Frontier.empty().root() == empty == check.TreeChecker().root()
    assert check.verify_consistency(0, 5, empty, ref_mth(leaves(5)), [])
    assert check.verify_consistency(5, 5, ref_mth(leaves(5)), ref_mth(leaves(5)), [])
    assert not check.verify_consistency(5, 5, ref_mth(leaves(5)), ref_mth(leaves(5)), [empty])
    assert not check.verify_consistency(6, 5, empty, empty, [])
    assert not check.verify_inclusion(empty, 0, 0, [], empty)
    assert not check.verify_inclusion(empty, -1, 3, [], empty)
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(3, 3)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(0, 3)
    with pytest.raises(ValueError):
        merkle.Frontier(3, [empty])


def test_node_positions_are_creation_order() -> None:
    frontier = merkle.Frontier.empty()
    created: list[tuple[int, bytes]] = []
    seen_leaf_positions = []
    for i in range(1000):
        seen_leaf_positions.append(2 * i - i.bit_count())
        frontier.append(ref_leaf(b"%d" % i), created)
    positions = [p for p, _ in created]
    assert positions == sorted(positions)
    assert not set(positions) & set(seen_leaf_positions)
    assert sorted(positions + seen_leaf_positions) == list(range(len(positions) + 1000))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=2, max_value=5000), data=st.data())
def test_large_sizes_spot_checks(n: int, data: st.DataObject) -> None:
    """Bigger trees, checked through the independent checker only (the reference is slow)."""
    d = [b"%d" % i for i in range(n)]
    frontier, stored = build(d)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    path = merkle.assemble(merkle.inclusion_ranges(m, n), stored.__getitem__)
    assert len(path) <= (n - 1).bit_length()
    assert check.verify_inclusion(check.hash_leaf(d[m]), m, n, path, frontier.root())
    old = data.draw(st.integers(min_value=1, max_value=n))
    proof = merkle.assemble(merkle.consistency_ranges(old, n), stored.__getitem__)
    assert check.verify_consistency(old, n, merkle.root_of(old, stored.__getitem__), frontier.root(), proof)


def test_checker_shares_nothing_with_the_builder() -> None:
    import ast
    from pathlib import Path

    source = Path(check.__file__).read_text(encoding="utf-8")
    imported = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } | {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported == {"hashlib"}
