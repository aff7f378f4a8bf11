"""Retention, legal holds and approved destruction: refusals without approvals, with a hold, for
permanent classes; content erased while register rows, hashes and the audit trail stay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from edoc.errors import (
    AlreadyExists,
    BlobMissing,
    DestructionRefused,
    InvalidField,
    InvalidState,
    PermissionDenied,
    RecordRefused,
)
from edoc.office import Office, init_office, open_office
from tests.fixtures_pki import pki_office  # noqa: F401 (fixture)
from tests.fixtures_registers import build_directory, tiny_pdf


def _pdf(office: Office, doc_id: int) -> bytes:
    from edoc.storage import documents as doc_store

    def read(session):  # type: ignore[no-untyped-def]
        row = doc_store.document_row(session, doc_id)
        return office.db.blobs.get(session, row.pdf_sha256)

    return office._read(read)


def _import(office: Office, subject: str, user: str = "pc.clerk") -> int:
    return office.import_document(tiny_pdf(subject), as_user=user, subject=subject, from_agency="จังหวัด")


def test_filing_gives_a_retention_class(office: Office) -> None:
    build_directory(office)
    a, b, c = (
        office.import_document(tiny_pdf(f"t{i}"), as_user="clerk", subject=f"หนังสือ {i}", from_agency="x")
        for i in range(3)
    )
    rec = office.file_document(a, as_user="clerk")
    assert rec.retention_class == "10y" and rec.years == 10
    assert rec.due_year == datetime.now(UTC).year + 543 + 10
    assert office.file_document(b, as_user="clerk", retention_class="permanent").due_year is None
    with pytest.raises(InvalidField, match="not a retention class"):
        office.file_document(c, as_user="clerk", retention_class="3y")
    with pytest.raises(InvalidState):
        office.file_document(a, as_user="clerk")  # filed already
    with pytest.raises(PermissionDenied):
        office.file_document(c, as_user="dclerk")
    assert office.show_document(a, as_user="clerk").state == "filed"


def test_agency_classes_from_settings(home: Path) -> None:
    init_office(home)
    (home / "edoc.toml").write_text(
        (home / "edoc.toml").read_text(encoding="utf-8")
        + '\n[retention.by_agency.PAKCHONG]\nfinance = 15\n\n[retention.default_by_agency]\nPAKCHONG = "5y"\n',
        encoding="utf-8",
    )
    with open_office(home) as office:
        build_directory(office)
        a, b = (
            office.import_document(tiny_pdf(), as_user="clerk", subject=f"ฎีกา {i}", from_agency="x") for i in range(2)
        )
        assert office.file_document(a, as_user="clerk").retention_class == "5y"
        assert office.file_document(b, as_user="clerk", retention_class="finance").years == 15
        d = office.import_document(tiny_pdf(), as_user="dclerk", subject="อื่น", from_agency="x")
        with pytest.raises(InvalidField):
            office.file_document(d, as_user="dclerk", retention_class="finance")  # Pak Chong's class only


def _committee(office: Office) -> None:
    office.add_user(
        "pc.head2", agency="PAKCHONG", full_name="นางสาวรอบคอบ ดีเสมอ", position="ผู้อำนวยการกองคลัง", role="head"
    )
    for name in ("pc.clerk", "pc.mayor", "pc.head", "pc.head2"):
        office.issue_certificate(name)


def test_destruction_needs_the_committee_and_the_archives(pki_office: Office) -> None:  # noqa: F811
    office = pki_office
    _committee(office)
    short = _import(office, "สำเนาหนังสือเวียนทั่วไป")
    kept = _import(office, "ประกาศจัดตั้งเทศบาล")
    held = _import(office, "สัญญาจ้างก่อสร้าง")
    ten = _import(office, "หนังสือทั่วไป")
    office.file_document(short, as_user="pc.clerk", retention_class="1y")
    office.file_document(kept, as_user="pc.clerk", retention_class="permanent")
    office.file_document(held, as_user="pc.clerk", retention_class="1y")
    office.file_document(ten, as_user="pc.clerk")
    office.hold_document(held, as_user="pc.clerk", reason="คดีปกครองหมายเลขดำที่ 12/2569")
    with pytest.raises(RecordRefused):
        office.hold_document(held, as_user="pc.clerk", reason="again")

    this_year = datetime.now(UTC).year
    later = datetime(this_year + 2, 1, 15, 3, 0, tzinfo=UTC)
    office.now = lambda: later  # type: ignore[method-assign]
    be = this_year + 1 + 543
    due, on_hold = office.records_due(as_user="pc.clerk", year=be)
    assert [r.document_id for r in due] == [short]
    assert [r.document_id for r in on_hold] == [held]
    with pytest.raises(InvalidField):
        office.propose_destruction(as_user="pc.clerk", year=be - 5)  # nothing due then
    listed = office.propose_destruction(as_user="pc.clerk", year=be)
    assert listed.documents == (short,) and "no chair approved the list" in listed.missing

    with pytest.raises(DestructionRefused):
        office.destroy_records(listed.id, as_user="pc.clerk")
    with pytest.raises(PermissionDenied):
        office.approve_destruction(listed.id, as_user="pc.clerk", role="member")  # clerks are not the committee
    office.approve_destruction(listed.id, as_user="pc.mayor", role="chair")
    with pytest.raises(AlreadyExists):
        office.approve_destruction(listed.id, as_user="pc.mayor", role="member")
    with pytest.raises(AlreadyExists):
        office.approve_destruction(listed.id, as_user="pc.head", role="chair")
    office.approve_destruction(listed.id, as_user="pc.head", role="member")
    with pytest.raises(DestructionRefused, match="1 member"):
        office.destroy_records(listed.id, as_user="pc.clerk")
    listed = office.approve_destruction(listed.id, as_user="pc.head2", role="member")
    assert listed.missing == ("the National Archives' no-objection is not recorded",)
    with pytest.raises(DestructionRefused, match="National Archives"):
        office.destroy_records(listed.id, as_user="pc.clerk")
    office.record_archives_reply(listed.id, as_user="pc.clerk", reference="วธ 0804/1234 ลงวันที่ 10 มกราคม")
    assert office.destruction_list(listed.id, as_user="pc.clerk").missing == ()

    # a hold put on after approval still stops it
    office.hold_document(short, as_user="pc.clerk", reason="ตรวจสอบเพิ่มเติม")
    with pytest.raises(DestructionRefused, match="legal hold"):
        office.destroy_records(listed.id, as_user="pc.clerk")
    office.release_document(short, as_user="pc.clerk", reason="ตรวจสอบแล้ว")

    before = _pdf(office, short)
    done = office.destroy_records(listed.id, as_user="pc.clerk")
    assert done.state == "destroyed"
    with pytest.raises(BlobMissing):
        _pdf(office, short)
    assert _pdf(office, kept) and _pdf(office, held)  # others untouched
    view = office.show_document(short, as_user="pc.clerk")
    assert view.subject == "สำเนาหนังสือเวียนทั่วไป"  # the register's columns stay
    with pytest.raises(DestructionRefused):
        office.destroy_records(listed.id, as_user="pc.clerk")  # once

    # the audit trail: the approvals and the destruction are signed events; the log verifies
    events = office.audit_events()
    approvals = [e for e in events if e.act == "records.approve"]
    assert len(approvals) == 3 and all(e.signature for e in approvals)
    (destroyed,) = [e for e in events if e.act == "records.destroy"]
    import hashlib

    assert destroyed.signature and hashlib.sha256(before).hexdigest() in str(destroyed.payload)
    report = office.verify_audit_log()
    assert report.ok, report


def test_permanent_documents_never_appear(pki_office: Office) -> None:  # noqa: F811
    office = pki_office
    kept = _import(office, "ข้อบัญญัติเทศบาล")
    office.file_document(kept, as_user="pc.clerk", retention_class="permanent")
    office.now = lambda: datetime(2200, 1, 1, tzinfo=UTC)  # type: ignore[method-assign]
    due, held = office.records_due(as_user="pc.clerk", year=2199 + 543)
    assert due == [] and held == []
    with pytest.raises(InvalidField):
        office.propose_destruction(as_user="pc.clerk", year=2199 + 543)
    # over twenty years old: listed for the National Archives
    assert [r.document_id for r in office.records_transfer(as_user="pc.clerk")] == [kept]
