"""Registers, deliveries and document numbers as views over the audit log (issue 9, item 4).

A pilot on SQLite and PostgreSQL (letters signed, sent, delivered, received with the stamp,
routed, filed, returned; a numbered draft cancelled) must give back, from
the log alone, the registers ``edoc register`` prints, the delivery status ``edoc doc status``
shows and the history ``edoc doc history`` lists; ``edoc audit verify`` (and the offline
bundle check) must then name the first row a direct SQL change made disagree with the log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from edoc.audit.bundle import bundle_history, verify_bundle
from edoc.audit.events import Event
from edoc.audit.verify import AuditReport, ProblemKind
from edoc.audit.views import (
    DELIVERIES,
    NUMBERS,
    REGISTERS,
    LogViews,
    delivery_status,
    fold,
    register_rows,
)
from edoc.office import Office
from tests.conftest import invoke
from tests.fixtures_send import DIST, PC, PROV, SIKHIU, receive, route_office, signed_letter

__all__ = ["route_office"]  # fixture used by name

AT = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


def _ev(seq: int, act: str, agency: str, document_id: int | None, /, **payload: object) -> Event:
    return Event(seq, AT, "someone", agency, act, document_id, dict(payload))


def _register_payload(book: str, seq: int, **extra: object) -> dict[str, object]:
    return {
        "book": book,
        "series": "receive" if book == "received" else "out",
        "year": 2569,
        "seq": seq,
        "register_number": str(seq),
        "date": "2026-11-02",
        "registered_at": AT.isoformat(),
        "document_number": "นม 52101/1",
        "document_date": "2026-11-02",
        "from": "เทศบาลเมืองปากช่อง",
        "to": "นายอำเภอปากช่อง",
        "subject": "ขอเชิญประชุม",
        "action": "",
        "remark": "",
        **extra,
    }


def test_fold_follows_every_act_that_writes_a_register_row_or_a_delivery() -> None:
    events = [
        _ev(0, "doc.number", PC, 1, number="นม 52101/1", **_register_payload("sent", 1)),
        _ev(1, "doc.number", PC, 2, number="นม 52101/2", **_register_payload("sent", 2)),
        _ev(2, "doc.cancel", PC, 2, reason="พิมพ์ผิด", number="นม 52101/2", register_rows=1),
        _ev(
            3,
            "doc.send",
            PC,
            1,
            consignments=[
                {"agency": DIST, "consignment": "C1", "evidence": "a" * 64},
                {"agency": SIKHIU, "consignment": "C2"},  # an older event, without the digest
            ],
        ),
        _ev(4, "doc.deliver", DIST, 11, consignment="C1", from_document=1, evidence="b" * 64),
        _ev(5, "doc.deliver", SIKHIU, 12, consignment="C2", parent=1),
        _ev(6, "doc.receive", DIST, 11, number="7", evidence="c" * 64, **_register_payload("received", 7)),
        _ev(7, "doc.route.return", SIKHIU, 12, state="sent-back", note="ส่งผิดหน่วยงาน", evidence="d" * 64),
        _ev(8, "doc.file", DIST, 11, retention_class="10y"),
        _ev(9, "doc.file", DIST, 11, retention_class="10y"),  # a second filing adds nothing
        _ev(10, "records.destroy", DIST, None, documents=[{"id": 11, "erased": []}]),
        _ev(11, "doc.number", PC, 3, number="x", pdf="no register fields: an older or foreign event"),
        _ev(12, "doc.sign", PC, 1, number="นม 52101/1"),
        _ev(13, "doc.send", PC, 5, to=[DIST]),  # nor these (the audit benchmark's synthetic events)
        _ev(14, "doc.deliver", DIST, 6, sha256="0"),
        _ev(15, "doc.receive", DIST, 6, number="9"),
    ]
    views = fold(events)
    sent = register_rows(views, PC, "sent", 2569)
    assert [(r["register_number"], r["cancelled"], r["remark"]) for r in sent] == [
        ("1", False, ""),
        ("2", True, "ยกเลิก: พิมพ์ผิด"),
    ]
    received = register_rows(views, DIST, "received", 2569)
    assert [(r["register_number"], r["action"], r["document_id"]) for r in received] == [("7", "เก็บ; ทำลายแล้ว", 11)]
    assert received[0]["registered_at"] == "2026-11-02T03:04:05.000000Z"
    status = {s["consignment"]: s for s in delivery_status(views, 1)}
    assert status["C1"]["state"] == "registered" and status["C1"]["receive_number"] == "7"
    assert status["C1"]["copy_id"] == 11 and status["C1"]["recipient"] == DIST
    assert status["C1"]["evidence"] == (
        ("submission-accepted", "a" * 64),
        ("delivered", "b" * 64),
        ("registered", "c" * 64),
    )
    assert status["C2"]["state"] == "returned" and status["C2"]["reason"] == "ส่งผิดหน่วยงาน"
    assert status["C2"]["evidence"][0] == ("submission-accepted", None)
    assert views.numbers == {1: ["นม 52101/1"], 2: ["นม 52101/2"]}
    assert views.parent_of(12) == 1
    assert views.counts()[REGISTERS] == 3 and views.counts()[DELIVERIES] == 2

    # the same fold from the leaves, as audit verify streams them, gives the same rows
    streamed = LogViews()
    records = [(e.seq, e.leaf(), None, e.act, "", None, None) for e in events]
    assert list(streamed.tap(records)) == records
    assert streamed.registers == views.registers and streamed.deliveries == views.deliveries
    assert streamed.numbers == views.numbers


def test_comparison_names_the_first_disagreeing_row_in_register_order() -> None:
    views = fold(
        [
            _ev(0, "doc.number", PC, 1, number="n1", **_register_payload("sent", 1)),
            _ev(1, "doc.number", PC, 2, number="n2", **_register_payload("sent", 2)),
            _ev(2, "doc.number", PC, 3, number="n3", **_register_payload("sent", 3)),
        ]
    )
    table = {k: list(v) for k, v in views.registers.items()}
    keys = sorted(table, key=lambda k: k[4])
    table[keys[2]][6] = "เรื่องปลอม"
    table[keys[1]][6] = "อีกเรื่อง"
    gone = table.pop(keys[0])
    problems = views.problems({REGISTERS: iter(table.items())})
    assert [p.kind for p in problems] == [ProblemKind.VIEW] * 3
    messages = [p.message() for p in problems]
    assert f"register sent {PC} row 2569/1 was recorded by event 0 but is not in the table" in messages[0]
    assert f"register sent {PC} row 2569/2: subject in the table differs from the log" in messages[1]
    assert "'อีกเรื่อง' in the table, 'ขอเชิญประชุม' in the log (event 1)" in messages[1]
    assert "row 2569/3: subject" in messages[2]
    # a row nobody recorded
    table[keys[0]] = gone
    table[(PC, "sent", 2569, "out", 9)] = gone
    inserted = [p.message() for p in views.problems({REGISTERS: iter(table.items())})]
    assert any("row 2569/1 is in the table but no event created it" in m for m in inserted)


# --- the pilot ---------------------------------------------------------------------------------------


def _pilot(office: Office) -> dict[str, int]:
    """Letters sent, delivered, received, routed, filed and returned; a cancelled number."""
    first = signed_letter(office)
    sent = office.send_document(first, as_user="pc.clerk", to=f"{DIST},{SIKHIU}")
    copies = {r.agency: r.copy_id for r in sent.recipients}
    dist_copy, sikhiu_copy = copies[DIST], copies[SIKHIU]
    assert dist_copy is not None and sikhiu_copy is not None
    receive(office, dist_copy, "d.clerk")
    office.route_document(dist_copy, "propose", as_user="d.clerk", to="d.chief")
    office.route_document(dist_copy, "endorse", as_user="d.chief", note="ทราบ มอบฝ่ายปกครอง")
    office.route_document(dist_copy, "assign", as_user="d.chief", to="ADMIN", note="ดำเนินการ")
    office.route_document(dist_copy, "acknowledge", as_user="d.officer")
    office.route_document(dist_copy, "close", as_user="d.officer")
    office.route_document(dist_copy, "file", as_user="d.clerk", retention="10y")
    office.route_document(sikhiu_copy, "return", as_user="s.clerk", note="ส่งผิดหน่วยงาน")
    second = signed_letter(office, subject="ขอรายงานผลการดำเนินงานประจำเดือน", to="ผู้ว่าราชการจังหวัดนครราชสีมา")
    prov_copy = office.send_document(second, as_user="pc.clerk", to=PROV).recipients[0].copy_id
    assert prov_copy is not None
    receive(office, prov_copy, "p.clerk")
    draft = office.new_document(
        "external",
        {"subject": "หนังสือที่ยกเลิก", "to": "นายอำเภอปากช่อง", "body": ["ข้อความ"], "signer": "pc.mayor"},
        as_user="pc.clerk",
    )
    office.number_document(draft, as_user="pc.clerk")
    office.cancel_document(draft, as_user="pc.clerk", reason="ออกเลขผิด")
    return {"first": first, "second": second, "draft": draft, "dist": dist_copy, "sikhiu": sikhiu_copy}


def _sql(office: Office, statement: str, **params: object) -> None:
    with office.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def _view_messages(report: AuditReport) -> list[str]:
    assert not report.ok
    assert set(report.counts) == {ProblemKind.VIEW.value}, report.counts  # the log itself is intact
    assert report.first_bad_event is None
    return [p.message() for p in report.problems if p.kind is ProblemKind.VIEW]


def test_pilot_views_from_the_log_equal_the_tables_and_tampering_is_named(
    route_office: Office, home: Path, db_url: str | None, tmp_path: Path
) -> None:
    office = route_office
    docs = _pilot(office)
    report = office.verify_audit_log()
    assert report.ok, [p.message() for p in report.problems]
    assert any("register rows" in n for n in report.notes)

    # the registers, from the log alone, are what `edoc register` prints
    for agency, book in ((PC, "sent"), (DIST, "received"), (PROV, "received")):
        page = office.register(agency, book)
        assert page.rows, (agency, book)
        assert office.register_from_log(agency, book, year=page.year) == list(page.rows)
    pc_sent = office.register(PC, "sent")
    assert [r.cancelled for r in pc_sent.rows] == [False, False, True]
    dist_received = office.register(DIST, "received").rows
    assert "เก็บ" in dist_received[0].action

    # the delivery status, from the log alone, is what `edoc doc status` shows the sender
    views = office.audit_views_from_log()
    for doc in (docs["first"], docs["second"]):
        status = office.document_status(doc, as_user="pc.clerk")
        logged = delivery_status(views, doc)
        assert [
            (s["recipient"], s["consignment"], s["state"], s["copy_id"], s["receive_number"], s["reason"])
            for s in logged
        ] == [
            (r.agency, r.consignment, r.state.value, r.copy_id, r.receive_number, r.reason) for r in status.recipients
        ]
        assert [s["evidence"] for s in logged] == [
            tuple((e.evidence.kind.value, e.evidence.digest()) for e in r.evidence) for r in status.recipients
        ]
    assert {s["state"] for s in delivery_status(views, docs["first"])} == {"registered", "returned"}
    assert views.parent_of(docs["dist"]) == docs["first"]

    # the offline bundle carries the tables and checks them against its events
    office.create_audit_key()
    office.export_audit_log(tmp_path / "bundle")
    key = tmp_path / "audit.pem"
    key.write_text(office.audit_key().public_pem)
    offline = verify_bundle(tmp_path / "bundle", key)
    assert offline.ok, [p.message() for p in offline.problems]
    assert any("bundle's tables compared" in n for n in offline.notes)
    # and a document's history from the bundle alone follows it to its copies
    here = [e.seq for e in office.document_history(docs["first"], as_user="pc.clerk")]
    assert [e.seq for e in bundle_history(tmp_path / "bundle", docs["first"])] == here
    acts = {e.act for e in bundle_history(tmp_path / "bundle", docs["first"])}
    assert {"doc.send", "doc.deliver", "doc.receive", "doc.route.return", "doc.file"} <= acts

    year = pc_sent.year
    first_row = pc_sent.rows[0]
    # 1. a register row's subject
    _sql(
        office,
        "UPDATE register_entry SET subject = 'เรื่องปลอม' WHERE document_id = :d AND book = 'sent'",
        d=docs["first"],
    )
    messages = _view_messages(office.verify_audit_log())
    assert len(messages) == 1
    assert f"register sent {PC} row {year}/{first_row.register_number}: subject in the table differs" in messages[0]
    assert "'เรื่องปลอม' in the table" in messages[0]
    db = ["--db", db_url] if db_url else []
    cli = invoke(*db, "audit", "verify", "--json", home=home)  # the command exits 1 and names the row
    assert cli.code == 1, cli.stderr
    found = cli.json()
    assert found["ok"] is False and found["problem_counts"] == {"view-mismatch": 1}
    assert f"row {year}/{first_row.register_number}: subject" in found["problems"][0]["message"]
    # ... shown as well by an export made now, checked offline
    office.export_audit_log(tmp_path / "tampered")
    offline = verify_bundle(tmp_path / "tampered", key)
    assert not offline.ok and ProblemKind.VIEW.value in offline.counts
    assert f"register sent {PC} row {year}/{first_row.register_number}: subject" in offline.problems[-1].message()
    _sql(
        office,
        "UPDATE register_entry SET subject = :s WHERE document_id = :d AND book = 'sent'",
        s=first_row.subject,
        d=docs["first"],
    )
    # ... and a bundle's own view file edited by hand
    views_file = tmp_path / "bundle" / "views" / "registers.jsonl"
    lines = views_file.read_text(encoding="utf-8").splitlines()
    item = json.loads(lines[0])
    item["row"][2] = "นม 52101/999"
    views_file.write_text("\n".join([json.dumps(item, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    offline = verify_bundle(tmp_path / "bundle", key)
    assert not offline.ok and "document_number in the table differs" in offline.problems[-1].message()

    # 2. a receive number changed (the row moves to another number)
    _sql(office, "UPDATE register_entry SET seq = seq + 40, number = '41' WHERE document_id = :d", d=docs["dist"])
    messages = _view_messages(office.verify_audit_log())
    assert len(messages) == 2
    assert f"register received {DIST} row {year}/1 was recorded by event" in messages[0]
    assert "is not in the table (deleted behind the log's back)" in messages[0]
    assert f"register received {DIST} row {year}/41 is in the table but no event created it" in messages[1]
    _sql(office, "UPDATE register_entry SET seq = seq - 40, number = '1' WHERE document_id = :d", d=docs["dist"])
    # ... and a document's own number
    number = office.show_document(docs["second"], as_user="pc.clerk").number
    _sql(office, "UPDATE document SET number = 'นม 52101/999' WHERE id = :d", d=docs["second"])
    messages = _view_messages(office.verify_audit_log())
    assert messages == [
        f"{NUMBERS}: the tables disagree with the log: document {docs['second']}: number in the table differs "
        f"from the log: 'นม 52101/999' in the table, {number!r} in the log (event "
        + messages[0].rsplit("(event ", 1)[1]
    ]
    _sql(office, "UPDATE document SET number = :n WHERE id = :d", n=number, d=docs["second"])

    # 3. a delivery: the returned consignment made to look registered
    consignment = next(
        r.consignment
        for r in office.document_status(docs["first"], as_user="pc.clerk").recipients
        if r.agency == SIKHIU
    )
    _sql(office, "UPDATE delivery SET state = 'registered', receive_number = '5' WHERE consignment = :c", c=consignment)
    messages = _view_messages(office.verify_audit_log())
    assert len(messages) == 2
    assert f"delivery {consignment} (document {docs['first']} to {SIKHIU}): state in the table differs" in messages[0]
    assert "'registered' in the table, 'returned' in the log" in messages[0]
    assert "receive_number in the table differs" in messages[1]
    _sql(office, "UPDATE delivery SET state = 'returned', receive_number = NULL WHERE consignment = :c", c=consignment)
    # ... and its last evidence record removed
    _sql(
        office,
        "DELETE FROM delivery_evidence"
        " WHERE delivery_id = (SELECT id FROM delivery WHERE consignment = :c) AND seq = 2",
        c=consignment,
    )
    messages = _view_messages(office.verify_audit_log())
    assert len(messages) == 1 and f"delivery {consignment}" in messages[0] and "evidence in the table" in messages[0]
    assert "[submission-accepted:" in messages[0]

    # 4. a register row deleted outright (the cancelled number)
    cancelled = pc_sent.rows[-1]
    _sql(office, "DELETE FROM register_entry WHERE document_id = :d", d=docs["draft"])
    messages = _view_messages(office.verify_audit_log())
    assert any(
        f"register sent {PC} row {year}/{cancelled.register_number} was recorded by event" in m for m in messages
    )
