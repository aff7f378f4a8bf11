"""Search on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm): Thai without spaces, numbers,
relevance, and only what the user may see."""

from __future__ import annotations

import pytest

from edoc.errors import EmptyField, InvalidField, NoCertificate, PermissionDenied, UserNotFound
from edoc.office import Office
from tests.fixtures_documents import with_keys
from tests.fixtures_registers import build_directory, new_drafts, tiny_pdf


@pytest.fixture
def searchable(office: Office) -> dict[str, int]:
    build_directory(office)
    (letter,) = new_drafts(office, "officer", 1)  # subject ขอเชิญประชุมคณะกรรมการพัฒนาเทศบาล ครั้งที่ 1
    office.number_document(letter, as_user="clerk")
    memo = office.new_document(
        "internal",
        {
            "subject": "รายงานผลการซ่อมแซมถนนสายหลัก",
            "to": "นายกเทศมนตรี",
            "body": ["กองช่างได้ดำเนินการซ่อมแซมถนนลาดยางบริเวณตลาดสดเทศบาลเรียบร้อยแล้ว"],
            "signer": "mayor",
        },
        as_user="officer",
    )
    with_keys(office, ["clerk"])  # the secret import is stored sealed for the seal and the clerk
    secret = office.import_document(
        tiny_pdf(),
        as_user="clerk",
        subject="ขอข้อมูลงบประมาณโครงการก่อสร้างสะพาน",
        from_agency="สำนักงานตรวจเงินแผ่นดินภูมิภาคที่ 5",
        number="ตง 0005/777",
        secrecy="secret",
    )
    incoming = office.import_document(
        tiny_pdf(),
        as_user="clerk",
        subject="ขอเชิญร่วมงานกาชาดจังหวัด",
        from_agency="จังหวัดนครราชสีมา",
        number="นม 0017/4321",
    )
    elsewhere = office.import_document(
        tiny_pdf(), as_user="dclerk", subject="ขอเชิญประชุมคณะกรรมการอำเภอ", from_agency="จังหวัด"
    )
    return {"letter": letter, "memo": memo, "secret": secret, "incoming": incoming, "elsewhere": elsewhere}


def _ids(hits: list) -> list[int]:  # type: ignore[type-arg]
    return [h.document_id for h in hits]


def test_thai_words_inside_running_text(office: Office, searchable: dict[str, int]) -> None:
    # "ถนนลาดยาง" sits inside a body paragraph with no spaces around it
    assert _ids(office.search("ลาดยาง", as_user="clerk")) == [searchable["memo"]]
    assert _ids(office.search("ซ่อมแซม", as_user="officer")) == [searchable["memo"]]
    # several words: all must match
    assert _ids(office.search("ขอเชิญ กาชาด", as_user="clerk")) == [searchable["incoming"]]
    assert office.search("ขอเชิญ ไม่มีคำนี้", as_user="clerk") == []
    # sender and recipient
    assert _ids(office.search("นครราชสีมา", as_user="clerk")) == [searchable["incoming"]]


def test_numbers_and_relevance(office: Office, searchable: dict[str, int]) -> None:
    assert _ids(office.search("0017/4321", as_user="clerk")) == [searchable["incoming"]]
    assert _ids(office.search("นม 52101/1", as_user="clerk"))[0] == searchable["letter"]
    hits = office.search("ขอเชิญ", as_user="clerk")
    assert set(_ids(hits)) == {searchable["letter"], searchable["incoming"]}
    assert hits[0].score >= hits[-1].score
    letter = next(h for h in hits if h.document_id == searchable["letter"])
    assert letter.book == "sent" and letter.register_number == "1" and letter.registered is not None
    # a subject match outranks a match in the body only
    body_only = office.new_document(
        "internal",
        {"subject": "บันทึกทั่วไป", "to": "ปลัด", "body": ["เรื่องรายงานผลการซ่อมแซม"], "signer": "mayor"},
        as_user="officer",
    )
    ranked = _ids(office.search("รายงานผล", as_user="officer"))
    assert ranked == [searchable["memo"], body_only]


def test_only_what_the_user_may_see(office: Office, searchable: dict[str, int]) -> None:
    # another agency's clerk finds nothing of Pak Chong, and Pak Chong finds nothing of theirs
    assert _ids(office.search("ขอเชิญ", as_user="dclerk")) == [searchable["elsewhere"]]
    assert searchable["elsewhere"] not in _ids(office.search("ขอเชิญประชุม", as_user="clerk"))
    # a draft is seen by the people named on it (and clerks, executives), not by an officer of another unit
    assert office.search("ลาดยาง", as_user="fofficer") == []
    assert office.search("ลาดยาง", as_user="head") == []
    # a secret document: its subject is stored only sealed, so nobody finds it by a word of it;
    # its number and sender are register columns: the mayor finds it by them, not its content
    assert office.search("งบประมาณ", as_user="clerk") == []
    hits = office.search("ตง 0005/777", as_user="mayor")
    assert _ids(hits) == [searchable["secret"]] and hits[0].content_visible is False
    assert "งบประมาณ" not in hits[0].subject and "ลับมาก" in hits[0].subject
    assert _ids(office.search("ตรวจเงินแผ่นดิน", as_user="clerk")) == [searchable["secret"]]
    assert office.search("ตง 0005/777", as_user="fofficer") == []


def test_short_words_and_bad_input(office: Office, searchable: dict[str, int]) -> None:
    # fewer than three characters cannot use trigrams and are still found
    assert searchable["memo"] in _ids(office.search("ถน", as_user="clerk"))
    with pytest.raises(EmptyField):
        office.search("   ", as_user="clerk")
    with pytest.raises(InvalidField):
        office.search("ขอ", as_user="clerk", limit=0)
    with pytest.raises(UserNotFound):
        office.search("ขอ", as_user="nobody")
    # quotes and FTS syntax are plain text
    assert office.search('"ขอ" OR NEAR(', as_user="clerk") == []


def test_the_index_follows_changes(office: Office, searchable: dict[str, int]) -> None:
    office.cancel_document(searchable["letter"], as_user="clerk", reason="ซ้ำ")
    assert searchable["letter"] in _ids(office.search("ขอเชิญประชุม", as_user="clerk"))
    late = office.import_document(tiny_pdf(), as_user="clerk", subject="แจ้งกำหนดการฉีดวัคซีน", from_agency="สสจ.")
    assert _ids(office.search("วัคซีน", as_user="clerk")) == [late]


def test_backlog_is_registered_in_bulk(office: Office) -> None:
    from datetime import date

    from edoc.registers.views import BacklogItem

    build_directory(office)
    with pytest.raises(NoCertificate):  # registering is a legal act: the clerk signs each event
        office.receive_backlog("PAKCHONG", [BacklogItem(subject="หนังสือ", from_="x")], as_user="clerk")
    with_keys(office, ["clerk", "dclerk"])
    items = [
        BacklogItem(
            subject=f"หนังสือเก่าเรื่องที่ {i}",
            from_="จังหวัดนครราชสีมา",
            document_number=f"นม 0017/{i}",
            document_date=date(2025, 12, 1),
            body=("ขอให้ตรวจสอบบัญชีครุภัณฑ์ประจำปี",) if i == 7 else (),
        )
        for i in range(1, 31)
    ]
    before = len(office.audit_events())
    numbers = office.receive_backlog("PAKCHONG", items, as_user="clerk")
    assert [n.seq for n in numbers] == list(range(1, 31))
    page = office.register("PAKCHONG", "received", as_user="clerk")
    assert [r.register_number for r in page.rows] == [str(i) for i in range(1, 31)]
    assert [r.document_number for r in page.rows] == [f"นม 0017/{i}" for i in range(1, 31)]
    assert page.rows[6].subject == "หนังสือเก่าเรื่องที่ 7"
    events = office.audit_events()[before:]
    assert len(events) == 30 and {e.act for e in events} == {"doc.register"}
    assert all(e.signature and e.signer_cert for e in events)
    report = office.verify_audit_log()
    assert report.problems == (), [p.message() for p in report.problems]  # no unsigned-legal-act
    # the body keyed in is searchable; a page is a page
    (hit,) = office.search("ครุภัณฑ์", as_user="clerk")
    assert hit.subject == "หนังสือเก่าเรื่องที่ 7" and hit.register_number == "7"
    assert len(office.register("PAKCHONG", "received", as_user="clerk", limit=10, offset=25).rows) == 5
    with pytest.raises(PermissionDenied):
        office.receive_backlog("PAKCHONG", items[:1], as_user="dclerk")
    with pytest.raises(EmptyField):
        office.receive_backlog("PAKCHONG", [BacklogItem(subject=" ", from_="x")], as_user="clerk")


def _reference(session, terms: list[str], agency_ids: list[int]) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """The match over the whole index, joined and filtered afterwards (the query before the
    index was keyed by agency): what the keyed search must still return, in the same order."""
    from edoc.storage.driver import fetch, marks

    match = " AND ".join('"' + t + '"' for t in terms)
    rows = fetch(
        session,
        "SELECT d.id, -bm25(search_text, 10.0, 5.0, 2.0, 1.0) FROM search_text AS s "
        "JOIN document AS d ON d.id = (s.rowid & 4294967295) WHERE search_text MATCH ? "
        f"AND d.agency_id IN ({marks(len(agency_ids))}) ORDER BY bm25(search_text, 10.0, 5.0, 2.0, 1.0), d.id DESC",
        [match, *agency_ids],
    )
    return [(int(i), float(s)) for i, s in rows]


@pytest.mark.parametrize("terms", [["ขอเชิญ"], ["ขอเชิญ", "ประชุม"], ["จังหวัด"], ["ปากช่อง"], ["ขอเชิญ", "ขอ"], ["ขอ"]])
def test_search_over_one_or_many_agencies(
    office: Office, searchable: dict[str, int], terms: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index keyed by agency gives each agency's hits and nothing else, in relevance order,
    whether the agencies are searched as rowid ranges or as one filtered match (an auditor over
    many agencies), and the same order as a match over the whole index filtered afterwards."""
    from edoc.storage import search as search_store
    from edoc.storage.directory import agency_row
    from edoc.storage.driver import is_sqlite

    with office.db.tx.session(write=False) as session:
        pc, dist = agency_row(session, "PAKCHONG").id, agency_row(session, "PAKCHONG-DIST").id
        assert pc is not None and dist is not None
        seen = {}
        for ranges_at_most in (4, 0):
            monkeypatch.setattr(search_store, "RANGES_AT_MOST", ranges_at_most)
            for ids in ([pc], [dist], [pc, dist]):
                got = search_store.candidates(session, terms, ids, limit=50)
                assert {c.agency_id for c in got} <= set(ids)
                assert [(c.score, c.document_id) for c in got] == sorted(
                    ((c.score, c.document_id) for c in got), reverse=True
                )
                seen[(ranges_at_most, tuple(ids))] = [(c.document_id, c.score) for c in got]
                if is_sqlite(session) and all(len(t) >= 3 for t in terms):
                    assert seen[(ranges_at_most, tuple(ids))] == _reference(session, terms, ids)
        for ids in ([pc], [dist], [pc, dist]):
            assert seen[(4, tuple(ids))] == seen[(0, tuple(ids))]
        both = {d for d, _ in seen[(4, (pc, dist))]}
        assert both == {d for d, _ in seen[(4, (pc,))]} | {d for d, _ in seen[(4, (dist,))]}
        if terms == ["ขอเชิญ"]:
            assert searchable["elsewhere"] in both and searchable["incoming"] in both


def test_sqlite_index_key_follows_the_document(sqlite_office: Office) -> None:
    """search_text's rowid is agency_id << 32 | document id, kept so by the triggers when a
    document is added, changes agency or text, and is deleted."""
    from sqlalchemy import text

    from edoc.storage.search import fts_key

    office = sqlite_office
    build_directory(office)
    doc = office.import_document(tiny_pdf(), as_user="clerk", subject="แจ้งกำหนดการฉีดวัคซีน", from_agency="สสจ.")
    with office.db.engine.begin() as conn:
        pc, dist = (conn.execute(text("SELECT id FROM agency WHERE code = :c"), {"c": c}).scalar_one()
                    for c in ("PAKCHONG", "PAKCHONG-DIST"))  # fmt: skip

        def keys() -> list[int]:
            found = conn.execute(text("SELECT rowid FROM search_text WHERE search_text MATCH '\"วัคซีน\"'"))
            return list(found.scalars())

        assert keys() == [fts_key(pc, doc)]
        conn.execute(text("UPDATE document SET agency_id = :a WHERE id = :d"), {"a": dist, "d": doc})
        assert keys() == [fts_key(dist, doc)]
        conn.execute(text("UPDATE document SET subject = 'อื่น' WHERE id = :d"), {"d": doc})
        assert keys() == []
        conn.execute(text("DELETE FROM document WHERE id = :d"), {"d": doc})
        left = conn.execute(text("SELECT count(*) FROM search_text WHERE rowid = :k"), {"k": fts_key(dist, doc)})
        assert left.scalar_one() == 0
        count = conn.execute(text("SELECT count(*) FROM search_text")).scalar_one()
        assert count == conn.execute(text("SELECT count(*) FROM document")).scalar_one()
    with pytest.raises(ValueError):
        fts_key(1, 1 << 32)
