"""RFC 3161 time-stamps of checkpoints: what they prove and how they are checked.

A checkpoint says "the log had N events and this root at time T", and T is the office's own
claim. A time-stamp token from a time-stamping authority (TSA) over the checkpoint proves the
checkpoint existed no later than the TSA's time: an office that rewrites its history cannot
backdate the new checkpoints, because the TSA will not.

The token's *message imprint* is the hash (SHA-256 when edoc asks) of the checkpoint's text,
exactly the bytes the audit key signs (:meth:`~edoc.audit.checkpoint.Checkpoint.text`), so an
auditor can also check one with OpenSSL alone::

    openssl ts -verify -data checkpoint.txt -in token.der -token_in -CAfile root.pem

:func:`token_problem` checks a token against its checkpoint with ``asn1crypto`` (parsing) and
``cryptography`` (signature, certificate path) and no database:

1. it is a CMS SignedData over a TSTInfo, with one signer and the signed attributes RFC 3161
   and RFC 5816 require (content-type, message-digest, ESS signing-certificate);
2. the message imprint is the hash of this checkpoint's text (not another's);
3. the message-digest attribute is the hash of the TSTInfo and the TSA's signature over the
   signed attributes verifies with the certificate the ESS attribute names;
4. that certificate is a time-stamping certificate (extended key usage ``timeStamping``,
   critical) valid at the token's time and, when trust anchors are given, chains to one;
5. the token's time is not before the checkpoint's time (allowing the token's accuracy) and
   not more than :data:`MAX_DELAY` after it: a later stamp would not confirm the time the
   checkpoint claims.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from edoc.audit.checkpoint import Checkpoint
from edoc.audit.signers import certificate_problem, load_certificate, serial_hex

MAX_DELAY = timedelta(days=7)
"""How long after its checkpoint a token may be dated and still confirm the checkpoint's time
(a TSA that was down over a long holiday; ``edoc audit timestamp`` stamps late ones)."""

IMPRINT_HASH = "sha256"
"""The hash edoc asks TSAs to stamp."""

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def imprint(checkpoint: Checkpoint, algorithm: str = IMPRINT_HASH) -> bytes:
    """The message imprint a token over ``checkpoint`` carries: the hash of its text."""
    return hashlib.new(algorithm, checkpoint.text()).digest()


@dataclass(frozen=True)
class TokenInfo:
    """What a time-stamp token says, read back (not yet checked)."""

    gen_time: datetime
    """The TSA's time (aware, UTC)."""
    accuracy: timedelta | None
    """The accuracy the TSA claims, when it states one."""
    hash_algorithm: str
    """The message imprint's hash (``sha256`` …)."""
    imprint: bytes
    """The hash that was stamped."""
    serial: int
    """The token's serial number."""
    tsa: str
    """The signing certificate's subject (RFC 4514), or ``?`` when it is not in the token."""
    certificates: tuple[bytes, ...]
    """The certificates the token carries (DER): the TSA's and its issuers'."""


def read_token(token: bytes) -> TokenInfo:
    """Parse a token (ValueError naming what is malformed; nothing is checked here)."""
    signed, tst, _ = _parse(token)
    certs = _embedded(signed)
    signer = _find_signer(signed["signer_infos"][0], certs)
    return TokenInfo(
        gen_time=tst["gen_time"].native,
        accuracy=_accuracy(tst),
        hash_algorithm=tst["message_imprint"]["hash_algorithm"]["algorithm"].native,
        imprint=tst["message_imprint"]["hashed_message"].native,
        serial=tst["serial_number"].native,
        tsa=load_certificate(signer).subject.rfc4514_string() if signer is not None else "?",
        certificates=tuple(certs),
    )


def token_certificates(token: bytes) -> dict[str, bytes]:
    """The certificates a token carries, by serial (hex), to keep with the log."""
    try:
        signed, _, _ = _parse(token)
    except ValueError:
        return {}
    return {serial_hex(load_certificate(der)): der for der in _embedded(signed)}


def token_problem(
    token: bytes,
    checkpoint: Checkpoint,
    *,
    roots: Sequence[x509.Certificate] = (),
    certificates: Sequence[bytes] = (),
    max_delay: timedelta = MAX_DELAY,
) -> str | None:
    """Why ``token`` does not prove that ``checkpoint`` existed at the token's time, or None.

    ``certificates`` (DER) are further certificates to find the TSA's and its issuers among
    (the token usually carries them). Without ``roots`` the certificate path is not checked.
    """
    try:
        signed, tst, content = _parse(token)
    except ValueError as exc:
        return f"is not a time-stamp token ({exc})"
    algorithm = tst["message_imprint"]["hash_algorithm"]["algorithm"].native
    if algorithm not in _HASHES:
        return f"stamps a {algorithm} hash, which is not accepted"
    if tst["message_imprint"]["hashed_message"].native != imprint(checkpoint, algorithm):
        return "was made over other data: its message imprint is not the hash of this checkpoint"

    infos = signed["signer_infos"]
    if len(infos) != 1:
        return f"has {len(infos)} signers where RFC 3161 wants one"
    info = infos[0]
    embedded = _embedded(signed)
    pool = [*embedded, *(c for c in certificates if c not in embedded)]
    signer_der = _find_signer(info, pool)
    if signer_der is None:
        return "does not carry the certificate of the TSA that signed it"
    why = _signature_problem(info, content, signer_der)
    if why is not None:
        return why

    cert = load_certificate(signer_der)
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return f"is signed by certificate {serial_hex(cert)}, which is not a time-stamping certificate (no EKU)"
    if ExtendedKeyUsageOID.TIME_STAMPING not in eku.value or not eku.critical:
        return (
            f"is signed by certificate {serial_hex(cert)}, which is not a time-stamping certificate "
            "(RFC 3161 wants the extended key usage timeStamping, critical)"
        )
    gen_time: datetime = tst["gen_time"].native
    others = [load_certificate(d) for d in pool if d != signer_der]
    why = certificate_problem(cert, gen_time, roots=roots, intermediates=others)
    if why is not None:
        return f"is signed by a TSA that cannot vouch for it: {why}"

    slack = _accuracy(tst) or timedelta(seconds=1)  # a TSA without accuracy rounds to the second
    if gen_time + slack < checkpoint.at:
        return (
            f"is dated {gen_time:%Y-%m-%d %H:%M:%S} UTC, before the checkpoint's own time "
            f"{checkpoint.at:%Y-%m-%d %H:%M:%S} UTC: the checkpoint's time is false"
        )
    if gen_time - slack > checkpoint.at + max_delay:
        return (
            f"is dated {gen_time:%Y-%m-%d %H:%M:%S} UTC, {_days(gen_time - checkpoint.at)} after the checkpoint "
            f"({checkpoint.at:%Y-%m-%d %H:%M:%S} UTC): it does not confirm the checkpoint's time"
        )
    return None


def _days(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"


def _parse(token: bytes) -> tuple[cms.SignedData, tsp.TSTInfo, bytes]:
    """The SignedData, the TSTInfo and its encoded bytes (ValueError when malformed)."""
    try:
        info = cms.ContentInfo.load(token, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError(f"its content is {info['content_type'].native}, not signed data")
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise ValueError(f"it signs {encap['content_type'].native}, not a TSTInfo")
        content = bytes(encap["content"])
        tst = tsp.TSTInfo.load(content, strict=True)
        tst.native  # noqa: B018 - parse every field now
        if len(signed["signer_infos"]) < 1:
            raise ValueError("it has no signer")
        signed["signer_infos"].native  # noqa: B018
        return signed, tst, content
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None


def _embedded(signed: cms.SignedData) -> list[bytes]:
    out = []
    for choice in signed["certificates"] or []:
        if choice.name == "certificate":
            out.append(choice.chosen.dump())
    return out


def _find_signer(info: cms.SignerInfo, pool: Sequence[bytes]) -> bytes | None:
    sid = info["sid"]
    for der in pool:
        try:
            cert = asn1_x509.Certificate.load(der)
            if sid.name == "issuer_and_serial_number":
                if cert.issuer == sid.chosen["issuer"] and cert.serial_number == sid.chosen["serial_number"].native:
                    return der
            elif cert.key_identifier == sid.chosen.native:
                return der
        except ValueError:
            continue
    return None


def _accuracy(tst: tsp.TSTInfo) -> timedelta | None:
    acc = tst["accuracy"]
    if acc.native is None:
        return None
    return timedelta(
        seconds=acc["seconds"].native or 0,
        milliseconds=acc["millis"].native or 0,
        microseconds=acc["micros"].native or 0,
    )


def _attribute(attrs: cms.CMSAttributes, kind: str) -> object | None:
    for attr in attrs:
        if attr["type"].native == kind:
            values = attr["values"]
            if len(values) != 1:
                raise ValueError(f"attribute {kind} has {len(values)} values")
            return values[0]
    return None


def _signature_problem(info: cms.SignerInfo, content: bytes, signer_der: bytes) -> str | None:
    digest_name = info["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        return f"is signed with a {digest_name} digest, which is not accepted"
    attrs = info["signed_attrs"]
    if not attrs.native:
        return "has no signed attributes (RFC 3161 wants content-type, message-digest and signing-certificate)"
    try:
        content_type = _attribute(attrs, "content_type")
        digest = _attribute(attrs, "message_digest")
        ess_v2 = _attribute(attrs, "signing_certificate_v2")
        ess_v1 = _attribute(attrs, "signing_certificate")
    except ValueError as exc:
        return f"has malformed signed attributes ({exc})"
    if content_type is None or content_type.native != "tst_info":  # type: ignore[attr-defined]
        return "has no content-type attribute naming a TSTInfo"
    if digest is None or digest.native != hashlib.new(digest_name, content).digest():  # type: ignore[attr-defined]
        return "was altered: its TSTInfo no longer has the digest the TSA signed"
    if ess_v2 is not None:
        ref = ess_v2["certs"][0]  # type: ignore[index]
        ess_hash = ref["hash_algorithm"]["algorithm"].native
        if ess_hash not in _HASHES:
            return f"names its certificate by a {ess_hash} hash, which is not accepted"
        if ref["cert_hash"].native != hashlib.new(ess_hash, signer_der).digest():
            return "names a different signing certificate than the one it is signed with"
    elif ess_v1 is not None:
        if ess_v1["certs"][0]["cert_hash"].native != hashlib.sha1(signer_der).digest():  # type: ignore[index]
            return "names a different signing certificate than the one it is signed with"
    else:
        return "has no ESS signing-certificate attribute (RFC 3161 wants one)"

    signed_bytes = attrs.untag().dump(force=True)
    signature = info["signature"].native
    algorithm = info["signature_algorithm"]
    key = load_certificate(signer_der).public_key()
    hash_cls = _HASHES[digest_name]
    try:
        kind = algorithm.signature_algo
        if isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
            key.verify(signature, signed_bytes, padding.PKCS1v15(), hash_cls())
        elif isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pss":
            params = algorithm["parameters"]
            pss_hash = _HASHES.get(params["hash_algorithm"]["algorithm"].native)
            if pss_hash is None:
                return "is signed with an RSA-PSS hash that is not accepted"
            salt = params["salt_length"].native
            key.verify(signature, signed_bytes, padding.PSS(padding.MGF1(pss_hash()), salt), pss_hash())
        elif isinstance(key, ec.EllipticCurvePublicKey) and kind == "ecdsa":
            key.verify(signature, signed_bytes, ec.ECDSA(hash_cls()))
        elif isinstance(key, ed25519.Ed25519PublicKey) and kind == "ed25519":
            key.verify(signature, signed_bytes)
        else:
            return f"is signed with {kind}, which does not match the TSA's {type(key).__name__}"
    except InvalidSignature:
        return "was altered or forged: the TSA's signature does not verify"
    except (ValueError, KeyError) as exc:
        return f"has a malformed signature ({exc})"
    return None
