"""What the registers, receiving, search and records acts return: frozen values, no I/O."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from edoc.registers.numbering import Book, IssuedNumber

REGISTER_COLUMNS = (
    "register_number",
    "date",
    "document_number",
    "document_date",
    "from",
    "to",
    "subject",
    "action",
    "remark",
)
"""The register's columns, in the regulation's order (contract: JSON keys and CSV header)."""

REGISTER_HEADINGS_TH = (
    "เลขทะเบียน",
    "วันที่",
    "ที่",
    "ลงวันที่",
    "จาก",
    "ถึง",
    "เรื่อง",
    "การปฏิบัติ",
    "หมายเหตุ",
)
"""The same columns as the paper register prints them."""


class RegisterRow(NamedTuple):
    """One row of the register of sent or received documents.

    A named tuple rather than a frozen dataclass: a register page builds thousands of these,
    and a tuple is made about twenty times faster (0.2 against 4 microseconds), which is a
    fifth of a page's time. It is just as immutable; compare rows with rows, not with tuples.
    """

    register_number: str
    """เลขทะเบียน: the running number (``12``, ``ว 3``, ``4/2569``)."""
    date: _dt.date
    """วันที่: the day it was registered (Asia/Bangkok)."""
    document_number: str
    """ที่: the document's own number ('' when it has none)."""
    document_date: _dt.date | None
    """ลงวันที่: the document's date."""
    from_: str
    """จาก."""
    to: str
    """ถึง."""
    subject: str
    """เรื่อง."""
    action: str
    """การปฏิบัติ: what was done with it."""
    remark: str
    """หมายเหตุ (cancellations are written here)."""
    document_id: int
    """The document's id."""
    cancelled: bool = False
    """The number was cancelled (it stays in the register)."""
    registered_at: datetime | None = None
    """Exact time of registration (aware UTC)."""
    seq: int = 0
    """The running number within its series (register order is ``seq``, then ``series``)."""
    series: str = ""
    """The numbering series' key; ``(seq, series)`` is what ``Office.register(after=…)`` takes."""

    def as_dict(self) -> dict[str, Any]:
        """The contract's JSON object (also the CSV's columns)."""
        return {
            "register_number": self.register_number,
            "date": self.date.isoformat(),
            "document_number": self.document_number,
            "document_date": self.document_date.isoformat() if self.document_date else None,
            "from": self.from_,
            "to": self.to,
            "subject": self.subject,
            "action": self.action,
            "remark": self.remark,
        }


@dataclass(frozen=True)
class RegisterPage:
    """A register (or a page of it) of one agency, book and year."""

    agency: str
    """The agency's code."""
    agency_name: str
    """Its name (the report's heading)."""
    book: Book
    """``sent`` or ``received``."""
    year: int
    """The numbering year (Buddhist Era)."""
    rows: tuple[RegisterRow, ...]
    """The rows, in register order."""
    thai_digits: bool = False
    """The agency prints Thai digits."""


@dataclass(frozen=True)
class Received:
    """What receiving a document did (``edoc doc receive``)."""

    document_id: int
    """The document's id."""
    number: IssuedNumber
    """The receive number (เลขรับ)."""
    registered_at: datetime
    """When (aware UTC; shown in Asia/Bangkok)."""
    pdf_sha256: str
    """SHA-256 of the stamped PDF now stored."""
    previous_sha256: str
    """SHA-256 of the PDF as it arrived."""
    stamp_field: str
    """Name of the received stamp's signature field (``received-1``)."""
    seal_serial: str
    """Serial of the agency seal certificate that signed the stamp."""


@dataclass(frozen=True)
class SearchHit:
    """A document found by ``edoc search``."""

    document_id: int
    """The document's id."""
    score: float
    """Relevance (higher first)."""
    subject: str
    """เรื่อง."""
    document_number: str
    """ที่ ('' when none)."""
    register_number: str
    """เลขทะเบียน in this agency's register ('' when not registered)."""
    book: str
    """``sent``, ``received`` or ''."""
    registered: date | None
    """วันที่ it was registered (Asia/Bangkok), or None."""
    from_: str
    """จาก."""
    to: str
    """ถึง."""
    state: str
    """Lifecycle state."""
    agency: str
    """Code of the agency holding this copy."""
    content_visible: bool
    """The user may read the content (else only the register's columns matched)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.document_id,
            "score": round(self.score, 4),
            "subject": self.subject,
            "document_number": self.document_number,
            "register_number": self.register_number,
            "book": self.book,
            "date": self.registered.isoformat() if self.registered else None,
            "from": self.from_,
            "to": self.to,
            "state": self.state,
            "agency": self.agency,
            "content_visible": self.content_visible,
        }


@dataclass(frozen=True)
class FiledRecord:
    """A document as records management sees it."""

    document_id: int
    """The document's id."""
    subject: str
    """เรื่อง."""
    document_number: str
    """ที่."""
    document_date: date | None
    """ลงวันที่."""
    retention_class: str | None
    """Class given on filing (None when not filed)."""
    years: int | None
    """Years of that class (0 permanent; None when not filed)."""
    filed_at: datetime | None
    """When it was filed."""
    due_year: int | None
    """Buddhist Era year it falls due for destruction (None: permanent or not filed)."""
    legal_hold: str | None
    """Reason of a legal hold, or None."""
    destroyed_at: datetime | None
    """When its content was destroyed, or None."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.document_id,
            "subject": self.subject,
            "document_number": self.document_number,
            "document_date": self.document_date.isoformat() if self.document_date else None,
            "retention_class": self.retention_class,
            "years": self.years,
            "filed_at": self.filed_at.isoformat() if self.filed_at else None,
            "due_year": self.due_year,
            "legal_hold": self.legal_hold,
            "destroyed_at": self.destroyed_at.isoformat() if self.destroyed_at else None,
        }


@dataclass(frozen=True)
class DestructionList:
    """A list of documents asked to be destroyed and how far its approval went."""

    id: int
    """The list's id."""
    agency: str
    """The agency's code."""
    year: int
    """Buddhist Era year the documents fell due by."""
    state: str
    """``proposed`` or ``destroyed``."""
    documents: tuple[int, ...]
    """Listed document ids."""
    approvals: tuple[tuple[str, str], ...]
    """(username, role) of each committee approval."""
    archives_reference: str | None
    """The National Archives' no-objection, once recorded."""
    missing: tuple[str, ...]
    """What still stands between the list and destruction (empty: it may be destroyed)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agency": self.agency,
            "year": self.year,
            "state": self.state,
            "documents": list(self.documents),
            "approvals": [{"username": u, "role": r} for u, r in self.approvals],
            "archives_reference": self.archives_reference,
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class BacklogItem:
    """A document registered in bulk from an earlier register (paper or another system)."""

    subject: str
    """เรื่อง."""
    from_: str
    """จาก."""
    document_number: str = ""
    """ที่ ('' when none)."""
    document_date: _dt.date | None = None
    """ลงวันที่."""
    to: str = ""
    """ถึง ('' : the agency itself)."""
    body: tuple[str, ...] = ()
    """Paragraphs of its text, when keyed in (searchable)."""
    remark: str = ""
    """หมายเหตุ."""
