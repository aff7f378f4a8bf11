"""The tamper-evident audit log: events, Merkle tree, checkpoints and proofs."""

from edoc.audit.events import Event, canonical_json

__all__ = ["Event", "canonical_json"]
