"""The database tables (sqlmodel). Only :mod:`edoc.storage` imports this module.

Naming: ``XxxRow`` is a table; the domain packages have their own frozen values and never see
rows. Times are aware UTC (:class:`~edoc.storage.types.UTCDateTime`). Structured fields are
canonical JSON text so that they hash and compare the same on SQLite and PostgreSQL.

Every change to this file needs an alembic migration in ``migrations/versions`` (the test
``test_migrations_match_models`` fails otherwise).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from edoc.storage.types import UTCDateTime


def _utc() -> Column:  # type: ignore[type-arg, unused-ignore]
    return Column(UTCDateTime(), nullable=False)


def _utc_null() -> Column:  # type: ignore[type-arg, unused-ignore]
    return Column(UTCDateTime(), nullable=True)


# --- directory -------------------------------------------------------------------------------


class AgencyRow(SQLModel, table=True):
    __tablename__ = "agency"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(sa_type=Text)
    letter_code: str = Field(max_length=64)
    address: str = Field(default="", sa_type=Text)
    parent_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    thai_digits: bool = False
    created_at: datetime = Field(sa_column=_utc())


class UnitRow(SQLModel, table=True):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("agency_id", "code", name="uq_unit_agency_code"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_column=_utc())


class AccountRow(SQLModel, table=True):
    """A user account (``user`` is a reserved word in PostgreSQL)."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    full_name: str = Field(sa_type=Text)
    position: str = Field(sa_type=Text)
    role: str = Field(max_length=16)
    email: str | None = Field(default=None, max_length=254)
    active: bool = True
    created_at: datetime = Field(sa_column=_utc())


# --- content ----------------------------------------------------------------------------------


class BlobRow(SQLModel, table=True):
    """Content-addressed bytes (PDFs, attachments).

    ``data`` holds the bytes when the blob store lives in the database (PostgreSQL default);
    with a directory store it is NULL and the file ``<dir>/<sha[:2]>/<sha>`` holds them, written
    and fsynced before this row is inserted. ``erased_at`` is set when approved destruction
    erased the content; the hash stays as evidence.
    """

    __tablename__ = "blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(sa_column=_utc())
    erased_at: datetime | None = Field(default=None, sa_column=_utc_null())


class DocumentRow(SQLModel, table=True):
    """One document as held by one agency.

    A letter sent to five agencies is six rows: the sender's, and one copy per recipient
    (``origin = 'delivered'``, ``parent_id`` = the sender's row), each with its own state,
    receive number and PDF (the received stamp makes it differ).
    """

    __tablename__ = "document"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    kind: str = Field(max_length=16)
    form: str = Field(default="", max_length=16)
    origin: str = Field(default="drafted", max_length=16)
    state: str = Field(max_length=24, index=True)
    subject: str = Field(sa_type=Text)
    fields_json: str = Field(default="{}", sa_type=Text)
    urgency: str = Field(default="normal", max_length=16)
    secrecy: str = Field(default="normal", max_length=16)
    drafter_id: int | None = Field(default=None, foreign_key="account.id")
    signer_id: int | None = Field(default=None, foreign_key="account.id")
    number: str | None = Field(default=None, max_length=96)
    document_date: date | None = None
    from_name: str = Field(default="", sa_type=Text)
    to_name: str = Field(default="", sa_type=Text)
    pdf_sha256: str | None = Field(default=None, foreign_key="blob.sha256", max_length=64)
    parent_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    holder_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    holder_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    due: date | None = None
    retention_class: str | None = Field(default=None, max_length=32)
    legal_hold: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
    filed_at: datetime | None = Field(default=None, sa_column=_utc_null())
    destroyed_at: datetime | None = Field(default=None, sa_column=_utc_null())


class AttachmentRow(SQLModel, table=True):
    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("document_id", "name", name="uq_attachment_name"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    name: str = Field(sa_type=Text)
    media_type: str = Field(default="application/octet-stream", max_length=128)
    sha256: str = Field(foreign_key="blob.sha256", max_length=64)
    size: int


# --- numbering and registers -----------------------------------------------------------------


class CounterRow(SQLModel, table=True):
    """The last number issued in one series (agency, series, year).

    Incremented by a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the act's
    transaction: atomic on SQLite (one writer) and PostgreSQL (row lock until commit).
    """

    __tablename__ = "counter"

    agency_id: int = Field(foreign_key="agency.id", primary_key=True)
    series: str = Field(primary_key=True, max_length=48)
    year: int = Field(primary_key=True)
    last: int = 0


class RegisterEntryRow(SQLModel, table=True):
    """A row of the register of sent or received documents: a legal record, never deleted."""

    __tablename__ = "register_entry"
    __table_args__ = (
        UniqueConstraint("agency_id", "book", "series", "year", "seq", name="uq_register_number"),
        Index("ix_register_listing", "agency_id", "book", "year", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id")
    book: str = Field(max_length=16)
    """``sent`` or ``received``."""
    series: str = Field(max_length=48)
    year: int
    seq: int
    number: str = Field(max_length=96)
    document_id: int = Field(foreign_key="document.id", index=True)
    registered_at: datetime = Field(sa_column=_utc())
    document_number: str = Field(default="", max_length=96)
    document_date: date | None = None
    from_name: str = Field(default="", sa_type=Text)
    to_name: str = Field(default="", sa_type=Text)
    subject: str = Field(default="", sa_type=Text)
    action: str = Field(default="", sa_type=Text)
    remark: str = Field(default="", sa_type=Text)
    cancelled: bool = False


# --- audit -------------------------------------------------------------------------------------


class AuditEventRow(SQLModel, table=True):
    """One event of the append-only audit log. ``seq`` starts at 0 and has no gaps."""

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_column=_utc())
    actor: str = Field(max_length=64)
    agency: str = Field(default="", max_length=32)
    act: str = Field(max_length=48)
    document_id: int | None = Field(default=None, index=True)
    payload: str = Field(sa_type=Text)
    signature: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    signer_cert: str | None = Field(default=None, max_length=64)


class AuditHeadRow(SQLModel, table=True):
    """The single row that serialises appends: next sequence number and the tree's frontier."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    size: int = 0
    frontier: str = Field(default="[]", sa_type=Text)


# --- pki (issue 4): certificates and their keys -------------------------------------------------
"""Tables of the PKI go here."""


# --- signing (issue 5): signatures made on documents ---------------------------------------------
"""Tables of signing go here."""


# --- routing (issue 8): deliveries, evidence, in-agency route -------------------------------------
"""Tables of routing go here."""


# --- audit (issue 9): checkpoints and witnesses -------------------------------------------------
"""Tables of the audit log's checkpoints go here."""


# --- records (issue 7): retention, holds, destruction ---------------------------------------------
"""Tables of records management go here."""
