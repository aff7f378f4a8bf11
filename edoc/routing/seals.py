"""Agency seals over evidence: detached CMS signatures (RFC 5652), and their offline check.

An evidence record (:class:`edoc.routing.delivery.Evidence`) is signed as a detached CMS
``SignedData`` over its canonical JSON bytes, with SHA-256, the signed attributes content-type,
message-digest, signing-time and ESS signing-certificate-v2 (RFC 5035, as CAdES-BES asks), and
the seal's certificate and chain inside. Any CMS tool checks it without edoc::

    openssl cms -verify -binary -inform DER -in 0-delivered.p7s -content 0-delivered.json \\
        -CAfile root.pem -purpose any

:func:`check_signature` does the same check in Python from nothing but the bytes and the trusted
root certificates: the signature, the digest, the chain up to a root (validity at the signing
time, CA flags, issuer signatures) and which agency the seal belongs to.

The signing key is a callable so that keys kept in a PKCS#11 token sign the same way as keys kept
in files (:meth:`Seal.from_key`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import (
    algos,
    cms,
    core,
    tsp,  # noqa: F401  (registers the ESS attribute types with cms)
)
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

SignFunction = Callable[[bytes], bytes]
"""Signs bytes with SHA-256: RSA PKCS#1 v1.5, or ECDSA (DER signature)."""


@dataclass(frozen=True)
class Seal:
    """An agency's seal: what signs evidence for it."""

    agency: str
    """Code of the agency."""
    certificate: x509.Certificate
    """The seal's certificate."""
    sign: SignFunction = field(repr=False)
    """Signs with the seal's private key (SHA-256)."""
    chain: tuple[x509.Certificate, ...] = ()
    """Issuing CA certificates, leaf's issuer first (the root may be left out)."""

    @classmethod
    def from_key(
        cls,
        agency: str,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> Seal:
        """A seal whose private key is in memory."""
        if isinstance(key, rsa.RSAPrivateKey):

            def sign(data: bytes) -> bytes:
                return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

        elif isinstance(key, ec.EllipticCurvePrivateKey):

            def sign(data: bytes) -> bytes:
                return key.sign(data, ec.ECDSA(hashes.SHA256()))

        else:
            raise TypeError(f"a seal key must be RSA or EC, not {type(key).__name__}")
        return cls(agency, certificate, sign, tuple(chain))


def _asn1_cert(cert: x509.Certificate) -> ax509.Certificate:
    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _signature_algorithm(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "sha256_rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "sha256_ecdsa"
    raise TypeError(f"unsupported seal key type {type(key).__name__}")


@dataclass(frozen=True)
class _Template:
    """What every signature by one seal shares, encoded once (DER bytes)."""

    head: bytes
    """SignedData's version, digest algorithms and (empty) encapsulated content info."""
    certificates: bytes
    """The [0] IMPLICIT certificate set: the seal's certificate and chain."""
    sid: bytes
    """The signer identifier (issuer and serial number)."""
    digest_algorithm: bytes
    """SHA-256's AlgorithmIdentifier."""
    signature_algorithm: bytes
    """The signature's AlgorithmIdentifier."""
    fixed_attributes: tuple[bytes, ...]
    """The content-type and signing-certificate-v2 attributes."""


_TEMPLATES: dict[tuple[bytes, ...], _Template] = {}


def _template(seal: Seal) -> _Template:
    ders = (
        seal.certificate.public_bytes(serialization.Encoding.DER),
        *(c.public_bytes(serialization.Encoding.DER) for c in seal.chain),
    )
    found = _TEMPLATES.get(ders)
    if found is not None:
        return found
    # Encoded by hand from the certificate's own bytes: building these values with asn1crypto
    # re-encodes them level by level (about 5 ms for each new seal, and a circular meets 343).
    # tests/test_routing_seals_der.py checks them against asn1crypto's encoding.
    tbs = ax509.Certificate.load(ders[0])["tbs_certificate"]
    ess = _tlv(0x30, _tlv(0x30, _tlv(0x30, _tlv(0x04, hashlib.sha256(ders[0]).digest()))))
    head, digest, content_type, ess_type = _constants()
    found = _Template(
        head=head,
        certificates=_tlv(0xA0, b"".join(ders)),
        sid=_tlv(0x30, tbs["issuer"].dump() + tbs["serial_number"].dump()),
        digest_algorithm=digest,
        signature_algorithm=_signature_algorithm_der(_signature_algorithm(seal.certificate)),
        fixed_attributes=(content_type, _tlv(0x30, ess_type + _tlv(0x31, ess))),
    )
    if len(_TEMPLATES) > 4096:
        _TEMPLATES.clear()
    _TEMPLATES[ders] = found
    return found


_CONSTANTS: list[tuple[bytes, bytes, bytes, bytes]] = []


def _constants() -> tuple[bytes, bytes, bytes, bytes]:
    """What every seal's signature shares: SignedData's version, digest algorithms and
    encapsulated content info; SHA-256's AlgorithmIdentifier; the content-type attribute; the
    signing-certificate-v2 attribute type."""
    if not _CONSTANTS:
        digest = algos.DigestAlgorithm({"algorithm": "sha256"})
        head = (
            cms.CMSVersion("v1").dump()
            + cms.DigestAlgorithms([digest]).dump()
            + cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
        )
        content_type = cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump()
        _CONSTANTS.append((head, digest.dump(), content_type, cms.CMSAttributeType("signing_certificate_v2").dump()))
    return _CONSTANTS[0]


_SIGNATURE_ALGORITHMS: dict[str, bytes] = {}


def _signature_algorithm_der(name: str) -> bytes:
    found = _SIGNATURE_ALGORITHMS.get(name)
    if found is None:
        found = _SIGNATURE_ALGORITHMS[name] = algos.SignedDigestAlgorithm({"algorithm": name}).dump()
    return found


def sign_detached(content: bytes, seal: Seal, *, at: datetime) -> bytes:
    """A detached CMS SignedData (DER) over ``content`` by ``seal``, signing time ``at``.

    The parts every signature by the seal shares (its certificate and chain, the signer
    identifier, the ESS signing-certificate attribute) are encoded once per process and the
    SignedData is assembled from DER pieces: a circular to hundreds of agencies signs hundreds
    of evidence records with one seal.
    """
    tpl = _template(seal)
    attributes = sorted(  # DER: a SET OF is sorted by its members' encodings
        [
            *tpl.fixed_attributes,
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": at.astimezone(UTC)})]}).dump(),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}).dump(),
        ]
    )
    attrs = b"".join(attributes)
    signature = seal.sign(_tlv(0x31, attrs))
    signer = _tlv(
        0x30,
        cms.CMSVersion("v1").dump()
        + tpl.sid
        + tpl.digest_algorithm
        + _tlv(0xA0, attrs)
        + tpl.signature_algorithm
        + _tlv(0x04, signature),
    )
    signed = _tlv(0x30, tpl.head + tpl.certificates + _tlv(0x31, signer))
    return _tlv(0x30, cms.ContentType("signed_data").dump() + _tlv(0xA0, signed))


def _tlv(tag: int, value: bytes) -> bytes:
    """A DER tag-length-value (definite length)."""
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + value


@dataclass(frozen=True)
class SignatureCheck:
    """The result of checking one detached signature offline."""

    ok: bool
    """True when every check passed."""
    signer: str
    """The signing certificate's subject (RFC 4514), or '' when it could not be found."""
    serial: str
    """The signing certificate's serial number (hex)."""
    signing_time: datetime | None
    """The signed signing-time attribute."""
    problems: tuple[str, ...] = ()
    """Plain sentences, one per failed check."""
    certificate: x509.Certificate | None = field(default=None, repr=False)
    """The signing certificate."""


def _attr(attrs: cms.CMSAttributes, name: str) -> object | None:
    for attr in attrs:
        if attr["type"].native == name:
            return attr["values"][0]
    return None


def check_signature(
    content: bytes,
    signature: bytes,
    trusted: Sequence[x509.Certificate],
    *,
    extra_certificates: Sequence[x509.Certificate] = (),
) -> SignatureCheck:
    """Check a detached CMS signature over ``content`` against ``trusted`` roots, offline."""
    problems: list[str] = []
    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        signed_data = info["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise ValueError(f"expected one signer, found {len(signer_infos)}")
        signer = signer_infos[0]
        embedded = [
            x509.load_der_x509_certificate(c.chosen.dump())
            for c in (signed_data["certificates"] or [])
            if c.name == "certificate"
        ]
    except (ValueError, TypeError, KeyError) as exc:
        return SignatureCheck(False, "", "", None, (f"the signature cannot be read: {exc}",))
    sid = signer["sid"].chosen
    if not isinstance(sid, cms.IssuerAndSerialNumber):
        return SignatureCheck(False, "", "", None, ("the signer is not named by issuer and serial number",))
    pool = [*embedded, *extra_certificates]
    leaf = next(
        (
            c
            for c in pool
            if c.serial_number == sid["serial_number"].native and c.issuer.public_bytes() == sid["issuer"].dump()
        ),
        None,
    )
    if leaf is None:
        return SignatureCheck(False, "", "", None, ("the signing certificate is not included",))
    subject = leaf.subject.rfc4514_string()
    serial = format(leaf.serial_number, "x")
    attrs = signer["signed_attrs"]
    signing_time: datetime | None = None
    if not attrs:
        problems.append("the signature has no signed attributes")
    else:
        digest = _attr(attrs, "message_digest")
        if not isinstance(digest, core.OctetString) or digest.native != hashlib.sha256(content).digest():
            problems.append("the content does not match the signed digest (it was changed)")
        ctype = _attr(attrs, "content_type")
        if not isinstance(ctype, core.ObjectIdentifier) or ctype.native != "data":
            problems.append("the signed content type is not 'data'")
        when = _attr(attrs, "signing_time")
        if isinstance(when, cms.Time):
            signing_time = when.native.astimezone(UTC)
        else:
            problems.append("the signature has no signing time")
        if signer["digest_algorithm"]["algorithm"].native != "sha256":
            problems.append("the digest algorithm is not SHA-256")
        try:
            _verify(leaf, signer["signature"].native, attrs.untag().dump(force=True))
        except InvalidSignature:
            problems.append("the seal's signature does not verify")
    at = signing_time or datetime.now(UTC)
    problems.extend(validate_chain(leaf, pool, trusted, at=at))
    return SignatureCheck(not problems, subject, serial, signing_time, tuple(problems), leaf)


def _verify(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise InvalidSignature(f"unsupported key type {type(key).__name__}")


def validate_chain(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    trusted: Sequence[x509.Certificate],
    *,
    at: datetime,
) -> list[str]:
    """Problems with the path from ``leaf`` up to one of ``trusted`` (empty when sound).

    Each certificate must be valid at ``at`` and signed by the next; every issuer must be a CA;
    the path must end at a trusted root (compared byte for byte).
    """
    trusted_der = {c.public_bytes(serialization.Encoding.DER) for c in trusted}
    candidates = [*pool, *trusted]
    problems: list[str] = []
    current = leaf
    for _depth in range(8):
        if not (current.not_valid_before_utc <= at <= current.not_valid_after_utc):
            problems.append(f"{current.subject.rfc4514_string()} was not valid at {at.isoformat()}")
        if current.public_bytes(serialization.Encoding.DER) in trusted_der:
            return problems
        issuer = None
        for candidate in candidates:
            if candidate.subject != current.issuer or candidate == current:
                continue
            try:
                current.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, InvalidSignature):
                continue
            issuer = candidate
            break
        if issuer is None:
            problems.append(f"no trusted issuer for {current.subject.rfc4514_string()}")
            return problems
        try:
            constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
            if not constraints.ca:
                problems.append(f"{issuer.subject.rfc4514_string()} is not a CA")
        except x509.ExtensionNotFound:
            problems.append(f"{issuer.subject.rfc4514_string()} has no basic constraints")
        current = issuer
    problems.append("the certificate chain is too long")
    return problems
