"""Sending between agencies, signed evidence, the route inside the receiving agency, the inbox.

Real offices on SQLite and PostgreSQL, real certificates and seals from the pilot CA, evidence
checked offline by edoc's checker and by OpenSSL.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from edoc.errors import (
    AlreadySent,
    CancelledNotSent,
    GroupNotFound,
    InvalidField,
    NotHolder,
    NotSendable,
    PermissionDenied,
    RouteActionRefused,
    SendToSelf,
    TopSecretNotSent,
    UnknownRecipients,
)
from edoc.office import Office
from edoc.routing.evidence import check_folder
from tests.fixtures_pki import openssl, pem
from tests.fixtures_send import (
    DIST,
    PC,
    PROV,
    SIKHIU,
    receive,
    route_office,
    route_sqlite,
    signed_letter,
)

__all__ = ["route_office", "route_sqlite"]  # fixtures used by name


def test_send_delivers_one_copy_per_agency_sharing_the_signed_pdf(route_office: Office) -> None:
    office = route_office
    doc = signed_letter(office, urgency="very-urgent")
    sent = office.send_document(doc, as_user="pc.clerk", to=f"{DIST},{PROV}")
    assert [r.agency for r in sent.recipients] == [DIST, PROV]
    assert all(r.state.value == "delivered" for r in sent.recipients)
    assert len({r.consignment for r in sent.recipients}) == 2
    original = office.show_document(doc, as_user="pc.clerk")
    assert original.state.value == "sent"
    for r in sent.recipients:
        assert r.copy_id is not None and r.copy_id != doc
        clerk = "d.clerk" if r.agency == DIST else "p.clerk"
        copy = office.show_document(r.copy_id, as_user=clerk)
        assert copy.agency == r.agency
        assert copy.pdf_sha256 == original.pdf_sha256  # the same blob, not a copy
        assert copy.urgency.value == "very-urgent" and copy.number == original.number
    # the recipient's inbox holds it, waiting for registration, due the next working day
    items = office.inbox(as_user="d.clerk")
    assert [i.id for i in items] == [sent.recipients[0].copy_id]
    item = items[0].to_json()
    assert {"id", "number", "subject", "from", "urgency", "secrecy", "state", "due"} <= set(item)
    assert item["state"] == "delivered" and item["waiting"] == "registration"
    assert date.fromisoformat(item["due"]) > office._today()
    # nobody else's inbox: not Pak Chong's, not Sikhiu's
    assert office.inbox(as_user="s.clerk") == []
    status = office.document_status(doc, as_user="pc.clerk").to_json()
    assert [r["state"] for r in status["recipients"]] == ["delivered", "delivered"]
    assert [e["kind"] for e in status["recipients"][0]["evidence"]] == ["submission-accepted", "delivered"]


def test_register_route_assign_close_file_and_evidence_checks_offline(route_office: Office, tmp_path: Path) -> None:
    office = route_office
    doc = signed_letter(office)
    copy = office.send_document(doc, as_user="pc.clerk", to=[DIST]).recipients[0].copy_id
    assert copy is not None
    number = receive(office, copy, "d.clerk")
    assert office.route_document(copy, "propose", as_user="d.clerk", to="d.chief").holder == "d.chief"
    assert [i.id for i in office.inbox(as_user="d.chief")] == [copy]
    office.route_document(copy, "endorse", as_user="d.chief", note="ทราบ มอบฝ่ายปกครองดำเนินการ")
    assigned = office.route_document(copy, "assign", as_user="d.chief", to="ADMIN", note="ดำเนินการ")
    assert assigned.unit == "ADMIN" and assigned.holder is None and assigned.due is not None
    assert [i.waiting for i in office.inbox(as_user="d.officer")] == ["unit"]
    assert office.inbox(as_user="d.officer2") == []  # another unit
    office.route_document(copy, "acknowledge", as_user="d.officer")
    office.route_document(copy, "close", as_user="d.officer")
    filed = office.route_document(copy, "file", as_user="d.clerk", retention="10y")
    assert filed.state == "filed"
    assert office.show_document(copy, as_user="d.clerk").state.value == "filed"

    status = office.document_status(doc, as_user="pc.clerk")
    r = status.recipients[0]
    assert r.state.value == "registered" and r.receive_number == number and r.route_state == "filed"
    assert [e.evidence.kind.value for e in r.evidence] == ["submission-accepted", "delivered", "registered"]
    assert [e.evidence.agency for e in r.evidence] == [PC, PC, DIST]
    here = office.document_status(copy, as_user="d.chief")
    assert [s.action for s in here.steps] == [
        "register",
        "propose",
        "endorse",
        "assign",
        "acknowledge",
        "close",
        "file",
    ]
    assert [s.signed for s in here.steps] == [False, False, True, True, False, False, False]
    assert here.parent == doc and here.consignment == r.consignment

    out = tmp_path / "evidence"
    office.export_evidence(doc, out, as_user="pc.clerk")
    root = office.export_root()
    checked = check_folder(out, [root])
    assert checked.ok, (checked.problems, [x.problems for x in checked.records])
    assert len(checked.records) == 3
    # OpenSSL agrees, with nothing but the root
    (tmp_path / "root.pem").write_bytes(pem(root))
    chain = tmp_path / "chain.pem"
    chain.write_bytes(b"".join(p.read_bytes() for p in sorted((out / "certs").glob("*.pem"))))
    rec = out / r.consignment / "2-registered"
    openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        f"{rec}.p7s",
        "-content",
        f"{rec}.json",
        "-CAfile",
        str(tmp_path / "root.pem"),
        "-certfile",
        str(chain),
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    )

    # tampering: a changed receive number, a reordered chain, a foreign root
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    body = json.loads((bad / r.consignment / "2-registered.json").read_text())
    body["receive_number"] = "999"
    (bad / r.consignment / "2-registered.json").write_text(
        json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    )
    result = check_folder(bad, [root])
    assert not result.ok
    assert any("changed" in p for rc in result.records for p in rc.problems)
    gone = tmp_path / "gone"
    shutil.copytree(out, gone)
    (gone / r.consignment / "1-delivered.json").unlink()
    (gone / r.consignment / "1-delivered.p7s").unlink()
    result = check_folder(gone, [root])
    assert not result.ok and any("does not follow" in p or "expected record" in p for p in result.problems)
    from tests.fixtures_routing import MiniCA

    assert not check_folder(out, [MiniCA().root]).ok


def test_refusals_name_what_is_wrong(route_sqlite: Office) -> None:
    office = route_sqlite
    doc = signed_letter(office)
    with pytest.raises(UnknownRecipients) as unknown:
        office.send_document(doc, as_user="pc.clerk", to="PAKCHONG-DIST,NOWHERE,ELSEWHERE")
    assert unknown.value.exit_code == 4 and "NOWHERE, ELSEWHERE" in str(unknown.value)
    with pytest.raises(SendToSelf):
        office.send_document(doc, as_user="pc.clerk", to=PC)
    with pytest.raises(GroupNotFound):
        office.send_document(doc, as_user="pc.clerk", group="nobody")
    with pytest.raises(PermissionDenied):
        office.send_document(doc, as_user="pc.mayor", to=DIST)  # the registry sends
    with pytest.raises(PermissionDenied):
        office.send_document(doc, as_user="d.clerk", to=PROV)  # not their document
    assert office.document_status(doc, as_user="pc.clerk").recipients == ()  # nothing half-written
    office.send_document(doc, as_user="pc.clerk", to=DIST)
    with pytest.raises(AlreadySent) as twice:
        office.send_document(doc, as_user="pc.clerk", to=[DIST, PROV])
    assert twice.value.exit_code == 5 and twice.value.fault == "duplicate" and DIST in str(twice.value)
    assert len(office.document_status(doc, as_user="pc.clerk").recipients) == 1
    office.send_document(doc, as_user="pc.clerk", to=PROV)  # a new agency later is a new send
    assert len(office.document_status(doc, as_user="pc.clerk").recipients) == 2

    draft = office.new_document(
        "external", {"subject": "ร่าง", "to": "x", "body": ["y"], "signer": "pc.mayor"}, as_user="pc.clerk"
    )
    with pytest.raises(NotSendable) as unsigned:
        office.send_document(draft, as_user="pc.clerk", to=DIST)
    assert unsigned.value.fault == "not-signed"
    office.cancel_document(draft, as_user="pc.clerk", reason="ผิดเรื่อง")
    with pytest.raises(CancelledNotSent):
        office.send_document(draft, as_user="pc.clerk", to=DIST)
    top = signed_letter(office, secrecy="top-secret")
    with pytest.raises(TopSecretNotSent) as refused:
        office.send_document(top, as_user="pc.clerk", to=DIST)
    assert refused.value.exit_code == 3


def test_circular_to_everyone_under_a_parent_and_to_a_group(route_sqlite: Office) -> None:
    office = route_sqlite
    doc = signed_letter(office, subject="หนังสือเวียน")
    # Pak Chong is under the district: a circular under the province reaches the district and Sikhiu
    sent = office.send_document(doc, as_user="pc.clerk", under=PROV)
    assert sorted(r.agency for r in sent.recipients) == sorted([DIST, SIKHIU])
    office.add_agency_group("nma", title="หน่วยงานในจังหวัด", members=[PROV, DIST, SIKHIU])
    other = signed_letter(office, subject="เวียนกลุ่ม")
    assert sorted(r.agency for r in office.send_document(other, as_user="pc.clerk", group="nma").recipients) == sorted(
        [PROV, DIST, SIKHIU]
    )


def test_route_faults(route_sqlite: Office) -> None:
    office = route_sqlite
    doc = signed_letter(office)
    copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert copy is not None
    with pytest.raises(RouteActionRefused):  # not registered yet
        office.route_document(copy, "propose", as_user="d.clerk", to="d.chief")
    receive(office, copy, "d.clerk")
    with pytest.raises(NotHolder) as not_holder:
        office.route_document(copy, "propose", as_user="d.head", to="d.chief")
    assert not_holder.value.exit_code == 3
    with pytest.raises(PermissionDenied):
        office.route_document(copy, "propose", as_user="pc.clerk", to="pc.mayor")  # another agency's copy
    with pytest.raises(InvalidField, match="proposed to a head or an executive"):
        office.route_document(copy, "propose", as_user="d.clerk", to="d.officer")
    with pytest.raises(InvalidField, match="neither a user nor a unit"):
        office.route_document(copy, "propose", as_user="d.clerk", to="nobody")
    with pytest.raises(InvalidField, match="not in agency"):
        office.route_document(copy, "propose", as_user="d.clerk", to="pc.mayor")
    office.route_document(copy, "propose", as_user="d.clerk", to="d.chief")
    yesterday = (office._today() - timedelta(days=1)).isoformat()
    with pytest.raises(InvalidField, match="in the past"):
        office.route_document(copy, "assign", as_user="d.chief", to="d.officer", due=yesterday)
    with pytest.raises(InvalidField, match="not a date"):
        office.route_document(copy, "assign", as_user="d.chief", to="d.officer", due="tomorrow")
    with pytest.raises(InvalidField, match="note"):
        office.route_document(copy, "endorse", as_user="d.chief")
    with pytest.raises(InvalidField, match="action"):
        office.route_document(copy, "approve", as_user="d.chief")
    steps_before = len(office.document_status(copy, as_user="d.chief").steps)
    # a return goes back to whoever handed it on
    back = office.route_document(copy, "return", as_user="d.chief", note="ขอข้อมูลเพิ่ม")
    assert back.holder == "d.clerk" and back.state == "returned"
    assert len(office.document_status(copy, as_user="d.chief").steps) == steps_before + 1


def test_return_to_sender_records_returned_evidence(route_sqlite: Office) -> None:
    office = route_sqlite
    doc = signed_letter(office)
    copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert copy is not None
    with pytest.raises(InvalidField):
        office.route_document(copy, "return", as_user="d.clerk")  # needs the reason
    result = office.route_document(copy, "return", as_user="d.clerk", note="ส่งผิดหน่วยงาน")
    assert result.state == "sent-back"
    r = office.document_status(doc, as_user="pc.clerk").recipients[0]
    assert r.state.value == "returned" and r.reason == "ส่งผิดหน่วยงาน"
    assert r.latest.evidence.agency == DIST and r.latest.evidence.kind.value == "returned"
    assert office.inbox(as_user="d.clerk") == []


def test_inbox_is_overdue_first_then_most_urgent(route_sqlite: Office) -> None:
    office = route_sqlite
    ids = {}
    for urgency in ("normal", "most-urgent", "urgent", "very-urgent"):
        doc = signed_letter(office, urgency=urgency, subject=f"เรื่อง {urgency}")
        ids[urgency] = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    order = [i.urgency for i in office.inbox(as_user="d.clerk")]
    assert order == ["most-urgent", "very-urgent", "urgent", "normal"]

    def overdue(session: object) -> None:
        from edoc.storage import documents as doc_store

        row = doc_store.document_row(session, ids["normal"])  # type: ignore[arg-type]
        row.due = office._today() - timedelta(days=2)
        session.add(row)  # type: ignore[attr-defined]

    office._run(overdue)
    items = office.inbox(as_user="d.clerk")
    assert items[0].id == ids["normal"] and items[0].overdue
