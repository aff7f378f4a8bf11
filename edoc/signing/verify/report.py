"""What a verification says: frozen values, ETSI EN 319 102-1 words, and the contract's JSON.

A :class:`VerificationReport` is the verdict on one file; it holds one :class:`SignatureReport`
per signature field (document time-stamps included). Reasons are kept as codes with parameters
(:class:`Reason`) and become plain sentences in Thai or English only when shown, so one report
serves the terminal, ``--json`` and the printable HTML page in either language.

Nothing here imports pyHanko: reports cross process boundaries (they are pickled from the
worker that parsed the file) and are read by the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from edoc.signing.verify.reasons import reason_text


class Indication(StrEnum):
    """The three main indications of ETSI EN 319 102-1, clause 5.1.3."""

    TOTAL_PASSED = "TOTAL-PASSED"
    TOTAL_FAILED = "TOTAL-FAILED"
    INDETERMINATE = "INDETERMINATE"


class SignatureKind(StrEnum):
    """What a signature field holds."""

    SIGNATURE = "signature"
    """A signature by a person or an agency seal (``/Type /Sig``)."""
    TIMESTAMP = "timestamp"
    """A document time-stamp (``/Type /DocTimeStamp``, RFC 3161)."""


class Level(StrEnum):
    """PAdES baseline level reached by a signature (ETSI EN 319 142-1)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"
    NONE = "none"
    """Not a PAdES baseline signature (e.g. ``adbe.pkcs7.detached``), or a document time-stamp."""


class Revocation(StrEnum):
    """What is known about the revocation of the signer's certificate."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class Coverage(StrEnum):
    """How much of the file the signature's byte range covers."""

    ENTIRE_FILE = "entire-file"
    ENTIRE_REVISION = "entire-revision"
    """The whole revision it signed; later incremental updates exist."""
    PARTIAL = "partial"
    """Anything else: the byte range leaves part of its revision unsigned, or is malformed."""


class Modifications(StrEnum):
    """The most far-reaching kind of change made to the file after a signature."""

    NONE = "none"
    SIGNATURES = "signatures"
    """Later signatures, document time-stamps and validation data (DSS) only."""
    FORM_FILLING = "form-filling"
    ANNOTATIONS = "annotations"
    """Comments and other annotations (and anything less)."""
    OTHER = "other"
    """Changes that signing, form filling, comments and validation data do not explain."""


MODIFICATION_ORDER = (
    Modifications.NONE,
    Modifications.SIGNATURES,
    Modifications.FORM_FILLING,
    Modifications.ANNOTATIONS,
    Modifications.OTHER,
)


def worst_modification(*kinds: Modifications) -> Modifications:
    """The most far-reaching of ``kinds`` (``NONE`` for no arguments)."""
    return max(kinds, key=MODIFICATION_ORDER.index, default=Modifications.NONE)


class ChangeKind(StrEnum):
    """How a visible difference on a page is explained."""

    UNEXPLAINED = "unexplained"
    """Outside every later signature appearance, comment and form field: content was altered."""
    DECLARED = "declared"
    """Inside comments or form fields added or changed after signing: visible, but declared."""
    PAGES = "pages"
    """Pages were added, removed or resized."""


@dataclass(frozen=True)
class Reason:
    """One plain sentence of a report, kept as a code and its parameters."""

    code: str
    """Key into :mod:`edoc.signing.verify.reasons` (e.g. ``"hash_failure"``)."""
    params: tuple[tuple[str, str], ...] = ()
    """The template's fields, as text."""

    @classmethod
    def of(cls, code: str, **params: object) -> Reason:
        """``Reason.of("revoked", date="2026-01-02")``: parameters are turned into text."""
        return cls(code, tuple((k, _text(v)) for k, v in params.items()))

    def text(self, lang: str = "en") -> str:
        """The sentence in ``lang`` (``"th"`` or ``"en"``)."""
        return reason_text(self.code, lang, dict(self.params))


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Signer:
    """Who signed, as the signer's certificate says."""

    name: str | None
    """Common name of the certificate's subject."""
    organisation: str | None
    """Organisation (O) of the subject, e.g. the agency."""
    serial: str | None
    """Serial number of the certificate, lower-case hexadecimal."""
    issuer: str | None
    """Common name (else the full name) of the certificate's issuer."""


@dataclass(frozen=True)
class PageChange:
    """A page that looks different now from when a signature was made."""

    page: int
    """Page number, from 1."""
    kind: ChangeKind
    """How the difference is explained."""
    box: tuple[float, float, float, float] | None = None
    """Bounding box of the difference in PDF points (x0, y0, x1, y1, origin bottom left)."""
    before_png: bytes | None = None
    """The page as signed (PNG), when images were kept for the report."""
    after_png: bytes | None = None
    """The page as it is now (PNG), with the difference outlined."""


@dataclass(frozen=True)
class SignatureReport:
    """The verdict on one signature or document time-stamp."""

    field: str
    """Fully qualified name of the signature field."""
    kind: SignatureKind
    """Signature or document time-stamp."""
    signer: Signer
    """The signer (the time-stamping authority for a document time-stamp)."""
    signing_time: datetime | None
    """When the signer says it signed (or the time-stamp's time for a document time-stamp)."""
    timestamp: datetime | None
    """Time proven by a valid time-stamp over the signature, if there is one."""
    level: Level
    """PAdES baseline level reached."""
    intact: bool
    """The signed bytes match the signed digest and the signature value verifies."""
    trusted: bool
    """The signer's certificate chains to one of the given trust anchors."""
    revocation: Revocation
    """Revocation status of the signer's certificate."""
    coverage: Coverage
    """How much of the file the byte range covers."""
    modifications_after: Modifications
    """The most far-reaching change made after this signature."""
    visual_change_after: bool
    """A reader sees something different now than when it was signed (outside later valid signatures)."""
    indication: Indication
    """ETSI main indication for this signature."""
    subindication: str | None
    """ETSI sub-indication (e.g. ``HASH_FAILURE``), None when passed."""
    reasons: tuple[Reason, ...]
    """Why, in plain sentences."""
    revision: int | None = None
    """The revision (from 0) this signature signed, when known."""
    chain: tuple[str, ...] = ()
    """Subjects from the signer's certificate up to the trust anchor, when a path was found."""
    page_changes: tuple[PageChange, ...] = ()
    """Pages that look different now, with images when they were kept."""
    widget: tuple[int, tuple[float, float, float, float]] | None = None
    """Page (from 1) and rectangle of the signature's visible appearance, if it has one."""

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """This signature as the contract's ``edoc verify --json`` shape (plus ``kind``)."""
        return {
            "field": self.field,
            "kind": self.kind.value,
            "signer": {
                "name": self.signer.name,
                "organisation": self.signer.organisation,
                "serial": self.signer.serial,
                "issuer": self.signer.issuer,
            },
            "signing_time": _iso(self.signing_time),
            "timestamp": _iso(self.timestamp),
            "level": self.level.value,
            "intact": self.intact,
            "trusted": self.trusted,
            "revocation": self.revocation.value,
            "coverage": self.coverage.value,
            "modifications_after": self.modifications_after.value,
            "visual_change_after": self.visual_change_after,
            "indication": self.indication.value,
            "subindication": self.subindication,
            "reasons": [r.text(lang) for r in self.reasons],
        }


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on one file."""

    file: str
    """The file as named by the caller (``"<bytes>"`` for data passed in memory)."""
    indication: Indication
    """TOTAL-PASSED only when every signature passed and nothing a reader sees changed unsigned."""
    signatures: tuple[SignatureReport, ...]
    """One entry per signature field, in signing order."""
    reasons: tuple[Reason, ...] = ()
    """File-level findings (unreadable file, no signature, time limit …)."""
    sha256: str | None = None
    """SHA-256 of the file's bytes, hex."""
    size: int | None = None
    """Size of the file in bytes."""
    pages: int | None = None
    """Number of pages of the final revision, when it could be read."""
    seconds: float = 0.0
    """Wall time the verification took."""
    cpu_seconds: float = 0.0
    """Processor time the verification took (unaffected by other load on the machine)."""
    checked_at: datetime | None = None
    """The time the verification was made for (``at``, else now), aware UTC."""
    trust_anchors: tuple[str, ...] = field(default=())
    """Subjects of the trust anchors given, for the report."""

    @property
    def passed(self) -> bool:
        """True when the file is TOTAL-PASSED."""
        return self.indication is Indication.TOTAL_PASSED

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """The contract's ``edoc verify --json`` object for this file (plus ``reasons``)."""
        return {
            "file": self.file,
            "indication": self.indication.value,
            "signatures": [s.to_json(lang) for s in self.signatures],
            "reasons": [r.text(lang) for r in self.reasons],
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def file_indication(signatures: tuple[SignatureReport, ...]) -> Indication:
    """The file's indication from its signatures: passed only if every one passed.

    A file without any signature is TOTAL-FAILED: it is not a signed document.
    """
    if not signatures:
        return Indication.TOTAL_FAILED
    indications = {s.indication for s in signatures}
    if Indication.TOTAL_FAILED in indications:
        return Indication.TOTAL_FAILED
    if Indication.INDETERMINATE in indications:
        return Indication.INDETERMINATE
    return Indication.TOTAL_PASSED
