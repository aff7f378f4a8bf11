"""Bulk writes on PostgreSQL through ``COPY … FROM STDIN`` on the transaction's own connection.

A multi-row ``INSERT`` of a few thousand rows costs PostgreSQL a statement of tens of
thousands of parameters to parse and plan, and costs the client more: SQLAlchemy builds it, and
psycopg scans the whole text for placeholders on every batch (about half of the bulk path's
client time at 20,000 documents). ``COPY`` streams the rows instead: one statement, no
parameters, the server's fastest way in. The rows go through the column types' own bind
processing (an aware :class:`~edoc.storage.types.UTCDateTime` becomes naive UTC, as the ORM
stores it), so what is stored is what an ``INSERT`` of the ORM would have stored.

Ids of rows the caller needs to point at (documents) are taken from the table's sequence
first, in one query, and written explicitly: the ids are known without reading anything back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

COPY_FROM = 50
"""Below this many rows an ``executemany`` is as quick; from it, ``COPY``."""


def is_postgresql(session: Session) -> bool:
    """Is the session's database PostgreSQL (where :func:`copy_rows` applies)?"""
    return session.get_bind().dialect.name == "postgresql"


def take_ids(session: Session, table: Table, n: int) -> list[int]:
    """``n`` new ids from ``table``'s id sequence (PostgreSQL), increasing, in one query."""
    if n < 1:
        return []
    cursor = _cursor(session)
    try:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table.name, n)
        )
        return sorted(int(r[0]) for r in cursor.fetchall())
    finally:
        cursor.close()


def copy_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write ``rows`` (column name -> value; every row with the same keys) into ``table`` with
    one ``COPY`` in the session's transaction (PostgreSQL). Columns a row does not name get the
    column's scalar default (as the ORM would give), else NULL or the server's default."""
    if not rows:
        return 0
    conn = session.connection()
    dialect = conn.dialect
    given = list(rows[0])
    for i, row in enumerate(rows):
        if len(row) != len(given) or any(name not in row for name in given):
            raise ValueError(f"row {i} names other columns than row 0")
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.primary_key:
            continue
        default = column.default
        if default is not None and getattr(default, "is_scalar", False) and default.arg is not None:  # type: ignore[attr-defined]
            defaults[column.name] = default.arg  # type: ignore[attr-defined]
    names = given + list(defaults)
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    fixed = list(defaults.values())
    cursor = _cursor(session)
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                values = [row[name] for name in given] + fixed
                copy.write_row([v if p is None or v is None else p(v) for v, p in zip(values, processors, strict=True)])
    finally:
        cursor.close()
    return len(rows)


def copy_tuples(session: Session, table_name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Write driver-ready tuples (values already as the driver takes them) with one ``COPY``."""
    if not rows:
        return 0
    cursor = _cursor(session)
    try:
        with cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()
    return len(rows)


def _cursor(session: Session) -> Any:
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
