"""Directory queries: agencies, units and accounts, as rows in and domain values out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from edoc.directory import Agency, Role, Unit, User
from edoc.errors import AgencyNotFound, AlreadyExists, UnitNotFound, UserNotFound
from edoc.storage.session import memo
from edoc.storage.tables import AccountRow, AgencyRow, UnitRow


def agency_row(session: Session, code: str) -> AgencyRow:
    known = memo(session, "agency")
    if known is not None and code in known:
        return known[code]
    row = session.exec(select(AgencyRow).where(AgencyRow.code == code)).first()
    if row is None:
        raise AgencyNotFound(code)
    if known is not None:
        known[code] = row
    return row


def agency_codes_by_id(session: Session) -> dict[int, str]:
    return {i: c for i, c in session.exec(select(AgencyRow.id, AgencyRow.code)) if i is not None}


def agency_path(session: Session, row: AgencyRow) -> tuple[str, ...]:
    """Codes from the root of the tree down to ``row``."""
    path = [row.code]
    seen = {row.id}
    parent_id = row.parent_id
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        parent = session.get(AgencyRow, parent_id)
        if parent is None:
            break
        path.append(parent.code)
        parent_id = parent.parent_id
    return tuple(reversed(path))


def to_agency(row: AgencyRow, parent_code: str | None) -> Agency:
    return Agency(
        code=row.code,
        name=row.name,
        letter_code=row.letter_code,
        address=row.address,
        parent=parent_code,
        thai_digits=row.thai_digits,
    )


def insert_agencies(session: Session, agencies: Sequence[Agency]) -> list[AgencyRow]:
    """Insert agencies (parents may come earlier in the same batch)."""
    codes = [a.code for a in agencies]
    if len(set(codes)) != len(codes):
        dup = next(c for c in codes if codes.count(c) > 1)
        raise AlreadyExists("agency", dup)
    existing = set(session.exec(select(AgencyRow.code).where(col(AgencyRow.code).in_(codes))))
    if existing:
        raise AlreadyExists("agency", sorted(existing)[0])
    ids: dict[str, int] = {}
    parents = {a.parent for a in agencies if a.parent and a.parent not in codes}
    if parents:
        for code, id_ in session.exec(select(AgencyRow.code, AgencyRow.id).where(col(AgencyRow.code).in_(parents))):
            assert id_ is not None
            ids[code] = id_
        missing = parents - set(ids)
        if missing:
            raise AgencyNotFound(sorted(missing)[0])
    now = datetime.now(UTC)
    rows = []
    for agency in agencies:
        if agency.parent is not None and agency.parent not in ids:
            raise AgencyNotFound(agency.parent)  # a parent later in the batch
        row = AgencyRow(
            code=agency.code,
            name=agency.name,
            letter_code=agency.letter_code,
            address=agency.address,
            parent_id=ids.get(agency.parent) if agency.parent else None,
            thai_digits=agency.thai_digits,
            created_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        ids[agency.code] = row.id
        rows.append(row)
    return rows


def list_agencies(session: Session) -> list[Agency]:
    codes = agency_codes_by_id(session)
    rows = session.exec(select(AgencyRow).order_by(col(AgencyRow.code)))
    return [to_agency(r, codes.get(r.parent_id) if r.parent_id else None) for r in rows]


def get_agency(session: Session, code: str) -> Agency:
    row = agency_row(session, code)
    parent = session.get(AgencyRow, row.parent_id) if row.parent_id else None
    return to_agency(row, parent.code if parent else None)


def descendants(session: Session, code: str) -> list[str]:
    """Codes of every agency below ``code`` in the tree (not including it)."""
    root = agency_row(session, code)
    children: dict[int, list[AgencyRow]] = {}
    for row in session.exec(select(AgencyRow)):
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    out: list[str] = []
    stack = [root.id]
    while stack:
        for child in children.get(stack.pop() or -1, []):
            out.append(child.code)
            stack.append(child.id)
    return sorted(out)


def unit_row(session: Session, agency_id: int, agency_code: str, code: str) -> UnitRow:
    row = session.exec(select(UnitRow).where(UnitRow.agency_id == agency_id, UnitRow.code == code)).first()
    if row is None:
        raise UnitNotFound(agency_code, code)
    return row


def unit_usernames(session: Session, unit_id: int) -> list[str]:
    """Usernames of the active accounts of a unit."""
    query = select(AccountRow.username).where(AccountRow.unit_id == unit_id, col(AccountRow.active).is_(True))
    return sorted(str(u) for u in session.exec(query))


def insert_unit(session: Session, unit: Unit) -> UnitRow:
    agency = agency_row(session, unit.agency)
    assert agency.id is not None
    clash = session.exec(select(UnitRow).where(UnitRow.agency_id == agency.id, UnitRow.code == unit.code)).first()
    if clash is not None:
        raise AlreadyExists("unit", f"{unit.agency}/{unit.code}")
    row = UnitRow(agency_id=agency.id, code=unit.code, name=unit.name, created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    return row


def list_units(session: Session, agency: str | None = None) -> list[Unit]:
    codes = agency_codes_by_id(session)
    query = select(UnitRow).order_by(col(UnitRow.agency_id), col(UnitRow.code))
    if agency is not None:
        query = query.where(UnitRow.agency_id == agency_row(session, agency).id)
    return [Unit(agency=codes[r.agency_id], code=r.code, name=r.name) for r in session.exec(query)]


def account_row(session: Session, username: str) -> AccountRow:
    known = memo(session, "account")
    if known is not None and username in known:
        return known[username]
    row = session.exec(select(AccountRow).where(AccountRow.username == username)).first()
    if row is None:
        raise UserNotFound(username)
    if known is not None:
        known[username] = row
    return row


def insert_users(session: Session, users: Iterable[User]) -> int:
    """Insert accounts in one statement; return how many."""
    users = list(users)
    names = [u.username for u in users]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise AlreadyExists("user", dup)
    existing: set[str] = set()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        existing.update(session.exec(select(AccountRow.username).where(col(AccountRow.username).in_(chunk))))
    if existing:
        raise AlreadyExists("user", sorted(existing)[0])
    wanted = {u.agency for u in users}
    agency_ids: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = sorted(wanted)[start : start + 500]
        for code, id_ in session.exec(select(AgencyRow.code, AgencyRow.id).where(col(AgencyRow.code).in_(chunk))):
            assert id_ is not None
            agency_ids[code] = id_
    unit_ids: dict[tuple[int, str], int] = {}
    for unit_agency, code, id_ in session.exec(
        select(UnitRow.agency_id, UnitRow.code, UnitRow.id).where(col(UnitRow.agency_id).in_(list(agency_ids.values())))
    ):
        assert id_ is not None
        unit_ids[(unit_agency, code)] = id_
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for user in users:
        if user.agency not in agency_ids:
            raise AgencyNotFound(user.agency)
        agency_id = agency_ids[user.agency]
        unit_id = None
        if user.unit is not None:
            unit_id = unit_ids.get((agency_id, user.unit))
            if unit_id is None:
                raise UnitNotFound(user.agency, user.unit)
        rows.append(
            {
                "username": user.username,
                "agency_id": agency_id,
                "unit_id": unit_id,
                "full_name": user.full_name,
                "position": user.position,
                "role": user.role.value,
                "email": user.email,
                "active": user.active,
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(AccountRow), rows)
    return len(rows)


def to_user(row: AccountRow, agency_code: str, unit_code: str | None) -> User:
    return User(
        username=row.username,
        agency=agency_code,
        full_name=row.full_name,
        position=row.position,
        role=Role(row.role),
        unit=unit_code,
        email=row.email,
        active=row.active,
    )


def list_users(session: Session, agency: str | None = None) -> list[User]:
    codes = agency_codes_by_id(session)
    unit_codes = {i: c for i, c in session.exec(select(UnitRow.id, UnitRow.code)) if i is not None}
    query = select(AccountRow).order_by(col(AccountRow.username))
    if agency is not None:
        query = query.where(AccountRow.agency_id == agency_row(session, agency).id)
    return [
        to_user(r, codes[r.agency_id], unit_codes.get(r.unit_id) if r.unit_id else None) for r in session.exec(query)
    ]


def get_user(session: Session, username: str) -> User:
    row = account_row(session, username)
    agency = session.get(AgencyRow, row.agency_id)
    assert agency is not None
    unit = session.get(UnitRow, row.unit_id) if row.unit_id else None
    return to_user(row, agency.code, unit.code if unit else None)


def count_rows(session: Session) -> dict[str, int]:
    return {
        "agencies": session.exec(select(func.count()).select_from(AgencyRow)).one(),
        "units": session.exec(select(func.count()).select_from(UnitRow)).one(),
        "users": session.exec(select(func.count()).select_from(AccountRow)).one(),
    }
