"""Secret content at rest: CMS EnvelopedData (RFC 5652) for RSA and elliptic-curve recipients.

Confidential and secret documents (ลับ, ลับมาก) are stored as an ``EnvelopedData``: the content
is encrypted once with a fresh AES-256-CBC key, and that key is wrapped for each recipient
certificate (the holding agency's seal and each person on the route). A copy of the database or
of the blob store alone reveals nothing; opening needs the private key of one recipient.

``cryptography``'s ``PKCS7EnvelopeBuilder`` makes the same structure but only for RSA
recipients, with RSAES-PKCS1-v1_5 key transport. edoc's people and seals have P-256 keys by
default, so this module builds the envelope itself, with two standard recipient types:

* RSA certificates: ``KeyTransRecipientInfo`` with RSAES-OAEP (SHA-256, MGF1-SHA-256), RFC 8017
  and RFC 4055 (OAEP rather than PKCS#1 v1.5, which invites padding-oracle attacks).
* EC certificates (P-256, P-384): ``KeyAgreeRecipientInfo`` with ephemeral-static ECDH,
  ``dhSinglePass-stdDH-sha256kdf-scheme``, the ANSI X9.63 KDF over ``ECC-CMS-SharedInfo`` and
  AES-256 key wrap (RFC 5753, RFC 3394), as S/MIME uses for EC keys.

The private key may be on a PKCS#11 token: anything with ``exchange`` (:class:`KeyAgreement`)
or ``decrypt`` (:class:`KeyTransport`) opens envelopes, so the token does the ECDH or the RSA
decryption and the key never leaves it.

Both are what OpenSSL reads (``openssl cms -decrypt -inform DER -recip CERT -inkey KEY``); the
tests check that each side opens what the other made. Adding a person to the route adds a
recipient without re-encrypting the content (:func:`add_recipients`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from asn1crypto import algos, cms, core, keys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

_ECDH_SHA256 = "1.3.132.1.11.1"
"""dhSinglePass-stdDH-sha256kdf-scheme (RFC 5753 / SEC 1): what edoc writes."""
_ECDH_SCHEMES: dict[str, hashes.HashAlgorithm] = {
    "1.3.133.16.840.63.0.2": hashes.SHA1(),
    "1.3.132.1.11.0": hashes.SHA224(),
    _ECDH_SHA256: hashes.SHA256(),
    "1.3.132.1.11.2": hashes.SHA384(),
    "1.3.132.1.11.3": hashes.SHA512(),
}
"""The stdDH schemes read (OpenSSL's default is the SHA-1 KDF)."""
_WRAP_BITS = {"aes128_wrap": 128, "aes192_wrap": 192, "aes256_wrap": 256}


class EnvelopeError(ValueError):
    """The envelope cannot be opened with this key, or is not an envelope at all."""


class _EccCmsSharedInfo(core.Sequence):
    """ECC-CMS-SharedInfo (RFC 5753 section 7.2): the KDF's shared info."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("key_info", cms.KeyEncryptionAlgorithm),
        ("entity_u_info", core.OctetString, {"explicit": 0, "optional": True}),
        ("supp_pub_info", core.OctetString, {"explicit": 2}),
    ]


@runtime_checkable
class KeyAgreement(Protocol):
    """An EC private key that agrees a shared secret (ECDH) with a peer's public key: an
    ``EllipticCurvePrivateKey``, or a key on a PKCS#11 token (``edoc.pki.pkcs11.TokenEcKey``,
    ``CKM_ECDH1_DERIVE``: the private key stays on the token)."""

    @property
    def curve(self) -> ec.EllipticCurve: ...

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes: ...


@runtime_checkable
class KeyTransport(Protocol):
    """An RSA private key that decrypts a wrapped content key: an ``RSAPrivateKey``, or a key
    on a PKCS#11 token (``edoc.pki.pkcs11.TokenRsaKey``)."""

    def decrypt(self, ciphertext: bytes, padding: asym_padding.AsymmetricPadding) -> bytes: ...


Recipient = x509.Certificate
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | KeyAgreement | KeyTransport


def is_envelope(data: bytes) -> bool:
    """Is ``data`` a DER CMS EnvelopedData?"""
    if not data or data[:1] != b"\x30":
        return False
    try:
        info = cms.ContentInfo.load(data)
        return bool(info["content_type"].native == "enveloped_data")
    except (ValueError, TypeError):
        return False


def _issuer_serial(cert: x509.Certificate) -> cms.IssuerAndSerialNumber:
    return cms.IssuerAndSerialNumber.load(_issuer_serial_der(cert.public_bytes(serialization.Encoding.DER)))


@functools.lru_cache(maxsize=4096)
def _issuer_serial_der(cert_der: bytes) -> bytes:
    """The DER ``IssuerAndSerialNumber`` of a certificate (the issuer's bytes as the certificate
    has them): what a recipient identifier for it holds. Parsed once per certificate."""
    parsed = ax509.Certificate.load(cert_der)
    return bytes(cms.IssuerAndSerialNumber({"issuer": parsed.issuer, "serial_number": parsed.serial_number}).dump())


def _recipient_info(cek: bytes, cert: x509.Certificate) -> cms.RecipientInfo:
    key = cert.public_key()
    rid = _issuer_serial(cert)
    if isinstance(key, rsa.RSAPublicKey):
        encrypted = key.encrypt(
            cek, asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        )
        oaep = algos.RSAESOAEPParams(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
            }
        )
        return cms.RecipientInfo(
            name="ktri",
            value=cms.KeyTransRecipientInfo(
                {
                    "version": "v0",
                    "rid": cms.RecipientIdentifier(name="issuer_and_serial_number", value=rid),
                    "key_encryption_algorithm": {"algorithm": "rsaes_oaep", "parameters": oaep},
                    "encrypted_key": encrypted,
                }
            ),
        )
    if isinstance(key, ec.EllipticCurvePublicKey):
        ephemeral = ec.generate_private_key(key.curve)
        shared = ephemeral.exchange(ec.ECDH(), key)
        wrap = cms.KeyEncryptionAlgorithm({"algorithm": "aes256_wrap"})
        kek = _kdf(shared, hashes.SHA256(), wrap, None)
        originator = keys.PublicKeyInfo.load(
            ephemeral.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return cms.RecipientInfo(
            name="kari",
            value=cms.KeyAgreeRecipientInfo(
                {
                    "version": "v3",
                    "originator": cms.OriginatorIdentifierOrKey(name="originator_key", value=originator),
                    "key_encryption_algorithm": {"algorithm": _ECDH_SHA256, "parameters": wrap},
                    "recipient_encrypted_keys": [
                        {
                            "rid": cms.KeyAgreementRecipientIdentifier(name="issuer_and_serial_number", value=rid),
                            "encrypted_key": aes_key_wrap(kek, cek),
                        }
                    ],
                }
            ),
        )
    raise TypeError(f"cannot encrypt for a {type(key).__name__} certificate (RSA or EC only)")


def _kdf(shared: bytes, digest: hashes.HashAlgorithm, wrap: cms.KeyEncryptionAlgorithm, ukm: bytes | None) -> bytes:
    name = wrap["algorithm"].native
    bits = _WRAP_BITS.get(name)
    if bits is None:
        raise EnvelopeError(f"unsupported key wrap algorithm {name}")
    info = _EccCmsSharedInfo(
        {
            "key_info": cms.KeyEncryptionAlgorithm({"algorithm": name}),
            "entity_u_info": ukm,
            "supp_pub_info": bits.to_bytes(4, "big"),
        }
    )
    return X963KDF(algorithm=digest, length=bits // 8, sharedinfo=info.dump()).derive(shared)


def seal(data: bytes, recipients: Sequence[x509.Certificate]) -> bytes:
    """``data`` encrypted (AES-256-CBC) for every certificate in ``recipients``: DER EnvelopedData."""
    if not isinstance(data, bytes):
        raise TypeError("data must be bytes")
    unique = _unique(recipients)
    if not unique:
        raise ValueError("an envelope needs at least one recipient")
    cek = os.urandom(32)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    infos = [_recipient_info(cek, cert) for cert in unique]
    return _dump(
        infos,
        cms.EncryptedContentInfo(
            {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": "aes256_cbc", "parameters": iv},
                "encrypted_content": ciphertext,
            }
        ),
    )


def _unique(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    seen: set[bytes] = set()
    for cert in certs:
        der = cert.public_bytes(serialization.Encoding.DER)
        if der not in seen:
            seen.add(der)
            out.append(cert)
    return out


def _dump(infos: Sequence[cms.RecipientInfo], content: cms.EncryptedContentInfo) -> bytes:
    version = "v0" if all(i.name == "ktri" for i in infos) else "v2"
    enveloped = cms.EnvelopedData(
        {"version": version, "recipient_infos": list(infos), "encrypted_content_info": content}
    )
    return cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump()


def _load(envelope: bytes) -> cms.EnvelopedData:
    try:
        info = cms.ContentInfo.load(envelope)
        if info["content_type"].native != "enveloped_data":
            raise EnvelopeError("not a CMS EnvelopedData")
        enveloped = info["content"]
        for recipient in enveloped["recipient_infos"]:  # parse the structure now, fail here (not
            recipient.chosen  # noqa: B018 - every value: .native costs 80 ms at 344 recipients)
        enveloped["encrypted_content_info"]["content_encryption_algorithm"]
        return enveloped
    except (ValueError, TypeError) as exc:
        if isinstance(exc, EnvelopeError):
            raise
        raise EnvelopeError(f"not a CMS EnvelopedData: {exc}") from None


def recipients(envelope: bytes) -> list[tuple[bytes, int]]:
    """``(issuer DER, serial)`` of every recipient of ``envelope``."""
    out: list[tuple[bytes, int]] = []
    for info in _load(envelope)["recipient_infos"]:
        if info.name == "ktri":
            rid = info.chosen["rid"]
            if rid.name == "issuer_and_serial_number":
                out.append((rid.chosen["issuer"].dump(), rid.chosen["serial_number"].native))
        elif info.name == "kari":
            for rek in info.chosen["recipient_encrypted_keys"]:
                if rek["rid"].name == "issuer_and_serial_number":
                    ias = rek["rid"].chosen
                    out.append((ias["issuer"].dump(), ias["serial_number"].native))
    return out


def is_recipient(envelope: bytes, cert: x509.Certificate) -> bool:
    """Can ``cert``'s key open ``envelope``? A search for the certificate's DER
    ``IssuerAndSerialNumber``, which is what a recipient identifier for it holds byte for byte
    (edoc and OpenSSL copy the issuer's bytes from the certificate): a circular's envelope with
    hundreds of recipients is not parsed for it (80 ms a question at 344 recipients, asn1crypto).
    A false "yes" needs those ~100 bytes to occur by chance in the ciphertext, and would only
    make the caller try a key that then does not open it (:class:`EnvelopeError`)."""
    return _issuer_serial_der(cert.public_bytes(serialization.Encoding.DER)) in envelope


def _matches(ias: cms.IssuerAndSerialNumber, wanted: cms.IssuerAndSerialNumber) -> bool:
    return bool(
        ias["serial_number"].native == wanted["serial_number"].native
        and ias["issuer"].dump() == wanted["issuer"].dump()
    )


def _unwrap(enveloped: cms.EnvelopedData, cert: x509.Certificate, key: PrivateKey) -> bytes:
    try:
        return _unwrap_parsed(enveloped, cert, key)
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, EnvelopeError):
            raise
        raise EnvelopeError(f"a damaged recipient info: {exc}") from None


def _unwrap_parsed(enveloped: cms.EnvelopedData, cert: x509.Certificate, key: PrivateKey) -> bytes:
    wanted = _issuer_serial(cert)
    for info in enveloped["recipient_infos"]:
        if info.name == "ktri" and isinstance(key, KeyTransport):
            ktri = info.chosen
            if ktri["rid"].name != "issuer_and_serial_number" or not _matches(ktri["rid"].chosen, wanted):
                continue
            algorithm = ktri["key_encryption_algorithm"]
            try:
                if algorithm["algorithm"].native == "rsaes_oaep":
                    params = algorithm["parameters"]
                    digest = _hash(params["hash_algorithm"]["algorithm"].native)
                    mgf = _hash(params["mask_gen_algorithm"]["parameters"]["algorithm"].native)
                    pad: asym_padding.AsymmetricPadding = asym_padding.OAEP(
                        mgf=asym_padding.MGF1(mgf), algorithm=digest, label=None
                    )
                else:
                    pad = asym_padding.PKCS1v15()
                return key.decrypt(ktri["encrypted_key"].native, pad)
            except ValueError:
                raise EnvelopeError("the key does not open this envelope") from None
        if info.name == "kari" and isinstance(key, KeyAgreement):
            kari = info.chosen
            for rek in kari["recipient_encrypted_keys"]:
                if rek["rid"].name != "issuer_and_serial_number" or not _matches(rek["rid"].chosen, wanted):
                    continue
                scheme = kari["key_encryption_algorithm"]["algorithm"].dotted
                if scheme not in _ECDH_SCHEMES:
                    raise EnvelopeError(f"unsupported key agreement scheme {scheme}")
                kdf_hash = _ECDH_SCHEMES[scheme]
                if kari["originator"].name != "originator_key":
                    raise EnvelopeError("the originator's key is not in the envelope")
                point = kari["originator"].chosen["public_key"].native
                try:
                    ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, point)
                except ValueError:
                    raise EnvelopeError("the originator's key is not on the recipient's curve") from None
                wrap = cms.KeyEncryptionAlgorithm.load(kari["key_encryption_algorithm"]["parameters"].dump())
                ukm = kari["ukm"].native if kari["ukm"] else None
                kek = _kdf(key.exchange(ec.ECDH(), ephemeral), kdf_hash, wrap, ukm)
                try:
                    return aes_key_unwrap(kek, rek["encrypted_key"].native)
                except InvalidUnwrap:
                    raise EnvelopeError("the key does not open this envelope") from None
    raise EnvelopeError("the certificate is not a recipient of this envelope")


def _hash(name: str) -> hashes.HashAlgorithm:
    table: dict[str, hashes.HashAlgorithm] = {
        "sha1": hashes.SHA1(),
        "sha224": hashes.SHA224(),
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    if name not in table:
        raise EnvelopeError(f"unsupported hash {name}")
    return table[name]


def open_sealed(envelope: bytes, cert: x509.Certificate, key: PrivateKey) -> bytes:
    """The content of ``envelope``, opened with ``key`` (whose certificate is ``cert``)."""
    enveloped = _load(envelope)
    cek = _unwrap(enveloped, cert, key)
    content = enveloped["encrypted_content_info"]
    algorithm = content["content_encryption_algorithm"]
    name = algorithm["algorithm"].native
    sizes = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32}
    if name not in sizes or len(cek) != sizes[name]:
        raise EnvelopeError(f"unsupported content encryption {name}")
    iv = algorithm["parameters"].native
    decryptor = Cipher(algorithms.AES(cek), modes.CBC(iv)).decryptor()
    padded = decryptor.update(content["encrypted_content"].native) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise EnvelopeError("the content does not decrypt (wrong key or damaged envelope)") from None


def add_recipients(envelope: bytes, cert: x509.Certificate, key: PrivateKey, new: Sequence[x509.Certificate]) -> bytes:
    """``envelope`` with recipient infos added for ``new`` (opened with ``key``); the encrypted
    content is unchanged. Certificates already recipients are skipped."""
    enveloped = _load(envelope)
    cek = _unwrap(enveloped, cert, key)
    infos = list(enveloped["recipient_infos"])
    for extra in _unique(new):
        if is_recipient(envelope, extra):
            continue
        infos.append(_recipient_info(cek, extra))
    return _dump(infos, enveloped["encrypted_content_info"])
