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
    erased the content; the hash stays as evidence. ``envelope_sha256`` is set when the content
    is sealed (confidential and secret documents): the bytes are never stored under this name,
    only the CMS EnvelopedData blob it names, which encrypts them for their readers' keys.
    """

    __tablename__ = "blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(sa_column=_utc())
    erased_at: datetime | None = Field(default=None, sa_column=_utc_null())
    envelope_sha256: str | None = Field(default=None, max_length=64)


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
        Index("ix_register_number_text", "number"),
        Index("ix_register_page", "agency_id", "book", "year", "seq", "series"),
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
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """SHA-256(0x00 || leaf): the event's Merkle leaf hash, kept to serve proofs and to name a
    changed event."""


class AuditHeadRow(SQLModel, table=True):
    """The single row that serialises appends: next sequence number and the tree's frontier."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    size: int = 0
    frontier: str = Field(default="[]", sa_type=Text)
    """JSON list of the hex roots of the tree's perfect subtrees on its right edge, biggest first."""
    checkpoint_size: int = 0
    """Size of the newest checkpoint (0: none yet)."""
    checkpoint_at: datetime | None = Field(default=None, sa_column=_utc_null())
    """When the newest checkpoint was signed."""


# --- pki (issue 4): certificates and their keys -------------------------------------------------
"""Tables of the PKI go here."""


class CertificateRow(SQLModel, table=True):
    """Every certificate the office's CA issued (and the CA's own), with its key when the office
    holds it.

    ``key_data`` is the PKCS#12 (AES-256-CBC, PBKDF2-HMAC-SHA256) of the private key under the
    owner's passphrase, so any host sharing the database can sign; the CA keys are files in
    ``<home>/pki/`` instead (``key_storage = 'file'``), and a key on a PKCS#11 token is a
    reference (``pkcs11_token``, ``pkcs11_key_id``). This table is the CA's register: OCSP and the
    CRL are answered from it.
    """

    __tablename__ = "certificate"
    __table_args__ = (Index("ix_certificate_owner_kind", "owner", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    serial: str = Field(max_length=48, unique=True)
    """Lower-case hex."""
    kind: str = Field(max_length=16, index=True)
    owner: str = Field(max_length=80)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    issuer_id: int | None = Field(default=None, foreign_key="certificate.id", index=True)
    subject: str = Field(sa_type=Text)
    key_type: str = Field(max_length=16)
    fingerprint: str = Field(max_length=64, unique=True)
    spki_sha256: str = Field(max_length=64)
    not_before: datetime = Field(sa_column=_utc())
    not_after: datetime = Field(sa_column=_utc())
    issued_at: datetime = Field(sa_column=_utc())
    der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_storage: str = Field(max_length=16)
    key_data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    pkcs11_token: str | None = Field(default=None, max_length=64)
    pkcs11_key_id: str | None = Field(default=None, max_length=128)
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_null())
    revocation_reason: str | None = Field(default=None, max_length=32)


class CrlRow(SQLModel, table=True):
    """Every CRL the CA signed; the newest per issuer is what ``pki serve`` publishes."""

    __tablename__ = "crl"
    __table_args__ = (UniqueConstraint("issuer_id", "number", name="uq_crl_issuer_number"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="certificate.id")
    number: int
    this_update: datetime = Field(sa_column=_utc())
    next_update: datetime = Field(sa_column=_utc())
    revoked: int
    der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)


class TrustAnchorRow(SQLModel, table=True):
    """The office's trust list: the pilot root, plus roots an operator added. Never the OS store."""

    __tablename__ = "trust_anchor"

    fingerprint: str = Field(primary_key=True, max_length=64)
    subject: str = Field(sa_type=Text)
    label: str = Field(sa_type=Text)
    source: str = Field(max_length=16)
    added_at: datetime = Field(sa_column=_utc())
    der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# --- signing (issue 5): signatures made on documents ---------------------------------------------
"""Tables of signing go here."""


# --- routing (issue 8): deliveries, evidence, in-agency route -------------------------------------
"""Tables of routing go here."""


class AgencyGroupRow(SQLModel, table=True):
    """A named group of agencies that circulars go to (``--to-group NAME``)."""

    __tablename__ = "agency_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    title: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_column=_utc())


class AgencyGroupMemberRow(SQLModel, table=True):
    __tablename__ = "agency_group_member"

    group_id: int = Field(foreign_key="agency_group.id", primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)


class DispatchRow(SQLModel, table=True):
    """One send act: the document, who sent it, and to whom (direct, a group, a whole branch)."""

    __tablename__ = "dispatch"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    sender_id: int = Field(foreign_key="agency.id")
    actor_id: int = Field(foreign_key="account.id")
    mode: str = Field(max_length=16)
    """``direct``, ``group`` or ``under``."""
    target: str = Field(default="", max_length=64)
    """The group's name or the parent agency's code."""
    recipients: int
    created_at: datetime = Field(sa_column=_utc())


class DeliveryRow(SQLModel, table=True):
    """One consignment: one document to one recipient agency. Never two for the same pair."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("document_id", "recipient_id", name="uq_delivery_document_recipient"),
        Index("ix_delivery_recipient_state", "recipient_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    consignment: str = Field(max_length=64, unique=True)
    dispatch_id: int = Field(foreign_key="dispatch.id", index=True)
    document_id: int = Field(foreign_key="document.id")
    """The sender's row."""
    recipient_id: int = Field(foreign_key="agency.id")
    copy_id: int | None = Field(default=None, foreign_key="document.id", unique=True)
    """The recipient's own row, once delivered."""
    state: str = Field(max_length=16)
    receive_number: str | None = Field(default=None, max_length=96)
    reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())


class EvidenceRow(SQLModel, table=True):
    """A signed evidence record of a consignment (``body`` is exactly what the seal signed)."""

    __tablename__ = "delivery_evidence"
    __table_args__ = (UniqueConstraint("delivery_id", "seq", name="uq_evidence_delivery_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    seq: int
    kind: str = Field(max_length=24)
    at: datetime = Field(sa_column=_utc())
    agency_id: int = Field(foreign_key="agency.id")
    """The acting agency, whose seal signed."""
    actor: str = Field(max_length=64)
    body: str = Field(sa_type=Text)
    digest: str = Field(max_length=64)
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """Detached CMS SignedData over ``body`` (UTF-8)."""
    signer_serial: str = Field(max_length=48)


class RouteRow(SQLModel, table=True):
    """Where a document's route inside its agency stands (holder, unit and due date are the
    document's own ``holder_id``, ``holder_unit_id`` and ``due``)."""

    __tablename__ = "route"

    document_id: int = Field(foreign_key="document.id", primary_key=True)
    state: str = Field(max_length=16, index=True)
    trail: str = Field(default="[]", sa_type=Text)
    """Earlier positions as canonical JSON ``[[username|null, unit|null], ...]``."""
    delivered: bool = False
    retention: str | None = Field(default=None, max_length=32)
    steps: int = 0
    updated_at: datetime = Field(sa_column=_utc())


class RouteStepRow(SQLModel, table=True):
    """One action on a route, in order; endorsements and orders carry the actor's signature."""

    __tablename__ = "route_step"
    __table_args__ = (UniqueConstraint("document_id", "seq", name="uq_route_step_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    seq: int
    action: str = Field(max_length=16)
    actor_id: int = Field(foreign_key="account.id")
    to_account_id: int | None = Field(default=None, foreign_key="account.id")
    to_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    note: str = Field(default="", sa_type=Text)
    note_sha256: str | None = Field(default=None, max_length=64)
    """For a confidential or secret document: the note is stored only sealed (``note`` is
    empty); this names the blob of the salted note (migration ``0013_sealed_notes``)."""
    due: date | None = None
    state_after: str = Field(max_length=16)
    at: datetime = Field(sa_column=_utc())
    body: str | None = Field(default=None, sa_type=Text)
    """What the actor signed (canonical JSON), for endorsements and orders."""
    signature: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    signer_serial: str | None = Field(default=None, max_length=48)


class RoutePartyRow(SQLModel, table=True):
    """A person the document reached (registered it, held it, was proposed or assigned it)."""

    __tablename__ = "route_party"

    document_id: int = Field(foreign_key="document.id", primary_key=True)
    account_id: int = Field(foreign_key="account.id", primary_key=True, index=True)
    since: datetime = Field(sa_column=_utc())


class RouteUnitRow(SQLModel, table=True):
    """A unit a document was assigned to."""

    __tablename__ = "route_unit"

    document_id: int = Field(foreign_key="document.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True, index=True)
    since: datetime = Field(sa_column=_utc())


class SealedContentRow(SQLModel, table=True):
    """A blob that is a CMS envelope (secret content at rest) and what it seals.

    The envelope's own hash names the blob; ``plain_sha256`` is the hash of the content inside,
    which signatures, evidence and registers refer to.
    """

    __tablename__ = "sealed_content"

    envelope_sha256: str = Field(foreign_key="blob.sha256", primary_key=True, max_length=64)
    plain_sha256: str = Field(max_length=64, index=True)
    plain_size: int
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    created_at: datetime = Field(sa_column=_utc())


# --- audit (issue 9): checkpoints and witnesses -------------------------------------------------
"""Tables of the audit log's checkpoints go here."""

from sqlalchemy import BigInteger, Integer  # noqa: E402 - kept inside this issue's section

_BIGINT = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit integers; INTEGER on SQLite so that a primary key is the rowid."""


class AuditNodeRow(SQLModel, table=True):
    """A perfect node of level >= 1 of the audit log's Merkle tree, by creation position.

    ``position`` numbers nodes (leaves included) in the order appending creates them, so the
    nodes are written and re-read in one ascending stream (see :mod:`edoc.audit.merkle`).
    """

    __tablename__ = "audit_node"

    position: int = Field(sa_column=Column(_BIGINT, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditKeyRow(SQLModel, table=True):
    """The office's audit key: public half in clear, private half sealed (PKCS#12, AES-256)."""

    __tablename__ = "audit_key"

    key_id: str = Field(primary_key=True, max_length=64)
    """SHA-256 of the public key's SubjectPublicKeyInfo, hex."""
    algorithm: str = Field(max_length=16)
    origin: str = Field(max_length=200)
    """The log's name in checkpoints."""
    public_pem: str = Field(sa_type=Text)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The private key sealed with the passphrase of owner ``audit`` (edoc.pki.keys)."""
    created_at: datetime = Field(sa_column=_utc())
    retired_at: datetime | None = Field(default=None, sa_column=_utc_null())


class AuditCheckpointRow(SQLModel, table=True):
    """A signed checkpoint: tree size, root and time, signed by the audit key."""

    __tablename__ = "audit_checkpoint"

    size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    origin: str = Field(max_length=200)
    root: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    at: datetime = Field(sa_column=_utc())
    key_id: str = Field(foreign_key="audit_key.key_id", max_length=64)
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    timestamp_token: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """RFC 3161 time-stamp token over the signed checkpoint text, when a TSA was reachable."""


class AuditWitnessRow(SQLModel, table=True):
    """An agency's countersignature of a checkpoint."""

    __tablename__ = "audit_witness"
    __table_args__ = (UniqueConstraint("size", "agency", name="uq_audit_witness"),)

    id: int | None = Field(default=None, primary_key=True)
    size: int = Field(foreign_key="audit_checkpoint.size")
    agency: str = Field(max_length=32)
    at: datetime = Field(sa_column=_utc())
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    certificate: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditCertRow(SQLModel, table=True):
    """Certificates that signed events or witnessed checkpoints (and their issuers), by serial."""

    __tablename__ = "audit_cert"

    serial: str = Field(primary_key=True, max_length=64)
    der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# --- records (issue 7): retention, holds, destruction ---------------------------------------------

SEARCH_TABLE_PREFIX = "search_text"
"""The full-text index of documents (SQLite FTS5 ``search_text`` and its shadow tables) is made
by migration ``0011_registers``, not by these models; :func:`include_name` keeps alembic's
comparison away from it."""


SEARCH_INDEX = "ix_document_search"
"""PostgreSQL's trigram index over the documents' text (an expression index, made by the migration)."""


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: leave the search index and its tables out of comparisons."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(SEARCH_TABLE_PREFIX):
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)


class DestructionListRow(SQLModel, table=True):
    """A list of documents asked to be destroyed (บัญชีหนังสือขอทำลาย) and what became of it."""

    __tablename__ = "destruction_list"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    year: int
    """The calendar year (CE) the listed documents fell due by."""
    state: str = Field(default="proposed", max_length=16)
    """``proposed`` or ``destroyed``."""
    documents_json: str = Field(default="[]", sa_type=Text)
    """The listed document ids, canonical JSON."""
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc())
    archives_reference: str | None = Field(default=None, sa_type=Text)
    """The National Archives' no-objection letter (its number and date), once recorded."""
    archives_by: str | None = Field(default=None, max_length=64)
    archives_at: datetime | None = Field(default=None, sa_column=_utc_null())
    destroyed_by: str | None = Field(default=None, max_length=64)
    destroyed_at: datetime | None = Field(default=None, sa_column=_utc_null())


class DestructionApprovalRow(SQLModel, table=True):
    """One committee member's approval of a destruction list (its audit event is signed)."""

    __tablename__ = "destruction_approval"

    list_id: int = Field(foreign_key="destruction_list.id", primary_key=True)
    username: str = Field(max_length=64, primary_key=True)
    role: str = Field(max_length=16)
    """``chair`` or ``member``."""
    approved_at: datetime = Field(sa_column=_utc())
