"""Receiving: the receive number, the register row, and the received stamp as an agency-seal
signature, checked by pyHanko's validator and by poppler's pdfsig and pdftotext."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from edoc.errors import AlreadyReceived, InvalidState, NoCertificate, PermissionDenied
from edoc.office import Office
from tests.fixtures_pki import pki_office  # noqa: F401 (fixture)


def _letter_pdf() -> bytes:
    """A one-page PDF from outside (rendered by edoc's renderer, then stored as an import)."""
    from edoc.documents import validate
    from edoc.documents.render import Letterhead, Person, RenderInput, render

    content = validate(
        "external",
        {
            "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาจังหวัด",
            "to": "นายกเทศมนตรีเมืองปากช่อง",
            "body": ["ด้วยจังหวัดนครราชสีมาจะจัดประชุมคณะกรรมการพัฒนาจังหวัด"],
            "signer": "gov",
        },
    )
    from datetime import UTC, date, datetime

    return render(
        RenderInput(
            content=content,
            agency=Letterhead(name="จังหวัดนครราชสีมา", address="ศาลากลางจังหวัด", letter_code="นม 0017"),
            signer=Person("นายผู้ว่า ราชการ", "ผู้ว่าราชการจังหวัดนครราชสีมา"),
            date=date(2026, 11, 20),
            created=datetime(2026, 11, 20, tzinfo=UTC),
            number="นม 0017/1234",
        )
    ).pdf


def _setup(office: Office) -> int:
    office.issue_certificate("pc.clerk")
    office.issue_certificate(agency="PAKCHONG")
    return office.import_document(
        _letter_pdf(),
        as_user="pc.clerk",
        subject="ขอเชิญประชุมคณะกรรมการพัฒนาจังหวัด",
        from_agency="จังหวัดนครราชสีมา",
        number="นม 0017/1234",
    )


def _export(office: Office, doc_id: int) -> bytes:
    from edoc.storage import documents as doc_store

    def read(session):  # type: ignore[no-untyped-def]
        row = doc_store.document_row(session, doc_id)
        return office.db.blobs.get(session, row.pdf_sha256)

    return office._read(read)


def test_receive_numbers_stamps_and_registers(pki_office: Office, tmp_path: Path) -> None:  # noqa: F811
    office = pki_office
    a = _setup(office)
    b = office.import_document(_letter_pdf(), as_user="pc.clerk", subject="หนังสือฉบับที่สอง", from_agency="อำเภอ")
    before = _export(office, a)
    with office.pki_server():  # the default level (B-LT) needs the TSA and revocation data
        got = office.receive_document(a, as_user="pc.clerk")
    assert got.number.text == "1" and got.number.seq == 1
    assert got.previous_sha256 != got.pdf_sha256
    assert got.stamp_field == "received-1"
    assert office.receive_document(b, as_user="pc.clerk", level="B-B").number.text == "2"

    pdf = _export(office, a)
    assert pdf.startswith(before)  # incremental: the PDF as it arrived is untouched
    path = tmp_path / "stamped.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "เลขรับ 1" in out and "เทศบาลเมืองปากช่อง" in out and "เวลา" in out
    sig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature #1" in sig and "received-1" in sig and "Signature is Valid" in sig

    # pyHanko's validator: intact and the seal is the agency's
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = office.export_root()
    from asn1crypto import x509 as ax509
    from cryptography.hazmat.primitives.serialization import Encoding

    vc = ValidationContext(trust_roots=[ax509.Certificate.load(root.public_bytes(Encoding.DER))], allow_fetching=False)
    reader = PdfFileReader(BytesIO(pdf))
    (emb,) = reader.embedded_signatures
    status = validate_pdf_signature(emb, vc, skip_diff=False)
    assert status.intact and status.valid
    subject = status.signing_cert.subject.human_friendly
    assert "PAKCHONG" in subject or "ปากช่อง" in subject

    # the register row, and the audit event carrying its columns, signed by the clerk
    page = office.register("PAKCHONG", "received", as_user="pc.clerk")
    assert [r.register_number for r in page.rows] == ["1", "2"]
    row = page.rows[0]
    assert row.document_number == "นม 0017/1234" and row.from_ == "จังหวัดนครราชสีมา"
    events = [e for e in office.audit_events() if e.act == "doc.receive"]
    assert len(events) == 2
    payload = events[0].payload if isinstance(events[0].payload, dict) else json.loads(events[0].payload)
    assert payload["register_number"] == "1" and payload["subject"] == row.subject
    assert payload["date"] == row.date.isoformat() and payload["pdf_after"] == got.pdf_sha256
    assert events[0].signature is not None
    # the signing issue's export takes the stamped PDF as the document's own (nothing changed behind it)
    assert office.export_document(a, as_user="pc.clerk") == pdf


def test_receiving_twice_is_a_conflict_never_a_second_number(pki_office: Office) -> None:  # noqa: F811
    office = pki_office
    a = _setup(office)
    office.receive_document(a, as_user="pc.clerk", level="B-B")
    with pytest.raises(AlreadyReceived) as err:
        office.receive_document(a, as_user="pc.clerk", level="B-B")
    assert err.value.exit_code == 5
    page = office.register("PAKCHONG", "received")
    assert len(page.rows) == 1


def test_receive_refusals(pki_office: Office) -> None:  # noqa: F811
    office = pki_office
    a = _setup(office)
    with pytest.raises(PermissionDenied):
        office.receive_document(a, as_user="pc.mayor", level="B-B")  # not a clerk
    with pytest.raises(PermissionDenied):
        office.receive_document(a, as_user="prov.clerk", level="B-B")  # another agency
    draft = office.new_document(
        "internal",
        {"subject": "บันทึก", "to": "ปลัด", "body": ["ข้อความ"], "signer": "pc.mayor"},
        as_user="pc.clerk",
    )
    with pytest.raises(InvalidState):
        office.receive_document(draft, as_user="pc.clerk", level="B-B")
    # no seal certificate: nothing is registered
    other = office.import_document(_letter_pdf(), as_user="prov.clerk", subject="x", from_agency="y")
    office.issue_certificate("prov.clerk")
    with pytest.raises(NoCertificate):
        office.receive_document(other, as_user="prov.clerk", level="B-B")
    assert office.register("NMA-PROV", "received").rows == ()
