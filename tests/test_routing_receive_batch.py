"""Receiving many delivered copies in one act (``Office.receive_documents``): each agency's
receive number, stamp by its own seal and ``registered`` evidence, all in one transaction or
none of them; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from io import BytesIO

import pytest

from edoc.errors import AlreadyReceived, InvalidField, PermissionDenied
from edoc.office import Office
from tests.fixtures_send import DIST, PROV, SIKHIU, route_office, signed_letter

__all__ = ["route_office"]  # fixture used by name

CLERKS = {PROV: "p.clerk", DIST: "d.clerk", SIKHIU: "s.clerk"}


def _circular(office: Office) -> tuple[int, dict[str, int]]:
    doc = signed_letter(office, subject="หนังสือเวียน")
    sent = office.send_document(doc, as_user="pc.clerk", to=[PROV, DIST, SIKHIU])
    return doc, {r.agency: r.copy_id for r in sent.recipients if r.copy_id is not None}


def _pdf(office: Office, doc_id: int) -> bytes:
    return office._read(lambda s: office.db.blobs.get(s, office._document_row(s, doc_id).pdf_sha256 or ""))


def _status(office: Office, doc_id: int, as_user: str) -> dict[str, str]:
    return {r.agency: r.state.value for r in office.document_status(doc_id, as_user=as_user).recipients}


def test_a_batch_registers_every_agency_with_its_own_number_seal_and_evidence(route_office: Office) -> None:
    from asn1crypto import x509 as ax509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    office = route_office
    doc, copies = _circular(office)
    before = _pdf(office, copies[DIST])
    order = [SIKHIU, PROV, DIST]
    got = office.receive_documents([(copies[a], CLERKS[a]) for a in order], level="B-B")
    assert [g.document_id for g in got] == [copies[a] for a in order]
    assert [g.number.agency for g in got] == order
    assert all(g.number.text == "1" for g in got)  # each agency's own register starts at 1
    root = office.export_root()
    vc = ValidationContext(trust_roots=[ax509.Certificate.load(root.public_bytes(Encoding.DER))], allow_fetching=False)
    for agency, g in zip(order, got, strict=True):
        pdf = _pdf(office, g.document_id)
        assert g.pdf_sha256 != g.previous_sha256 and pdf.startswith(before)  # incremental
        (stamp,) = [s for s in PdfFileReader(BytesIO(pdf)).embedded_signatures if s.field_name == g.stamp_field]
        status = validate_pdf_signature(stamp, vc, skip_diff=False)
        assert status.intact and status.valid
        assert agency in status.signing_cert.subject.human_friendly  # the agency's own seal
        page = office.register(agency, "received", as_user=CLERKS[agency])
        assert [r.register_number for r in page.rows] == ["1"]
    sender_view = office.document_status(doc, as_user="pc.clerk")
    assert {r.agency: r.state.value for r in sender_view.recipients} == dict.fromkeys(order, "registered")
    for r in sender_view.recipients:
        last = r.evidence[-1].evidence
        assert last.kind.value == "registered" and last.agency == r.agency and last.receive_number == "1"
    events = [e for e in office.audit_events() if e.act == "doc.receive"]
    assert len(events) == 3 and all(e.signature is not None for e in events)
    payloads = [e.payload if isinstance(e.payload, dict) else json.loads(e.payload) for e in events]
    assert [p["pdf_after"] for p in payloads] == [g.pdf_sha256 for g in got]


def test_one_refused_copy_refuses_the_batch_and_takes_no_number(route_office: Office) -> None:
    office = route_office
    doc, copies = _circular(office)
    office.receive_document(copies[PROV], as_user="p.clerk", level="B-B")
    with pytest.raises(AlreadyReceived):
        office.receive_documents([(copies[DIST], "d.clerk"), (copies[PROV], "p.clerk")], level="B-B")
    with pytest.raises(PermissionDenied):  # Sikhiu's clerk does not receive the district's copy
        office.receive_documents([(copies[SIKHIU], "s.clerk"), (copies[DIST], "s.clerk")], level="B-B")
    status = _status(office, doc, "pc.clerk")
    assert status == {PROV: "registered", DIST: "delivered", SIKHIU: "delivered"}
    assert office.register(DIST, "received").rows == ()
    got = office.receive_documents([(copies[DIST], "d.clerk"), (copies[SIKHIU], "s.clerk")], level="B-B")
    assert [g.number.text for g in got] == ["1", "1"]  # the refused batches took no number


def test_bad_batches_are_bad_input(route_office: Office) -> None:
    office = route_office
    _doc, copies = _circular(office)
    with pytest.raises(InvalidField):
        office.receive_documents([])
    with pytest.raises(InvalidField):
        office.receive_documents([(copies[DIST], "d.clerk"), (copies[DIST], "d.clerk")])
    with pytest.raises(InvalidField):
        office.receive_documents([(copies[DIST], "")])
    with pytest.raises(TypeError):
        office.receive_documents([(str(copies[DIST]), "d.clerk")])  # type: ignore[list-item]
