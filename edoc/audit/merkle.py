"""The Merkle tree of the audit log, as RFC 9162 (Certificate Transparency v2) defines it.

This module *builds*: it appends leaves to the tree's right edge (the compact range, or
*frontier*), names every node it creates so storage can keep it, and assembles inclusion and
consistency proofs from stored nodes. The code that *checks* proofs is elsewhere
(:mod:`edoc.audit.check`) and shares nothing with this module but :mod:`hashlib`, so a bug here
cannot hide itself there.

Hashes (RFC 9162, section 2.1.1)::

    leaf hash  = SHA-256(0x00 || leaf)
    node hash  = SHA-256(0x01 || left || right)

A *perfect node* is the root of a perfect subtree: ``(level, index)`` covers leaves
``[index * 2**level, (index + 1) * 2**level)``. Level 0 nodes are leaf hashes. Storage keeps
the leaf hashes beside the events and the higher nodes under their *position*: the order in
which appending creates them (a Merkle-mountain-range numbering), so the nodes of the tree are
written, and can be re-read, in one ascending stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
"""Bytes in a SHA-256 hash."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: SHA-256 of nothing (RFC 9162, section 2.1.1)."""

Node = tuple[int, int]
"""A perfect node: ``(level, index)``."""


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def node_position(level: int, index: int) -> int:
    """Where appending creates node ``(level, index)`` among all nodes (leaves included).

    The last leaf under the node is ``i = (index + 1) * 2**level - 1``; before leaf ``i`` the
    tree holds ``2i - popcount(i)`` nodes; the leaf comes next, then its merges, one per level.
    """
    last = ((index + 1) << level) - 1
    return 2 * last - last.bit_count() + level


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


@dataclass
class Frontier:
    """The right edge of the tree: the roots of its perfect subtrees, biggest first.

    With ``size`` leaves, there is one hash per set bit of ``size``. Appending a leaf merges
    equal-sized subtrees (like a binary counter's carry), so it costs O(log n) amortised O(1).
    """

    size: int
    """Leaves in the tree."""
    hashes: list[bytes]
    """Roots of the perfect subtrees, left to right (biggest first)."""

    @classmethod
    def empty(cls) -> Frontier:
        return cls(0, [])

    def __post_init__(self) -> None:
        if len(self.hashes) != self.size.bit_count():
            raise ValueError(
                f"a frontier of size {self.size} has {self.size.bit_count()} hashes, not {len(self.hashes)}"
            )

    def append(self, leaf_digest: bytes, created: list[tuple[int, bytes]] | None = None) -> None:
        """Add a leaf (given its leaf hash); record the nodes it completes as (position, hash)."""
        index = self.size
        node = leaf_digest
        level = 0
        hashes = self.hashes
        while (index >> level) & 1:
            node = hashlib.sha256(b"\x01" + hashes.pop() + node).digest()
            level += 1
            if created is not None:
                created.append((node_position(level, index >> level), node))
        hashes.append(node)
        self.size = index + 1

    def root(self) -> bytes:
        """MTH of the whole tree."""
        if not self.hashes:
            return EMPTY_ROOT
        it = reversed(self.hashes)
        node = next(it)
        for left in it:
            node = node_hash(left, node)
        return node

    def copy(self) -> Frontier:
        return Frontier(self.size, list(self.hashes))


def range_nodes(start: int, stop: int) -> list[Node]:
    """The perfect nodes whose right fold is MTH(D[start:stop]).

    ``start`` must be aligned as RFC 9162's recursion leaves it: a multiple of the biggest
    power of two not above ``stop - start``.
    """
    if stop <= start:
        raise ValueError("empty range")
    out: list[Node] = []
    size = stop - start
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"range [{start}, {stop}) is not aligned")
            out.append((level, pos >> level))
            pos += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of perfect-subtree roots (biggest first) into one root."""
    node = hashes[-1]
    for left in reversed(hashes[:-1]):
        node = node_hash(left, node)
    return node


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtree ranges whose MTHs form PATH(index, D[size]), leaf end first (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index - lo < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The subtree ranges whose MTHs form PROOF(old, D[new]) (RFC 9162 2.1.4.1)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, new, old, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    out.reverse()
    return out


def needed_nodes(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Every perfect node the ranges need."""
    out: set[Node] = set()
    for start, stop in ranges:
        out.update(range_nodes(start, stop))
    return out


def assemble(ranges: Sequence[tuple[int, int]], nodes: Callable[[Node], bytes]) -> list[bytes]:
    """The MTH of each range, from perfect nodes looked up with ``nodes``."""
    return [fold([nodes(n) for n in range_nodes(start, stop)]) for start, stop in ranges]


def root_of(size: int, nodes: Callable[[Node], bytes]) -> bytes:
    """MTH(D[size]) from stored perfect nodes."""
    if size == 0:
        return EMPTY_ROOT
    return fold([nodes(n) for n in range_nodes(0, size)])
