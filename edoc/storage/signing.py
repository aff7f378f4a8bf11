"""Queries of the signing acts (issue 5)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select

from edoc.storage.session import Session
from edoc.storage.tables import DocumentRow


def drafted_in_states(session: Session, agency_id: int, states: Iterable[str]) -> list[DocumentRow]:
    """The agency's own drafted documents in ``states``, oldest first."""
    query = (
        select(DocumentRow)
        .where(DocumentRow.agency_id == agency_id)
        .where(DocumentRow.origin == "drafted")
        .where(col(DocumentRow.state).in_(sorted(states)))
        .order_by(col(DocumentRow.id))
    )
    return list(session.exec(query))
