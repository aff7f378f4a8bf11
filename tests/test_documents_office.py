"""Documents through the office, on SQLite and PostgreSQL: create, import, show, state changes,
permissions, and that a failed act stores nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from edoc.directory import Act, require
from edoc.documents import DocumentEvent, DocumentForm, DocumentKind, DocumentState, Secrecy, Urgency
from edoc.errors import (
    ContentSealed,
    DocumentNotFound,
    EmptyField,
    InvalidField,
    InvalidState,
    NotAPdf,
    PermissionDenied,
    UnknownField,
    UserNotFound,
)
from edoc.office import Office
from tests.fixtures_documents import MINIMAL, pilot_office, pilot_sqlite, small_pdf, with_keys

__all__ = ["pilot_office", "pilot_sqlite"]  # fixtures used by name

EXT = MINIMAL[("external", None)]


def _counts(office: Office) -> tuple[int, int]:
    from sqlalchemy import func
    from sqlmodel import select

    from edoc.storage.tables import AttachmentRow, DocumentRow

    def count(session: object) -> tuple[int, int]:
        docs = session.exec(select(func.count()).select_from(DocumentRow)).one()  # type: ignore[attr-defined]
        atts = session.exec(select(func.count()).select_from(AttachmentRow)).one()  # type: ignore[attr-defined]
        return docs, atts

    return office._read(count)


def test_new_document_stores_every_field(pilot_office: Office, tmp_path: Path) -> None:
    office = pilot_office
    scan = tmp_path / "แผนที่.pdf"
    scan.write_bytes(small_pdf("map"))
    data = {
        **EXT,
        "urgency": "ด่วนที่สุด",
        "secrecy": "confidential",
        "initials": ["pc.head.office"],
        "attachments": [scan.name],
        "contact": {"unit": "สำนักปลัดเทศบาล", "phone": "0 4431 1234"},
    }
    with_keys(office, ["pc.officer", "pc.mayor", "pc.head.office"])  # confidential: stored sealed
    before = len(office.audit_events())
    doc_id = office.new_document("external", data, as_user="pc.officer", base_dir=tmp_path)
    view = office.show_document(doc_id, as_user="pc.officer")
    assert (view.kind, view.form, view.state, view.origin) == (
        DocumentKind.EXTERNAL,
        None,
        DocumentState.DRAFT,
        "drafted",
    )
    assert (view.subject, view.urgency, view.secrecy) == (EXT["subject"], Urgency.MOST_URGENT, Secrecy.CONFIDENTIAL)
    assert (view.drafter, view.signer, view.initials, view.holder) == (
        "pc.officer",
        "pc.mayor",
        ("pc.head.office",),
        "pc.officer",
    )
    assert (view.agency, view.unit, view.from_name, view.to_name) == (
        "PAKCHONG",
        "OFFICE",
        "เทศบาลเมืองปากช่อง",
        "นายอำเภอปากช่อง",
    )
    assert view.fields["contact"] == {"unit": "สำนักปลัดเทศบาล", "phone": "0 4431 1234"}
    assert view.fields["body"] == ["ข้อความ"]
    [att] = view.attachments
    content = scan.read_bytes()
    assert (att.name, att.size, att.media_type) == ("แผนที่.pdf", len(content), "application/pdf")
    assert att.sha256 == hashlib.sha256(content).hexdigest()
    # confidential: the attachment is stored only inside an envelope the drafter's key opens
    openers = office._key_openers("pc.officer")
    row = lambda s: office._document_row(s, doc_id)  # noqa: E731
    assert office._read(lambda s: office._open_content(s, att.sha256, openers, row(s))) == content
    with pytest.raises(ContentSealed):
        office._read(lambda s: office.db.blobs.get(s, att.sha256))
    events = office.audit_events()[before:]
    assert [e.act for e in events] == ["document.new"]
    assert events[0].document_id == doc_id and events[0].actor == "pc.officer"
    assert events[0].payload["attachments"] == [{"name": "แผนที่.pdf", "sha256": att.sha256}]
    assert json.loads(json.dumps(view.to_json()))["attachments"][0]["sha256"] == att.sha256


def test_every_kind_is_stored(pilot_sqlite: Office) -> None:
    for (kind, form), data in MINIMAL.items():
        doc_id = pilot_sqlite.new_document(kind, data, as_user="pc.officer")
        view = pilot_sqlite.show_document(doc_id, as_user="pc.officer")
        assert view.kind is DocumentKind(kind)
        assert view.form == (DocumentForm(form) if form else None)


@pytest.mark.parametrize(
    ("changes", "as_user", "error", "needle"),
    [
        ({"signer": "nobody.here"}, "pc.officer", UserNotFound, "nobody.here"),
        ({"signer": "dist.chief"}, "pc.officer", InvalidField, "another agency"),
        ({"signer": "pc.clerk"}, "pc.officer", InvalidField, "clerk"),
        ({"initials": ["pc.officer"]}, "pc.officer", InvalidField, "initials[0]"),
        ({"initials": ["pc.head.eng", "ghost.user"]}, "pc.officer", UserNotFound, "ghost.user"),
        ({}, "pc.auditor", PermissionDenied, "auditor"),
        ({}, "pc.admin", PermissionDenied, "admin"),
        ({}, "no.such.user", UserNotFound, "no.such.user"),
        ({"urgency": "soon"}, "pc.officer", InvalidField, "urgency"),
        ({"subject": ""}, "pc.officer", EmptyField, "subject"),
        ({"typo": 1}, "pc.officer", UnknownField, "typo"),
    ],
)
def test_bad_new_document_stores_nothing(
    pilot_office: Office, changes: dict[str, object], as_user: str, error: type[Exception], needle: str
) -> None:
    before = (_counts(pilot_office), len(pilot_office.audit_events()))
    with pytest.raises(error, match=needle.replace("[", r"\[")):
        pilot_office.new_document("external", {**EXT, **changes}, as_user=as_user)
    assert (_counts(pilot_office), len(pilot_office.audit_events())) == before


def test_failure_after_blobs_leaves_no_rows(pilot_sqlite: Office, tmp_path: Path) -> None:
    """The attachment's blob is written, then the act fails (bad signer): no row survives."""
    scan = tmp_path / "a.bin"
    scan.write_bytes(b"\x00evidence")
    before = _counts(pilot_sqlite)
    with pytest.raises(InvalidField):
        pilot_sqlite.new_document(
            "external", {**EXT, "signer": "pc.clerk", "attachments": [str(scan)]}, as_user="pc.officer"
        )
    assert _counts(pilot_sqlite) == before
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    with pytest.raises(Exception, match="missing"):
        pilot_sqlite._read(lambda s: pilot_sqlite.db.blobs.get(s, digest))


def test_import_stores_the_pdf_unchanged(pilot_office: Office) -> None:
    pdf = small_pdf("incoming", title="หนังสือจากจังหวัด")
    before = len(pilot_office.audit_events())
    doc_id = pilot_office.import_document(
        pdf,
        as_user="pc.clerk",
        from_agency="จังหวัดนครราชสีมา",
        number="นม 0017/ว 123",
        urgency="ด่วน",
    )
    view = pilot_office.show_document(doc_id, as_user="pc.clerk")
    assert (view.origin, view.state, view.subject) == ("imported", DocumentState.RECEIVED, "หนังสือจากจังหวัด")
    assert (view.from_name, view.number, view.urgency) == ("จังหวัดนครราชสีมา", "นม 0017/ว 123", Urgency.URGENT)
    assert view.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    stored = pilot_office._read(lambda s: pilot_office.db.blobs.get(s, view.pdf_sha256 or ""))
    assert stored == pdf
    [event] = pilot_office.audit_events()[before:]
    assert event.act == "document.import" and event.payload["sha256"] == view.pdf_sha256
    assert event.payload["pages"] == 1


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"hello world", "%PDF-"),
        (small_pdf()[:-200], "EOF"),
        (b"%PDF-1.7\n garbage garbage\n%%EOF\n", "parsed"),
    ],
)
def test_import_refuses_what_is_not_a_pdf(pilot_sqlite: Office, data: bytes, needle: str) -> None:
    before = _counts(pilot_sqlite)
    with pytest.raises(NotAPdf, match=needle):
        pilot_sqlite.import_document(data, as_user="pc.clerk", subject="x")
    assert _counts(pilot_sqlite) == before


def test_import_needs_a_clerk_and_a_subject(pilot_sqlite: Office) -> None:
    with pytest.raises(PermissionDenied):
        pilot_sqlite.import_document(small_pdf(), as_user="pc.officer", subject="x")
    with pytest.raises(EmptyField, match="subject"):
        pilot_sqlite.import_document(small_pdf(), as_user="pc.clerk")  # the PDF has no title
    with pytest.raises(InvalidField, match="secrecy"):
        pilot_sqlite.import_document(small_pdf(), as_user="pc.clerk", subject="x", secrecy="ลับๆ")


def test_reading_is_access_controlled(pilot_office: Office) -> None:
    office = pilot_office
    with_keys(office, ["pc.engineer", "pc.mayor", "pc.head.eng"])  # the confidential one is stored sealed
    open_id = office.new_document("external", EXT, as_user="pc.engineer")
    secret_id = office.new_document(
        "external", {**EXT, "secrecy": "ลับ", "initials": ["pc.head.eng"]}, as_user="pc.engineer"
    )
    # another agency never reads it
    with pytest.raises(PermissionDenied):
        office.show_document(open_id, as_user="dist.clerk")
    # a clerk of the agency reads a normal document, not a confidential one she is not on
    assert office.show_document(open_id, as_user="pc.clerk").id == open_id
    with pytest.raises(PermissionDenied, match="confidential"):
        office.show_document(secret_id, as_user="pc.clerk")
    # the people on it do: drafter, signer, the head who initials
    for user in ("pc.engineer", "pc.mayor", "pc.head.eng"):
        assert office.show_document(secret_id, as_user=user).secrecy is Secrecy.CONFIDENTIAL
    # an officer of another unit does not see a colleague's draft
    with pytest.raises(PermissionDenied):
        office.show_document(open_id, as_user="pc.officer")
    with pytest.raises(DocumentNotFound):
        office.show_document(10_000, as_user="pc.clerk")


def test_document_facts_and_row_helpers(pilot_office: Office) -> None:
    office = pilot_office
    doc_id = office.new_document("external", {**EXT, "initials": ["pc.head.eng"]}, as_user="pc.engineer")

    def facts(session: object) -> object:
        row = office._document_row(session, doc_id)  # type: ignore[arg-type]
        return office._document_facts(session, row)  # type: ignore[arg-type]

    f = office._read(facts)
    assert f.agency == "PAKCHONG"  # type: ignore[attr-defined]
    assert f.agency_path == ("NMA-PROV", "PAKCHONG-DIST", "PAKCHONG")  # type: ignore[attr-defined]
    assert f.unit == "ENGINEERING" and f.secrecy == "normal"  # type: ignore[attr-defined]
    assert f.parties == {"pc.engineer", "pc.mayor", "pc.head.eng"}  # type: ignore[attr-defined]
    with pytest.raises(DocumentNotFound):
        office._read(lambda s: office._document_row(s, 999))
    from edoc.office import Office as _O

    actor = office._read(lambda s: _O._actor(office, s, "pc.head.eng")[0])
    require(actor, Act.SIGN, f)  # type: ignore[arg-type]


def test_state_changes_follow_the_table(pilot_office: Office) -> None:
    office = pilot_office
    doc_id = office.new_document("external", EXT, as_user="pc.officer")

    def move(event: DocumentEvent) -> DocumentState:
        def act(session: object) -> DocumentState:
            row = office._document_row(session, doc_id, for_update=True)  # type: ignore[arg-type]
            after = office._change_state(session, row, event)  # type: ignore[arg-type]
            office._record(session, f"test.{event}", document_id=doc_id)  # type: ignore[arg-type]
            return after

        return office._run(act)

    assert move(DocumentEvent.SUBMIT) is DocumentState.AWAITING_SIGNATURE
    with pytest.raises(InvalidState) as info:
        move(DocumentEvent.SEND)
    assert info.value.exit_code == 5 and "awaiting-signature" in str(info.value)
    assert office.show_document(doc_id, as_user="pc.officer").state is DocumentState.AWAITING_SIGNATURE
    assert move(DocumentEvent.SIGN) is DocumentState.SIGNED
    assert move(DocumentEvent.SEND) is DocumentState.SENT
    assert move(DocumentEvent.CLOSE) is DocumentState.CLOSED
    assert move(DocumentEvent.REOPEN) is DocumentState.SENT  # an outgoing matter reopens as sent
    view = office.show_document(doc_id, as_user="pc.officer")
    assert view.state is DocumentState.SENT and view.updated_at >= view.created_at


def test_render_document_previews_the_draft(pilot_office: Office, tmp_path: Path) -> None:
    from tests import pdftools

    scan = tmp_path / "map.pdf"
    scan.write_bytes(small_pdf("map"))
    doc_id = pilot_office.new_document(
        "external", {**EXT, "initials": ["pc.head.office"], "attachments": [str(scan)]}, as_user="pc.officer"
    )
    result = pilot_office.render_document_result(doc_id, as_user="pc.officer")
    assert pilot_office.render_document(doc_id, as_user="pc.mayor")[:8] == b"%PDF-1.7"
    text = pdftools.squeeze(pdftools.text(result.pdf))
    for expected in ("เทศบาลเมืองปากช่อง", "ขอความอนุเคราะห์", "(นายสมศักดิ์ประเสริฐวงศ์)", "นายกเทศมนตรีเมืองปากช่อง"):
        assert expected in text
    assert "ที่นม52101/" in text  # no number yet: the letter code and a blank
    assert set(result.signature_boxes) == {"signature", "initial-1"} and result.pdfa_part == 3
    assert pdftools.detach(result.pdf) == {"map.pdf": scan.read_bytes()}
    with pytest.raises(PermissionDenied):
        pilot_office.render_document(doc_id, as_user="dist.clerk")


def test_render_of_an_imported_document_is_the_stored_pdf(pilot_sqlite: Office) -> None:
    pdf = small_pdf("incoming")
    doc_id = pilot_sqlite.import_document(pdf, as_user="pc.clerk", subject="จากภายนอก")
    result = pilot_sqlite.render_document_result(doc_id, as_user="pc.clerk")
    assert result.pdf == pdf and result.pages == 1 and dict(result.signature_boxes) == {}


def test_render_uses_the_agency_emblem_and_issued_number(pilot_sqlite: Office) -> None:
    from datetime import date

    from PIL import Image

    from tests import pdftools

    assets = pilot_sqlite.home / "assets"
    assets.mkdir()
    Image.new("RGB", (40, 40), (0, 90, 160)).save(assets / "emblem-PAKCHONG.png")
    doc_id = pilot_sqlite.new_document("external", EXT, as_user="pc.officer")

    def issue(session: object) -> None:
        row = pilot_sqlite._document_row(session, doc_id)  # type: ignore[arg-type]
        row.number = "นม 52101/77"
        row.document_date = date(2026, 12, 1)
        session.add(row)  # type: ignore[attr-defined]

    pilot_sqlite._run(issue)
    pdf = pilot_sqlite.render_document(doc_id, as_user="pc.officer")
    text = pdftools.squeeze(pdftools.text(pdf))
    assert "ที่นม52101/77" in text and "1ธันวาคม2569" in text
    assert b"/Subtype /Image" in pdf or b"/Subtype/Image" in pdf
