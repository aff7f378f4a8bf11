"""Numbering through the office, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import tomli_w

from edoc.errors import AlreadyNumbered, InvalidField, InvalidState, NotNumberable, PermissionDenied
from edoc.office import Office, open_office
from edoc.registers import Book
from edoc.storage import registers as reg_store
from edoc.storage.tables import DocumentRow
from tests.fixtures_registers import PAKCHONG, build_directory, imported, new_drafts


class _Clock:
    """Pins ``office.now()`` (the office's only clock) to a chosen instant."""

    def __init__(self, office: Office, at: datetime) -> None:
        self.at = at
        office.now = lambda: self.at  # type: ignore[method-assign]


def _entries(office: Office, doc_id: int) -> list[tuple[str, str, int, int, str, bool, str]]:
    def read(session: object) -> list[tuple[str, str, int, int, str, bool, str]]:
        return [
            (e.book, e.series, e.year, e.seq, e.number, e.cancelled, e.document_number)
            for e in reg_store.entries_of(session, doc_id)  # type: ignore[arg-type]
        ]

    return office._read(read)  # type: ignore[arg-type]


def _doc(office: Office, doc_id: int) -> DocumentRow:
    return office._read(lambda s: s.get(DocumentRow, doc_id))  # type: ignore[return-value]


def test_outgoing_numbers_run_per_agency_and_year(office: Office) -> None:
    build_directory(office)
    clock = _Clock(office, datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    ids = new_drafts(office, "officer", 3)
    other = new_drafts(office, "dofficer", 1, signer="dofficer")
    numbers = [office.number_document(i, as_user="clerk").text for i in ids]
    assert numbers == ["นม 52101/1", "นม 52101/2", "นม 52101/3"]
    assert office.number_document(other[0], as_user="dclerk").text == "นม 0318/1"
    row = _doc(office, ids[0])
    assert row.number == "นม 52101/1"
    assert row.document_date == date(2026, 3, 1)
    assert _entries(office, ids[1]) == [("sent", "out", 2569, 2, "2", False, "นม 52101/2")]
    # a new calendar year starts again at 1 (midnight in Bangkok, 17:00 UTC the day before)
    clock.at = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    later = new_drafts(office, "officer", 1)
    issued = office.number_document(later[0], as_user="clerk")
    assert (issued.year, issued.seq, issued.text) == (2570, 1, "นม 52101/1")
    assert _doc(office, later[0]).document_date == date(2027, 1, 1)
    events = [e for e in office.audit_events() if e.act == "doc.number"]
    assert [e.payload["number"] for e in events] == [*numbers, "นม 0318/1", "นม 52101/1"]
    assert events[0].actor == "clerk" and events[0].agency == PAKCHONG


def test_series_are_separate(office: Office) -> None:
    build_directory(office)
    _Clock(office, datetime(2026, 5, 5, tzinfo=UTC))
    letter = new_drafts(office, "officer", 1)[0]
    circular, circular2 = new_drafts(office, "officer", 2, kind="internal")
    order = new_drafts(office, "mayor", 1, kind="directive", form="order")[0]
    notice = new_drafts(office, "clerk", 1, kind="publicity", form="announcement")[0]
    assert office.number_document(letter, as_user="clerk").text == "นม 52101/1"
    assert office.number_document(circular, as_user="clerk", circular=True).text == "นม 52101/ว 1"
    assert office.number_document(circular2, as_user="clerk", circular=True).text == "นม 52101/ว 2"
    assert office.number_document(order, as_user="mayor").text == "1/2569"
    assert office.number_document(notice, as_user="clerk").text == "1/2569"
    assert _entries(office, circular2)[0][:5] == ("sent", "circular", 2569, 2, "ว 2")
    assert _entries(office, order)[0][:5] == ("sent", "directive:order", 2569, 1, "1/2569")


def test_fiscal_year_and_unit_series(home: Path, db_url: str | None) -> None:
    from edoc.office import init_office

    init_office(home, db_url)
    settings = {"numbering": {"year": "fiscal", "series": "unit", "unit_letter_codes": {"PAKCHONG/ENG": "นม 52101.3"}}}
    (home / "edoc.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    with open_office(home, db_url) as office:
        build_directory(office)
        clock = _Clock(office, datetime(2025, 9, 30, 10, tzinfo=UTC))
        eng = new_drafts(office, "officer", 2)  # the officer works in กองช่าง (ENG)
        agency_wide = new_drafts(office, "clerk", 1)  # the clerk belongs to no unit
        fin = new_drafts(office, "fofficer", 1)
        assert office.number_document(eng[0], as_user="clerk").text == "นม 52101.3/1"
        assert office.number_document(agency_wide[0], as_user="clerk").text == "นม 52101/1"
        with pytest.raises(InvalidField) as exc:
            office.number_document(fin[0], as_user="clerk")
        assert exc.value.field == "numbering.unit_letter_codes.PAKCHONG/FIN"
        assert _doc(office, fin[0]).number is None, "a refused act stores nothing"
        clock.at = datetime(2025, 10, 1, 1, tzinfo=UTC)  # fiscal year 2569 begins
        issued = office.number_document(eng[1], as_user="clerk")
        assert (issued.year, issued.seq, issued.text) == (2569, 1, "นม 52101.3/1")


def test_a_number_is_issued_once(office: Office) -> None:
    build_directory(office)
    doc = new_drafts(office, "officer", 1)[0]
    first = office.number_document(doc, as_user="clerk")
    with pytest.raises(AlreadyNumbered) as exc:
        office.number_document(doc, as_user="clerk")
    assert exc.value.exit_code == 5 and exc.value.number == first.text

    # the signing act's internal path returns the existing number instead of a second one
    def again(session: object) -> str:
        row = session.get(DocumentRow, doc)  # type: ignore[attr-defined]
        actor, _ = office._actor(session, "clerk")  # type: ignore[arg-type]
        return office._issue_number(session, row, actor).text  # type: ignore[arg-type]

    assert office._run(again) == first.text  # type: ignore[arg-type]
    assert len(_entries(office, doc)) == 1


def test_refusals(office: Office) -> None:
    build_directory(office)
    doc = new_drafts(office, "officer", 1)[0]
    incoming = imported(office, "clerk", 1)[0]
    with pytest.raises(PermissionDenied):
        office.number_document(doc, as_user="dclerk")  # another agency's clerk
    with pytest.raises(PermissionDenied):
        office.number_document(doc, as_user="auditor")
    with pytest.raises(NotNumberable) as exc:
        office.number_document(incoming, as_user="clerk")
    assert exc.value.exit_code == 5
    from edoc.errors import DocumentNotFound

    with pytest.raises(DocumentNotFound):
        office.number_document(999_999, as_user="clerk")
    with pytest.raises(TypeError):
        office.number_document("1", as_user="clerk")  # type: ignore[arg-type]
    assert _entries(office, doc) == []
    assert not [e for e in office.audit_events() if e.act == "doc.number"]


def test_cancelled_document_keeps_its_number(office: Office) -> None:
    build_directory(office)
    a, b, c = new_drafts(office, "officer", 3)
    office.number_document(a, as_user="clerk")
    office.number_document(b, as_user="clerk")
    office.cancel_document(b, as_user="clerk", reason="ผิดพลาด พิมพ์ชื่อหน่วยงานผิด")
    assert office.number_document(c, as_user="clerk").seq == 3, "a cancelled number is never reused"
    row = _doc(office, b)
    assert row.state == "cancelled" and row.number == "นม 52101/2"
    entry = _entries(office, b)[0]
    assert entry[3] == 2 and entry[5] is True
    unnumbered = new_drafts(office, "officer", 1)[0]
    office.cancel_document(unnumbered, as_user="officer", reason="ไม่ใช้แล้ว")
    with pytest.raises(InvalidState):
        office.number_document(unnumbered, as_user="clerk")  # a cancelled document gets no number
    with pytest.raises(InvalidState):
        office.cancel_document(b, as_user="clerk", reason="อีกครั้ง")
    with pytest.raises(InvalidField):
        office.cancel_document(a, as_user="clerk", reason="  ")
    cancel = [e for e in office.audit_events() if e.act == "doc.cancel"]
    assert [e.payload["number"] for e in cancel] == ["นม 52101/2", None]


def test_receive_numbers_are_a_series_of_their_own(office: Office) -> None:
    build_directory(office)
    _Clock(office, datetime(2026, 6, 1, tzinfo=UTC))
    incoming = imported(office, "clerk", 2, from_agency="อำเภอปากช่อง", number="นม 0318/77")
    office.number_document(new_drafts(office, "officer", 1)[0], as_user="clerk")

    def receive(doc_id: int) -> str:
        def act(session: object) -> str:
            row = session.get(DocumentRow, doc_id)  # type: ignore[attr-defined]
            actor, _ = office._actor(session, "clerk")  # type: ignore[arg-type]
            return office._issue_receive_number(session, row, actor).text  # type: ignore[arg-type]

        return office._run(act)  # type: ignore[arg-type]

    assert [receive(i) for i in incoming] == ["1", "2"]
    from edoc.errors import AlreadyReceived

    with pytest.raises(AlreadyReceived):
        receive(incoming[0])
    assert _entries(office, incoming[1]) == [("received", "receive", 2569, 2, "2", False, "นม 0318/77")]
    assert Book.RECEIVED.thai == "ทะเบียนหนังสือรับ"
