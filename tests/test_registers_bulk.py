"""The bulk path (``Office.receive_backlog``) on SQLite and PostgreSQL: a batch large enough for
PostgreSQL's ``COPY`` (documents, register rows, audit events and nodes) stores exactly what the
statement-per-batch path stores, signed, verifiable and searchable."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select

from edoc.office import Office
from edoc.registers.views import BacklogItem
from edoc.storage import bulk
from edoc.storage.tables import DocumentRow, RegisterEntryRow
from tests.fixtures_documents import with_keys
from tests.fixtures_registers import PAKCHONG, build_directory


def _items(n: int, start: int) -> list[BacklogItem]:
    return [
        BacklogItem(
            subject=f"หนังสือเก่าเรื่องที่ {i} ขอความร่วมมือ",
            from_="จังหวัดนครราชสีมา" if i % 2 else "อำเภอปากช่อง",
            document_number=f"นม 0017/{i}" if i % 3 else "",
            document_date=date(2025, 1 + i % 12, 1 + i % 28) if i % 5 else None,
            to="นายกเทศมนตรีเมืองปากช่อง" if i % 4 == 0 else "",
            remark="ด่วน" if i % 7 == 0 else "",
            body=("ขอให้ตรวจสอบบัญชีครุภัณฑ์ประจำปี",) if i == 4 else (),
        )
        for i in range(start, start + n)
    ]


def _stored(office: Office, ids: list[int]) -> list[dict[str, object]]:
    with Session(office.db.engine) as session:
        docs = session.exec(select(DocumentRow).where(col(DocumentRow.id).in_(ids)).order_by(col(DocumentRow.id)))
        return [d.model_dump() for d in docs]


def test_a_big_batch_stores_what_a_small_one_does(office: Office) -> None:
    build_directory(office)
    with_keys(office, ["clerk"])
    big_n = bulk.COPY_FROM * 2 + 7  # COPY on PostgreSQL
    small_n = bulk.COPY_FROM // 5  # a multi-row INSERT everywhere
    big = office.receive_backlog(PAKCHONG, _items(big_n, 1), as_user="clerk")
    small = office.receive_backlog(PAKCHONG, _items(small_n, big_n + 1), as_user="clerk")
    assert [n.seq for n in big + small] == list(range(1, big_n + small_n + 1))

    page = office.register(PAKCHONG, "received", as_user="clerk")
    rows = page.rows
    assert [r.register_number for r in rows] == [str(i) for i in range(1, big_n + small_n + 1)]
    for r, item in zip(rows, _items(big_n + small_n, 1), strict=True):
        assert (r.subject, r.from_, r.document_number, r.document_date, r.remark) == (
            item.subject, item.from_, item.document_number, item.document_date, item.remark,
        )  # fmt: skip
        assert r.to == (item.to or "เทศบาลเมืองปากช่อง")
        assert r.registered_at is not None and r.registered_at.tzinfo is not None
    # the documents: every column as the ORM reads it, the same for both paths but the text
    ids = [r.document_id for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stored = _stored(office, ids)
    assert [d["subject"] for d in stored] == [r.subject for r in rows]
    assert stored[3]["fields_json"] == '{"body":["ขอให้ตรวจสอบบัญชีครุภัณฑ์ประจำปี"]}'
    assert stored[0]["fields_json"] == "{}" and stored[1]["number"] == "นม 0017/2" and stored[2]["number"] is None
    varying = {"id", "subject", "fields_json", "number", "document_date", "from_name", "to_name"}
    varying |= {"created_at", "updated_at"}
    same = [{k: v for k, v in d.items() if k not in varying} for d in stored]
    assert all(s == same[0] for s in same), "a COPY row differs from an INSERT row"
    for d in stored:
        assert isinstance(d["created_at"], datetime) and d["created_at"].tzinfo == UTC
        registered = rows[0].registered_at
        assert registered is not None and abs((d["created_at"] - registered).total_seconds()) < 600
    with Session(office.db.engine) as session:
        entries = session.exec(select(RegisterEntryRow).where(col(RegisterEntryRow.document_id).in_(ids))).all()
        assert {e.cancelled for e in entries} == {False} and {e.action for e in entries} == {""}

    # the audit events: one per document, signed by the clerk, and the whole log verifies
    events = [e for e in office.audit_events() if e.act == "doc.register"]
    assert [e.document_id for e in events] == ids
    assert all(e.signature and e.signer_cert for e in events)
    report = office.verify_audit_log()
    assert report.problems == (), [p.message() for p in report.problems]
    # searchable, in the agency's part of the index
    (hit,) = office.search("ครุภัณฑ์", as_user="clerk")
    assert hit.register_number == "4"
    assert len(office.search("ขอความร่วมมือ", as_user="clerk", limit=500)) == big_n + small_n
    assert office.search("ขอความร่วมมือ", as_user="dclerk") == []


def test_copy_rows_refuses_rows_that_name_other_columns(office: Office) -> None:
    if office.db.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    table = RegisterEntryRow.__table__  # type: ignore[attr-defined]
    with Session(office.db.engine) as session, pytest.raises(ValueError, match="row 1"):
        bulk.copy_rows(session, table, [{"agency_id": 1, "book": "x"}, {"agency_id": 1}])
