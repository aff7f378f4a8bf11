"""Signing keys: unlocked once, kept loaded, used for many signatures.

pyHanko's stock :class:`~pyhanko.sign.signers.pdf_cms.SimpleSigner` keeps the private key as
DER and parses it again for every signature (for RSA, ``load_der_private_key`` also checks the
key: tens of milliseconds each time). :class:`KeySigner` holds the ``cryptography`` key object
that :mod:`edoc.pki.keys` unlocked and signs with it directly. Keys on a PKCS#11 token (a smart
card, an HSM; tested with SoftHSM2) go through pyHanko's
:class:`~pyhanko.sign.pkcs11.PKCS11Signer` on one session opened and logged into once.

A :class:`SigningKey` is what the rest of edoc signs with: the signer, the certificate and its
chain, in the forms pyHanko wants, made once.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec, SigningCertificateV2Provider
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from edoc.errors import CertificateNotUsable, InvalidField, SigningFailed
from edoc.pki.keys import PrivateKey


@dataclass(frozen=True)
class Pkcs11Key:
    """A private key that stays on a PKCS#11 token."""

    module: str
    """Path of the PKCS#11 module (e.g. ``/usr/lib/softhsm/libsofthsm2.so``)."""
    token_label: str
    """Label of the token holding the key."""
    key_id: bytes | None = None
    """CKA_ID of the key (and of its certificate, if the token holds one)."""
    key_label: str | None = None
    """CKA_LABEL of the key, when it has no id."""
    pin: str = field(default="", repr=False)
    """The user PIN (from the passphrase source; never printed)."""

    def __post_init__(self) -> None:
        if not self.module:
            raise InvalidField("pkcs11.module", "the PKCS#11 module path is empty")
        if not self.token_label:
            raise InvalidField("pkcs11.token", "the token label is empty")
        if self.key_id is None and not self.key_label:
            raise InvalidField("pkcs11.key", "give the key's id or its label")


@dataclass(frozen=True)
class Credentials:
    """A signer's certificate, its chain and its key (in memory or on a token)."""

    certificate: x509.Certificate
    """The signer's certificate."""
    chain: tuple[x509.Certificate, ...] = ()
    """The issuing CA certificates up to and including the root, nearest first."""
    key: PrivateKey | None = field(default=None, repr=False)
    """The unlocked private key, or None when the key is on a PKCS#11 token."""
    pkcs11: Pkcs11Key | None = None
    """Where the key is on a token, or None when :attr:`key` is given."""
    owner: str = ""
    """Whose key this is (a username, ``agency:CODE``) for messages."""

    def __post_init__(self) -> None:
        if not isinstance(self.certificate, x509.Certificate):
            raise TypeError("certificate must be a cryptography x509.Certificate")
        if not all(isinstance(c, x509.Certificate) for c in self.chain):
            raise TypeError("chain must hold cryptography x509.Certificate objects")
        object.__setattr__(self, "chain", tuple(self.chain))
        if (self.key is None) == (self.pkcs11 is None):
            raise InvalidField("key", "give either the unlocked key or a PKCS#11 reference, not both or neither")
        if self.key is not None:
            if not isinstance(self.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
                raise TypeError(f"unsupported private key type {type(self.key).__name__}")
            if _public_der(self.key.public_key()) != _public_der(self.certificate.public_key()):
                raise InvalidField("key", f"the key of {self.owner or 'the signer'} does not match its certificate")


def _public_der(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The asn1crypto form pyHanko works with."""
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


class KeySigner(Signer):
    """A pyHanko signer over an already loaded ``cryptography`` private key."""

    def __init__(
        self,
        key: PrivateKey,
        certificate: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
        *,
        prefer_pss: bool = False,
    ) -> None:
        super().__init__(
            prefer_pss=prefer_pss,
            embed_roots=True,
            signing_cert=certificate,
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )
        self._key = key
        self._signing_certificate_v2 = signing_certificate_v2(certificate)

    # asn1crypto re-encodes a value built in Python (rather than parsed) every time its bytes are
    # asked for, and its parent asks once per level: a signing-certificate-v2 attribute costs
    # ~8 ms to build and the signed attributes ~10 ms more each time they are dumped. The
    # attribute is the same for every signature of this key (made once, here); the signed
    # attributes are parsed back from their own DER as soon as they are made, so later dumps
    # return the same bytes without re-encoding them. The CMS is byte for byte what pyHanko
    # makes.

    def _signed_attr_provider_spec(
        self, attr_settings: Any, timestamper: Any = None, use_cades: bool = False, is_pdf_sig: bool = True
    ) -> Any:
        spec = super()._signed_attr_provider_spec(
            attr_settings, timestamper=timestamper, use_cades=use_cades, is_pdf_sig=is_pdf_sig
        )
        return _KnownSigningCertificate(spec, self._signing_certificate_v2)

    async def signed_attrs(self, *args: Any, **kwargs: Any) -> cms.CMSAttributes:
        attrs = await super().signed_attrs(*args, **kwargs)
        return cms.CMSAttributes.load(attrs.dump())

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        return self.sign_raw(data, digest_algorithm)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algo = mechanism.signature_algo
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            if algo == "rsassa_pss":
                padding, hash_algo = process_pss_params(mechanism["parameters"])
                return key.sign(data, padding, hash_algo)
            if algo != "rsassa_pkcs1v15":
                raise SigningFailed(f"an RSA key cannot make a {algo} signature")
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if algo != "ecdsa":
                raise SigningFailed(f"an EC key cannot make a {algo} signature")
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        raise SigningFailed(f"unsupported key type {type(key).__name__}")  # pragma: no cover


def signing_certificate_v2(certificate: asn1_x509.Certificate) -> bytes:
    """The ESS signing-certificate-v2 value (RFC 5035) that pyHanko makes for ``certificate``
    (SHA-256, the default algorithm left out; the issuer and serial number), encoded from the
    certificate's own bytes: asn1crypto takes milliseconds to build it, and every new key (a
    circular stamps with one seal per agency) needs one. tests/test_routing_seals_der.py checks
    it against pyHanko's."""
    import hashlib

    tbs = certificate["tbs_certificate"]
    issuer = _tlv(0x30, _tlv(0xA4, tbs["issuer"].dump()))  # GeneralNames: one directoryName
    issuer_serial = _tlv(0x30, issuer + tbs["serial_number"].dump())
    cert_id = _tlv(0x30, _tlv(0x04, hashlib.sha256(certificate.dump()).digest()) + issuer_serial)
    return _tlv(0x30, _tlv(0x30, cert_id))


def _tlv(tag: int, value: bytes) -> bytes:
    """A DER tag-length-value (definite length)."""
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + value


class _SigningCertificateV2(CMSAttributeProvider):
    """The signing-certificate-v2 attribute from its DER, made once per key."""

    attribute_type: str = "signing_certificate_v2"

    def __init__(self, der: bytes) -> None:
        self.der = der

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        return tsp.SigningCertificateV2.load(self.der)


class _KnownSigningCertificate(SignedAttributeProviderSpec):
    """pyHanko's signed-attribute providers, with the signing certificate's attribute made once."""

    def __init__(self, inner: SignedAttributeProviderSpec, der: bytes) -> None:
        self.inner = inner
        self.der = der

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str) -> Any:
        for provider in self.inner.signed_attr_providers(data_digest, digest_algorithm):
            if isinstance(provider, SigningCertificateV2Provider):
                yield _SigningCertificateV2(self.der)
            else:
                yield provider


class SigningKey:
    """An unlocked signing identity, ready for many signatures in this process.

    Open it once (``with SigningKey(creds) as key: ...``) and pass it to every signature of a
    batch. A PKCS#11 key logs into its token here, once; :meth:`close` logs out.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.certificate = credentials.certificate
        self.asn1_certificate = to_asn1(credentials.certificate)
        self.asn1_chain = [to_asn1(c) for c in credentials.chain]
        self.serial = format(credentials.certificate.serial_number, "x")
        self.subject = credentials.certificate.subject.rfc4514_string()
        self.common_name = _common_name(credentials.certificate)
        self._session: Any = None
        self.reserved: dict[Any, int] = {}
        """Bytes reserved for the CMS, per (level, time-stamper): estimated once, then fixed."""
        if credentials.key is not None:
            self.signer: Signer = KeySigner(credentials.key, self.asn1_certificate, self.asn1_chain)
        else:
            assert credentials.pkcs11 is not None
            self.signer = self._open_pkcs11(credentials.pkcs11)
        self.key_usage = _signing_key_usage(credentials.certificate)

    def _open_pkcs11(self, ref: Pkcs11Key) -> Signer:
        try:
            from pyhanko.sign.pkcs11 import PKCS11Signer, TokenCriteria, open_pkcs11_session
        except ImportError as exc:  # pragma: no cover - python-pkcs11 is an optional extra
            raise SigningFailed(f"PKCS#11 support needs python-pkcs11 (pip install edoc[pkcs11]): {exc}") from None
        try:
            self._session = open_pkcs11_session(
                ref.module, token_criteria=TokenCriteria(label=ref.token_label), user_pin=ref.pin
            )
        except Exception as exc:
            raise _pkcs11_error(exc, ref) from None
        return PKCS11Signer(
            self._session,
            signing_cert=self.asn1_certificate,
            ca_chain=self.asn1_chain,
            key_id=ref.key_id,
            key_label=ref.key_label if ref.key_id is None else None,
            # many tokens (SoftHSM2 among them) only do raw CKM_ECDSA: hash here, sign there
            use_raw_mechanism=isinstance(self.certificate.public_key(), ec.EllipticCurvePublicKey),
        )

    def sign_bytes(self, data: bytes, digest_algorithm: str = "sha256") -> bytes:
        """A raw signature over ``data`` (ECDSA as DER, RSA PKCS#1 v1.5) with this key, for small
        signed records such as audit events. A PKCS#11 key signs on the session already open
        (a second login on the same token would be refused)."""
        import asyncio

        if not isinstance(data, bytes):
            raise TypeError("data must be bytes")
        return asyncio.run(self.signer.async_sign_raw(data, digest_algorithm))

    def check_usable(self, at: datetime | None = None) -> None:
        """Refuse a certificate that is not valid at ``at`` (now) or not meant for signing."""
        at = at or datetime.now(UTC)
        cert = self.certificate
        who = self.common_name or self.credentials.owner or self.subject
        if at < cert.not_valid_before_utc:
            raise CertificateNotUsable(who, f"it is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
        if at > cert.not_valid_after_utc:
            raise CertificateNotUsable(who, f"it expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
        if not self.key_usage:
            raise CertificateNotUsable(who, "its key usage allows neither digitalSignature nor nonRepudiation")

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):  # a token already gone
                session.close()

    def __enter__(self) -> SigningKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _common_name(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _signing_key_usage(cert: x509.Certificate) -> set[str]:
    """The signing key usages the certificate allows (what pyHanko should require)."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return {"digital_signature"}  # no restriction in the certificate
    usages = set()
    if ku.digital_signature:
        usages.add("digital_signature")
    if ku.content_commitment:
        usages.add("non_repudiation")
    return usages


def _pkcs11_error(exc: Exception, ref: Pkcs11Key) -> Exception:
    from edoc.errors import WrongPassphrase

    name = type(exc).__name__
    if name in ("PinIncorrect", "PinInvalid", "PinLenRange"):
        return WrongPassphrase(f"PKCS#11 token {ref.token_label!r}")
    return SigningFailed(f"cannot open PKCS#11 token {ref.token_label!r} with {ref.module}: {name} {exc}".strip())


def certificate_fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()
