"""Checkpoints: the office's signed statement "the log had N events and this root at time T".

The signed text follows the C2SP *tlog-checkpoint* layout (origin, size, base64 root hash, then
extension lines), with one extension line for the time::

    edoc.audit/3f2a9c0d1e4b5a69
    1234
    q1Z1c9pK0m0mY5H0W7wFzJ8hQ6m1p2d9H1xJ3Yw0k3A=
    time 2026-11-22T03:04:05.123456Z

It is signed by the office's *audit key*, an Ed25519 or ECDSA P-256 key (P-256 signatures use
SHA-256 and DER encoding), so anyone with the public key can check it with OpenSSL alone.

A *witness* is another agency that countersigns a checkpoint with its seal after checking
that it extends the last one it countersigned: its statement is::

    edoc-audit-witness/v1
    witness PROVINCE
    time 2026-11-22T03:05:00.000000Z
    <the checkpoint text above>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from edoc.audit.events import TIME_FORMAT, format_time

AuditPrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
AuditPublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

WITNESS_HEADER = "edoc-audit-witness/v1"
_ORIGIN = re.compile(r"^[\x21-\x2a\x2c-\x7e]{1,200}$")  # printable ASCII, no space, no '+'


class KeyAlgorithm(StrEnum):
    """Algorithms of the office's audit key."""

    ED25519 = "ed25519"
    P256 = "p256"


def new_audit_key(algorithm: KeyAlgorithm | str = KeyAlgorithm.ED25519) -> AuditPrivateKey:
    """A fresh audit key."""
    algorithm = KeyAlgorithm(algorithm)
    if algorithm is KeyAlgorithm.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def public_key_pem(key: AuditPrivateKey | AuditPublicKey) -> str:
    """The public half as PEM (SubjectPublicKeyInfo), what auditors are given."""
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: AuditPrivateKey | AuditPublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, hex: how checkpoints name their key."""
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def as_audit_key(key: object) -> AuditPrivateKey | None:
    """``key`` if it can be an audit key (Ed25519 or P-256 private key), else None."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return key
    return None


def key_algorithm(key: AuditPrivateKey | AuditPublicKey) -> KeyAlgorithm:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return KeyAlgorithm.ED25519
    if key.curve.name != "secp256r1":
        raise ValueError(f"audit keys are Ed25519 or P-256, not {key.curve.name}")
    return KeyAlgorithm.P256


def load_public_key(pem: bytes | str) -> AuditPublicKey:
    """An audit public key from PEM; ValueError for anything but Ed25519 or P-256."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return key
    raise ValueError(f"audit keys are Ed25519 or P-256, not {type(key).__name__}")


@dataclass(frozen=True)
class AuditKeyInfo:
    """The office's audit key, public half."""

    key_id: str
    """SHA-256 of the public key (DER SubjectPublicKeyInfo), hex."""
    algorithm: str
    """``ed25519`` or ``p256``."""
    origin: str
    """The log's name in its checkpoints."""
    public_pem: str
    """The public key, PEM: what auditors are given."""
    created_at: datetime
    """When it was made."""


def origin_for(first_key_id: str) -> str:
    """The log's name in its checkpoints, fixed when the first audit key is made."""
    return f"edoc.audit/{first_key_id[:16]}"


def checkpoint_text(origin: str, size: int, root: bytes, at: datetime) -> bytes:
    """The exact bytes the audit key signs."""
    if not _ORIGIN.match(origin):
        raise ValueError(f"bad origin {origin!r}")
    if size < 0 or len(root) != 32:
        raise ValueError("bad size or root")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntime {format_time(at)}\n".encode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head of the audit log."""

    origin: str
    """The log's name (see :func:`origin_for`)."""
    size: int
    """Events covered: seq 0 to size - 1."""
    root: bytes
    """MTH of those events (RFC 9162)."""
    at: datetime
    """When the office signed it (aware, UTC)."""
    key_id: str
    """Which audit key signed (:func:`key_id`)."""
    signature: bytes
    """The audit key's signature over :meth:`text`."""

    def text(self) -> bytes:
        """The signed text (C2SP tlog-checkpoint with a ``time`` line)."""
        return checkpoint_text(self.origin, self.size, self.root, self.at)

    def to_json(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "time": format_time(self.at),
            "key_id": self.key_id,
            "text": self.text().decode(),
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Checkpoint:
        """Read :meth:`to_json`'s shape back (ValueError naming what is wrong)."""
        try:
            cp = cls(
                origin=str(data["origin"]),
                size=_int(data["size"]),
                root=bytes.fromhex(str(data["root"])),
                at=parse_time(str(data["time"])),
                key_id=str(data["key_id"]),
                signature=base64.b64decode(str(data["signature"]), validate=True),
            )
        except KeyError as exc:
            raise ValueError(f"checkpoint has no {exc.args[0]!r}") from None
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"checkpoint is malformed: {exc}") from None
        if "text" in data and str(data["text"]).encode() != cp.text():
            raise ValueError("checkpoint text does not match its fields")
        return cp


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    return value


def parse_time(text: str) -> datetime:
    """The inverse of :func:`~edoc.audit.events.format_time`."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def sign_checkpoint(key: AuditPrivateKey, origin: str, size: int, root: bytes, at: datetime) -> Checkpoint:
    """Sign a checkpoint with the audit key."""
    text = checkpoint_text(origin, size, root, at)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(text)
    else:
        key_algorithm(key)
        signature = key.sign(text, ec.ECDSA(hashes.SHA256()))
    return Checkpoint(origin, size, root, at.astimezone(UTC), key_id(key), signature)


def checkpoint_signature_ok(checkpoint: Checkpoint, key: AuditPublicKey) -> bool:
    """True when ``key`` made the checkpoint's signature (and is the key it names)."""
    if key_id(key) != checkpoint.key_id:
        return False
    text = checkpoint.text()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(checkpoint.signature, text)
        else:
            key.verify(checkpoint.signature, text, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def witness_text(agency: str, at: datetime, checkpoint: Checkpoint) -> bytes:
    """What a witnessing agency signs."""
    return f"{WITNESS_HEADER}\nwitness {agency}\ntime {format_time(at)}\n".encode() + checkpoint.text()


@dataclass(frozen=True)
class Cosignature:
    """An agency's countersignature of a checkpoint."""

    agency: str
    """Code of the witnessing agency."""
    size: int
    """Size of the checkpoint it countersigned."""
    at: datetime
    """When it countersigned (aware, UTC)."""
    signature: bytes
    """The seal's signature over :func:`witness_text`."""
    certificate: bytes
    """The seal's certificate, DER."""

    def to_json(self) -> dict[str, object]:
        return {
            "agency": self.agency,
            "size": self.size,
            "time": format_time(self.at),
            "signature": base64.b64encode(self.signature).decode(),
            "certificate": base64.b64encode(self.certificate).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Cosignature:
        try:
            return cls(
                agency=str(data["agency"]),
                size=_int(data["size"]),
                at=parse_time(str(data["time"])),
                signature=base64.b64decode(str(data["signature"]), validate=True),
                certificate=base64.b64decode(str(data["certificate"]), validate=True),
            )
        except KeyError as exc:
            raise ValueError(f"cosignature has no {exc.args[0]!r}") from None
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"cosignature is malformed: {exc}") from None
