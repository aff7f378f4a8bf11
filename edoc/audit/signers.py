"""Signatures in the audit log made with certificate keys: actors' events and witnesses.

An act with legal weight (sign, register, send, endorse, assign, return, destroy) signs its
audit event with the actor's own key; another agency's seal countersigns (witnesses) a
checkpoint. Both are plain signatures over bytes, checked against the signer's X.509
certificate:

- RSA keys: RSASSA-PKCS1-v1_5 with SHA-256 (what every PKCS#11 token offers);
- EC keys: ECDSA, DER-encoded, with SHA-256 on P-256, SHA-384 on P-384, SHA-512 on P-521;
- Ed25519 keys: Ed25519.

The key itself may live in a file (unlocked by :mod:`edoc.pki.keys`) or on a token: a signer
only needs a function from bytes to signature, and the certificate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

SignFunction = Callable[[bytes], bytes]
"""Signs bytes with a private key the caller holds (in memory or on a token)."""

_EC_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


def serial_hex(certificate: x509.Certificate) -> str:
    """How the audit log names a certificate: its serial number in lower-case hex."""
    return f"{certificate.serial_number:x}"


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from DER or PEM bytes (ValueError when it is neither)."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def sign_with_key(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, data: bytes
) -> bytes:
    """Sign ``data`` with an in-memory private key, using the algorithm its type implies."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = _EC_HASHES.get(key.curve.name)
        if algorithm is None:
            raise ValueError(f"EC curve {key.curve.name} is not supported")
        return key.sign(data, ec.ECDSA(algorithm()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise TypeError(f"unsupported private key type {type(key).__name__}")


def verify_with_certificate(certificate: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` over ``data`` was made by the key of ``certificate``."""
    key = certificate.public_key()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            algorithm = _EC_HASHES.get(key.curve.name)
            if algorithm is None:
                return False
            key.verify(signature, data, ec.ECDSA(algorithm()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class EventSigner:
    """The ``sign`` argument of ``Office._record``: signs an event body as its actor.

    Calling it returns ``(signature, certificate serial)``, which the log stores with the event;
    the log also keeps :attr:`certificate` (and :attr:`chain`) so the signature can be checked
    later, offline, from an exported bundle.
    """

    sign_bytes: SignFunction
    """Signs bytes with the actor's private key."""
    certificate: bytes
    """The actor's certificate, DER."""
    chain: tuple[bytes, ...] = field(default=())
    """Issuing CA certificates above it (DER), nearest first; the root may be left out."""
    serial: str = ""
    """The certificate's serial in lower-case hex (filled in from the certificate)."""

    def __post_init__(self) -> None:
        if not isinstance(self.certificate, bytes):
            raise TypeError("certificate must be DER bytes")
        cert = load_certificate(self.certificate)
        object.__setattr__(self, "certificate", cert.public_bytes(serialization.Encoding.DER))
        object.__setattr__(self, "serial", serial_hex(cert))

    def __call__(self, data: bytes) -> tuple[bytes, str]:
        return self.sign_bytes(data), self.serial

    def certificates(self) -> dict[str, bytes]:
        """The certificate and its chain, by serial."""
        out = {self.serial: self.certificate}
        for der in self.chain:
            out.setdefault(serial_hex(load_certificate(der)), der)
        return out


def event_signer(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | SignFunction,
    certificate: x509.Certificate | bytes,
    chain: Sequence[x509.Certificate | bytes] = (),
) -> EventSigner:
    """An :class:`EventSigner` for a private key (or a signing function) and its certificate."""
    sign: SignFunction
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        private = key

        def sign(data: bytes) -> bytes:
            return sign_with_key(private, data)

    elif callable(key):
        sign = key
    else:
        raise TypeError(f"unsupported key {type(key).__name__}")
    return EventSigner(sign, _der(certificate), tuple(_der(c) for c in chain))


def signer_from_identity(identity: object) -> EventSigner:
    """An :class:`EventSigner` from a PKI signing identity (``Office.signing_identity(...)``).

    Accepted shapes: an object with ``certificate`` (x509 or DER), optional ``chain``, and
    either a ``sign(data) -> signature`` method or a ``private_key``/``key`` attribute holding
    an in-memory private key.
    """
    certificate = getattr(identity, "certificate", None)
    if certificate is None:
        raise TypeError("the signing identity has no certificate")
    chain = tuple(getattr(identity, "chain", ()) or ())
    key = getattr(identity, "private_key", None) or getattr(identity, "key", None)
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return event_signer(key, certificate, chain)
    sign = getattr(identity, "sign", None)
    if callable(sign):
        return event_signer(sign, certificate, chain)
    raise TypeError("the signing identity has neither a private key nor a sign() method")


def _der(cert: x509.Certificate | bytes) -> bytes:
    if isinstance(cert, x509.Certificate):
        return cert.public_bytes(serialization.Encoding.DER)
    if isinstance(cert, bytes):
        return load_certificate(cert).public_bytes(serialization.Encoding.DER)
    raise TypeError(f"expected a certificate, got {type(cert).__name__}")


def certificate_problem(
    certificate: x509.Certificate,
    at: datetime,
    *,
    roots: Sequence[x509.Certificate] = (),
    intermediates: Sequence[x509.Certificate] = (),
) -> str | None:
    """Why ``certificate`` could not vouch for a signature made at ``at``, or None if it can.

    Checks the validity period, and when ``roots`` are given, the chain up to one of them
    (revocation is not checked here: the log proves *when* the act happened, and the PKI's CRLs
    say whether the certificate was revoked before that).
    """
    at = at.astimezone(UTC)
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        return (
            f"certificate {serial_hex(certificate)} was not valid at {at:%Y-%m-%d %H:%M:%S} UTC "
            f"(valid {certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d})"
        )
    if not roots:
        return None
    from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

    for root in roots:
        if certificate == root:
            return None
    verifier = (
        PolicyBuilder()
        .store(Store(list(roots)))
        .time(at.replace(tzinfo=None))
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    try:
        verifier.verify(certificate, list(intermediates))
    except VerificationError as exc:
        return f"certificate {serial_hex(certificate)} does not chain to a trusted root: {exc}"
    return None


def owner_problem(certificate: x509.Certificate, allowed: Sequence[str], who: str) -> str | None:
    """Why ``certificate`` may not sign for ``who``, or None.

    The pilot's certificates name their owner in the subject's UID (``pc.mayor``,
    ``agency:PAKCHONG``); one whose UID is not among ``allowed`` belongs to someone else.
    A certificate without a UID (from another CA) is judged by its chain alone.
    """
    from cryptography.x509.oid import NameOID

    uids = [str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.USER_ID)]
    if not uids or any(uid in allowed for uid in uids):
        return None
    return f"certificate {serial_hex(certificate)} belongs to {uids[0]}, not to {who}"
