"""Audit events and their canonical encoding.

An event's *leaf* (what the Merkle tree hashes) is the canonical JSON of every field of the
event: keys sorted, UTF-8, no insignificant whitespace, integers and strings only (a float
would make the encoding depend on the printer, so it is refused).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def _check(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not allowed in canonical JSON")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings")
            _check(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
    elif not (value is None or isinstance(value, bool | int | str)):
        raise TypeError(f"{path}: {type(value).__name__} is not allowed in canonical JSON")


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 JSON encoding of ``value`` (dicts, lists, str, int, bool, None)."""
    _check(value, "$")
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Event:
    """One audit event, as stored and as hashed."""

    seq: int
    """Position in the log, from 0, without gaps."""
    at: datetime
    """When the act happened (aware, UTC)."""
    actor: str
    """Username of who acted (``system`` for office administration)."""
    agency: str
    """Code of the agency the actor acted for ('' for office-wide acts)."""
    act: str
    """What was done (``agency.add``, ``doc.sign`` ...)."""
    document_id: int | None
    """The document acted on, if any."""
    payload: dict[str, Any]
    """Details of the act, canonical-JSON-safe, with the hashes of any PDF involved."""
    signature: bytes | None = None
    """The actor's signature over :meth:`signed_bytes`, for acts with legal weight."""
    signer_cert: str | None = None
    """Serial (hex) of the certificate whose key made :attr:`signature`."""

    def signed_bytes(self) -> bytes:
        """What the actor signs: everything but the signature itself."""
        return canonical_json(self._body())

    def leaf(self) -> bytes:
        """What the Merkle tree commits to: the body and the signature."""
        body = self._body()
        body["signature"] = base64.b64encode(self.signature).decode() if self.signature else None
        body["signer_cert"] = self.signer_cert
        return canonical_json(body)

    def _body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": self.actor,
            "agency": self.agency,
            "act": self.act,
            "document_id": self.document_id,
            "payload": self.payload,
        }
