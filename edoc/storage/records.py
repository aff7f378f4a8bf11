"""Records management queries: filed documents by due date, destruction lists and approvals,
and the content a destroyed document leaves behind."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from edoc.errors import DestructionListNotFound
from edoc.storage.tables import (
    AttachmentRow,
    AuditEventRow,
    DestructionApprovalRow,
    DestructionListRow,
    DocumentRow,
    RouteStepRow,
)

CONTENT_KEYS = (
    "sha256",
    "pdf_sha256",
    "pdf_before",
    "pdf_after",
    "pdf_before_sha256",
    "previous_sha256",
    "signed_sha256",
)
"""Keys of audit payloads that name a PDF the document had at some point."""


def filed_before(session: Session, agency_id: int, bounds: Mapping[str, datetime]) -> list[DocumentRow]:
    """Filed, not destroyed documents of ``agency_id`` whose class is a key of ``bounds`` and that
    were filed before that class's bound (oldest first)."""
    if not bounds:
        return []
    clauses = [
        (col(DocumentRow.retention_class) == name) & (col(DocumentRow.filed_at) < bound)
        for name, bound in bounds.items()
    ]
    query = (
        select(DocumentRow)
        .where(
            DocumentRow.agency_id == agency_id,
            col(DocumentRow.filed_at).is_not(None),
            col(DocumentRow.destroyed_at).is_(None),
            or_(*clauses),
        )
        .order_by(col(DocumentRow.filed_at), col(DocumentRow.id))
    )
    return list(session.exec(query))


def older_than(session: Session, agency_id: int, last_day: date, created_before: datetime) -> list[DocumentRow]:
    """Not destroyed documents of ``agency_id`` dated on or before ``last_day`` (or, without a
    date, created before ``created_before``), oldest first."""
    query = (
        select(DocumentRow)
        .where(
            DocumentRow.agency_id == agency_id,
            col(DocumentRow.destroyed_at).is_(None),
            or_(
                col(DocumentRow.document_date) <= last_day,
                col(DocumentRow.document_date).is_(None) & (col(DocumentRow.created_at) < created_before),
            ),
        )
        .order_by(col(DocumentRow.document_date), col(DocumentRow.id))
    )
    return list(session.exec(query))


def list_row(session: Session, list_id: int, *, for_update: bool = False) -> DestructionListRow:
    if isinstance(list_id, bool) or not isinstance(list_id, int):
        raise TypeError("list id must be an int")
    query = select(DestructionListRow).where(DestructionListRow.id == list_id)
    if for_update:
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None:
        raise DestructionListNotFound(list_id)
    return row


def add_list(
    session: Session, agency_id: int, year: int, documents: Sequence[int], by: str, at: datetime
) -> DestructionListRow:
    row = DestructionListRow(
        agency_id=agency_id,
        year=year,
        documents_json=json.dumps(list(documents), separators=(",", ":")),
        created_by=by,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row


def approvals(session: Session, list_id: int) -> list[DestructionApprovalRow]:
    return list(
        session.exec(
            select(DestructionApprovalRow)
            .where(DestructionApprovalRow.list_id == list_id)
            .order_by(col(DestructionApprovalRow.approved_at), col(DestructionApprovalRow.username))
        )
    )


def add_approval(session: Session, list_id: int, username: str, role: str, at: datetime) -> None:
    session.add(DestructionApprovalRow(list_id=list_id, username=username, role=role, approved_at=at))
    session.flush()


def _digests_in(value: Any, out: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CONTENT_KEYS and isinstance(item, str) and len(item) == 64:
                out.add(item)
            else:
                _digests_in(item, out)
    elif isinstance(value, list):
        for item in value:
            _digests_in(item, out)


def content_digests(session: Session, row: DocumentRow) -> list[str]:
    """Every blob that held this document's content: its PDF now, the PDFs its audit events
    name (as arrived, before a stamp, after a signature), and its attachments."""
    assert row.id is not None
    found: set[str] = set()
    if row.pdf_sha256:
        found.add(row.pdf_sha256)
    sealed = _sealed_fields(row.fields_json)
    if sealed:
        found.add(sealed)  # a confidential document's fields, stored only sealed
    for (digest,) in session.execute(select(AttachmentRow.sha256).where(AttachmentRow.document_id == row.id)):
        found.add(digest)
    for (digest,) in session.execute(
        select(RouteStepRow.note_sha256).where(
            RouteStepRow.document_id == row.id, col(RouteStepRow.note_sha256).is_not(None)
        )
    ):
        found.add(digest)  # a restricted document's route notes, stored only sealed
    for (payload,) in session.execute(select(AuditEventRow.payload).where(AuditEventRow.document_id == row.id)):
        try:
            _digests_in(json.loads(payload), found)
        except ValueError:
            continue
    from edoc.storage.tables import BlobRow

    present = (
        {d for (d,) in session.execute(select(BlobRow.sha256).where(col(BlobRow.sha256).in_(sorted(found))))}
        if found
        else set()
    )
    return sorted(found & present)


def unshared(session: Session, digests: Iterable[str]) -> list[str]:
    """The digests no live (not destroyed) document uses as its PDF, an attachment or its
    sealed fields."""
    wanted = sorted(set(digests))
    if not wanted:
        return []
    live_pdf = {
        d
        for (d,) in session.execute(
            select(DocumentRow.pdf_sha256).where(
                col(DocumentRow.pdf_sha256).in_(wanted), col(DocumentRow.destroyed_at).is_(None)
            )
        )
    }
    live_att = {
        d
        for (d,) in session.execute(
            select(AttachmentRow.sha256)
            .join(DocumentRow, col(DocumentRow.id) == col(AttachmentRow.document_id))
            .where(col(AttachmentRow.sha256).in_(wanted), col(DocumentRow.destroyed_at).is_(None))
        )
    }
    live_fields = {
        d
        for d in wanted
        if session.execute(
            select(DocumentRow.id)
            .where(col(DocumentRow.fields_json).contains(f'"sealed":"{d}"'), col(DocumentRow.destroyed_at).is_(None))
            .limit(1)
        ).first()
        is not None
    }
    return [d for d in wanted if d not in live_pdf and d not in live_att and d not in live_fields]


def _sealed_fields(fields_json: str) -> str | None:
    """The SHA-256 of sealed fields named by a document's ``fields_json`` stub, if any."""
    try:
        value = json.loads(fields_json or "{}")
    except ValueError:
        return None
    sealed = value.get("sealed") if isinstance(value, dict) else None
    return sealed if isinstance(sealed, str) else None


def insert_documents(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many document rows (bulk registration); their ids, in the order of ``rows``.

    PostgreSQL, from :data:`~edoc.storage.bulk.COPY_FROM` rows: ids taken from the sequence in
    one query and the rows written with one ``COPY``. Otherwise a few multi-row statements: both
    databases number a multi-row insert in the order of its rows (SQLite's rowids, a PostgreSQL
    sequence), so the ids returned, sorted, belong to ``rows`` in order; the subjects read back
    are compared to make sure, and a mismatch refuses the whole act.
    """
    if not rows:
        return []
    from edoc.storage import bulk

    if bulk.is_postgresql(session) and len(rows) >= bulk.COPY_FROM:
        # ids from the sequence first, then one COPY: nothing to read back (see edoc.storage.bulk)
        table = DocumentRow.__table__  # type: ignore[attr-defined]
        new_ids = bulk.take_ids(session, table, len(rows))
        bulk.copy_rows(session, table, [{"id": i, **r} for i, r in zip(new_ids, rows, strict=True)])
        return new_ids
    from sqlalchemy import insert

    stmt = insert(DocumentRow).returning(col(DocumentRow.id))
    ids = sorted(int(r[0]) for r in session.execute(stmt, list(rows)))
    back = dict(session.execute(select(DocumentRow.id, DocumentRow.subject).where(col(DocumentRow.id).in_(ids))).all())
    if [back.get(i) for i in ids] != [r["subject"] for r in rows]:
        raise RuntimeError("bulk insert returned ids out of order; nothing was stored")
    return ids
