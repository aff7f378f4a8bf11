"""The trust services a signature level needs: time-stamps, CRLs, OCSP, trust anchors.

B-T needs an RFC 3161 time-stamping authority: a URL (``edoc pki serve``'s ``/tsa``) or an
in-process callable that takes a DER ``TimeStampReq`` and returns a DER ``TimeStampResp`` (the
PKI's in-process TSA, or a test's). B-LT and B-LTA also need the trust anchors (never the OS
store) and the CRLs and OCSP responses of every certificate involved, fetched from the URLs in
the certificates (the pilot's ``edoc pki serve``) and/or given up front.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import tsp
from cryptography import x509
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator import ValidationContext

from edoc.errors import InvalidField, SigningServiceUnavailable
from edoc.signing.keys import to_asn1

TimeStampSource = Callable[[bytes], bytes]
"""An in-process TSA: DER ``TimeStampReq`` in, DER ``TimeStampResp`` out."""


@dataclass(frozen=True)
class Services:
    """Where a signature's time-stamp and validation material come from."""

    trust_roots: tuple[x509.Certificate, ...] = ()
    """The trust anchors (the pilot root; never the operating system's store)."""
    tsa_url: str | None = None
    """RFC 3161 time-stamping URL."""
    tsa: TimeStampSource | None = field(default=None, compare=False)
    """An in-process time-stamping authority (used instead of :attr:`tsa_url`)."""
    other_certs: tuple[x509.Certificate, ...] = ()
    """Further CA certificates to build paths with (e.g. the TSA's issuer)."""
    crls: tuple[bytes, ...] = ()
    """DER CRLs known up front (e.g. the PKI's latest CRL)."""
    ocsps: tuple[bytes, ...] = ()
    """DER OCSP responses known up front."""
    allow_fetching: bool = True
    """Fetch CRLs and OCSP responses from the URLs in the certificates when signing B-LT/B-LTA."""
    timeout: float = 10.0
    """Seconds to wait for each service."""

    def __post_init__(self) -> None:
        for name in ("trust_roots", "other_certs", "crls", "ocsps"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.tsa_url is not None and not self.tsa_url.startswith(("http://", "https://")):
            raise InvalidField("signing.tsa_url", f"{self.tsa_url!r} is not an http(s) URL")
        if self.tsa is not None and not callable(self.tsa):
            raise TypeError("tsa must be a callable taking and returning DER bytes")

    @property
    def has_tsa(self) -> bool:
        return self.tsa is not None or bool(self.tsa_url)


class CallableTimeStamper(TimeStamper):
    """A pyHanko time-stamper over an in-process TSA callable."""

    def __init__(self, source: TimeStampSource) -> None:
        super().__init__()
        self._source = source

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            answer = self._source(req.dump())
        except Exception as exc:
            raise SigningServiceUnavailable("time-stamping authority", f"{type(exc).__name__}: {exc}") from exc
        return tsp.TimeStampResp.load(answer)


_TIMESTAMPERS: dict[Any, TimeStamper] = {}


def timestamper_for(services: Services) -> TimeStamper:
    """One time-stamper per TSA and process (pyHanko caches the TSA's certificates in it)."""
    if not services.has_tsa:
        raise InvalidField("signing.tsa_url", "this signature level needs a time-stamping authority and none is set")
    key: Any = ("callable", id(services.tsa)) if services.tsa is not None else ("url", services.tsa_url)
    stamper = _TIMESTAMPERS.get(key)
    if stamper is None:
        if services.tsa is not None:
            stamper = CallableTimeStamper(services.tsa)
        else:
            stamper = HTTPTimeStamper(services.tsa_url, timeout=int(services.timeout))
        _TIMESTAMPERS[key] = stamper
    return stamper


def stamp_digest(services: Services, digest: bytes, algorithm: str = "sha256") -> bytes:
    """An RFC 3161 time-stamp token (DER ``ContentInfo``) over ``digest`` from the services'
    TSA, asked through pyHanko's client (which checks the status and the nonce); for stamps of
    things other than PDFs, such as the audit log's checkpoints."""
    import asyncio

    from pyhanko.sign.timestamps import TimestampRequestError

    stamper = timestamper_for(services)

    async def token() -> bytes:
        # DER, not the ContentInfo: asyncio.run formats its result's repr when it restores the
        # SIGINT handler, and a ContentInfo re-serialises itself for that (see sign._Boxed)
        return bytes((await stamper.async_timestamp(digest, algorithm)).dump())

    try:
        return asyncio.run(token())
    except TimestampRequestError as exc:
        raise SigningServiceUnavailable("time-stamping authority", str(exc) or type(exc).__name__) from exc
    except OSError as exc:
        raise SigningServiceUnavailable("time-stamping authority", f"{type(exc).__name__}: {exc}") from exc


def validation_context(
    services: Services, *, extra_certs: Sequence[Any] = (), fetching: bool | None = None
) -> ValidationContext:
    """A pyHanko validation context over exactly the given anchors."""
    if not services.trust_roots:
        raise InvalidField("trust", "B-LT and B-LTA need the trust anchors (the pilot root certificate)")
    allow = services.allow_fetching if fetching is None else fetching
    return ValidationContext(
        trust_roots=[to_asn1(c) for c in services.trust_roots],
        other_certs=[to_asn1(c) for c in services.other_certs] + list(extra_certs),
        crls=[asn1_crl.CertificateList.load(c) for c in services.crls],
        ocsps=[asn1_ocsp.OCSPResponse.load(o) for o in services.ocsps],
        allow_fetching=allow,
        revocation_mode="hard-fail" if allow else "soft-fail",
    )
