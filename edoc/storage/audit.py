"""Appending audit events inside the act's own transaction."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from edoc.audit import Event, canonical_json
from edoc.storage.tables import AuditEventRow, AuditHeadRow


def lock_head(session: Session) -> AuditHeadRow:
    """The head row, locked until the transaction ends (appends are serialised here)."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).first()
    else:
        row = session.get(AuditHeadRow, 1)
    if row is None:  # the first migration inserts it; its absence means tampering
        raise RuntimeError("the audit head row is missing: the audit log was tampered with")
    return row


@dataclass(frozen=True)
class PendingEvent:
    """An event recorded during an act, appended when the act's transaction ends."""

    at: datetime
    actor: str
    agency: str
    act: str
    document_id: int | None
    payload: dict[str, Any]
    sign: Callable[[bytes], tuple[bytes, str]] | None = None
    """Signs the event's body with the actor's key: ``(bytes) -> (signature, cert_serial)``."""


_PENDING = "edoc_pending_events"


def record(session: Session, event: PendingEvent) -> None:
    """Queue ``event`` in ``session``; :func:`flush_pending` appends the queue at the act's end."""
    canonical_json(event.payload)  # refuse a bad payload at once, where the act can see it
    session.info.setdefault(_PENDING, []).append(event)


def flush_pending(session: Session) -> list[Event]:
    """Append every queued event of this transaction, in order, in one batch."""
    pending: list[PendingEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return []
    return append_events(session, pending)


def append_events(session: Session, pending: list[PendingEvent]) -> list[Event]:
    """Append events (seq = current size, size + 1, ...) in ``session``'s transaction."""
    head = lock_head(session)
    out: list[Event] = []
    rows: list[dict[str, Any]] = []
    for offset, item in enumerate(pending):
        event = Event(
            seq=head.size + offset,
            at=item.at,
            actor=item.actor,
            agency=item.agency,
            act=item.act,
            document_id=item.document_id,
            payload=item.payload,
        )
        if item.sign is not None:
            signature, serial = item.sign(event.signed_bytes())
            event = dataclasses.replace(event, signature=signature, signer_cert=serial)
        out.append(event)
        rows.append(
            {
                "seq": event.seq,
                "at": event.at,
                "actor": event.actor,
                "agency": event.agency,
                "act": event.act,
                "document_id": event.document_id,
                "payload": canonical_json(event.payload).decode(),
                "signature": event.signature,
                "signer_cert": event.signer_cert,
            }
        )
    session.execute(insert(AuditEventRow), rows)
    head.size += len(pending)
    session.add(head)
    session.flush()
    return out


def row_to_event(row: AuditEventRow) -> Event:
    return Event(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        agency=row.agency,
        act=row.act,
        document_id=row.document_id,
        payload=json.loads(row.payload),
        signature=row.signature,
        signer_cert=row.signer_cert,
    )


def events(session: Session, start: int = 0, stop: int | None = None) -> list[Event]:
    query = select(AuditEventRow).where(AuditEventRow.seq >= start).order_by(col(AuditEventRow.seq))
    if stop is not None:
        query = query.where(AuditEventRow.seq < stop)
    return [row_to_event(r) for r in session.exec(query)]
