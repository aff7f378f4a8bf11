"""Signing through the office and the CLI (issue 5): the whole life of a letter, refusals,
batches, export, long-term validity, PKCS#11. Every stored PDF is checked by pyHanko's validator
and by poppler's pdfsig against an NSS database holding only the office's root."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edoc.office import Office
from tests.conftest import invoke
from tests.fixtures_pki import PASSPHRASE
from tests.fixtures_sign_office import (
    assert_pdfsig_valid,
    assert_pyhanko_valid,
    new_letter,
    nss_db,
    pyhanko_checks,
    sign_office,
    sign_sqlite,
)

__all__ = ["sign_office", "sign_sqlite"]


def _row(office: Office, doc_id: int) -> Any:
    return office._read(lambda s: office._document_row(s, doc_id))


def _stored(office: Office, doc_id: int) -> bytes:
    row = _row(office, doc_id)
    return office._read(lambda s: office.db.blobs.get(s, row.pdf_sha256))


def _events(office: Office, doc_id: int, act: str | None = None) -> list[Any]:
    return [e for e in office.audit_events() if e.document_id == doc_id and (act is None or e.act == act)]


def _stamp(office: Office, doc_id: int, owner: str, clerk: str, *, number: str, receipt: bool = False) -> Any:
    from edoc.signing import ReceivedStamp

    key, identity = office._signing_key(owner)
    agency = office.get_agency(owner.split(":", 1)[1])
    stamp = None if receipt else ReceivedStamp(agency.name, number, datetime.now(UTC), thai_digits=agency.thai_digits)

    def act(session: Any) -> Any:
        row = office._document_row(session, doc_id, for_update=True)
        return office._apply_seal(session, row, stamp, owner=owner, actor=clerk, key=key, identity=identity)

    return office._run(act)


def test_the_life_of_a_letter_keeps_every_signature_valid(sign_office: Office, tmp_path: Path) -> None:
    office = sign_office
    roots = office.trust_roots()
    db = nss_db(tmp_path / "nss", roots)
    doc = new_letter(office)
    assert _row(office, doc).number is None

    # the drafter's approval renders the final PDF with its number, in the same act
    first = office.sign_document(doc, as_user="pc.officer", level="B-B")
    assert first.field == "drafter" and first.rendered and first.number == "นม 52101/1"
    assert first.state == "awaiting-signature"
    row = _row(office, doc)
    assert row.number == first.number and row.pdf_sha256 == first.pdf_sha256
    numbered = _events(office, doc, "doc.number")
    assert len(numbered) == 1 and numbered[0].payload["number"] == first.number
    from edoc.signing import inspect_fields

    names = {f.name: f for f in inspect_fields(_stored(office, doc))}
    assert {"signature", "initial-1", "initial-2", "drafter"} <= set(names)
    assert names["drafter"].signed and not names["signature"].signed
    assert names["signature"].locks == ("initial-1", "initial-2", "signature")
    assert_pyhanko_valid(_stored(office, doc), roots)
    assert_pdfsig_valid(_stored(office, doc), db, tmp_path, expect=1)

    expected = 1
    for user, field in (("pc.head", "initial-1"), ("pc.head2", "initial-2")):
        done = office.sign_document(doc, as_user=user)  # default level: B-LT
        expected += 1
        assert done.field == field and done.level.value == "B-LT" and done.timestamp_time is not None
        assert done.state == "awaiting-signature" and not done.rendered
        pdf = _stored(office, doc)
        assert pdf.startswith(_previous_pdf(office, doc))  # incremental: earlier bytes untouched
        assert_pyhanko_valid(pdf, roots)
        assert_pdfsig_valid(pdf, db, tmp_path, expect=expected)

    final = office.sign_document(doc, as_user="pc.mayor", level="B-LT")
    assert final.field == "signature" and final.state == "signed"
    letter = office.export_document(doc, as_user="pc.clerk")
    assert letter == _stored(office, doc)
    checks = assert_pyhanko_valid(letter, roots)
    assert [c.field for c in checks] == ["drafter", "initial-1", "initial-2", "signature"]
    assert all(c.timestamped for c in checks[1:])
    assert_pdfsig_valid(letter, db, tmp_path, expect=4)
    # B-LT: the executive's signature validates later from the DSS alone, fetching disabled
    offline = {c.field: c for c in pyhanko_checks(letter, roots, ltv=True)}
    assert offline["signature"].trusted and offline["signature"].valid

    # every signature event is signed by its signer and names the PDF hashes
    signs = _events(office, doc, "doc.sign")
    assert [e.actor for e in signs] == ["pc.officer", "pc.head", "pc.head2", "pc.mayor"]
    assert all(e.signature is not None and e.signer_cert for e in signs)
    assert signs[-1].payload["pdf_sha256"] == final.pdf_sha256
    assert signs[-1].payload["pdf_before_sha256"] == signs[-2].payload["pdf_sha256"]

    # received at the province (received stamp), then at the district (stamp and receipt)
    prov = office.import_document(letter, as_user="prov.clerk", subject="ขอเชิญประชุม", from_agency="เทศบาลเมืองปากช่อง")
    sealed = _stamp(office, prov, "agency:NMA-PROV", "prov.clerk", number="๑๒")
    assert sealed.field == "received-1" and _row(office, prov).pdf_sha256 == sealed.sha256
    assert_pyhanko_valid(sealed.pdf, roots)
    assert_pdfsig_valid(sealed.pdf, db, tmp_path, expect=5)
    dist = office.import_document(
        office.export_document(prov, as_user="prov.clerk"), as_user="dist.clerk", subject="ขอเชิญประชุม"
    )
    stamped = _stamp(office, dist, "agency:PC-DIST", "dist.clerk", number="7")
    receipt = _stamp(office, dist, "agency:PC-DIST", "dist.clerk", number="", receipt=True)
    assert (stamped.field, receipt.field) == ("received-2", "receipt-1")
    final_pdf = office.export_document(dist, as_user="dist.clerk")
    assert final_pdf == receipt.pdf
    checks = assert_pyhanko_valid(final_pdf, roots)
    assert [c.field for c in checks] == [
        "drafter",
        "initial-1",
        "initial-2",
        "signature",
        "received-1",
        "received-2",
        "receipt-1",
    ]
    assert_pdfsig_valid(final_pdf, db, tmp_path, expect=7)
    stamps = _events(office, dist, "doc.stamp") + _events(office, dist, "doc.receipt")
    assert all(e.signature is not None and e.agency == "PC-DIST" for e in stamps)
    report = office.verify_audit_log()
    assert report.ok, report


def _previous_pdf(office: Office, doc: int) -> bytes:
    signs = _events(office, doc, "doc.sign")
    before = signs[-1].payload["pdf_before_sha256"]
    return office._read(lambda s: office.db.blobs.get(s, before))


def _passfile(tmp_path: Path) -> Path:
    path = tmp_path / "passphrases.toml"
    path.write_text(f'[passphrases]\ndefault = "{PASSPHRASE}"\n', encoding="utf-8")
    return path


def _cli(home: Path, tmp_path: Path, *args: str) -> Any:
    return invoke(*args, "--passphrase-file", str(_passfile(tmp_path)), home=home)


def _snapshot(office: Office, doc: int) -> tuple[Any, ...]:
    row = _row(office, doc)
    return (row.state, row.pdf_sha256, row.number, len(office.audit_events()), len(list((office.home).rglob("*"))))


def test_refusals_say_why_exit_3_or_2_and_write_nothing(sign_sqlite: Office, home: Path, tmp_path: Path) -> None:
    office = sign_sqlite
    doc = new_letter(office, initials=["pc.head"])
    before = _snapshot(office, doc)
    # a clerk, someone of another agency, a head not on the route: exit 3, nothing written
    for user, words in (
        ("pc.clerk", "clerk does not sign"),
        ("prov.clerk", "belongs to agency PAKCHONG"),
        ("pc.head2", "neither on the document's route nor an executive"),
    ):
        r = _cli(home, tmp_path, "doc", "sign", str(doc), "--as", user, "--level", "B-B")
        assert r.code == 3, (user, r)
        assert words in r.stderr, r.stderr
        assert _snapshot(office, doc) == before
    # the signer before the head who initials: exit 5, nothing written
    r = _cli(home, tmp_path, "doc", "sign", str(doc), "--as", "pc.mayor", "--level", "B-B")
    assert r.code == 5 and "waiting for initial-1 (pc.head)" in r.stderr, r
    assert _snapshot(office, doc) == before
    # a bad level is bad input before anything is opened
    r = _cli(home, tmp_path, "doc", "sign", str(doc), "--as", "pc.head", "--level", "B-X")
    assert r.code == 2 and "level" in r.stderr
    # a revoked certificate cannot sign
    office.revoke("pc.head", reason="key_compromise")
    before = _snapshot(office, doc)
    r = _cli(home, tmp_path, "doc", "sign", str(doc), "--as", "pc.head", "--level", "B-B")
    assert r.code == 3 and "revoked" in r.stderr, r
    assert _snapshot(office, doc) == before


def test_a_document_changed_since_its_last_signature_is_refused(
    sign_sqlite: Office, home: Path, tmp_path: Path
) -> None:
    from edoc.storage.tables import DocumentRow

    office = sign_sqlite
    doc = new_letter(office)
    office.sign_document(doc, as_user="pc.head", level="B-B")
    honest = _row(office, doc).pdf_sha256
    other = office.sign_document(new_letter(office), as_user="pc.head", level="B-B").pdf_sha256

    def swap(pdf: str | None, fields: str | None = None) -> None:
        def act(session: Any) -> None:
            row = session.get(DocumentRow, doc)
            row.pdf_sha256 = pdf
            if fields is not None:
                row.fields_json = fields
            session.add(row)

        office.db.tx.run(act)

    # someone points the row at another (validly signed) PDF behind edoc's back
    swap(other)
    before = _snapshot(office, doc)
    r = _cli(home, tmp_path, "doc", "sign", str(doc), "--as", "pc.head2", "--level", "B-B")
    assert r.code == 2 and "changed since its last signature" in r.stderr, r
    assert _snapshot(office, doc) == before
    # ... or changes the text the PDF was rendered from
    fields = _row(office, doc).fields_json.replace("ขอเชิญประชุม", "ขอยกเลิกประชุม")
    swap(honest, fields)
    before = _snapshot(office, doc)
    r = _cli(home, tmp_path, "doc", "sign", str(doc), "--as", "pc.head2", "--level", "B-B")
    assert r.code == 2 and "changed since its last signature" in r.stderr, r
    assert _snapshot(office, doc) == before


def test_batch_signs_the_good_and_reports_the_bad(sign_sqlite: Office, home: Path, tmp_path: Path) -> None:
    office = sign_sqlite
    docs = [new_letter(office, initials=[]) for _ in range(3)]
    waiting = new_letter(office)  # its heads have not initialled: not the mayor's turn
    r = _cli(
        home,
        tmp_path,
        "--json",
        "doc",
        "sign",
        str(docs[0]),
        str(waiting),
        str(docs[1]),
        str(docs[2]),
        "--as",
        "pc.mayor",
        "--level",
        "B-B",
        "--workers",
        "2",
    )
    assert r.code == 5, r
    data = r.json()
    assert (data["signed"], data["failed"]) == (3, 1)
    by_id = {i["id"]: i for i in data["items"]}
    assert not by_id[waiting]["ok"] and "waiting for initial-1" in by_id[waiting]["error"]
    assert by_id[waiting]["exit_code"] == 5
    roots = office.trust_roots()
    numbers = set()
    for d in docs:
        assert by_id[d]["ok"] and by_id[d]["state"] == "signed" and by_id[d]["field"] == "signature"
        assert _row(office, d).state == "signed"
        numbers.add(_row(office, d).number)
        assert_pyhanko_valid(_stored(office, d), roots)
    assert len(numbers) == 3
    assert _row(office, waiting).pdf_sha256 is None and _row(office, waiting).state == "draft"
    # --all-awaiting: the documents waiting for this head's initial, and only those
    assert office.awaiting_signature(as_user="pc.head") == [waiting]
    r = _cli(home, tmp_path, "--json", "doc", "sign", "--all-awaiting", "--as", "pc.head", "--level", "B-B")
    assert r.code == 0, r
    assert [i["id"] for i in r.json()["items"]] == [waiting]
    assert office.awaiting_signature(as_user="pc.head") == []
    assert office.awaiting_signature(as_user="pc.head2") == [waiting]


def test_a_batch_of_drafter_approvals_leaves_the_initials_and_signature_allowed(sign_sqlite: Office) -> None:
    """Batch signing locks fields exactly as signing one by one: the drafter's approval locks only
    itself, so the heads' initials and the mayor's signature that follow are allowed changes
    (a batch once locked every field, and the initials then failed as locked)."""
    office = sign_sqlite
    docs = [new_letter(office) for _ in range(2)]
    roots = office.trust_roots()
    for who in ("pc.officer", "pc.head", "pc.head2", "pc.mayor"):
        items = office.sign_documents(docs, as_user=who, level="B-B", workers=2)
        assert all(i.ok for i in items), [(i.doc_id, i.error) for i in items if not i.ok]
    for d in docs:
        assert _row(office, d).state == "signed"
        assert_pyhanko_valid(_stored(office, d), roots)


def test_export_is_exact_access_checked_and_audited(sign_sqlite: Office, home: Path, tmp_path: Path) -> None:
    office = sign_sqlite
    doc = new_letter(office, initials=[])
    r = _cli(home, tmp_path, "doc", "export", str(doc), "--out", str(tmp_path / "x.pdf"), "--as", "pc.clerk")
    assert r.code == 4 and "no signed PDF" in r.stderr
    office.sign_document(doc, as_user="pc.mayor", level="B-B")
    out = tmp_path / "letter.pdf"
    r = _cli(home, tmp_path, "--json", "doc", "export", str(doc), "--out", str(out), "--as", "pc.clerk")
    assert r.code == 0, r
    assert out.read_bytes() == _stored(office, doc)
    assert r.json()["sha256"] == _row(office, doc).pdf_sha256
    exports = _events(office, doc, "doc.export")
    assert len(exports) == 1 and exports[0].actor == "pc.clerk"
    assert exports[0].payload["sha256"] == _row(office, doc).pdf_sha256
    r = _cli(home, tmp_path, "doc", "export", str(doc), "--out", str(tmp_path / "y.pdf"), "--as", "prov.clerk")
    assert r.code == 3 and not (tmp_path / "y.pdf").exists()
    assert len(_events(office, doc, "doc.export")) == 1


def test_ltv_adds_archive_timestamps_that_validate_offline(sign_sqlite: Office, home: Path, tmp_path: Path) -> None:
    office = sign_sqlite
    roots = office.trust_roots()
    doc = new_letter(office, initials=["pc.head"])
    office.sign_document(doc, as_user="pc.head", level="B-T")
    office.sign_document(doc, as_user="pc.mayor", level="B-LT")
    r = _cli(home, tmp_path, "--json", "doc", "ltv", str(doc), "--as", "pc.officer")
    assert r.code == 3, r  # neither records management nor the signer
    for n in (1, 2):
        r = _cli(home, tmp_path, "--json", "doc", "ltv", str(doc), "--as", "pc.clerk")
        assert r.code == 0, r
        assert r.json()["archive_timestamp"] == f"timestamp-{n}"
        pdf = _stored(office, doc)
        checks = assert_pyhanko_valid(pdf, roots, ltv=True)
        assert [c.kind for c in checks].count("timestamp") == n
    assert len(_events(office, doc, "doc.ltv")) == 2
    # signing after an archive time-stamp is still refused for a changed document, allowed here
    assert office.sign_document(new_letter(office, initials=[]), as_user="pc.mayor", level="B-B").state == "signed"


def test_a_key_on_a_pkcs11_token_signs_through_the_office(home: Path, tmp_path: Path, monkeypatch: Any) -> None:
    import shutil
    import subprocess

    import pkcs11

    from edoc.office import open_office
    from edoc.pki.keys import StaticPassphrases
    from tests.fixtures_pki import write_settings
    from tests.fixtures_sign_office import make_sign_home

    module = "/usr/lib/softhsm/libsofthsm2.so"
    if not Path(module).exists() or not shutil.which("softhsm2-util"):
        pytest.fail("softhsm2 is not installed (it is in .ci/run's Debian list)")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "pc-hsm", "--so-pin", "99887766", "--pin", "11223344"],
        check=True,
        capture_output=True,
    )
    pkcs11.unload(module)
    try:
        make_sign_home(home, None)
        write_settings(home, pkcs11_module=module)
        passphrases = StaticPassphrases({"pkcs11:pc-hsm": "11223344"}, default=PASSPHRASE)
        with open_office(home, None, passphrases=passphrases) as office:
            office.issue_certificate("pc.mayor", pkcs11_token="pc-hsm", replace=True)
            with office.pki_server():
                doc = new_letter(office, initials=[])
                done = office.sign_document(doc, as_user="pc.mayor", level="B-T")
                assert done.state == "signed" and done.timestamp_time is not None
                assert_pyhanko_valid(_stored(office, doc), office.trust_roots())
                assert_pdfsig_valid(
                    _stored(office, doc), nss_db(tmp_path / "nss", office.trust_roots()), tmp_path, expect=1
                )
                assert _events(office, doc, "doc.sign")[0].signature is not None
            office.close_signing_keys()
    finally:
        pkcs11.unload(module)


def test_a_received_letter_keeps_its_history_and_can_be_renewed(sign_sqlite: Office) -> None:
    """After the registers' receive act (its event records ``pdf_after``), the stamped PDF is the
    one expected: renewing its long-term validity is not mistaken for a changed document."""
    office = sign_sqlite
    doc = new_letter(office, initials=[])
    office.sign_document(doc, as_user="pc.mayor", level="B-LT")
    copy = office.import_document(office.export_document(doc, as_user="pc.clerk"), as_user="prov.clerk")
    office.receive_document(copy, as_user="prov.clerk")
    renewed = office.refresh_document_ltv(copy, as_user="prov.clerk")
    assert renewed["archive_timestamp"] == "timestamp-1"
    checks = assert_pyhanko_valid(_stored(office, copy), office.trust_roots(), ltv=False)
    assert [c.field for c in checks] == ["signature", "received-1", "timestamp-1"]


def test_the_demo_signs_a_letter_that_verifies(tmp_path: Path) -> None:
    r = invoke("--json", "demo", home=tmp_path / "demo")
    assert r.code == 0, r.stderr
    step = next(s for s in r.json()["steps"] if s["step"] == "signing")
    details = step["details"]
    assert details["indication"] == "TOTAL-PASSED"
    assert [s["field"] for s in details["signatures"]] == ["drafter", "initial-1", "initial-2", "signature"]
    assert all(s["level"] == "B-LT" and s["trusted"] for s in details["signatures"])
    assert Path(details["file"]).read_bytes().startswith(b"%PDF-")
