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
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import func, insert, text
from sqlmodel import Session, col, select

from edoc.registers.views import RegisterRow
from edoc.storage.driver import Reader, fetch, is_sqlite, marks, utc
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
    """Insert register rows in one statement (one ``COPY`` on PostgreSQL for many)."""
    if not entries:
        return
    from edoc.storage import bulk

    rows = [
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
    ]
    if bulk.is_postgresql(session) and len(rows) >= bulk.COPY_FROM:
        bulk.copy_rows(session, RegisterEntryRow.__table__, rows)  # type: ignore[attr-defined]
    else:
        session.execute(insert(RegisterEntryRow), rows)


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


@dataclass(frozen=True)
class PageContext:
    """Who reads a register and whose register it is, read in one query for a register page."""

    agency_id: int
    """The register's agency."""
    agency_code: str
    """Its code."""
    agency_name: str
    """Its name (the report's heading)."""
    thai_digits: bool
    """The agency prints Thai digits."""
    user: tuple[str, str, bool, str, str | None] | None
    """(username, role, active, agency code, unit code) of the reader; None when there is no
    such account (or no reader was named)."""


_CONTEXT_SQL = (
    "SELECT a.id, a.code, a.name, a.thai_digits, u.username, u.role, u.active, ua.code, un.code "
    "FROM agency AS a LEFT JOIN account AS u ON u.username = ? "
    "LEFT JOIN agency AS ua ON ua.id = u.agency_id LEFT JOIN unit AS un ON un.id = u.unit_id "
    "WHERE a.code = ?"
)


def page_context(source: Session | Reader, agency_code: str, username: str | None) -> PageContext | None:
    """The register's agency and the reader's account facts in one query; None when there is
    no agency ``agency_code``."""
    rows = fetch(source, _CONTEXT_SQL, (username or "", agency_code))
    if not rows:
        return None
    a_id, code, name, thai, user, role, active, user_agency, unit = rows[0]
    return PageContext(
        agency_id=int(a_id),
        agency_code=code,
        agency_name=name,
        thai_digits=bool(thai),
        user=None if user is None or username is None else (user, role, bool(active), user_agency, unit),
    )


PAGE_COLUMNS = (
    "number",
    "registered_at",
    "document_number",
    "document_date",
    "from_name",
    "to_name",
    "subject",
    "action",
    "remark",
    "document_id",
    "cancelled",
    "seq",
    "series",
)
"""The columns a register page reads."""

_PAGE_SQL = (
    f"SELECT {', '.join(PAGE_COLUMNS)} FROM register_entry "
    "WHERE agency_id = ? AND book = ? AND year = ?{after} ORDER BY seq, series{limit}"
)


def register_page(
    source: Session | Reader,
    agency_id: int,
    book: str,
    year: int,
    zone: tzinfo,
    *,
    limit: int | None = None,
    offset: int = 0,
    after: tuple[int, str] | None = None,
) -> list[RegisterRow]:
    """One page of a register, in register order (running number, then series), from the
    ``ix_register_page`` index, read through the driver (no statement building, no ORM
    objects); each row's ``date`` is its registration day in ``zone``.

    ``after`` = (seq, series) of the last row of the previous page starts the page right
    after it (keyset pagination: the index seeks there instead of counting ``offset`` rows).
    """
    params: list[Any] = [agency_id, book, year]
    after_sql = ""
    if after is not None:
        after_sql = " AND (seq > ? OR (seq = ? AND series > ?))"
        params += [after[0], after[0], after[1]]
    limit_sql = ""
    if limit is not None or offset:
        limit_sql = " LIMIT ? OFFSET ?"
        params += [limit if limit is not None else (-1 if is_sqlite(source) else None), offset]
    sqlite = is_sqlite(source)
    rows = fetch(source, _PAGE_SQL.format(after=after_sql, limit=limit_sql), params)
    # The driver's values as the ORM would give them, converted inline (this loop is most of a
    # page's time): SQLite returns the text SQLAlchemy wrote, PostgreSQL naive datetimes and dates.
    from_iso, day_iso = datetime.fromisoformat, date.fromisoformat
    out = []
    for number, stored, doc_no, doc_date, from_, to, subject, action, remark, doc_id, gone, seq, series in rows:
        if sqlite:
            at = from_iso(stored + "+00:00")
            doc_date = day_iso(doc_date) if doc_date else None
        else:
            at = stored.replace(tzinfo=UTC)
        row = RegisterRow(
            number, at.astimezone(zone).date(), doc_no, doc_date, from_, to, subject, action, remark, doc_id,
            bool(gone), at, seq, series,
        )  # fmt: skip
        out.append(row)
    return out


def latest_entries(session: Session, document_ids: Sequence[int]) -> dict[int, tuple[str, str, datetime]]:
    """(number, book, registered_at) of each document's latest register row in the document's
    own agency (search hits show it)."""
    if not document_ids:
        return {}
    ids = list(document_ids)
    rows = fetch(
        session,
        "SELECT e.document_id, e.number, e.book, e.registered_at FROM register_entry AS e "
        "JOIN document AS d ON d.id = e.document_id AND d.agency_id = e.agency_id "
        f"WHERE e.document_id IN ({marks(len(ids))}) ORDER BY e.id",
        ids,
    )
    return {int(doc_id): (number, book, utc(at)) for doc_id, number, book, at in rows}


def years_of(session: Session, agency_id: int, book: str) -> list[int]:
    """The years that have rows in the agency's register ``book``."""
    rows = session.execute(
        select(RegisterEntryRow.year)
        .where(RegisterEntryRow.agency_id == agency_id, RegisterEntryRow.book == book)
        .distinct()
        .order_by(col(RegisterEntryRow.year))
    )
    return [int(r[0]) for r in rows]
