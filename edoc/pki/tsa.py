"""RFC 3161 time-stamping: the TSA that answers ``edoc pki serve``'s ``/tsa``.

Requests and responses are asn1crypto structures (``tsp``, ``cms``); the signature is made by
``cryptography``. The token is a CMS SignedData (v3) over a TSTInfo, with the signed attributes
content-type, signing-time, message-digest and ESS signing-certificate-v2 (RFC 5816), which is
what ``openssl ts -verify`` and pyHanko check. Requests with an unsupported hash, a wrong
digest length, an unknown policy or any extension are rejected with the RFC 3161 failure bits
rather than stamped.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from edoc.pki.keys import PrivateKey

TSA_POLICY = "2.25.185291019430942882778282742806276445989"
"""The pilot TSA's policy OID (a UUID OID, X.667: needs no registration)."""

DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
"""Message-imprint hashes the TSA accepts (SHA-1 and MD5 are refused: ETSI TS 119 312)."""


class TimeStampResp(tsp.TimeStampResp):
    """RFC 3161's TimeStampResp, whose token is OPTIONAL (absent from a rejection); asn1crypto's
    own class makes it mandatory."""

    _fields = [  # noqa: RUF012 - asn1crypto's class attribute
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class Rejection(Exception):
    """Why a request is refused: an RFC 3161 PKIFailureInfo bit and a text."""

    def __init__(self, failure: str, text: str) -> None:
        super().__init__(text)
        self.failure = failure
        """``bad_alg``, ``bad_request``, ``bad_data_format``, ``unaccepted_policy``, ``unaccepted_extension``."""
        self.text = text


class TimeStamper:
    """Answers time-stamp requests with tokens signed by the TSA key (unlocked once)."""

    def __init__(
        self,
        certificate: x509.Certificate,
        key: PrivateKey,
        chain: list[x509.Certificate],
        *,
        policy: str = TSA_POLICY,
        accuracy_seconds: int = 1,
    ) -> None:
        self.certificate = certificate
        self.key = key
        self.policy = policy
        self.accuracy_seconds = accuracy_seconds
        self._cert = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
        self._chain = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in chain]

    def respond(self, request_der: bytes, now: datetime) -> bytes:
        """The DER ``TimeStampResp`` for ``request_der`` at time ``now`` (granted or rejection)."""
        try:
            request = self._parse(request_der)
        except Rejection as rejection:
            return _rejection(rejection)
        return self._grant(request, now).dump()

    def _parse(self, der: bytes) -> tsp.TimeStampReq:
        try:
            request = tsp.TimeStampReq.load(der, strict=True)
            version = request["version"].native
            algorithm = request["message_imprint"]["hash_algorithm"]["algorithm"].native
            digest = request["message_imprint"]["hashed_message"].native
            policy = request["req_policy"].native
            extensions = request["extensions"].native
            request["nonce"].native  # noqa: B018 - parse it now, not while answering
        except (ValueError, TypeError, KeyError) as exc:
            raise Rejection("bad_data_format", f"not a TimeStampReq: {exc}") from None
        if version != "v1":
            raise Rejection("bad_request", f"version {version} is not supported")
        if algorithm not in DIGEST_SIZES:
            raise Rejection("bad_alg", f"hash {algorithm} is not accepted (use sha256, sha384 or sha512)")
        if len(digest) != DIGEST_SIZES[algorithm]:
            raise Rejection("bad_data_format", f"a {algorithm} digest has {DIGEST_SIZES[algorithm]} bytes")
        if policy is not None and policy != self.policy:
            raise Rejection("unaccepted_policy", f"policy {policy} is not this TSA's ({self.policy})")
        if extensions:
            raise Rejection("unaccepted_extension", "extensions are not supported")
        return request

    def _grant(self, request: tsp.TimeStampReq, now: datetime) -> TimeStampResp:
        gen_time = now.replace(microsecond=0)
        info: dict[str, object] = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": request["message_imprint"],
            "serial_number": secrets.randbits(127) | 1,
            "gen_time": gen_time,
            "accuracy": {"seconds": self.accuracy_seconds},
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self._cert.subject),
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        digest_name = "sha256"
        signed_attrs = cms.CMSAttributes(
            [
                _attribute("content_type", cms.ContentType("tst_info")),
                _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(gen_time)})),
                _attribute("message_digest", core.OctetString(hashlib.sha256(tst_info).digest())),
                _attribute(
                    "signing_certificate_v2",
                    tsp.SigningCertificateV2(
                        {
                            "certs": [
                                {
                                    "cert_hash": hashlib.sha256(self._cert.dump()).digest(),
                                    "issuer_serial": {
                                        "issuer": [
                                            asn1_x509.GeneralName(name="directory_name", value=self._cert.issuer)
                                        ],
                                        "serial_number": self._cert.serial_number,
                                    },
                                }
                            ]
                        }
                    ),
                ),
            ]
        )
        signature, algorithm = self._sign(signed_attrs.dump())
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value=cms.IssuerAndSerialNumber(
                        {"issuer": self._cert.issuer, "serial_number": self._cert.serial_number}
                    ),
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_name}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algorithm}),
                "signature": signature,
            }
        )
        signed_data: dict[str, object] = {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_name})],
            "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)},
            "signer_infos": [signer_info],
        }
        if request["cert_req"].native:
            signed_data["certificates"] = [
                cms.CertificateChoices(name="certificate", value=c) for c in [self._cert, *self._chain]
            ]
        token = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
        return TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})

    def _sign(self, data: bytes) -> tuple[bytes, str]:
        key = self.key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256())), "sha256_ecdsa"
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256()), "sha256_rsa"
        raise TypeError(f"unsupported TSA key {type(key).__name__}")  # pragma: no cover


def _attribute(kind: str, value: object) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})


def _rejection(rejection: Rejection) -> bytes:
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": [rejection.text],
            "fail_info": tsp.PKIFailureInfo({rejection.failure}),
        }
    )
    return TimeStampResp({"status": status}).dump()


def make_request(digest: bytes, *, hash_name: str = "sha256", nonce: int | None = None, cert_req: bool = True) -> bytes:
    """A DER ``TimeStampReq`` for ``digest`` (what a client such as pyHanko sends)."""
    request: dict[str, object] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": hash_name}, "hashed_message": digest},
        "cert_req": cert_req,
    }
    if nonce is not None:
        request["nonce"] = nonce
    return tsp.TimeStampReq(request).dump()


@dataclass(frozen=True)
class StampedTime:
    """What a granted response says (parsed back, for callers and tests)."""

    status: str
    """``granted`` or ``rejection`` (or another PKIStatus)."""
    gen_time: datetime | None
    """The time stamped, when granted."""
    serial: int | None
    """The token's serial number."""
    nonce: int | None
    """The nonce echoed back."""
    failure: frozenset[str]
    """PKIFailureInfo bits when rejected."""
    token: bytes | None
    """The TimeStampToken (CMS ContentInfo, DER) when granted."""


def read_response(der: bytes) -> StampedTime:
    """Parse a ``TimeStampResp`` (no signature check: ``openssl ts -verify`` or pyHanko do that)."""
    response = TimeStampResp.load(der)
    status = response["status"]["status"].native
    fail = response["status"]["fail_info"].native
    failure = frozenset(fail) if fail else frozenset()
    token = response["time_stamp_token"]
    if status != "granted" or not token.native:
        return StampedTime(status, None, None, None, failure, None)
    info = token["content"]["encap_content_info"]["content"].parsed
    return StampedTime(
        status,
        info["gen_time"].native,
        info["serial_number"].native,
        info["nonce"].native,
        failure,
        token.dump(),
    )
