"""The DER that evidence seals and PDF signers encode by hand (for speed) is byte for byte what
asn1crypto and pyHanko encode from the same certificates."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from edoc.routing import seals


def _cert(key: object, subject: str, issuer: str, serial: int) -> x509.Certificate:
    now = datetime.now(UTC)
    signer = ec.generate_private_key(ec.SECP384R1())
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "เทศบาลเมืองปากช่อง"),
                    x509.NameAttribute(NameOID.COMMON_NAME, issuer),
                ]
            )
        )
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(signer, hashes.SHA384())
    )


def _reference(seal: seals.Seal) -> seals._Template:
    """The template as asn1crypto encodes it (the construction the hand-made DER replaced)."""
    ders = [seal.certificate.public_bytes(serialization.Encoding.DER)]
    ders += [c.public_bytes(serialization.Encoding.DER) for c in seal.chain]
    cert = ax509.Certificate.load(ders[0])
    ess = tsp.SigningCertificateV2(
        {
            "certs": [
                tsp.ESSCertIDv2(
                    {
                        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                        "cert_hash": hashlib.sha256(ders[0]).digest(),
                    }
                )
            ]
        }
    )
    sid = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": cert.issuer, "serial_number": cert.serial_number}
            )
        }
    )
    digest = algos.DigestAlgorithm({"algorithm": "sha256"})
    head = (
        cms.CMSVersion("v1").dump()
        + cms.DigestAlgorithms([digest]).dump()
        + cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
    )
    return seals._Template(
        head=head,
        certificates=seals._tlv(0xA0, b"".join(ders)),
        sid=sid.dump(),
        digest_algorithm=digest.dump(),
        signature_algorithm=algos.SignedDigestAlgorithm(
            {"algorithm": seals._signature_algorithm(seal.certificate)}
        ).dump(),
        fixed_attributes=(
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump(),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}).dump(),
        ),
    )


@pytest.mark.parametrize(
    ("key", "serial"),
    [
        (ec.generate_private_key(ec.SECP256R1()), 1),
        (ec.generate_private_key(ec.SECP384R1()), 0x1BE93ECFC23923D4FCE4C96E9CA3033E7240FEA0),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), 0x80),  # a leading 0x00 byte
    ],
)
def test_seal_template_is_what_asn1crypto_encodes(key: object, serial: int) -> None:
    cert = _cert(key, "อำเภอปากช่อง", "ปากช่อง CA 1", serial)
    seal = seals.Seal.from_key("PAKCHONG-DIST", key, cert)  # type: ignore[arg-type]
    seals._TEMPLATES.clear()
    assert seals._template(seal) == _reference(seal)


def test_signing_certificate_attribute_is_what_pyhanko_encodes() -> None:
    from pyhanko.sign.general import as_signing_certificate_v2

    from edoc.signing.keys import signing_certificate_v2

    for key, serial in (
        (ec.generate_private_key(ec.SECP256R1()), 7),
        (ec.generate_private_key(ec.SECP256R1()), 2**150 + 3),
    ):
        cert = _cert(key, "อำเภอสีคิ้ว", "ปากช่อง CA 1", serial)
        asn1 = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        assert signing_certificate_v2(asn1) == as_signing_certificate_v2(asn1).dump()
