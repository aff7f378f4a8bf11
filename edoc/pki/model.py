"""Values of the PKI: key types, certificate kinds, revocation reasons, and what the office
returns about certificates, CRLs and signing identities.

Nothing here touches the database or the disk. Certificates travel as DER bytes inside frozen
values and are parsed (with ``cryptography``) on demand.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from edoc.errors import InvalidField
from edoc.pki.keys import PrivateKey


class KeyType(StrEnum):
    """Key algorithms edoc generates."""

    RSA2048 = "rsa2048"
    """RSA, 2048-bit modulus: end-entity certificates (``--key rsa2048``)."""
    RSA3072 = "rsa3072"
    """RSA, 3072-bit modulus: the default for the root and issuing CA."""
    P256 = "p256"
    """ECDSA on NIST P-256: the default for end-entity and service certificates."""
    P384 = "p384"
    """ECDSA on NIST P-384: the alternative for the root and issuing CA."""

    @classmethod
    def parse(cls, value: str | KeyType, *, allowed: tuple[KeyType, ...], field_name: str = "key") -> KeyType:
        """``value`` as a key type among ``allowed``, or :class:`InvalidField` naming them."""
        try:
            kind = cls(str(value).strip().lower())
        except ValueError:
            kind = None
        if kind is None or kind not in allowed:
            raise InvalidField(field_name, f"{value!r} is not one of {' | '.join(k.value for k in allowed)}")
        return kind


CA_KEY_TYPES: tuple[KeyType, ...] = (KeyType.RSA3072, KeyType.P384)
"""Key types allowed for the root and issuing CA."""
END_ENTITY_KEY_TYPES: tuple[KeyType, ...] = (KeyType.P256, KeyType.RSA2048)
"""Key types allowed for users, seals and the TSA/OCSP services."""


def key_type_of(key: object) -> KeyType:
    """The :class:`KeyType` of a public or private key object (``TypeError`` if unsupported)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size == 2048:
            return KeyType.RSA2048
        if key.key_size == 3072:
            return KeyType.RSA3072
    elif isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return KeyType.P256
        if isinstance(key.curve, ec.SECP384R1):
            return KeyType.P384
    raise TypeError(f"unsupported key {type(key).__name__}")


class CertKind(StrEnum):
    """What a certificate is for."""

    ROOT = "root"
    """The pilot's self-signed root CA."""
    ISSUING = "issuing"
    """The issuing CA under the root: signs every other certificate, the CRL."""
    USER = "user"
    """A person's signing certificate."""
    SEAL = "seal"
    """An agency's seal (received stamps, receipts)."""
    TSA = "tsa"
    """The RFC 3161 time-stamping authority."""
    OCSP = "ocsp"
    """The OCSP responder (id-kp-OCSPSigning, ocsp-nocheck)."""


class KeyStorage(StrEnum):
    """Where a certificate's private key lives."""

    DATABASE = "database"
    """PKCS#12 (AES-256, PBKDF2) in the certificate's row, under the owner's passphrase."""
    FILE = "file"
    """PKCS#12 file in ``<home>/pki/`` (the CA keys), under the ``ca`` passphrase."""
    PKCS11 = "pkcs11"
    """On a PKCS#11 token: the row holds the token label and key id only."""
    NONE = "none"
    """Not held by this office (an imported CA certificate)."""


class RevocationReason(StrEnum):
    """RFC 5280 reason codes a certificate may be revoked for (``--reason``)."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key-compromise"
    CA_COMPROMISE = "ca-compromise"
    AFFILIATION_CHANGED = "affiliation-changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation-of-operation"
    PRIVILEGE_WITHDRAWN = "privilege-withdrawn"

    @classmethod
    def parse(cls, value: str | RevocationReason) -> RevocationReason:
        """Accept ``key-compromise``, ``keyCompromise``, ``key_compromise`` (any case)."""
        text = str(value).strip()
        wanted = "".join(ch for ch in text.lower() if ch.isalnum())
        for reason in cls:
            if reason.value.replace("-", "") == wanted:
                return reason
        if wanted in ("certificatehold", "removefromcrl"):
            raise InvalidField("reason", f"{text!r} is not supported: edoc revokes for good (no holds)")
        raise InvalidField("reason", f"{text!r} is not one of {' | '.join(r.value for r in cls)}")

    @property
    def flag(self) -> x509.ReasonFlags:
        """The ``cryptography`` reason flag for CRLs and OCSP responses."""
        return {
            RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
            RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
            RevocationReason.CA_COMPROMISE: x509.ReasonFlags.ca_compromise,
            RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
            RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
            RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
            RevocationReason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
        }[self]


class CertStatus(StrEnum):
    """Revocation status as OCSP and ``edoc verify`` say it."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


AGENCY_PREFIX = "agency:"
SERVICE_OWNERS = ("ca", "tsa", "ocsp")
"""Owners of the CA and service keys (their passphrases unlock them)."""


def agency_owner(code: str) -> str:
    """The owner name of an agency's seal: ``agency:CODE``."""
    return f"{AGENCY_PREFIX}{code}"


def serial_hex(serial: int) -> str:
    """A serial number as edoc prints it: lower-case hex, no separators (``openssl`` shows the same)."""
    return format(serial, "x")


def parse_serial(text: str) -> int:
    """A serial given as hex (``0x…``, ``AB:CD:…``, or plain hex digits)."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    if not cleaned or any(ch not in "0123456789abcdef" for ch in cleaned):
        raise InvalidField("serial", f"{text!r} is not a hexadecimal serial number")
    return int(cleaned, 16)


_COLON_HEX = re.compile(r"^[0-9a-f]{1,2}(:[0-9a-f]{2})+$")


def looks_like_serial(text: str) -> bool:
    """True for what ``pki revoke`` takes as a serial rather than an owner.

    edoc's serials are random 159-bit numbers (about 40 hex digits); a username is at most 64
    characters but never 16+ hex digits alone, and ``0x``/``:`` forms are always serials.
    """
    cleaned = text.strip().lower()
    if cleaned.startswith("0x") or _COLON_HEX.match(cleaned):
        return True
    return len(cleaned) >= 16 and all(ch in "0123456789abcdef" for ch in cleaned)


def pin_owner(token_label: str) -> str:
    """The passphrase owner whose passphrase is a PKCS#11 token's user PIN: ``pkcs11:<label>``."""
    return f"pkcs11:{token_label}"


def fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate's DER, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class CertificateInfo:
    """One certificate the office issued (or holds), with its status."""

    serial: str
    """Serial number, lower-case hex."""
    kind: CertKind
    """What it is for."""
    owner: str
    """Whose it is: a username, ``agency:CODE``, ``ca``, ``tsa`` or ``ocsp``."""
    subject: str
    """The subject as RFC 4514 text (Thai kept as is)."""
    issuer: str
    """The issuer as RFC 4514 text."""
    key_type: KeyType
    """Its key algorithm."""
    key_storage: KeyStorage
    """Where its private key lives."""
    not_before: datetime
    """Start of validity (aware UTC)."""
    not_after: datetime
    """End of validity (aware UTC)."""
    issued_at: datetime
    """When the office issued (or recorded) it."""
    fingerprint: str
    """SHA-256 of the DER, hex."""
    der: bytes = field(repr=False)
    """The certificate, DER."""
    revoked_at: datetime | None = None
    """When it was revoked, or None."""
    revocation_reason: RevocationReason | None = None
    """Why it was revoked, or None."""
    pkcs11_token: str | None = None
    """Label of the PKCS#11 token holding the key (``key_storage == pkcs11``)."""

    @cached_property
    def certificate(self) -> x509.Certificate:
        """The certificate as a ``cryptography`` object."""
        return x509.load_der_x509_certificate(self.der)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(Encoding.PEM)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def status(self, at: datetime) -> str:
        """``valid``, ``revoked``, ``expired`` or ``not-yet-valid`` at ``at``."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return "revoked"
        if at > self.not_after:
            return "expired"
        if at < self.not_before:
            return "not-yet-valid"
        return "valid"


@dataclass(frozen=True)
class Pkcs11KeyRef:
    """A private key on a PKCS#11 token, as the signer needs it to open a session."""

    module: str
    """Path of the PKCS#11 module (``/usr/lib/softhsm/libsofthsm2.so``)."""
    token_label: str
    """Label of the token."""
    key_id: bytes
    """CKA_ID of the private key (and of its certificate on the token)."""
    key_label: str
    """CKA_LABEL of the private key."""
    pin: bytes = field(repr=False)
    """User PIN, from the passphrase source (owner ``pkcs11:<token label>``)."""


@dataclass(frozen=True)
class SigningIdentity:
    """Everything a signer needs: the certificate, its chain, and the key (or the token).

    Returned by :meth:`edoc.office.Office.signing_identity`, which checked that the certificate
    is current (not revoked, not expired, not yet valid) at the time asked.
    """

    owner: str
    """Whose identity: a username or ``agency:CODE``."""
    certificate: x509.Certificate
    """The signing certificate."""
    chain: tuple[x509.Certificate, ...]
    """The issuing chain, from the issuing CA up to and including the root."""
    key_type: KeyType
    """Algorithm of the key."""
    private_key: PrivateKey | None = field(default=None, repr=False)
    """The unlocked private key (None when the key is on a token)."""
    pkcs11: Pkcs11KeyRef | None = None
    """Where the key is when it is on a PKCS#11 token (None for a key held by the office)."""

    @property
    def serial(self) -> str:
        """Serial of the signing certificate, lower-case hex."""
        return serial_hex(self.certificate.serial_number)

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(Encoding.DER)

    @property
    def chain_der(self) -> tuple[bytes, ...]:
        return tuple(c.public_bytes(Encoding.DER) for c in self.chain)

    @property
    def hash_algorithm(self) -> str:
        """The digest edoc pairs with this key: ``sha256`` (P-256, RSA) or ``sha384`` (P-384)."""
        return "sha384" if self.key_type is KeyType.P384 else "sha256"

    def sign(self, data: bytes) -> bytes:
        """A raw signature over ``data``: ECDSA (DER) or RSA PKCS#1 v1.5, with :attr:`hash_algorithm`.

        For audit events and other small signed records; PDFs are signed by :mod:`edoc.signing`.
        """
        if not isinstance(data, bytes):
            raise TypeError("data must be bytes")
        digest: hashes.HashAlgorithm = hashes.SHA384() if self.hash_algorithm == "sha384" else hashes.SHA256()
        if self.pkcs11 is not None:
            from edoc.pki.pkcs11 import sign_with_token

            return sign_with_token(self.pkcs11, self.key_type, data)
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(digest))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), digest)
        if isinstance(key, ed25519.Ed25519PrivateKey):  # pragma: no cover - never issued by edoc
            return key.sign(data)
        raise TypeError("this identity has no private key")

    def signer(self) -> Callable[[bytes], tuple[bytes, str]]:
        """``data -> (signature, serial)``: what an audit event's ``sign`` hook expects."""
        return lambda data: (self.sign(data), self.serial)


@dataclass(frozen=True)
class CrlInfo:
    """A signed CRL."""

    issuer: CertKind
    """``issuing`` (the CRL of end-entity certificates) or ``root`` (the CA's own ARL)."""
    number: int
    """The CRL number (monotonic per issuer)."""
    this_update: datetime
    """When it was signed."""
    next_update: datetime
    """When the next one is due (validators treat it as stale after)."""
    revoked: int
    """How many certificates it lists."""
    der: bytes = field(repr=False)
    """The CRL, DER."""

    @property
    def crl(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl(self.der)

    @property
    def pem(self) -> bytes:
        return self.crl.public_bytes(Encoding.PEM)


@dataclass(frozen=True)
class TrustAnchor:
    """A root the office trusts for verification (the pilot root, or one an operator added)."""

    fingerprint: str
    """SHA-256 of the DER, hex."""
    subject: str
    """Subject, RFC 4514."""
    label: str
    """What the operator called it (``pilot root``, ``Thailand National Root CA``)."""
    source: str
    """``pilot`` (added by ``pki init``) or ``added`` (``pki trust add``)."""
    added_at: datetime
    """When it joined the list."""
    der: bytes = field(repr=False)
    """The certificate, DER."""

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)


@dataclass(frozen=True)
class CaInfo:
    """The office's CA: what ``pki init`` made and ``pki status`` shows."""

    root: CertificateInfo
    """The root CA certificate."""
    issuing: CertificateInfo
    """The issuing CA certificate."""
    tsa: CertificateInfo | None
    """The current time-stamping certificate."""
    ocsp: CertificateInfo | None
    """The current OCSP responder certificate."""
    base_url: str
    """Where ``edoc pki serve`` is published (CRL DP, OCSP and AIA URLs point here)."""
    keys_here: bool
    """True when this home holds the CA keys (the CA's host)."""


@dataclass(frozen=True)
class CertificateRequest:
    """One certificate to issue (bulk path :meth:`edoc.office.Office.issue_certificates`)."""

    owner: str
    """A username or ``agency:CODE``."""
    key: KeyType | str | None = None
    """Key type (``p256`` or ``rsa2048``); None: the setting ``pki.user_key``."""
    pkcs11_token: str | None = None
    """Create the key on this PKCS#11 token instead of in the office."""


def cert_payload(cert: x509.Certificate) -> dict[str, str]:
    """What an audit event says about a certificate."""
    der = cert.public_bytes(Encoding.DER)
    return {
        "serial": serial_hex(cert.serial_number),
        "fingerprint": fingerprint(der),
        "subject": cert.subject.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def anchor_payload(anchor: TrustAnchor) -> dict[str, str]:
    """What an audit event says about a trust anchor."""
    return {
        "fingerprint": anchor.fingerprint,
        "subject": anchor.subject,
        "label": anchor.label,
        "source": anchor.source,
    }
