"""Document queries: rows in, domain values out (:class:`~edoc.documents.DocumentView`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlmodel import Session, col, select

from edoc.directory import Role
from edoc.documents import AttachmentInfo, DocumentForm, DocumentKind, DocumentState, DocumentView, Secrecy, Urgency
from edoc.errors import DocumentNotFound, InvalidField, UserNotFound
from edoc.storage.tables import AccountRow, AgencyRow, AttachmentRow, DocumentRow, UnitRow


def document_row(session: Session, doc_id: int, *, for_update: bool = False) -> DocumentRow:
    """The row of document ``doc_id``; :class:`DocumentNotFound` if there is none.

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite's write
    transactions are already exclusive), for acts that change its state.
    """
    if isinstance(doc_id, bool) or not isinstance(doc_id, int):
        raise DocumentNotFound(doc_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        row = session.exec(select(DocumentRow).where(DocumentRow.id == doc_id).with_for_update()).first()
    else:
        row = session.get(DocumentRow, doc_id)
    if row is None:
        raise DocumentNotFound(doc_id)
    return row


def insert_document(session: Session, row: DocumentRow) -> DocumentRow:
    session.add(row)
    session.flush()
    assert row.id is not None
    return row


def insert_attachments(session: Session, doc_id: int, attachments: Iterable[AttachmentInfo]) -> None:
    for a in attachments:
        session.add(
            AttachmentRow(document_id=doc_id, name=a.name, media_type=a.media_type, sha256=a.sha256, size=a.size)
        )
    session.flush()


def attachments_of(session: Session, doc_id: int) -> list[AttachmentInfo]:
    rows = session.exec(
        select(AttachmentRow).where(AttachmentRow.document_id == doc_id).order_by(col(AttachmentRow.id))
    )
    return [AttachmentInfo(name=r.name, sha256=r.sha256, size=r.size, media_type=r.media_type) for r in rows]


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.exec(select(AccountRow.id, AccountRow.username).where(col(AccountRow.id).in_(wanted)))
    return {i: u for i, u in rows if i is not None}


def accounts_by_username(session: Session, names: Iterable[str]) -> dict[str, AccountRow]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    return {r.username: r for r in session.exec(select(AccountRow).where(col(AccountRow.username).in_(wanted)))}


def unit_code(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = session.get(UnitRow, unit_id)
    return unit.code if unit else None


def unit_name(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = session.get(UnitRow, unit_id)
    return unit.name if unit else None


def fields_of(row: DocumentRow) -> dict[str, Any]:
    """The stored canonical fields (a plain dict)."""
    value = json.loads(row.fields_json or "{}")
    assert isinstance(value, dict)
    return value


def initials_of(row: DocumentRow) -> tuple[str, ...]:
    """Usernames of the heads who initial, as stored in the canonical fields."""
    return tuple(fields_of(row).get("initials") or ())


def to_view(session: Session, row: DocumentRow) -> DocumentView:
    assert row.id is not None
    agency = session.get(AgencyRow, row.agency_id)
    assert agency is not None
    names = usernames(session, (row.drafter_id, row.signer_id, row.holder_id))
    fields = fields_of(row)
    return DocumentView(
        id=row.id,
        kind=DocumentKind(row.kind),
        form=DocumentForm(row.form) if row.form else None,
        origin=row.origin,
        state=DocumentState(row.state),
        subject=row.subject,
        urgency=Urgency(row.urgency),
        secrecy=Secrecy(row.secrecy),
        agency=agency.code,
        agency_name=agency.name,
        unit=unit_code(session, row.unit_id),
        number=row.number,
        document_date=_date(row.document_date),
        drafter=names.get(row.drafter_id) if row.drafter_id else None,
        signer=names.get(row.signer_id) if row.signer_id else None,
        initials=tuple(fields.get("initials") or ()),
        holder=names.get(row.holder_id) if row.holder_id else None,
        from_name=row.from_name,
        to_name=row.to_name,
        pdf_sha256=row.pdf_sha256,
        parent_id=row.parent_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        fields=MappingProxyType(fields),
        attachments=tuple(attachments_of(session, row.id)),
    )


def _date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


SIGNER_ROLES = frozenset({Role.EXECUTIVE, Role.HEAD, Role.OFFICER})
"""Who may be named as a document's signer (clerks, auditors and admins do not sign)."""
INITIAL_ROLES = frozenset({Role.EXECUTIVE, Role.HEAD})
"""Who may be named among the heads who initial on the way up."""


def check_party(
    people: Mapping[str, AccountRow], username: str, field: str, agency_id: int, roles: frozenset[Role]
) -> AccountRow:
    """The account named in ``field`` of a document, checked: it exists, is active, belongs to
    the drafter's agency and has one of ``roles``."""
    row = people.get(username)
    if row is None:
        raise UserNotFound(username)
    if row.agency_id != agency_id:
        raise InvalidField(field, f"{username!r} belongs to another agency")
    if not row.active:
        raise InvalidField(field, f"the account {username!r} is disabled")
    if Role(row.role) not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise InvalidField(field, f"{username!r} is a {row.role}; only {allowed} may be named here")
    return row


def agency_of(session: Session, row: DocumentRow) -> AgencyRow:
    """The agency holding this copy."""
    agency = session.get(AgencyRow, row.agency_id)
    assert agency is not None, "document.agency_id is a foreign key"
    return agency


def documents_using(session: Session, digest: str) -> list[DocumentRow]:
    """Live (not destroyed) documents whose PDF, an attachment or sealed fields is ``digest``
    (a circular's copies share the sender's PDF and fields)."""
    by_att = select(AttachmentRow.document_id).where(AttachmentRow.sha256 == digest)
    query = select(DocumentRow).where(
        col(DocumentRow.destroyed_at).is_(None),
        (col(DocumentRow.pdf_sha256) == digest)
        | col(DocumentRow.fields_json).contains(f'"sealed":"{digest}"')
        | col(DocumentRow.id).in_(by_att),
    )
    return list(session.exec(query.order_by(col(DocumentRow.id))))


def ids_of_agency(session: Session, agency_id: int, *, secrecy: Iterable[str]) -> list[int]:
    """Ids of the agency's live (not destroyed) documents of these secrecy levels, in id order."""
    query = select(DocumentRow.id).where(
        DocumentRow.agency_id == agency_id,
        col(DocumentRow.secrecy).in_(sorted(set(secrecy))),
        col(DocumentRow.destroyed_at).is_(None),
    )
    return [i for i in session.exec(query.order_by(col(DocumentRow.id))) if i is not None]
