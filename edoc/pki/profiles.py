"""Certificate profiles: what the root, the issuing CA, signers, seals, the TSA and the OCSP
responder certificates contain. Built with ``cryptography``'s builders; no hand-made DER.

Names are UTF8String (``cryptography``'s default for every attribute but the country), so the
Thai organisation, name and position read back exactly. Serials are random 159-bit numbers.
Every URL in a certificate comes from :class:`Urls`, i.e. from the setting ``pki.base_url``
where ``edoc pki serve`` is published.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edoc.errors import InvalidField
from edoc.pki.keys import PrivateKey
from edoc.pki.model import KeyType

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336)."""

BACKDATE = timedelta(minutes=5)
"""``notBefore`` is set this far before issuance, so a host whose clock is a little behind the
CA's can use a certificate at once."""

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class Urls:
    """The addresses ``edoc pki serve`` answers at, under one base URL."""

    base: str
    """``pki.base_url``, without a trailing slash."""

    @classmethod
    def of(cls, base_url: str) -> Urls:
        base = base_url.strip().rstrip("/")
        if not (base.startswith("http://") or base.startswith("https://")) or len(base) < 10:
            raise InvalidField("pki.base_url", f"{base_url!r} is not an http(s) URL")
        return cls(base)

    @property
    def crl_issuing(self) -> str:
        """CRL of the issuing CA (end-entity revocations)."""
        return f"{self.base}/crl/issuing.crl"

    @property
    def crl_root(self) -> str:
        """CRL of the root (revocations of CA certificates)."""
        return f"{self.base}/crl/root.crl"

    @property
    def ocsp(self) -> str:
        return f"{self.base}/ocsp"

    @property
    def tsa(self) -> str:
        return f"{self.base}/tsa"

    @property
    def ca_issuing(self) -> str:
        """The issuing CA's certificate (AIA caIssuers of end-entity certificates)."""
        return f"{self.base}/ca/issuing.crt"

    @property
    def ca_root(self) -> str:
        """The root's certificate (AIA caIssuers of the issuing CA)."""
        return f"{self.base}/ca/root.crt"


def signature_hash(issuer_key: PrivateKey) -> hashes.HashAlgorithm:
    """SHA-384 for a P-384 issuer, SHA-256 otherwise."""
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey) and isinstance(issuer_key.curve, ec.SECP384R1):
        return hashes.SHA384()
    return hashes.SHA256()


def generate_key(key_type: KeyType) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """A fresh private key of ``key_type`` (in memory only)."""
    if key_type is KeyType.RSA2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type is KeyType.RSA3072:
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if key_type is KeyType.P256:
        return ec.generate_private_key(ec.SECP256R1())
    if key_type is KeyType.P384:
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"unknown key type {key_type!r}")  # pragma: no cover


# --- names -----------------------------------------------------------------------------------


def _attr(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute:
    if oid == NameOID.COMMON_NAME:
        return _common_name_attr(value)
    return x509.NameAttribute(oid, value)


def _common_name_attr(value: str) -> x509.NameAttribute:
    """A CN of up to 64 *characters* (X.520's ub-common-name).

    ``cryptography`` counts the limit in UTF-8 bytes, which allows only 21 Thai characters: too
    few for many Thai names and positions. A longer CN is cut at 64 characters, and one within
    64 characters but over 64 bytes is built without ``cryptography``'s byte check (it is a
    valid UTF8String under the X.520 bound, and ``openssl`` and pyHanko read it as such).
    """
    value = value[:64]
    if len(value.encode("utf-8")) <= 64:
        return x509.NameAttribute(NameOID.COMMON_NAME, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return x509.NameAttribute(NameOID.COMMON_NAME, value, _validate=False)
        except TypeError:  # pragma: no cover - a cryptography without the switch: keep 64 bytes
            cut = value.encode("utf-8")[:64].decode("utf-8", "ignore")
            return x509.NameAttribute(NameOID.COMMON_NAME, cut)


def ca_name(organisation: str, common_name: str) -> x509.Name:
    """``C=TH, O=<organisation>, CN=<common name>``."""
    return x509.Name(
        [
            _attr(NameOID.COUNTRY_NAME, "TH"),
            _attr(NameOID.ORGANIZATION_NAME, organisation),
            _attr(NameOID.COMMON_NAME, common_name),
        ]
    )


def user_name(*, full_name: str, position: str, agency_name: str, unit_name: str | None, username: str) -> x509.Name:
    """A signer: ``C=TH, O=<agency>, OU=<unit>, title=<position>, CN=<full name>, UID=<username>``."""
    attrs = [_attr(NameOID.COUNTRY_NAME, "TH"), _attr(NameOID.ORGANIZATION_NAME, agency_name)]
    if unit_name:
        attrs.append(_attr(NameOID.ORGANIZATIONAL_UNIT_NAME, unit_name))
    attrs += [
        _attr(NameOID.TITLE, position),
        _attr(NameOID.COMMON_NAME, full_name),
        _attr(NameOID.USER_ID, username),
    ]
    return x509.Name(attrs)


def seal_name(*, agency_name: str, agency_code: str) -> x509.Name:
    """An agency's seal: ``C=TH, O=<agency>, CN=<agency>, UID=agency:<code>``."""
    return x509.Name(
        [
            _attr(NameOID.COUNTRY_NAME, "TH"),
            _attr(NameOID.ORGANIZATION_NAME, agency_name),
            _attr(NameOID.COMMON_NAME, agency_name),
            _attr(NameOID.USER_ID, f"agency:{agency_code}"),
        ]
    )


# --- building ----------------------------------------------------------------------------------


def _base(
    subject: x509.Name, issuer: x509.Name, public_key: PublicKey, not_before: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)])


def _aia(ca_issuers: str, ocsp: str | None) -> x509.AuthorityInformationAccess:
    access = []
    if ocsp:
        access.append(
            x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp))
        )
    access.append(
        x509.AccessDescription(
            x509.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(ca_issuers)
        )
    )
    return x509.AuthorityInformationAccess(access)


def _key_usage(*, digital_signature: bool = False, non_repudiation: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def build_root(key: PrivateKey, name: x509.Name, not_before: datetime, not_after: datetime) -> x509.Certificate:
    """The self-signed root: CA, pathLen 1, keyCertSign + cRLSign, SKI = AKI."""
    public = key.public_key()
    assert isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    builder = (
        _base(name, name, public, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
    )
    return builder.sign(key, signature_hash(key))  # type: ignore[arg-type]


def build_issuing(
    public_key: PublicKey,
    name: x509.Name,
    root: x509.Certificate,
    root_key: PrivateKey,
    not_before: datetime,
    not_after: datetime,
    urls: Urls,
) -> x509.Certificate:
    """The issuing CA under the root: CA, pathLen 0, the root's CRL and certificate URLs."""
    builder = (
        _base(name, root.subject, public_key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(_aki(root), critical=False)
        .add_extension(_crl_dp(urls.crl_root), critical=False)
        .add_extension(_aia(urls.ca_root, None), critical=False)
    )
    return builder.sign(root_key, signature_hash(root_key))  # type: ignore[arg-type]


def build_signer(
    public_key: PublicKey,
    subject: x509.Name,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    not_before: datetime,
    not_after: datetime,
    urls: Urls,
    *,
    email: str | None = None,
) -> x509.Certificate:
    """A person's or an agency's signing certificate.

    keyUsage digitalSignature + nonRepudiation (critical); EKU id-kp-documentSigning and
    emailProtection (NSS, so poppler's pdfsig, refuses a document signer whose EKU lacks
    emailProtection: see docs/signing-design.md); an rfc822Name when an e-mail address is set;
    CRL DP, OCSP and caIssuers URLs.
    """
    usages = [DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    builder = (
        _base(subject, issuer.subject, public_key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, non_repudiation=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(_aki(issuer), critical=False)
        .add_extension(_crl_dp(urls.crl_issuing), critical=False)
        .add_extension(_aia(urls.ca_issuing, urls.ocsp), critical=False)
    )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]


def build_tsa(
    public_key: PublicKey,
    subject: x509.Name,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    not_before: datetime,
    not_after: datetime,
    urls: Urls,
) -> x509.Certificate:
    """The time-stamping authority: EKU timeStamping only, critical (RFC 3161 section 2.3)."""
    builder = (
        _base(subject, issuer.subject, public_key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, non_repudiation=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_aki(issuer), critical=False)
        .add_extension(_crl_dp(urls.crl_issuing), critical=False)
        .add_extension(_aia(urls.ca_issuing, urls.ocsp), critical=False)
    )
    return builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]


def build_ocsp_responder(
    public_key: PublicKey,
    subject: x509.Name,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    not_before: datetime,
    not_after: datetime,
    urls: Urls,
) -> x509.Certificate:
    """The delegated OCSP responder: EKU OCSPSigning, id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2)."""
    builder = (
        _base(subject, issuer.subject, public_key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(_aki(issuer), critical=False)
        .add_extension(_aia(urls.ca_issuing, None), critical=False)
    )
    return builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]


def build_crl(
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    revoked: list[tuple[int, datetime, x509.ReasonFlags]],
    *,
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> x509.CertificateRevocationList:
    """A full CRL of ``issuer``: CRL number, AKI, and a reason code on every entry but
    ``unspecified`` (RFC 5280 5.3.1 says to omit that one)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    for serial, when, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]


def common_name(organisation: str, suffix: str) -> str:
    """``<organisation> <suffix>``, the organisation shortened so the CN stays within 64
    characters (the X.520 upper bound)."""
    room = 64 - len(suffix) - 1
    return f"{organisation[:room].rstrip()} {suffix}"


def load_public(der: bytes) -> PublicKey:
    """A SubjectPublicKeyInfo (DER) as a key object edoc can certify."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    key = load_der_public_key(der)
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise TypeError(f"unsupported public key {type(key).__name__}")
    return key


def der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


def public_key_of(cert: x509.Certificate) -> PublicKey:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise TypeError(f"unsupported public key {type(key).__name__}")
    return key


def same_public_key(private_key: PrivateKey, cert: x509.Certificate) -> bool:
    """Does ``private_key`` belong to ``cert``?"""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    mine = private_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    theirs = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return mine == theirs


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False
