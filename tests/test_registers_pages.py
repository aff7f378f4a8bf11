"""Register pages read through the driver (no Session, no ORM objects): the same values as the
ORM, keyset pages equal to offset pages and to the whole register, and the same access rules
(who may read which agency's register), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from edoc.directory import Role, User
from edoc.errors import AgencyNotFound, PermissionDenied, UserNotFound
from edoc.office import Office
from edoc.registers.views import BacklogItem
from edoc.storage.tables import RegisterEntryRow
from tests.fixtures_documents import with_keys
from tests.fixtures_registers import DISTRICT, PAKCHONG, build_directory, new_drafts

BANGKOK = ZoneInfo("Asia/Bangkok")


@pytest.fixture
def registers(office: Office) -> Office:
    build_directory(office)
    with_keys(office, ["clerk", "dclerk"])  # the backlog's events are signed by the clerks
    items = [
        BacklogItem(
            subject=f"หนังสือเรื่องที่ {i}",
            from_="จังหวัดนครราชสีมา",
            document_number=f"นม 0017/{i}",
            document_date=date(2025, 12, 1 + i % 28) if i % 5 else None,
            remark="ด่วน" if i % 7 == 0 else "",
        )
        for i in range(1, 24)
    ]
    office.receive_backlog(PAKCHONG, items, as_user="clerk")
    office.receive_backlog(DISTRICT, items[:3], as_user="dclerk")
    # the sent book: an outgoing and a circular series, so that running numbers repeat
    letters = new_drafts(office, "officer", 4)
    for i, doc in enumerate(letters):
        office.number_document(doc, as_user="clerk", circular=i % 2 == 1)
    office.cancel_document(letters[2], as_user="clerk", reason="ออกเลขซ้ำเรื่อง")
    return office


def _orm_rows(office: Office, book: str) -> list[RegisterEntryRow]:
    with Session(office.db.engine) as session:
        return list(
            session.exec(
                select(RegisterEntryRow)
                .where(RegisterEntryRow.book == book)
                .where(RegisterEntryRow.agency_id == _agency_id(office, PAKCHONG))
                .order_by(RegisterEntryRow.seq, RegisterEntryRow.series)  # type: ignore[arg-type]
            )
        )


def _agency_id(office: Office, code: str) -> int:
    from edoc.storage.directory import agency_row

    found = office._read(lambda s: agency_row(s, code).id)
    assert found is not None
    return found


def test_a_page_has_the_values_the_orm_reads(registers: Office) -> None:
    for book in ("received", "sent"):
        _same_as_orm(registers, book)


def _same_as_orm(registers: Office, book: str) -> None:
    page = registers.register(PAKCHONG, book, as_user="clerk")
    orm = _orm_rows(registers, book)
    assert len(page.rows) == len(orm) == (23 if book == "received" else 4)
    for row, stored in zip(page.rows, orm, strict=True):
        assert row.register_number == stored.number and row.document_id == stored.document_id
        assert (row.seq, row.series) == (stored.seq, stored.series)
        assert row.registered_at == stored.registered_at and row.registered_at.tzinfo is not None
        assert row.registered_at.utcoffset() == UTC.utcoffset(None)
        assert row.date == stored.registered_at.astimezone(BANGKOK).date()
        assert row.document_date == stored.document_date
        assert isinstance(row.cancelled, bool) and row.cancelled == stored.cancelled
        assert (row.document_number, row.from_, row.to, row.subject, row.action, row.remark) == (
            stored.document_number,
            stored.from_name,
            stored.to_name,
            stored.subject,
            stored.action,
            stored.remark,
        )
    if book == "received":
        assert page.rows[4].document_date is None and page.rows[5].document_date == date(2025, 12, 7)
        assert page.rows[6].remark == "ด่วน"
    else:
        # both series start at 1: register order is the running number, then the series
        assert [r.seq for r in page.rows] == [1, 1, 2, 2]
        assert [r.cancelled for r in page.rows].count(True) == 1
    assert page.agency == PAKCHONG and page.agency_name == "เทศบาลเมืองปากช่อง"


def test_keyset_pages_walk_the_whole_register(registers: Office) -> None:
    for book in ("received", "sent"):
        _walk(registers, book)


def _walk(registers: Office, book: str) -> None:
    whole = registers.register(PAKCHONG, book, as_user="clerk").rows
    for size in (1, 4, 5, 50):
        walked = []
        after = None
        while True:
            page = registers.register(PAKCHONG, book, as_user="clerk", limit=size, after=after).rows
            if not page:
                break
            assert len(page) <= size
            walked += page
            after = (page[-1].seq, page[-1].series)
        assert walked == list(whole)
        by_offset = [
            r for off in range(0, len(whole), size) for r in registers.register(
                PAKCHONG, book, as_user="clerk", limit=size, offset=off).rows
        ]  # fmt: skip
        assert by_offset == list(whole)
    # after the last row there is nothing; after a row that does not exist, the rows after it
    last = whole[-1]
    assert registers.register(PAKCHONG, book, as_user="clerk", after=(last.seq, last.series)).rows == ()
    assert registers.register(PAKCHONG, book, as_user="clerk", after=(0, "")).rows == whole
    # offset counts from the keyset position ((1, "") comes before every row numbered 1)
    assert registers.register(PAKCHONG, book, as_user="clerk", limit=2, offset=1, after=(1, "")).rows == whole[1:3]
    first = (whole[0].seq, whole[0].series)
    assert registers.register(PAKCHONG, book, as_user="clerk", limit=2, after=first).rows == whole[1:3]


def test_who_may_read_a_register_and_bad_keys(registers: Office) -> None:
    from edoc.errors import InvalidField

    for bad in ((1,), ("1", "receive"), (True, "x"), [1, "receive"]):
        with pytest.raises(InvalidField):
            registers.register(PAKCHONG, "received", after=bad)  # type: ignore[arg-type]
    registers.add_users(
        [
            User("dauditor", DISTRICT, "นายตรวจ อำเภอ", "ผู้ตรวจสอบ", Role.AUDITOR),
            User("gone", PAKCHONG, "นายพ้น หน้าที่", "เจ้าพนักงานธุรการ", Role.CLERK),
        ]
    )
    with registers.db.tx.session(write=True) as session:
        from edoc.storage.directory import account_row

        account = account_row(session, "gone")
        account.active = False
        session.add(account)
    assert len(registers.register(PAKCHONG, "received", as_user="mayor").rows) == 23
    # an auditor reads their agency's register and the ones below
    assert len(registers.register(PAKCHONG, "received", as_user="dauditor").rows) == 23
    assert len(registers.register(DISTRICT, "received", as_user="dauditor").rows) == 3
    # another agency's clerk, an officer, a disabled account, nobody, no such agency
    with pytest.raises(PermissionDenied):
        registers.register(PAKCHONG, "received", as_user="dclerk")
    with pytest.raises(PermissionDenied):
        registers.register(PAKCHONG, "received", as_user="officer")
    with pytest.raises(PermissionDenied, match="disabled"):
        registers.register(PAKCHONG, "received", as_user="gone")
    with pytest.raises(UserNotFound):
        registers.register(PAKCHONG, "received", as_user="nobody")
    with pytest.raises(AgencyNotFound):
        registers.register("NOWHERE", "received", as_user="clerk")
    with pytest.raises(AgencyNotFound):
        registers.register("NOWHERE", "received", as_user="nobody")
    # without a user: the operator, who holds the database
    assert len(registers.register(DISTRICT, "received").rows) == 3


def test_a_year_without_rows_and_a_register_read_during_a_write(registers: Office) -> None:
    assert registers.register(PAKCHONG, "received", year=2500, as_user="clerk").rows == ()
    # a page read while another connection holds the write lock (SQLite: BEGIN IMMEDIATE) still
    # answers from the last committed state
    from sqlalchemy import text

    before = registers.register(PAKCHONG, "received", as_user="clerk").rows
    with registers.db.tx.session(write=True) as session:
        session.execute(text("UPDATE register_entry SET remark = 'x' WHERE number = '1'"))
        session.flush()
        during = registers.register(PAKCHONG, "received", as_user="clerk").rows
        session.rollback()
    assert during == before
    assert isinstance(before[0].registered_at, datetime)
