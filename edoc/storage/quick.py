"""A read-only fast path for the directory listings on SQLite, using only the stdlib.

Importing SQLAlchemy costs about 0.3 s on the pilot's machines; a clerk runs many short
commands a day. ``edoc agency list`` and ``edoc user list`` on the default SQLite database
therefore read with :mod:`sqlite3` directly (read-only URI, same WAL database), and return the
same domain values as the ORM path. Any other database goes through the office.
The queries here mirror :mod:`edoc.storage.directory`; ``test_quick_matches_office`` keeps
them equal.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from edoc.directory import Agency, Role, User
from edoc.errors import AgencyNotFound, HomeNotInitialised, SchemaOutdated
from edoc.storage.revision import head_revision


def sqlite_path(url: str | None, home: Path) -> Path | None:
    """The database file for ``url`` if it is a plain SQLite URL (None: not SQLite)."""
    if url is None:
        return (home / "edoc.db").resolve()
    if url.startswith("sqlite:///") and "?" not in url:
        return Path(url[len("sqlite:///") :])
    return None


def _connect(path: Path, home: Path) -> sqlite3.Connection:
    if not path.exists():
        raise HomeNotInitialised(str(home))
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        raise HomeNotInitialised(str(home)) from None
    if row is None or row[0] != head_revision():
        conn.close()
        raise SchemaOutdated(str(row[0]) if row else "(none)", head_revision())
    return conn


def list_agencies(path: Path, home: Path) -> list[Agency]:
    with _connect(path, home) as conn:
        rows = conn.execute(
            "SELECT a.code, a.name, a.letter_code, a.address, p.code, a.thai_digits "
            "FROM agency a LEFT JOIN agency p ON p.id = a.parent_id ORDER BY a.code"
        ).fetchall()
    return [
        Agency(code=r[0], name=r[1], letter_code=r[2], address=r[3], parent=r[4], thai_digits=bool(r[5])) for r in rows
    ]


def list_users(path: Path, home: Path, agency: str | None = None) -> list[User]:
    with _connect(path, home) as conn:
        query = (
            "SELECT u.username, a.code, u.full_name, u.position, u.role, n.code, u.email, u.active "
            "FROM account u JOIN agency a ON a.id = u.agency_id "
            "LEFT JOIN unit n ON n.id = u.unit_id"
        )
        params: tuple[str, ...] = ()
        if agency is not None:
            if conn.execute("SELECT 1 FROM agency WHERE code = ?", (agency,)).fetchone() is None:
                raise AgencyNotFound(agency)
            query += " WHERE a.code = ?"
            params = (agency,)
        rows = conn.execute(query + " ORDER BY u.username", params).fetchall()
    return [
        User(
            username=r[0],
            agency=r[1],
            full_name=r[2],
            position=r[3],
            role=Role(r[4]),
            unit=r[5],
            email=r[6],
            active=bool(r[7]),
        )
        for r in rows
    ]
