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
from json.encoder import encode_basestring as _quote
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""How times are written in leaves and checkpoints: UTC, microseconds, a ``Z``."""


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


def _plain(value: Any) -> bool:
    """True when ``value`` holds only exact str, int, bool, None, dict and list (the common
    case, checked without building the paths :func:`_check` names in its errors)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        for k, v in value.items():  # loops, not all(genexpr): this runs for every event
            if type(k) is not str:
                return False
            t = type(v)
            if not (t is str or t is int or t is bool or v is None or _plain(v)):
                return False
        return True
    if kind is list or kind is tuple:
        for v in value:
            t = type(v)
            if not (t is str or t is int or t is bool or v is None or _plain(v)):
                return False
        return True
    return False


_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 JSON encoding of ``value`` (dicts, lists, str, int, bool, None)."""
    if not _plain(value):
        _check(value, "$")
    return _ENCODE(value).encode()


def format_time(at: datetime) -> str:
    """``at`` as written in a leaf: UTC with microseconds, e.g. ``2026-11-22T03:04:05.000000Z``."""
    if at.tzinfo is None:
        raise ValueError("audit times must be aware datetimes")
    return at.astimezone(UTC).strftime(TIME_FORMAT)


def body_text(seq: int, at: str, actor: str, agency: str, act: str, document_id: int | None, payload_json: str) -> str:
    """The canonical JSON of an event's body (what the actor signs), built without a dict.

    ``at`` is :func:`format_time`'s text; ``payload_json`` must already be canonical JSON. The
    result equals ``canonical_json(event body)``; the tests hold the two equal.
    """
    doc = "null" if document_id is None else str(int(document_id))
    return (
        f'{{"act":{_quote(act)},"actor":{_quote(actor)},"agency":{_quote(agency)},"at":"{at}",'
        f'"document_id":{doc},"payload":{payload_json},"seq":{int(seq)}}}'
    )


def leaf_text(body: str, signature: bytes | None, signer_cert: str | None) -> str:
    """The canonical JSON of a whole event (the Merkle leaf), from :func:`body_text`'s result.

    ``signature`` and ``signer_cert`` sort after every key of the body, so the leaf is the body
    with two more members at its end.
    """
    sig = "null" if signature is None else f'"{base64.b64encode(signature).decode()}"'
    cert = "null" if signer_cert is None else _quote(signer_cert)
    return f'{body[:-1]},"signature":{sig},"signer_cert":{cert}}}'


_LEAF_FORMAT = (
    b'{"act":%s,"actor":%s,"agency":%s,"at":"%s","document_id":%s,"payload":%s,"seq":%d,'
    b'"signature":%s,"signer_cert":%s}'
)


def leaf_bytes(
    seq: int,
    at: str,
    actor: str,
    agency: str,
    act: str,
    document_id: int | None,
    payload_json: bytes,
    signature: bytes | None,
    signer_cert: str | None,
) -> bytes:
    """``leaf_text(body_text(...), signature, signer_cert).encode()`` built as bytes, from the
    payload's UTF-8 bytes as stored (what verification reads a million times; the tests hold
    the two equal)."""
    return _LEAF_FORMAT % (
        _quote(act).encode(),
        _quote(actor).encode(),
        _quote(agency).encode(),
        at.encode(),
        b"null" if document_id is None else b"%d" % int(document_id),
        payload_json,
        int(seq),
        b"null" if signature is None else b'"' + base64.b64encode(signature) + b'"',
        b"null" if signer_cert is None else _quote(signer_cert).encode(),
    )


LEGAL_WEIGHT_VERBS = frozenset({"sign", "register", "receive", "send", "endorse", "assign", "return", "destroy"})
"""Acts with legal weight (the contract's list, and ``receive``, which registers): an event whose
act name ends in one of these words (``doc.sign``, ``doc.route.endorse``, ``records.destroy``)
must carry its actor's signature, and ``edoc audit verify`` fails one that does not."""


def has_legal_weight(act: str) -> bool:
    """Must an event of this act be signed by its actor?"""
    return act.rpartition(".")[2] in LEGAL_WEIGHT_VERBS


def body_of_leaf(leaf: bytes) -> bytes:
    """What the actor signed, cut from a canonical leaf: the leaf without its last two members.

    In canonical JSON the top-level ``signature`` and ``signer_cert`` come last and hold no
    object, so the last ``,"signature":`` is theirs, whatever the payload holds.
    """
    cut = leaf.rfind(b',"signature":')
    if cut < 0:
        raise ValueError("not an audit leaf")
    return leaf[:cut] + b"}"


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
            "at": format_time(self.at),
            "actor": self.actor,
            "agency": self.agency,
            "act": self.act,
            "document_id": self.document_id,
            "payload": self.payload,
        }
