"""Secrecy at rest: a secret letter's PDF, attachment, subject and body exist only as CMS
EnvelopedData for the agency's seal and the people on its route, on SQLite and PostgreSQL.

The letter is drafted in Pak Chong with an attachment, initialled by the head and signed by the
mayor (each signature opens the sealed PDF, signs and seals it again), sent to the district,
registered there by its clerk (the seal opens it for the received stamp), proposed to the chief and
assigned to an officer. A dump of the whole database and every file of the home holds none of the
plaintext; the people on the route read it with their own keys, OpenSSL opens the envelope with the
officer's key, and everybody else is refused.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import MetaData, select

from edoc.directory import Agency, Role, User
from edoc.errors import ContentSealed, EncryptionCertificateMissing, PermissionDenied
from edoc.office import Office
from edoc.pki.model import agency_owner
from edoc.routing import envelope
from edoc.storage.blobs import DirectoryBlobStore
from edoc.storage.tables import BlobRow
from tests import pdftools
from tests.conftest import invoke
from tests.fixtures_pki import PASSPHRASE
from tests.fixtures_send import DIST, LETTER, PC, receive, received_secret_copy, route_office

__all__ = ["route_office"]  # fixture used by name

SUBJECT = "ขอรายงานข้อมูลลับมากเรื่องการจัดซื้อเครื่องกรองน้ำ"
BODY = "รายละเอียดราคากลางลับเฉพาะผู้เกี่ยวข้องเท่านั้นโครงการกรองน้ำ"
ATTACHED = b"ATTACHED-SECRET-PRICE-LIST 4,250,000 baht"
IMPORTED = "หนังสือลับจากสำนักงานตรวจเงินแผ่นดินเรื่องสอบทานบัญชี"


def _dump(office: Office, home: Path) -> bytes:
    """Every value of every table, and every file of the home (SQLite's pages, the blob files)."""
    parts: list[bytes] = []
    engine = office.db.engine
    meta = MetaData()
    meta.reflect(bind=engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value))
                    elif value is not None:
                        parts.append(str(value).encode("utf-8"))
    for path in home.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes())
    return b"\n".join(parts)


def _sealed_pdf(office: Office, doc_id: int) -> tuple[str, bytes]:
    """The document's recorded PDF hash and the stored envelope that holds it."""

    def read(session: Any) -> tuple[str, bytes]:
        row = office._document_row(session, doc_id)
        assert row.pdf_sha256 is not None
        blob = session.get(BlobRow, row.pdf_sha256)
        assert blob is not None and blob.envelope_sha256 is not None and blob.data is None
        return row.pdf_sha256, office.db.blobs.get(session, blob.envelope_sha256)

    return office._read(read)


def _serial(office: Office, owner: str) -> int:
    return int(office.export_chain(owner)[0].serial_number)


@pytest.mark.slow  # the whole life of a letter, on both databases
def test_secret_letter_is_stored_only_sealed(route_office: Office, home: Path, tmp_path: Path) -> None:
    office = route_office
    attachment = tmp_path / "ราคากลาง.txt"
    attachment.write_bytes(ATTACHED)
    letter = {
        **LETTER,
        "subject": SUBJECT,
        "body": [BODY],
        "secrecy": "secret",
        "initials": ["pc.head"],
        "attachments": [str(attachment)],
    }
    doc = office.new_document("external", letter, as_user="pc.clerk")
    # the head initials (renders the final PDF, sealed), the mayor signs (opens it, signs, seals)
    office.sign_document(doc, as_user="pc.head", level="B-B")
    office.sign_document(doc, as_user="pc.mayor", level="B-B")
    copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert copy is not None
    receive(office, copy, "d.clerk")
    office.route_document(copy, "propose", as_user="d.clerk", to="d.chief")
    office.route_document(copy, "assign", as_user="d.chief", to="d.officer", note="ดำเนินการ")
    imported = office.import_document(
        pdftools_pdf(office, doc), as_user="d.clerk", subject=IMPORTED, number="ตง 0005/1", secrecy="confidential"
    )
    receive(office, imported, "d.clerk")  # the seal opens it for the received stamp

    # 1. nothing of it in the clear: subject, body, attachment, the PDF itself
    dump = _dump(office, home)
    for secret in (SUBJECT.encode(), BODY.encode(), ATTACHED, IMPORTED.encode(), b"%PDF-"):
        assert secret not in dump, secret[:40]

    # 2. the people on the route read it with their own keys; the PDF is the signed letter
    for user, doc_id in (("d.officer", copy), ("d.chief", copy), ("d.clerk", copy), ("pc.mayor", doc)):
        view = office.show_document(doc_id, as_user=user)
        assert view.subject == SUBJECT and view.fields["body"] == [BODY], user
    exported = office.export_document(copy, as_user="d.officer")
    digest, sealed = _sealed_pdf(office, copy)
    import hashlib

    assert exported.startswith(b"%PDF-") and hashlib.sha256(exported).hexdigest() == digest
    assert "กรองน้ำ" in pdftools.squeeze(pdftools.text(exported))
    assert ATTACHED in pdftools.detach(exported).values()
    signed = office.export_document(doc, as_user="pc.mayor")
    assert hashlib.sha256(signed).hexdigest() == office.show_document(doc, as_user="pc.mayor").pdf_sha256
    assert office.show_document(imported, as_user="d.clerk").subject == IMPORTED

    # 3. the district's copy is sealed for its seal and its route, nobody else
    wanted = {agency_owner(DIST), "d.clerk", "d.chief", "d.officer"}
    got = {serial for _issuer, serial in envelope.recipients(sealed)}
    assert got == {_serial(office, o) for o in wanted}

    # 4. OpenSSL opens the envelope with the officer's key and certificate
    identity = office.signing_identity("d.officer")
    key = tmp_path / "officer.key"
    key.write_bytes(
        identity.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert = tmp_path / "officer.pem"
    cert.write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "env.der").write_bytes(sealed)
    decrypt = ["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", str(tmp_path / "env.der")]
    out = subprocess.run(
        [*decrypt, "-recip", str(cert), "-inkey", str(key)],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert out.stdout == exported

    # 5. everybody else: refused by the policy, and no key of theirs opens the envelope
    for user in ("d.head", "d.officer2", "d.auditor", "p.auditor", "pc.clerk", "s.clerk"):
        with pytest.raises(PermissionDenied):
            office.export_document(copy, as_user=user)
    outsider = office.signing_identity("d.head")
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(sealed, outsider.certificate, outsider.private_key)

    # 6. registers, inbox and search show the secrecy mark, never the subject
    rows = office.register(DIST, "received", as_user="d.clerk").rows
    assert len(rows) == 2 and all(SUBJECT not in r.subject and "ลับ" in r.subject for r in rows)
    assert office.search("กรองน้ำ", as_user="d.officer") == []
    assert [h.document_id for h in office.search("ตง 0005/1", as_user="d.clerk")] == [imported]


def pdftools_pdf(office: Office, doc: int) -> bytes:
    """A PDF to import: the letter's rendered preview as the mayor sees it (never stored)."""
    return office.render_document(doc, as_user="pc.mayor")


def test_a_route_step_rewraps_for_the_new_holder_and_a_stranger_cannot_open(route_office: Office) -> None:
    office = route_office
    doc = office.new_document("external", {**LETTER, "secrecy": "confidential"}, as_user="pc.clerk")
    # batch signing opens the sealed draft with the signer's key and seals what it signed
    [item] = office.sign_documents([doc], as_user="pc.mayor", level="B-B", workers=1)
    assert item.ok, item
    _digest, signed = _sealed_pdf(office, doc)
    assert _serial(office, "pc.mayor") in {s for _i, s in envelope.recipients(signed)}
    copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert copy is not None
    receive(office, copy, "d.clerk")
    _digest, before = _sealed_pdf(office, copy)
    assert _serial(office, "d.chief") not in {s for _i, s in envelope.recipients(before)}
    office.route_document(copy, "propose", as_user="d.clerk", to="d.chief")
    _digest, after = _sealed_pdf(office, copy)
    assert _serial(office, "d.chief") in {s for _i, s in envelope.recipients(after)}
    # the content was not re-encrypted: only a recipient was added
    assert _content(after) == _content(before)
    assert office.show_document(copy, as_user="d.chief").subject == LETTER["subject"]


def test_reseal_after_someone_leaves_the_route(route_office: Office, home: Path, db_url: str | None) -> None:
    office = route_office
    doc, copy = received_secret_copy(office)
    office.route_document(copy, "propose", as_user="d.clerk", to="d.chief")
    office.route_document(copy, "assign", as_user="d.chief", to="d.officer", note="ดำเนินการ")
    chief = _serial(office, "d.chief")
    digest, before = _sealed_pdf(office, copy)
    old_name = _envelope_name(office, digest)
    assert chief in {s for _i, s in envelope.recipients(before)}
    office.revoke("d.chief", reason="keyCompromise")
    # only the registry reseals, and only restricted content
    with pytest.raises(PermissionDenied):
        office.reseal_document(copy, as_user="d.officer")
    result = office.reseal_document(copy, as_user="d.clerk")
    assert len(result["content"]) == 2  # the stamped PDF and the fields it shares with the sender
    _digest, after = _sealed_pdf(office, copy)
    assert chief not in {s for _i, s in envelope.recipients(after)}
    assert _content(after) != _content(before)  # a fresh content key, not a re-wrap
    # the superseded envelope (which still wrapped the key for the chief) is gone after the commit
    store = office.db.blobs
    if isinstance(store, DirectoryBlobStore):
        assert not store.path(old_name).exists()
    else:
        assert office._read(lambda s: s.get(BlobRow, old_name).data) is None
    assert office._read(store.check) == []
    # the others still read it, on both sides (the fields are shared with the sender's letter)
    assert office.show_document(copy, as_user="d.officer").subject == LETTER["subject"]
    assert office.show_document(doc, as_user="pc.mayor").subject == LETTER["subject"]
    assert office.export_document(copy, as_user="d.clerk").startswith(b"%PDF-")
    assert "doc.reseal" in [e.act for e in office.audit_events()[-3:]]
    assert office.verify_audit_log().ok
    # the same through the command line: the registry may, the officer may not, a normal letter is no case
    pp = home / "pp.toml"
    pp.write_text(f'[passphrases]\ndefault = "{PASSPHRASE}"\n', encoding="utf-8")
    db = ["--db", db_url] if db_url else []
    cli = ["--passphrase-file", str(pp), *db, "--json", "doc", "reseal", str(copy)]
    done = invoke(*cli, "--as", "d.clerk", home=home)
    assert done.code == 0 and len(done.json()["content"]) == 2
    assert invoke(*cli, "--as", "d.officer", home=home).code == 3
    normal = office.new_document("external", LETTER, as_user="pc.clerk")
    cli[-1] = str(normal)
    assert invoke(*cli, "--as", "pc.clerk", home=home).code == 5


def _envelope_name(office: Office, digest: str) -> str:
    def read(session: Any) -> str:
        blob = session.get(BlobRow, digest)
        assert blob is not None and blob.envelope_sha256 is not None
        return str(blob.envelope_sha256)

    return office._read(read)


def _content(data: bytes) -> bytes:
    from asn1crypto import cms

    return bytes(cms.ContentInfo.load(data)["content"]["encrypted_content_info"]["encrypted_content"].native)


def test_restricted_documents_need_the_agency_seal(route_office: Office) -> None:
    office = route_office
    office.add_agencies([Agency("NOSEAL", "เทศบาลตำบลไร้ตรา", "นม 99999", parent=DIST)])
    office.add_users([User("n.clerk", "NOSEAL", "นายไม่มี ตรา", "เจ้าพนักงานธุรการ", Role.EXECUTIVE)])
    with pytest.raises(EncryptionCertificateMissing):
        office.new_document("external", {**LETTER, "signer": "n.clerk", "secrecy": "ลับ"}, as_user="n.clerk")
    # a normal letter does not need it
    assert office.new_document("external", {**LETTER, "signer": "n.clerk"}, as_user="n.clerk")


def test_a_party_without_a_key_is_told_why(route_office: Office) -> None:
    office = route_office
    office.add_users([User("pc.newbie", PC, "นายใหม่ ยังไม่มีบัตร", "นักจัดการงานทั่วไป", Role.OFFICER, unit="ENG")])
    doc = office.new_document("external", {**LETTER, "secrecy": "secret"}, as_user="pc.newbie")
    # on its route (the drafter), so the policy lets them read, but no key of theirs opens it
    with pytest.raises(ContentSealed, match="no key of"):
        office.show_document(doc, as_user="pc.newbie")
    assert office.show_document(doc, as_user="pc.mayor").subject == LETTER["subject"]
    assert ContentSealed.exit_code == 3


def test_destruction_finds_and_erases_sealed_content(route_office: Office) -> None:
    from edoc.storage import records as rec_store

    office = route_office
    doc = office.new_document("external", {**LETTER, "secrecy": "confidential"}, as_user="pc.clerk")
    office.sign_document(doc, as_user="pc.mayor", level="B-B")
    copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert copy is not None

    def stub_of(session: Any, doc_id: int) -> str:
        import json

        return str(json.loads(office._document_row(session, doc_id).fields_json)["sealed"])

    fields = office._read(lambda s: stub_of(s, copy))
    pdf, _sealed = _sealed_pdf(office, copy)
    # the copy's content includes its sealed fields; they (and the PDF) are shared with the sender
    assert {pdf, fields} <= set(office._read(lambda s: rec_store.content_digests(s, office._document_row(s, copy))))
    assert office._read(lambda s: rec_store.unshared(s, [pdf, fields])) == []
    # erasing sealed content erases its envelope too (bytes gone, rows kept as evidence)
    envelope_name = _envelope_name(office, fields)
    office._run(lambda s: office.db.blobs.erase(s, fields))

    def erased(session: Any) -> tuple[bool, bool]:
        plain, sealed = session.get(BlobRow, fields), session.get(BlobRow, envelope_name)
        return plain.erased_at is not None, sealed.erased_at is not None and sealed.data is None

    assert office._read(erased) == (True, True)
    store = office.db.blobs
    if isinstance(store, DirectoryBlobStore):
        assert not store.path(envelope_name).exists()
