"""The values of the signing side: levels, places, appearances and results.

Nothing here imports pyHanko; these are the frozen values the office, the registers and the
CLI pass to :mod:`edoc.signing` and get back from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from edoc.errors import InvalidField


class Level(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    """Basic: a CAdES signature with the signing certificate bound to it."""
    B_T = "B-T"
    """B-B plus an RFC 3161 signature time-stamp from a trusted TSA."""
    B_LT = "B-LT"
    """B-T plus the chain, CRLs and OCSP responses in the document security store (DSS)."""
    B_LTA = "B-LTA"
    """B-LT plus a document time-stamp protecting the DSS; refreshed before it expires."""

    @classmethod
    def parse(cls, value: str | Level) -> Level:
        """``"B-LT"``, ``"b_lt"``, ``"LT"`` ... -> :class:`Level`; :class:`InvalidField` otherwise."""
        if isinstance(value, Level):
            return value
        if not isinstance(value, str):
            raise TypeError(f"level must be a string, not {type(value).__name__}")
        text = value.strip().upper().replace("_", "-")
        if not text.startswith("B-"):
            text = "B-" + text
        try:
            return cls(text)
        except ValueError:
            raise InvalidField("level", f"{value!r} is not one of {', '.join(m.value for m in cls)}") from None

    @property
    def timestamped(self) -> bool:
        """True from B-T up: the signature carries a signature time-stamp."""
        return self is not Level.B_B

    @property
    def long_term(self) -> bool:
        """True for B-LT and B-LTA: validation material goes into the DSS."""
        return self in (Level.B_LT, Level.B_LTA)


class FieldKind(StrEnum):
    """What a signature field is for, read from its name."""

    INITIAL = "initial"
    """ลงชื่อย่อ: a head's small mark on the way up (``initial-1``, ``initial-2`` ...)."""
    SIGNATURE = "signature"
    """The signer's (executive's) signature block (``signature``)."""
    STAMP = "stamp"
    """A receiving agency's received stamp (ตรารับ), signed with its seal (``received-1`` ...)."""
    RECEIPT = "receipt"
    """An invisible acknowledgement by a receiving agency's seal (``receipt-1`` ...)."""
    TIMESTAMP = "timestamp"
    """A document time-stamp (PAdES B-LTA archive time-stamp)."""
    OTHER = "other"
    """Any other signature field."""

    @classmethod
    def of(cls, name: str) -> FieldKind:
        if name == SIGNATURE_FIELD:
            return cls.SIGNATURE
        if _INITIAL_RE.fullmatch(name):
            return cls.INITIAL
        if _STAMP_RE.fullmatch(name):
            return cls.STAMP
        if _RECEIPT_RE.fullmatch(name):
            return cls.RECEIPT
        if name.startswith(TIMESTAMP_PREFIX):
            return cls.TIMESTAMP
        return cls.OTHER


SIGNATURE_FIELD = "signature"
"""Name of the signer's field, as the renderer reports it."""
INITIAL_PREFIX = "initial-"
"""Initial fields are ``initial-1``, ``initial-2`` ... in route order (bottom up)."""
STAMP_PREFIX = "received-"
"""Received-stamp fields are ``received-1``, ``received-2`` ... in the order they were added."""
RECEIPT_PREFIX = "receipt-"
"""Receipt fields are ``receipt-1``, ``receipt-2`` ..."""
TIMESTAMP_PREFIX = "timestamp-"
"""Document time-stamp fields are ``timestamp-1``, ``timestamp-2`` ..."""

_INITIAL_RE = re.compile(r"initial-([1-9][0-9]{0,2})")
_STAMP_RE = re.compile(r"received-([1-9][0-9]{0,2})")
_RECEIPT_RE = re.compile(r"receipt-([1-9][0-9]{0,2})")
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def initial_field(n: int) -> str:
    """Name of the ``n``-th initial field (1-based)."""
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 999:
        raise ValueError("initial numbers run from 1 to 999")
    return f"{INITIAL_PREFIX}{n}"


def initial_number(name: str) -> int | None:
    """1 for ``initial-1`` ...; None for any other name."""
    match = _INITIAL_RE.fullmatch(name)
    return int(match.group(1)) if match else None


def validate_field_name(name: str) -> str:
    """A field name edoc writes: ASCII letter first, then letters, digits, ``-`` or ``_``."""
    if not isinstance(name, str):
        raise TypeError(f"field name must be a string, not {type(name).__name__}")
    if not _NAME_RE.fullmatch(name):
        raise InvalidField("field", f"{name!r} is not a usable signature field name (ASCII letters, digits, - and _)")
    return name


@dataclass(frozen=True)
class Rect:
    """A rectangle in PDF points (1/72 inch), origin at the bottom left of the page."""

    x0: float
    """Left edge."""
    y0: float
    """Bottom edge."""
    x1: float
    """Right edge."""
    y1: float
    """Top edge."""

    def __post_init__(self) -> None:
        for name in ("x0", "y0", "x1", "y1"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidField("rect", f"{name} must be a finite number, not {value!r}")
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise InvalidField("rect", f"({self.x0}, {self.y0}, {self.x1}, {self.y1}) has no area")

    @classmethod
    def of(cls, value: Rect | tuple[float, float, float, float] | list[float] | Any) -> Rect:
        """A :class:`Rect` from itself, a 4-sequence, or any object with ``x0 y0 x1 y1``."""
        if isinstance(value, Rect):
            return value
        if isinstance(value, tuple | list):
            if len(value) != 4:
                raise InvalidField("rect", f"needs 4 numbers, got {len(value)}")
            return cls(*value)
        if all(hasattr(value, a) for a in ("x0", "y0", "x1", "y1")):
            return cls(value.x0, value.y0, value.x1, value.y1)
        raise InvalidField("rect", f"{value!r} is not a rectangle")

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def intersects(self, other: Rect) -> bool:
        """True when the two rectangles share area (touching edges do not count)."""
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def contains(self, other: Rect, tolerance: float = 0.01) -> bool:
        return (
            other.x0 >= self.x0 - tolerance
            and other.y0 >= self.y0 - tolerance
            and other.x1 <= self.x1 + tolerance
            and other.y1 <= self.y1 + tolerance
        )


@dataclass(frozen=True)
class FieldBox:
    """Where a signature field's widget goes: a page (0-based) and a rectangle on it."""

    page: int
    """Page index, 0 for the first page (negative counts from the end: -1 is the last)."""
    rect: Rect
    """The widget's rectangle in PDF points."""

    def __post_init__(self) -> None:
        if isinstance(self.page, bool) or not isinstance(self.page, int):
            raise InvalidField("page", f"must be an integer, not {self.page!r}")
        if not isinstance(self.rect, Rect):
            object.__setattr__(self, "rect", Rect.of(self.rect))

    @classmethod
    def of(cls, value: FieldBox | tuple[int, Any] | Mapping[str, Any] | Any) -> FieldBox:
        """Accept a :class:`FieldBox`, ``(page, rect)``, ``{"page", "rect"}`` or any object with
        ``page`` and ``rect`` (the renderer's ``signature_boxes`` values)."""
        if isinstance(value, FieldBox):
            return value
        if isinstance(value, tuple | list) and len(value) == 2:
            return cls(value[0], Rect.of(value[1]))
        if isinstance(value, Mapping) and "page" in value and "rect" in value:
            return cls(value["page"], Rect.of(value["rect"]))
        if hasattr(value, "page") and hasattr(value, "rect"):
            return cls(value.page, Rect.of(value.rect))
        raise InvalidField("box", f"{value!r} is not a page and rectangle")


# -- appearances ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitialMark:
    """The small visible mark of a head who initials (ลงชื่อย่อ) on the way up."""

    mark: str
    """The head's short mark, e.g. ``"ส.ม."`` (see :func:`edoc.signing.thai.initials_of`)."""
    when: datetime
    """When they initialled (aware); printed as a short Thai date."""
    thai_digits: bool = False
    """Print the date with Thai digits (the agency's setting)."""


@dataclass(frozen=True)
class SignatureBlock:
    """The visible signature block of the signer (executive): name, position and date."""

    name: str
    """Full name as printed, e.g. ``"นายสมชาย ใจดี"``."""
    position: str
    """Position, e.g. ``"นายกเทศมนตรีเมืองปากช่อง"``."""
    when: datetime
    """When they signed (aware); printed as a Thai date and time."""
    thai_digits: bool = False
    """Print dates with Thai digits (the agency's setting)."""
    heading: str = "ลงนามด้วยลายมือชื่ออิเล็กทรอนิกส์"
    """First line of the block."""


@dataclass(frozen=True)
class ReceivedStamp:
    """The received stamp (ตรารับหนังสือ) of a receiving agency."""

    agency: str
    """Agency name, e.g. ``"เทศบาลเมืองปากช่อง"``."""
    number: str
    """Receive number (เลขรับ) as printed, e.g. ``"1234"`` or ``"๑๒๓๔"``."""
    when: datetime
    """Date and time of receipt (aware); printed as วันที่ and เวลา."""
    thai_digits: bool = False
    """Print numbers and dates with Thai digits (the agency's setting)."""


Appearance = InitialMark | SignatureBlock | ReceivedStamp
"""The visible appearances edoc draws."""


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """The result of one signature."""

    pdf: bytes
    """The whole signed PDF (the input plus incremental updates)."""
    field: str
    """Name of the field that holds the new signature."""
    level: Level
    """The PAdES level made."""
    sha256: str
    """SHA-256 (hex) of :attr:`pdf`."""
    signer_serial: str
    """Serial number (hex) of the signer's certificate."""
    signer_subject: str
    """The signer certificate's subject, RFC 4514."""
    signing_time: datetime
    """The signing time written into the signature (aware UTC)."""
    timestamp_time: datetime | None = None
    """Time of the signature time-stamp (B-T and up), from the TSA's token."""
    page: int | None = None
    """Page index of the visible widget (None when invisible)."""
    rect: Rect | None = None
    """Rectangle of the visible widget."""


@dataclass(frozen=True)
class FieldInfo:
    """One signature field of a PDF, as :func:`edoc.signing.inspect_fields` reads it."""

    name: str
    """Fully qualified field name."""
    kind: FieldKind
    """What the field is for (from its name)."""
    signed: bool
    """True when the field holds a signature or document time-stamp."""
    page: int | None
    """Page index of its widget, None if it has none."""
    rect: Rect | None
    """Widget rectangle, None for invisible fields."""
    locks: tuple[str, ...] | None = None
    """Field names its lock (FieldMDP ``/Include``) covers; None when it has no lock."""
    lock_action: str | None = None
    """``Include``, ``Exclude`` or ``All`` when the field has a lock."""


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to one job of a batch."""

    key: Any
    """The caller's key for the job (a document id ...)."""
    signed: Signed | None
    """The result, or None when it failed."""
    error: str | None = None
    """One line saying why it failed (English)."""
    error_th: str | None = None
    """The same line in Thai."""
    error_type: str | None = None
    """Class name of the error (``FieldAlreadySigned`` ...)."""
    exit_code: int = 0
    """The contract's exit code for the error (0 when it succeeded)."""
    seconds: float = 0.0
    """Wall time of the job in its worker."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything the caller attached to the job, returned as is."""

    @property
    def ok(self) -> bool:
        return self.signed is not None


# -- what the office's signing acts return ---------------------------------------------------------


class SignerRole(StrEnum):
    """In what capacity someone signs a document (which field their signature goes in)."""

    DRAFTER = "drafter"
    """The officer who drafted it: an invisible approval signature in the field ``drafter``."""
    INITIAL = "initial"
    """A head on the way up (ลงชื่อย่อ): their pre-made ``initial-N`` field."""
    SIGNER = "signer"
    """The signer (or another executive of the issuing agency): the ``signature`` block."""
    SEAL = "seal"
    """An agency's seal: a received stamp or a receipt."""


DRAFTER_FIELD = "drafter"
"""Name of the drafter's invisible approval field (created when they sign)."""


@dataclass(frozen=True)
class DocumentSigned:
    """One signature the office made on a document and stored."""

    doc_id: int
    """The document."""
    field: str
    """The signature field it fills (``initial-1``, ``signature``, ``drafter``)."""
    role: SignerRole
    """In what capacity the user signed."""
    level: Level
    """The PAdES level made."""
    signer: str
    """Username of who signed."""
    signer_serial: str
    """Serial (hex) of their certificate."""
    signing_time: datetime
    """The signing time in the signature (aware UTC)."""
    timestamp_time: datetime | None
    """Time of the signature time-stamp (B-T and up)."""
    number: str | None
    """The document's outgoing number (issued by the first signature when it had none)."""
    state: str
    """The document's state after the signature."""
    pdf_sha256: str
    """SHA-256 of the stored PDF after the signature."""
    size: int
    """Size of that PDF in bytes."""
    rendered: bool = False
    """True when this signature rendered the final PDF (the document's first signature)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.doc_id,
            "field": self.field,
            "role": self.role.value,
            "level": self.level.value,
            "signer": self.signer,
            "signer_serial": self.signer_serial,
            "signing_time": self.signing_time.isoformat(),
            "timestamp_time": self.timestamp_time.isoformat() if self.timestamp_time else None,
            "number": self.number,
            "state": self.state,
            "sha256": self.pdf_sha256,
            "bytes": self.size,
            "rendered": self.rendered,
        }


@dataclass(frozen=True)
class SealApplied:
    """A seal signature (received stamp or receipt) added to a stored PDF by the office."""

    pdf: bytes
    """The whole new PDF (already stored as a blob)."""
    sha256: str
    """Its SHA-256 (the blob's key; the document row points at it)."""
    field: str
    """The new field (``received-N``, ``receipt-N``)."""
    level: Level
    """The PAdES level made."""
    owner: str
    """Whose seal signed (``agency:CODE``)."""
    signer_serial: str
    """Serial (hex) of the seal's certificate."""
    signing_time: datetime
    """The signing time in the signature (aware UTC)."""


@dataclass(frozen=True)
class BatchItem:
    """What happened to one document of a batch signature (``edoc doc sign ID1 ID2 …``)."""

    doc_id: int
    """The document."""
    signed: DocumentSigned | None
    """The stored signature, or None when it failed."""
    error: str | None = None
    """Why it failed (English)."""
    error_th: str | None = None
    """Why it failed (Thai)."""
    exit_code: int = 0
    """The contract's exit code of the failure (0 when signed)."""

    @property
    def ok(self) -> bool:
        return self.signed is not None

    def to_json(self) -> dict[str, Any]:
        if self.signed is not None:
            return {"ok": True, **self.signed.to_json()}
        return {
            "ok": False,
            "id": self.doc_id,
            "error": self.error,
            "error_th": self.error_th,
            "exit_code": self.exit_code,
        }
