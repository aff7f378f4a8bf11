"""Inclusion and consistency proofs as values an auditor can keep, pass on and check offline.

An inclusion proof carries the event itself (its leaf), the ``ceil(log2 n)`` hashes of its
audit path, and the checkpoint whose root it leads to; checking it needs only this value, the
office's audit public key and :mod:`edoc.audit.check`.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from edoc.audit import check
from edoc.audit.checkpoint import AuditPublicKey, Checkpoint, checkpoint_signature_ok


@dataclass(frozen=True)
class InclusionProof:
    """Event ``seq`` is leaf ``seq`` of the tree of ``size`` events whose root is ``root``."""

    seq: int
    """The event (its sequence number is its leaf index)."""
    size: int
    """Size of the tree proved against."""
    leaf: bytes
    """The event's canonical JSON: what the tree hashes."""
    path: tuple[bytes, ...]
    """Sibling hashes from the leaf up (RFC 9162 PATH)."""
    root: bytes
    """Root of the tree of ``size`` events."""
    checkpoint: Checkpoint | None
    """The signed checkpoint of that size, or None when no checkpoint covers the event yet."""

    @property
    def leaf_hash(self) -> bytes:
        return hashlib.sha256(b"\x00" + self.leaf).digest()

    def check(self, key: AuditPublicKey | None = None) -> str | None:
        """Why the proof fails, or None when it holds (and, given ``key``, is signed by it)."""
        if not check.verify_inclusion(check.hash_leaf(self.leaf), self.seq, self.size, list(self.path), self.root):
            return "the audit path does not lead from the event to the root"
        if self.checkpoint is not None:
            if (self.checkpoint.size, self.checkpoint.root) != (self.size, self.root):
                return "the checkpoint is for another tree"
            if key is not None and not checkpoint_signature_ok(self.checkpoint, key):
                return "the checkpoint is not signed by the audit key given"
        elif key is not None:
            return "no signed checkpoint covers this event yet"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "edoc-audit-inclusion/v1",
            "seq": self.seq,
            "size": self.size,
            "leaf": self.leaf.decode(),
            "leaf_hash": self.leaf_hash.hex(),
            "path": [h.hex() for h in self.path],
            "root": self.root.hex(),
            "checkpoint": self.checkpoint.to_json() if self.checkpoint else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InclusionProof:
        try:
            cp = data.get("checkpoint")
            return cls(
                seq=int(data["seq"]),
                size=int(data["size"]),
                leaf=str(data["leaf"]).encode(),
                path=tuple(bytes.fromhex(h) for h in data["path"]),
                root=bytes.fromhex(data["root"]),
                checkpoint=Checkpoint.from_json(cp) if cp else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an inclusion proof: {exc}") from None


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``old_size`` events is a prefix of the tree of ``new_size`` events."""

    old_size: int
    """Size of the older tree."""
    new_size: int
    """Size of the newer tree."""
    old_root: bytes
    """Root of the older tree."""
    new_root: bytes
    """Root of the newer tree."""
    path: tuple[bytes, ...]
    """RFC 9162 PROOF(old_size, D[new_size])."""
    old_checkpoint: Checkpoint | None = None
    """The signed checkpoint of the older size, if there is one."""
    new_checkpoint: Checkpoint | None = None
    """The signed checkpoint of the newer size, if there is one."""

    def check(self, key: AuditPublicKey | None = None) -> str | None:
        """Why the proof fails, or None when it holds."""
        if not check.verify_consistency(self.old_size, self.new_size, self.old_root, self.new_root, list(self.path)):
            return "the newer tree does not extend the older one"
        for cp, size, root in (
            (self.old_checkpoint, self.old_size, self.old_root),
            (self.new_checkpoint, self.new_size, self.new_root),
        ):
            if cp is None:
                continue
            if (cp.size, cp.root) != (size, root):
                return f"the checkpoint of size {cp.size} is for another tree"
            if key is not None and not checkpoint_signature_ok(cp, key):
                return f"the checkpoint of size {cp.size} is not signed by the audit key given"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "edoc-audit-consistency/v1",
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": self.old_root.hex(),
            "new_root": self.new_root.hex(),
            "path": [h.hex() for h in self.path],
            "old_checkpoint": self.old_checkpoint.to_json() if self.old_checkpoint else None,
            "new_checkpoint": self.new_checkpoint.to_json() if self.new_checkpoint else None,
        }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
