"""Numbering counters and register rows: the queries behind the registers.

A number is handed out by one statement::

    INSERT INTO counter (agency_id, series, year, last) VALUES (:a, :s, :y, 1)
    ON CONFLICT (agency_id, series, year) DO UPDATE SET last = counter.last + 1
    RETURNING last

run inside the act's own transaction. On SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (see :mod:`edoc.storage.engine`), so writers are serialised and the
statement sees the latest committed counter. On PostgreSQL at READ COMMITTED the upsert takes
the counter row's lock (or the unique index entry's, for the first number of a year) and holds it
until the act commits; a concurrent act waits, then increments the value the first one
committed. If an act rolls back, its increment rolls back with it: numbers are never skipped,
never issued twice. The ``register_entry`` row written in the same transaction carries a
unique key on (agency, book, series, year, seq) as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, text
from sqlmodel import Session, col, select

from edoc.storage.tables import CounterRow, DocumentRow, RegisterEntryRow

_NEXT = text(
    "INSERT INTO counter (agency_id, series, year, last) VALUES (:agency_id, :series, :year, 1) "
    "ON CONFLICT (agency_id, series, year) DO UPDATE SET last = counter.last + 1 "
    "RETURNING last"
)
_TAKE = text(
    "INSERT INTO counter (agency_id, series, year, last) VALUES (:agency_id, :series, :year, :n) "
    "ON CONFLICT (agency_id, series, year) DO UPDATE SET last = counter.last + :n "
    "RETURNING last"
)


def lock_document(session: Session, row: DocumentRow) -> DocumentRow:
    """Re-read ``row`` under a row lock held until the act ends (``SELECT … FOR UPDATE``).

    Two acts numbering or receiving the same document at once must not both see it without a
    number: on PostgreSQL the second waits here and then sees the first one's number. SQLite
    write transactions are already serialised (``BEGIN IMMEDIATE``); the refresh is harmless.
    Pending changes to ``row`` are flushed first so they are not lost.
    """
    locked: set[int] = session.info.setdefault(_LOCKED, set())
    if row.id in locked:
        return row
    session.flush()
    session.refresh(row, with_for_update=True)
    assert row.id is not None
    locked.add(row.id)
    return row


def mark_locked(session: Session, row: DocumentRow) -> DocumentRow:
    """Note that ``row`` was read ``FOR UPDATE`` already in this transaction."""
    assert row.id is not None
    session.info.setdefault(_LOCKED, set()).add(row.id)
    return row


_LOCKED = "edoc_locked_documents"


def next_seq(session: Session, agency_id: int, series: str, year: int) -> int:
    """The next running number of (agency, series, year), taken in ``session``'s transaction."""
    value = session.execute(_NEXT, {"agency_id": agency_id, "series": series, "year": year}).scalar_one()
    return int(value)


def take_seqs(session: Session, agency_id: int, series: str, year: int, n: int) -> range:
    """``n`` consecutive running numbers at once (bulk registration); one statement."""
    if n < 1:
        raise ValueError("take at least one number")
    last = session.execute(_TAKE, {"agency_id": agency_id, "series": series, "year": year, "n": n}).scalar_one()
    return range(int(last) - n + 1, int(last) + 1)


def last_seq(session: Session, agency_id: int, series: str, year: int) -> int:
    """The last number issued in the series (0 when none), without taking one."""
    row = session.get(CounterRow, (agency_id, series, year))
    return 0 if row is None else row.last


@dataclass(frozen=True)
class NewEntry:
    """A register row to add (the number is already taken)."""

    agency_id: int
    book: str
    series: str
    year: int
    seq: int
    number: str
    document_id: int
    registered_at: datetime
    document_number: str = ""
    document_date: date | None = None
    from_name: str = ""
    to_name: str = ""
    subject: str = ""
    action: str = ""
    remark: str = ""


def add_entries(session: Session, entries: Sequence[NewEntry]) -> None:
    """Insert register rows in one statement."""
    if not entries:
        return
    session.execute(
        insert(RegisterEntryRow),
        [
            {
                "agency_id": e.agency_id,
                "book": e.book,
                "series": e.series,
                "year": e.year,
                "seq": e.seq,
                "number": e.number,
                "document_id": e.document_id,
                "registered_at": e.registered_at,
                "document_number": e.document_number,
                "document_date": e.document_date,
                "from_name": e.from_name,
                "to_name": e.to_name,
                "subject": e.subject,
                "action": e.action,
                "remark": e.remark,
                "cancelled": False,
            }
            for e in entries
        ],
    )


def entries_of(session: Session, document_id: int, book: str | None = None) -> list[RegisterEntryRow]:
    """The register rows of a document (oldest first)."""
    query = select(RegisterEntryRow).where(RegisterEntryRow.document_id == document_id)
    if book is not None:
        query = query.where(RegisterEntryRow.book == book)
    return list(session.exec(query.order_by(col(RegisterEntryRow.id))))


def cancel_entries(session: Session, document_id: int, remark: str) -> int:
    """Mark the document's register rows cancelled (the rows and their numbers stay)."""
    rows = entries_of(session, document_id)
    for row in rows:
        row.cancelled = True
        row.remark = f"{row.remark} {remark}".strip() if row.remark else remark
        session.add(row)
    session.flush()
    return len(rows)


def set_action(session: Session, document_id: int, book: str, action: str, *, append: bool = True) -> None:
    """Write the register's การปฏิบัติ column for a document (e.g. what was done with it)."""
    for row in entries_of(session, document_id, book):
        if append and row.action:
            if action in row.action.split("; "):
                continue
            row.action = f"{row.action}; {action}"
        else:
            row.action = action
        session.add(row)
    session.flush()


def counter_rows(session: Session, agency_id: int) -> list[CounterRow]:
    return list(
        session.exec(
            select(CounterRow)
            .where(CounterRow.agency_id == agency_id)
            .order_by(col(CounterRow.year), col(CounterRow.series))
        )
    )


def entry_counts(session: Session, agency_id: int, book: str, year: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(RegisterEntryRow)
            .where(
                RegisterEntryRow.agency_id == agency_id,
                RegisterEntryRow.book == book,
                RegisterEntryRow.year == year,
            )
        ).scalar_one()
    )


def agency_id_of(session: Session, code: str) -> int:
    from edoc.storage.directory import agency_row

    row = agency_row(session, code)
    assert row.id is not None
    return row.id


_PAGE_COLUMNS: tuple[Any, ...] = tuple(
    col(c)
    for c in (
        RegisterEntryRow.number,
        RegisterEntryRow.registered_at,
        RegisterEntryRow.document_number,
        RegisterEntryRow.document_date,
        RegisterEntryRow.from_name,
        RegisterEntryRow.to_name,
        RegisterEntryRow.subject,
        RegisterEntryRow.action,
        RegisterEntryRow.remark,
        RegisterEntryRow.document_id,
        RegisterEntryRow.cancelled,
    )
)


def register_page(
    session: Session, agency_id: int, book: str, year: int, *, limit: int | None = None, offset: int = 0
) -> list[Any]:
    """One page of a register, in register order (running number, then series), from the
    ``ix_register_page`` index: rows with the register's columns as attributes (``number``,
    ``registered_at``, ``document_number`` ...), read without building ORM objects."""
    from sqlalchemy import select as core_select

    query = (
        core_select(*_PAGE_COLUMNS)
        .where(
            col(RegisterEntryRow.agency_id) == agency_id,
            col(RegisterEntryRow.book) == book,
            col(RegisterEntryRow.year) == year,
        )
        .order_by(col(RegisterEntryRow.seq), col(RegisterEntryRow.series))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query))


def entries_for(session: Session, document_ids: Sequence[int]) -> dict[int, list[RegisterEntryRow]]:
    """Register rows of many documents at once (oldest first per document)."""
    if not document_ids:
        return {}
    out: dict[int, list[RegisterEntryRow]] = {}
    rows = session.exec(
        select(RegisterEntryRow)
        .where(col(RegisterEntryRow.document_id).in_(list(document_ids)))
        .order_by(col(RegisterEntryRow.id))
    )
    for row in rows:
        out.setdefault(row.document_id, []).append(row)
    return out


def years_of(session: Session, agency_id: int, book: str) -> list[int]:
    """The years that have rows in the agency's register ``book``."""
    rows = session.execute(
        select(RegisterEntryRow.year)
        .where(RegisterEntryRow.agency_id == agency_id, RegisterEntryRow.book == book)
        .distinct()
        .order_by(col(RegisterEntryRow.year))
    )
    return [int(r[0]) for r in rows]
