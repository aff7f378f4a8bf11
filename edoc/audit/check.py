"""Checking the audit log's Merkle proofs and roots, independently of the code that builds them.

This module imports nothing but :mod:`hashlib` (no edoc module, not even the builder in
:mod:`edoc.audit.merkle`), so an auditor can read it in one sitting, copy it, and trust it
without trusting the rest of edoc. It follows RFC 9162 (Certificate Transparency v2):

- :func:`verify_inclusion`: section 2.1.3.2, "Verifying an Inclusion Proof";
- :func:`verify_consistency`: section 2.1.4.2, "Verifying Consistency between Two Tree Heads";
- :class:`TreeChecker`: recomputes the tree from the leaves, in one pass, keeping the root of
  every size asked for and the perfect nodes as they complete.
"""

import hashlib

__all__ = ["TreeChecker", "hash_children", "hash_leaf", "verify_consistency", "verify_inclusion"]


def hash_leaf(leaf: bytes) -> bytes:
    """RFC 9162: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf_digest: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """True when ``path`` proves that the leaf with hash ``leaf_digest`` is leaf ``index`` of
    the tree of ``size`` leaves whose root is ``root`` (RFC 9162, 2.1.3.2)."""
    if not (isinstance(index, int) and isinstance(size, int)) or index < 0 or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_digest
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """True when ``proof`` shows that the tree of ``old_size`` leaves with root ``old_root`` is
    a prefix of the tree of ``new_size`` leaves with root ``new_root`` (RFC 9162, 2.1.4.2)."""
    if not (isinstance(old_size, int) and isinstance(new_size, int)) or old_size < 0 or new_size < old_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class TreeChecker:
    """The tree recomputed from its leaves, one leaf at a time.

    ``stack`` holds the roots of the perfect subtrees on the right edge, biggest first (one per
    set bit of ``size``). :meth:`add` returns the perfect nodes of level >= 1 that the new leaf
    completes, as ``(level, hash)``, lowest first (none for a leaf at an even index).
    """

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []

    def add(self, leaf_digest: bytes) -> list[tuple[int, bytes]]:
        """Add the next leaf, given its leaf hash."""
        index = self.size
        self.size = index + 1
        if not index & 1:
            self.stack.append(leaf_digest)
            return []
        stack = self.stack
        completed = []
        level, h = 0, leaf_digest
        while index & 1:
            h = hashlib.sha256(b"\x01" + stack.pop() + h).digest()
            level += 1
            completed.append((level, h))
            index >>= 1
        stack.append(h)
        return completed

    def extend(self, digests: list[bytes]) -> tuple[list[int], list[int], list[bytes]]:
        """Add leaves in order, given their leaf hashes, as :meth:`add` one by one would.

        Returns the perfect nodes of level >= 1 the leaves complete, in the order they complete,
        as three parallel lists: the index of the leaf that completed each, its level, its hash.
        """
        sha256 = hashlib.sha256
        stack = self.stack
        push = stack.append
        pop = stack.pop
        leaves: list[int] = []
        levels: list[int] = []
        hashes: list[bytes] = []
        index = self.size
        for h in digests:
            if index & 1:
                i, level = index, 0
                while i & 1:
                    h = sha256(b"\x01" + pop() + h).digest()
                    level += 1
                    leaves.append(index)
                    levels.append(level)
                    hashes.append(h)
                    i >>= 1
            push(h)
            index += 1
        self.size = index
        return leaves, levels, hashes

    def root(self) -> bytes:
        """MTH of the leaves added so far (SHA-256 of nothing for none)."""
        if not self.stack:
            return hashlib.sha256(b"").digest()
        h = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            h = hash_children(left, h)
        return h
