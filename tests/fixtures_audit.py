"""Real keys and certificates for the audit log's tests: a root CA, an issuing CA, people's
signing certificates and agencies' seals, made with pyca/cryptography (X.509 v3, the
extensions a Web-PKI-style path validator requires)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edoc.audit.signers import EventSigner, event_signer

AUDIT_PASSPHRASE = "audit-passphrase-for-tests"


@dataclass(frozen=True)
class Identity:
    """A private key and its certificate chain."""

    key: Any
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    def signer(self) -> EventSigner:
        return event_signer(self.key, self.certificate, self.chain)

    def pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain))


def _name(cn: str, org: str = "เทศบาลเมืองปากช่อง") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _sign_alg(key: Any) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


class TestCA:
    """A two-level CA that issues certificates for tests."""

    __test__ = False

    def __init__(self, *, not_before: datetime | None = None) -> None:
        self.not_before = not_before or datetime.now(UTC) - timedelta(days=1)
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        root_name = _name("Pak Chong Pilot Root CA (test)", "edoc test")
        self.root = self._build(
            root_name, root_name, self.root_key.public_key(), self.root_key, ca=True, days=3650, issuer_key=None
        )
        self.issuing_key = ec.generate_private_key(ec.SECP256R1())
        self.issuing = self._build(
            _name("Pak Chong Pilot Issuing CA (test)", "edoc test"),
            root_name,
            self.issuing_key.public_key(),
            self.root_key,
            ca=True,
            days=1825,
            issuer_key=self.root_key,
        )

    def _build(
        self,
        subject: x509.Name,
        issuer: x509.Name,
        public: Any,
        signing_key: Any,
        *,
        ca: bool,
        days: int,
        issuer_key: Any,
        not_before: datetime | None = None,
        eku: x509.ExtendedKeyUsage | None = None,
        eku_critical: bool = True,
    ) -> x509.Certificate:
        start = not_before or self.not_before
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca,
                    content_commitment=not ca,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        if eku is not None:
            builder = builder.add_extension(eku, critical=eku_critical)
        aki_key = issuer_key if issuer_key is not None else signing_key
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_key.public_key()), critical=False
        )
        return builder.sign(signing_key, _sign_alg(signing_key))

    def issue(
        self,
        name: str,
        *,
        key_type: str = "p256",
        days: int = 730,
        not_before: datetime | None = None,
        eku: x509.ExtendedKeyUsage | None = None,
        eku_critical: bool = True,
    ) -> Identity:
        key: Any
        if key_type == "p256":
            key = ec.generate_private_key(ec.SECP256R1())
        elif key_type == "rsa2048":
            key = rsa.generate_private_key(65537, 2048)
        elif key_type == "ed25519":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(key_type)
        cert = self._build(
            _name(name),
            self.issuing.subject,
            key.public_key(),
            self.issuing_key,
            ca=False,
            days=days,
            issuer_key=self.issuing_key,
            not_before=not_before,
            eku=eku,
            eku_critical=eku_critical,
        )
        return Identity(key, cert, (self.issuing,))

    def issue_tsa(
        self, name: str = "edoc test TSA", *, usage: Any = ExtendedKeyUsageOID.TIME_STAMPING, critical: bool = True
    ) -> Identity:
        """A time-stamping certificate (EKU ``usage``, critical by default as RFC 3161 wants)."""
        return self.issue(name, eku=x509.ExtendedKeyUsage([usage]), eku_critical=critical)
