"""Route notes of restricted documents at rest: endorsements, orders and return reasons of a
secret letter are stored only as CMS EnvelopedData, for the document's readers (and, for a reason
returned to the sending agency, the sender's), on SQLite and PostgreSQL.

The step, its signed body, the audit event, the delivery's reason and the ``returned`` evidence
carry the hash of the sealed (salted) note; a dump of every table and every file of the home holds
none of the texts. People on the route read the notes in ``doc status`` and ``doc history``; an
auditor sees the secrecy mark; people the document never reached are refused (exit 3).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from edoc.errors import PermissionDenied
from edoc.office import Office
from edoc.pki.model import agency_owner
from edoc.routing import envelope
from edoc.storage.tables import BlobRow, RouteStepRow
from tests.conftest import invoke
from tests.fixtures_pki import PASSPHRASE
from tests.fixtures_send import DIST, LETTER, receive, received_secret_copy, route_office
from tests.test_routing_secrecy import _dump, _serial

__all__ = ["route_office"]  # fixture used by name

PROPOSAL = "เสนอเพื่อโปรดพิจารณาเรื่องลับมากราคากลางโครงการ"
ENDORSEMENT = "ทราบ ให้ปลัดอำเภอตรวจสอบราคากลางลับโดยด่วน"
ORDER = "มอบปลัดอำเภอสอบข้อเท็จจริงลับเฉพาะแล้วรายงานภายในสามวัน"
SENT_BACK = "ส่งคืนเพราะเอกสารลับแนบมาไม่ครบชุดตามระเบียบ"
TEXTS = (PROPOSAL, ENDORSEMENT, ORDER, SENT_BACK)


def _steps(office: Office, doc_id: int) -> list[RouteStepRow]:
    from edoc.storage import routing as route_store

    return office._read(lambda s: route_store.step_rows(s, doc_id))


def _envelope(office: Office, digest: str) -> bytes:
    def read(session: Any) -> bytes:
        blob = session.get(BlobRow, digest)
        assert blob is not None and blob.data is None and blob.envelope_sha256 is not None
        return office.db.blobs.get(session, blob.envelope_sha256)

    return office._read(read)


@pytest.mark.slow  # a secret letter's route in another agency, on both databases
def test_route_notes_of_a_secret_letter_are_stored_only_sealed(
    route_office: Office, home: Path, db_url: str | None
) -> None:
    office = route_office
    doc, copy = received_secret_copy(office)
    office.route_document(copy, "propose", as_user="d.clerk", to="d.chief", note=PROPOSAL)
    office.route_document(copy, "endorse", as_user="d.chief", note=ENDORSEMENT)
    office.route_document(copy, "assign", as_user="d.chief", to="d.officer", note=ORDER)
    # a second secret letter, sent back by the district's registry unregistered
    other = office.new_document("external", {**LETTER, "secrecy": "confidential"}, as_user="pc.clerk")
    office.sign_document(other, as_user="pc.mayor", level="B-B")
    back = office.send_document(other, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert back is not None
    assert office.route_document(back, "return", as_user="d.clerk", note=SENT_BACK).state == "sent-back"

    # 1. a copy of the database and the blob store: none of the notes, in any table or file
    dump = _dump(office, home)
    for text in TEXTS:
        assert text.encode() not in dump, text

    # 2. the steps name the sealed note; its envelope is for the copy's seal and route
    steps = [s for s in _steps(office, copy) if s.note_sha256]
    assert [s.action for s in steps] == ["propose", "endorse", "assign"]
    assert all(s.note == "" for s in steps)
    for s in steps:
        assert s.body is None or ("note_sha256" in json.loads(s.body) and "note" not in json.loads(s.body))
    readers = {serial for _i, serial in envelope.recipients(_envelope(office, steps[0].note_sha256 or ""))}
    # the officer joined later: the earlier notes were re-wrapped for them, like the PDF
    assert {_serial(office, o) for o in (agency_owner(DIST), "d.clerk", "d.chief", "d.officer")} <= readers
    assert _serial(office, "pc.mayor") not in readers and _serial(office, "d.head") not in readers
    [returned] = [s for s in _steps(office, back) if s.note_sha256]
    readers = {serial for _i, serial in envelope.recipients(_envelope(office, returned.note_sha256 or ""))}
    assert {_serial(office, o) for o in (agency_owner(DIST), "d.clerk", "pc.clerk", "pc.mayor")} <= readers
    # the hash is of the salted note: a guessed text cannot be confirmed against it
    assert returned.note_sha256 != hashlib.sha256(SENT_BACK.encode()).hexdigest()

    # 3. the people on the route read them, in status and in the history from the log
    for user in ("d.officer", "d.chief", "d.clerk"):
        notes = [s.note for s in office.document_status(copy, as_user=user).steps if s.note_sha256]
        assert notes == [PROPOSAL, ENDORSEMENT, ORDER], user
    history = office.document_history(copy, as_user="d.officer")
    logged = [e.payload for e in history if e.act.startswith("doc.route.") and "note_sha256" in e.payload]
    assert [p["note"] for p in logged] == [PROPOSAL, ENDORSEMENT, ORDER]
    assert [p["note_sha256"] for p in logged] == [s.note_sha256 for s in steps]
    # the sender reads the reason its letter came back with; the evidence carries its hash
    r = office.document_status(other, as_user="pc.clerk").recipients[0]
    assert r.state.value == "returned" and r.reason == SENT_BACK
    assert r.latest.evidence.reason == f"sealed:sha256:{returned.note_sha256}"

    # 4. an auditor sees the route, not the notes; people it never reached are refused
    masked = office.document_status(copy, as_user="d.auditor")
    assert {s.note for s in masked.steps if s.note_sha256} == {"[ลับมาก: secret]"}
    assert not any(text in json.dumps(masked.to_json(), ensure_ascii=False) for text in TEXTS)
    audit_history = json.dumps(
        [e.payload for e in office.document_history(copy, as_user="d.auditor")], ensure_ascii=False
    )
    assert not any(text in audit_history for text in TEXTS)
    for user in ("s.clerk", "p.clerk", "d.officer2"):
        with pytest.raises(PermissionDenied):
            office.document_status(copy, as_user=user)
    # the sender's people do not read the district's internal notes
    sender_view = office.document_history(doc, as_user="pc.mayor")
    assert not any(text in json.dumps([e.payload for e in sender_view], ensure_ascii=False) for text in TEXTS)

    # 5. the log and its views (a returned delivery's reason) still agree with the tables
    assert office.verify_audit_log().ok

    # 6. the command line: readers see the notes, others exit 3
    pp = home / "pp.toml"
    pp.write_text(f'[passphrases]\ndefault = "{PASSPHRASE}"\n', encoding="utf-8")
    db = ["--db", db_url] if db_url else []
    for command in ("status", "history"):
        cli = ["--passphrase-file", str(pp), *db, "--json", "doc", command, str(copy)]
        done = invoke(*cli, "--as", "d.officer", home=home)
        assert done.code == 0 and ORDER in done.stdout, command
        assert invoke(*cli, "--as", "s.clerk", home=home).code == 3
        audited = invoke(*cli, "--as", "d.auditor", home=home)
        assert audited.code == 0 and ORDER not in audited.stdout
        # a reader who gives no passphrase sees the route with the secrecy mark, not an error
        unlocked = invoke(*db, "--json", "doc", command, str(copy), "--as", "d.officer", home=home)
        assert unlocked.code == 0 and ORDER not in unlocked.stdout, unlocked.stderr


def test_reseal_covers_the_notes(route_office: Office) -> None:
    office = route_office
    _doc, copy = received_secret_copy(office)
    office.route_document(copy, "propose", as_user="d.clerk", to="d.chief", note=PROPOSAL)
    office.route_document(copy, "assign", as_user="d.chief", to="d.officer", note=ORDER)
    office.revoke("d.chief", reason="keyCompromise")
    result = office.reseal_document(copy, as_user="d.clerk")
    assert len(result["notes"]) == 2
    chief = _serial(office, "d.chief")
    for s in _steps(office, copy):
        if s.note_sha256:
            assert chief not in {serial for _i, serial in envelope.recipients(_envelope(office, s.note_sha256))}
    notes = [s.note for s in office.document_status(copy, as_user="d.officer").steps if s.note_sha256]
    assert notes == [PROPOSAL, ORDER]
    assert office.verify_audit_log().ok


def test_notes_of_normal_letters_stay_readable_text(route_office: Office) -> None:
    office = route_office
    doc = office.new_document("external", LETTER, as_user="pc.clerk")
    office.sign_document(doc, as_user="pc.mayor", level="B-B")
    copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert copy is not None
    receive(office, copy, "d.clerk")
    office.route_document(copy, "propose", as_user="d.clerk", to="d.chief", note=PROPOSAL)
    [step] = [s for s in _steps(office, copy) if s.action == "propose"]
    assert step.note == PROPOSAL and step.note_sha256 is None
    assert [s.note for s in office.document_status(copy, as_user="d.auditor").steps][-1] == PROPOSAL


# -- documents stored before secrecy at rest (migrations 0012_sealed, 0013_sealed_notes) -----------

OLD_SUBJECT = "รายงานลับเรื่องการสอบสวนวินัยเจ้าหน้าที่พัสดุ"
OLD_BODY = "ผลการสอบสวนเบื้องต้นพบความผิดตามข้อกล่าวหาลับเฉพาะ"
OLD_ATTACHED = b"OLD-CLEAR-ATTACHMENT witness statements 2025"
OLD_NOTE = "ให้ดำเนินการสอบสวนต่อและรายงานลับภายในเจ็ดวัน"
OLD_IMPORT = "หนังสือลับจากจังหวัดเรื่องผลการตรวจสอบพัสดุย้อนหลัง"


def _tables(office: Office, names: tuple[str, ...]) -> bytes:
    """Every value of the named tables."""
    from sqlalchemy import MetaData, select

    parts: list[bytes] = []
    meta = MetaData()
    meta.reflect(bind=office.db.engine, only=list(names))
    with office.db.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts += [bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row if v]
    return b"\n".join(parts)


def _sqlite_files(home: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in home.glob("edoc.db*") if p.is_file())


def _blob_files(home: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in (home / "blobs").rglob("*") if p.is_file())


@pytest.mark.slow  # old documents on both databases, sealed afterwards
def test_seal_stored_converts_documents_stored_in_the_clear(
    route_office: Office, home: Path, tmp_path: Path, db_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = route_office
    attachment = tmp_path / "คำให้การ.txt"
    attachment.write_bytes(OLD_ATTACHED)
    # before 0012: restricted documents were stored like any other
    with monkeypatch.context() as old:
        old.setattr(Office, "_sealed", classmethod(lambda cls, secrecy: False))
        letter = {**LETTER, "subject": OLD_SUBJECT, "body": [OLD_BODY], "secrecy": "secret"}
        doc = office.new_document("external", {**letter, "attachments": [str(attachment)]}, as_user="pc.clerk")
        office.sign_document(doc, as_user="pc.mayor", level="B-B")
        copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
        assert copy is not None
        receive(office, copy, "d.clerk")
        office.route_document(copy, "propose", as_user="d.clerk", to="d.chief")
        office.route_document(copy, "assign", as_user="d.chief", to="d.officer", note=OLD_NOTE)
        # half signed: the head initialled, the mayor has not signed yet
        pending = office.new_document("external", {**letter, "initials": ["pc.head"]}, as_user="pc.clerk")
        office.sign_document(pending, as_user="pc.head", level="B-B")
        imported = office.import_document(
            office.export_document(doc, as_user="pc.mayor"), as_user="d.clerk", subject=OLD_IMPORT, secrecy="secret"
        )
    normal = office.new_document("external", LETTER, as_user="pc.clerk")
    clear = _tables(office, ("document", "route_step")) + (_blob_files(home) if db_url is None else b"")
    assert OLD_SUBJECT.encode() in clear and OLD_NOTE.encode() in clear
    if db_url is None:
        assert OLD_BODY.encode() in _sqlite_files(home)

    # only the registry converts
    with pytest.raises(PermissionDenied):
        office.seal_stored(as_user="d.officer")
    district = office.seal_stored(as_user="d.clerk")
    assert {d["id"] for d in district["sealed"]} == {copy, imported}
    [converted] = [d for d in district["sealed"] if d["id"] == copy]
    assert len(converted["notes"]) == 1 and converted["sealed_fields"]
    pak_chong = office.seal_stored(as_user="pc.clerk")
    assert {d["id"] for d in pak_chong["sealed"]} == {doc, pending}
    # idempotent: nothing left to do
    assert office.seal_stored(as_user="d.clerk")["sealed"] == []
    assert office.seal_stored(as_user="pc.clerk")["sealed"] == []

    # nothing of them in the document, attachment and route tables, the search index or the blobs
    after = _tables(office, ("document", "attachment", "route_step", "blob"))
    if db_url is None:
        after += _tables(office, ("search_text",)) + _blob_files(home)
    for text in (OLD_SUBJECT.encode(), OLD_BODY.encode(), OLD_ATTACHED, OLD_NOTE.encode(), OLD_IMPORT.encode()):
        assert text not in after, text[:30]
    assert b"%PDF-" not in after
    if db_url is None:  # the SQLite files themselves: replaced rows overwritten, the WAL truncated
        assert OLD_BODY.encode() not in _sqlite_files(home)  # the body was never in the log or a register

    # the readers still read all of it; the normal letter is untouched
    assert office.show_document(copy, as_user="d.officer").subject == OLD_SUBJECT
    assert office.show_document(doc, as_user="pc.mayor").fields["body"] == [OLD_BODY]
    assert office.export_document(copy, as_user="d.officer").startswith(b"%PDF-")
    assert office.show_document(imported, as_user="d.clerk").subject == OLD_IMPORT
    assert [s.note for s in office.document_status(copy, as_user="d.officer").steps][-1] == OLD_NOTE
    assert office.document_status(copy, as_user="d.auditor").steps[-1].note == "[ลับมาก: secret]"
    assert office.show_document(normal, as_user="pc.clerk").subject == LETTER["subject"]
    with pytest.raises(PermissionDenied):
        office.show_document(copy, as_user="d.head")
    # the half-signed letter is still signable: its text is what the conversion recorded
    office.sign_document(pending, as_user="pc.mayor", level="B-B")
    assert office.show_document(pending, as_user="pc.mayor").state == "signed"
    acts = [e.act for e in office.audit_events()]
    assert acts.count("doc.seal") == 4
    assert office.verify_audit_log().ok

    # the command line
    pp = home / "pp.toml"
    pp.write_text(f'[passphrases]\ndefault = "{PASSPHRASE}"\n', encoding="utf-8")
    db = ["--db", db_url] if db_url else []
    cli = ["--passphrase-file", str(pp), *db, "--json", "doc", "seal-stored"]
    done = invoke(*cli, "--as", "d.clerk", home=home)
    assert done.code == 0 and done.json()["sealed"] == []
    assert invoke(*cli, "--as", "d.officer", home=home).code == 3
