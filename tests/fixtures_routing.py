"""A small real CA for the routing tests: a root, an issuing CA, agency seals and user certificates.

Built with ``cryptography`` (the PKI engineer's CA is not needed for the pure rules); every
certificate is a real X.509 certificate that OpenSSL accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def new_key(kind: str) -> Key:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:] or 2048))
    return ec.generate_private_key({"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}[kind])


def _name(cn: str, org: str = "edoc test pilot") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


@dataclass
class MiniCA:
    """Root and issuing CA; issues end-entity certificates."""

    root_key: Key = field(default_factory=lambda: new_key("p256"))
    issuing_key: Key = field(default_factory=lambda: new_key("p256"))
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self) -> None:
        start = self.now - timedelta(days=1)
        self.root = self._cert(
            _name("edoc test root"),
            _name("edoc test root"),
            self.root_key,
            self.root_key,
            ca=True,
            start=start,
            days=3650,
        )
        self.issuing = self._cert(
            _name("edoc test issuing CA"),
            _name("edoc test root"),
            self.issuing_key,
            self.root_key,
            ca=True,
            start=start,
            days=1825,
        )

    def _cert(
        self, subject: x509.Name, issuer: x509.Name, key: Key, signer: Key, *, ca: bool, start: datetime, days: int
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        else:
            builder = builder.add_extension(
                x509.KeyUsage(True, True, True, False, False, False, False, False, False), critical=True
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    def issue(
        self, cn: str, *, key: str = "p256", org: str = "edoc test pilot", days: int = 365
    ) -> tuple[Key, x509.Certificate]:
        k = new_key(key)
        cert = self._cert(
            _name(cn, org),
            self.issuing.subject,
            k,
            self.issuing_key,
            ca=False,
            start=self.now - timedelta(hours=1),
            days=days,
        )
        return k, cert


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
