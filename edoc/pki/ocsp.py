"""OCSP (RFC 6960): the responder behind ``edoc pki serve``'s ``/ocsp``.

Responses are built with ``cryptography``'s ``OCSPResponseBuilder`` and signed by the delegated
responder certificate (id-kp-OCSPSigning, ocsp-nocheck) that the issuing CA certified. A
request about a serial the CA never issued is answered ``unknown``; a request about another
issuer is ``unauthorized``; a request that does not parse is ``malformedRequest``. The nonce
of the request, when there is one, is echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from edoc.pki.keys import PrivateKey
from edoc.pki.model import CertStatus


@dataclass(frozen=True)
class Status:
    """What the CA's register says about one serial."""

    status: CertStatus
    """good, revoked or unknown."""
    revoked_at: datetime | None = None
    """When it was revoked."""
    reason: x509.ReasonFlags | None = None
    """Why (None for ``unspecified``, which RFC 5280 says to leave out)."""


Lookup = Callable[[int], Status]
"""``serial -> Status`` for certificates of the issuing CA."""


class Responder:
    """Answers OCSP requests about the issuing CA's certificates."""

    def __init__(
        self,
        issuer: x509.Certificate,
        responder: x509.Certificate,
        key: PrivateKey,
        lookup: Lookup,
        *,
        validity: timedelta = timedelta(hours=1),
    ) -> None:
        self.issuer = issuer
        self.responder = responder
        self.key = key
        self.lookup = lookup
        self.validity = validity
        cert = asn1_x509.Certificate.load(issuer.public_bytes(Encoding.DER))
        self._hashes = {
            "sha1": (cert.subject.sha1, cert.public_key.sha1),
            "sha256": (cert.subject.sha256, cert.public_key.sha256),
        }

    def respond(self, request_der: bytes, now: datetime) -> bytes:
        """The DER ``OCSPResponse`` for ``request_der`` at ``now``."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            algorithm = request.hash_algorithm
            name_hash, key_hash, serial = request.issuer_name_hash, request.issuer_key_hash, request.serial_number
        except Exception:  # cryptography raises ValueError, or NotImplementedError for several requests
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        ours = self._hashes.get(algorithm.name)
        if ours is None or ours != (name_hash, key_hash):
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        found = self.lookup(serial)
        status = {
            CertStatus.GOOD: ocsp.OCSPCertStatus.GOOD,
            CertStatus.REVOKED: ocsp.OCSPCertStatus.REVOKED,
            CertStatus.UNKNOWN: ocsp.OCSPCertStatus.UNKNOWN,
        }[found.status]
        this_update = now.replace(microsecond=0)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=name_hash,
                issuer_key_hash=key_hash,
                serial_number=serial,
                algorithm=algorithm,
                cert_status=status,
                this_update=this_update,
                next_update=this_update + self.validity,
                revocation_time=found.revoked_at.replace(microsecond=0) if found.revoked_at else None,
                revocation_reason=found.reason if found.status is CertStatus.REVOKED else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.responder)
            .certificates([self.responder])
        )
        try:
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
        except x509.ExtensionNotFound:
            nonce = None
        if nonce is not None:
            builder = builder.add_extension(nonce, critical=False)
        response = builder.sign(self.key, hashes.SHA256())
        return response.public_bytes(Encoding.DER)


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(Encoding.DER)


def make_request(cert: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None) -> bytes:
    """A DER OCSP request about ``cert`` (SHA-1 CertID, as ``openssl ocsp`` sends by default)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(Encoding.DER)
