"""Verdicts on letters signed with a real PKI, and on the attacks an insider could try.

Every file here is signed by pyHanko with certomancer certificates (``fixtures_verify``); the
attacks are incremental updates written with pyHanko's writer, as an attacker would. Where
it matters, poppler's ``pdfsig`` (an independent verifier) confirms the bytes are what we
say: it also finds the signature cryptographically valid, so our verdicts rest on the
changes, not on a broken signature.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edoc.errors import InvalidField, VerifyFileNotFound
from edoc.signing.verify import (
    ChangeKind,
    Coverage,
    Indication,
    Level,
    Modifications,
    Revocation,
    verify_pdf,
)
from tests import fixtures_verify as fx
from tests.fixtures_verify import Pki, Signing, append_update, letter_pdf

pki = fx.pki
signing = fx.signing
signed_letter = fx.signed_letter


def _codes(report: object) -> list[str]:
    return [r.code for s in report.signatures for r in s.reasons]  # type: ignore[attr-defined]


def pdfsig(data: bytes, tmp_path: Path) -> str:
    """poppler's verdict on the same bytes (an independent implementation)."""
    if shutil.which("pdfsig") is None:
        pytest.fail("pdfsig (poppler-utils) is not installed")
    path = tmp_path / "pdfsig.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True, timeout=60).stdout


# --- signatures that are fine ------------------------------------------------------------------


def test_b_lt_letter_passes_with_the_root(signed_letter: bytes, pki: Pki) -> None:
    report = verify_pdf(signed_letter, trust=[pki.pem("root")])
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    (sig,) = report.signatures
    assert sig.intact and sig.trusted
    assert sig.revocation is Revocation.GOOD
    assert sig.level is Level.B_LT
    assert sig.timestamp is not None and sig.timestamp < datetime.now(UTC)
    assert sig.coverage is Coverage.ENTIRE_REVISION  # pyHanko's DSS update follows the signature
    assert sig.modifications_after is Modifications.SIGNATURES
    assert not sig.visual_change_after
    assert sig.signer.name == "นายสมชาย ใจดี"
    assert sig.signer.organisation == "เทศบาลเมืองปากช่อง"
    assert sig.signer.issuer == "Pak Chong Pilot Issuing CA"
    assert sig.signer.serial == format(pki.cert("signer").serial_number, "x")
    assert sig.chain[-1].startswith("Common Name: Pak Chong Pilot Root CA")
    assert sig.widget is not None and sig.widget[0] == 1
    assert report.pages == 1
    assert "Signature is Valid" in pdfsig(signed_letter, Path(pki.dir))


def test_b_lta_passes_and_reports_the_document_timestamp(signing: Signing, pki: Pki) -> None:
    data = signing.sign(letter_pdf(), level="B-LTA")
    report = verify_pdf(data, trust=[pki.pem("root")])
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    sig, ts = report.signatures
    assert sig.level is Level.B_LTA
    assert ts.kind.value == "timestamp" and ts.signer.name == "Pak Chong Pilot TSA"
    assert ts.indication is Indication.TOTAL_PASSED


def test_without_revocation_data_b_b_cannot_be_confirmed_offline(signing: Signing, pki: Pki) -> None:
    report = verify_pdf(signing.sign(letter_pdf(), level="B-B"), trust=[pki.pem("root")])
    (sig,) = report.signatures
    assert sig.intact and sig.trusted
    assert sig.indication is Indication.INDETERMINATE
    assert sig.revocation is Revocation.UNKNOWN
    assert "revocation_missing" in _codes(report)


def test_no_trust_anchor_is_indeterminate_never_the_system_store(
    signed_letter: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyhanko_certvalidator.registry as registry

    def forbidden() -> object:
        raise AssertionError("the operating system's trust store was consulted")

    monkeypatch.setattr(registry, "_system_trust_roots", forbidden)
    report = verify_pdf(signed_letter, isolate=False)
    (sig,) = report.signatures
    assert sig.intact and not sig.trusted
    assert (sig.indication, sig.subindication) == (Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    assert "no_trust_anchor_given" in _codes(report)


def test_another_root_does_not_vouch(signed_letter: bytes, pki: Pki) -> None:
    report = verify_pdf(signed_letter, trust=[pki.pem("other-root")])
    (sig,) = report.signatures
    assert not sig.trusted
    assert sig.subindication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert "no_chain" in _codes(report)


def test_path_and_bytes_give_the_same_verdict(signed_letter: bytes, pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    path.write_bytes(signed_letter)
    a = verify_pdf(path, trust=[pki.pem("root")]).to_json()
    b = verify_pdf(signed_letter, trust=[pki.pem("root")]).to_json()
    assert a["signatures"] == b["signatures"] and a["indication"] == b["indication"]
    assert a["file"] == str(path) and b["file"] == "<bytes>"


def test_received_stamp_by_a_second_signer_keeps_the_letter_valid(
    signed_letter: bytes, signing: Signing, pki: Pki
) -> None:
    stamped = signing.sign(signed_letter, "received", label="clerk", level="B-LT", box=(380, 740, 560, 810))
    report = verify_pdf(stamped, trust=[pki.pem("root")])
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    letter, stamp = report.signatures
    assert letter.modifications_after is Modifications.SIGNATURES
    assert not letter.visual_change_after
    assert any(r.code == "visual_unchanged" and dict(r.params)["except_note"] == "signatures" for r in letter.reasons)
    assert stamp.signer.name == "นางสาวสมศรี รักงาน"


# --- signatures that are not ---------------------------------------------------------------------


def test_revoked_signer(signing: Signing, pki: Pki) -> None:
    signed = signing.add_dss(signing.sign(letter_pdf(), label="revoked", level="B-T"))
    report = verify_pdf(signed, trust=[pki.pem("root")])
    (sig,) = report.signatures
    assert sig.revocation is Revocation.REVOKED
    # time-stamped after the revocation: nothing proves it was made before it
    assert (sig.indication, sig.subindication) == (Indication.INDETERMINATE, "REVOKED_NO_POE")
    assert "revoked" in _codes(report)


def test_certificate_without_signing_usage(signing: Signing, pki: Pki) -> None:
    signed = signing.add_dss(signing.sign(letter_pdf(), label="nousage", level="B-T"))
    report = verify_pdf(signed, trust=[pki.pem("root")])
    (sig,) = report.signatures
    assert sig.indication is not Indication.TOTAL_PASSED
    assert "key_usage" in _codes(report), [r.text() for r in sig.reasons]


def test_content_changed_after_signing(signed_letter: bytes, pki: Pki, tmp_path: Path) -> None:
    from pyhanko.pdf_utils import generic

    def cover_the_amount(w: object) -> None:
        page_ref = w.find_page_for_modification(0)[0]  # type: ignore[attr-defined]
        page = page_ref.get_object()
        extra = generic.StreamObject(stream_data=b"q 1 1 1 rg 80 500 300 40 re f Q")
        contents = page.raw_get("/Contents")
        page[generic.NameObject("/Contents")] = generic.ArrayObject([contents, w.add_object(extra)])  # type: ignore[attr-defined]
        w.update_container(page)  # type: ignore[attr-defined]

    tampered = append_update(signed_letter, cover_the_amount)
    report = verify_pdf(tampered, trust=[pki.pem("root")], keep_images=True)
    (sig,) = report.signatures
    assert sig.intact  # the signed bytes are untouched ...
    assert "Signature is Valid" in pdfsig(tampered, tmp_path)  # ... as poppler agrees
    assert sig.modifications_after is Modifications.OTHER  # ... but what a reader sees is not them
    assert sig.visual_change_after
    assert (sig.indication, sig.subindication) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE")
    (change,) = sig.page_changes
    assert change.page == 1 and change.kind is ChangeKind.UNEXPLAINED
    assert change.before_png and change.after_png and change.box is not None
    assert "changed_after_last_signature" in [r.code for r in report.reasons]


def test_page_added_after_signing(signed_letter: bytes, pki: Pki) -> None:
    from pyhanko.pdf_utils import generic

    def add_page(w: object) -> None:
        root = w.root  # type: ignore[attr-defined]
        pages_ref = root.raw_get("/Pages")
        pages = pages_ref.get_object()
        page = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Page"),
                generic.NameObject("/Parent"): pages_ref,
                generic.NameObject("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                generic.NameObject("/Contents"): w.add_object(  # type: ignore[attr-defined]
                    generic.StreamObject(stream_data=b"q 0 0 0 rg 100 700 200 20 re f Q")
                ),
            }
        )
        pages["/Kids"].append(w.add_object(page))  # type: ignore[attr-defined]
        pages[generic.NameObject("/Count")] = generic.NumberObject(int(pages["/Count"]) + 1)
        w.update_container(pages)  # type: ignore[attr-defined]

    report = verify_pdf(append_update(signed_letter, add_page), trust=[pki.pem("root")])
    (sig,) = report.signatures
    assert sig.indication is Indication.TOTAL_FAILED
    assert "pages_changed" in _codes(report)
    assert report.pages == 2


def _square_annotation(w: object, rect: tuple[int, int, int, int]) -> None:
    from pyhanko.pdf_utils import generic

    page_ref = w.find_page_for_modification(0)[0]  # type: ignore[attr-defined]
    page = page_ref.get_object()
    ap = generic.StreamObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/XObject"),
            generic.NameObject("/Subtype"): generic.NameObject("/Form"),
            generic.NameObject("/BBox"): generic.ArrayObject(
                [
                    generic.NumberObject(0),
                    generic.NumberObject(0),
                    generic.NumberObject(rect[2] - rect[0]),
                    generic.NumberObject(rect[3] - rect[1]),
                ]
            ),
        },
        stream_data=f"1 0 0 rg 0 0 {rect[2] - rect[0]} {rect[3] - rect[1]} re f".encode(),
    )
    annot = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Square"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in rect]),
            generic.NameObject("/F"): generic.NumberObject(4),
            generic.NameObject("/P"): page_ref,
            generic.NameObject("/AP"): generic.DictionaryObject({generic.NameObject("/N"): w.add_object(ap)}),  # type: ignore[attr-defined]
        }
    )
    annots = page.get("/Annots")
    annots = generic.ArrayObject(list(annots) if annots is not None else [])
    annots.append(w.add_object(annot))  # type: ignore[attr-defined]
    page[generic.NameObject("/Annots")] = annots
    w.update_container(page)  # type: ignore[attr-defined]


def test_comment_over_the_text_is_seen_and_never_passes(signed_letter: bytes, pki: Pki) -> None:
    report = verify_pdf(
        append_update(signed_letter, lambda w: _square_annotation(w, (80, 500, 380, 540))), trust=[pki.pem("root")]
    )
    (sig,) = report.signatures
    assert sig.intact
    assert sig.modifications_after is Modifications.ANNOTATIONS
    assert sig.visual_change_after
    assert [c.kind for c in sig.page_changes] == [ChangeKind.DECLARED]
    assert (sig.indication, sig.subindication) == (Indication.INDETERMINATE, "SIG_CONSTRAINTS_FAILURE")


def test_filled_form_field_is_seen(signing: Signing, pki: Pki) -> None:
    from pyhanko.pdf_utils import generic

    signed = signing.sign(letter_pdf(fields=True), level="B-LT")

    def fill(w: object) -> None:
        root = w.root  # type: ignore[attr-defined]
        field_ref = root["/AcroForm"]["/Fields"][0]
        field = field_ref.get_object()
        ap = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/XObject"),
                generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 200, 24)]),
            },
            stream_data=b"0 0 1 rg 2 2 150 18 re f",
        )
        field[generic.NameObject("/V")] = generic.TextStringObject("9,000")
        field[generic.NameObject("/AP")] = generic.DictionaryObject({generic.NameObject("/N"): w.add_object(ap)})  # type: ignore[attr-defined]
        w.update_container(field)  # type: ignore[attr-defined]

    report = verify_pdf(append_update(signed, fill), trust=[pki.pem("root")])
    (sig,) = report.signatures
    assert sig.modifications_after is Modifications.FORM_FILLING
    assert sig.visual_change_after
    assert sig.indication is Indication.INDETERMINATE


def test_overlay_signature_from_an_untrusted_signer(signed_letter: bytes, signing: Signing, pki: Pki) -> None:
    """A later signature may draw on the page (a received stamp does); one by a stranger leaves the
    file unconfirmed, and the first signature says whose appearance covers the page."""
    overlaid = signing.sign(signed_letter, "overlay", label="stranger", level="B-B", box=(60, 480, 400, 560))
    report = verify_pdf(overlaid, trust=[pki.pem("root")])
    letter, stranger = report.signatures
    assert letter.indication is Indication.TOTAL_PASSED
    assert "later_signature_unconfirmed" in [r.code for r in letter.reasons]
    assert stranger.indication is Indication.INDETERMINATE and not stranger.trusted
    assert report.indication is Indication.INDETERMINATE


def test_script_added_after_signing_fails(signed_letter: bytes, pki: Pki) -> None:
    from pyhanko.pdf_utils import generic

    def add_script(w: object) -> None:
        root = w.root  # type: ignore[attr-defined]
        root[generic.NameObject("/OpenAction")] = generic.DictionaryObject(
            {
                generic.NameObject("/S"): generic.NameObject("/JavaScript"),
                generic.NameObject("/JS"): generic.TextStringObject("app.alert('hi')"),
            }
        )
        w.update_root()  # type: ignore[attr-defined]

    report = verify_pdf(append_update(signed_letter, add_script), trust=[pki.pem("root")])
    (sig,) = report.signatures
    assert sig.modifications_after is Modifications.OTHER
    assert sig.indication is Indication.TOTAL_FAILED


def test_validation_in_the_past_with_at(signed_letter: bytes, pki: Pki) -> None:
    before = verify_pdf(signed_letter, trust=[pki.pem("root")], at=datetime(2019, 6, 1, tzinfo=UTC))
    assert before.signatures[0].indication is not Indication.TOTAL_PASSED  # the certificate did not exist yet
    assert "validated_at" in _codes(before)


# --- input errors ---------------------------------------------------------------------------------


def test_bad_inputs_are_named(tmp_path: Path, pki: Pki) -> None:
    with pytest.raises(VerifyFileNotFound):
        verify_pdf(tmp_path / "missing.pdf")
    with pytest.raises(InvalidField) as info:
        verify_pdf(b"%PDF-1.7", trust=[tmp_path])
    assert info.value.field == "trust"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(InvalidField):
        verify_pdf(b"%PDF-1.7", trust=[junk])
    with pytest.raises(InvalidField) as info:
        verify_pdf(b"%PDF-1.7", at=datetime(2026, 1, 1))
    assert info.value.field == "at"
    with pytest.raises(TypeError):
        verify_pdf(12345)  # type: ignore[arg-type]


def test_files_that_are_not_signed_pdfs(tmp_path: Path) -> None:
    assert verify_pdf(b"").reasons[0].code == "empty_file"
    assert verify_pdf(b"hello, this is not a PDF").reasons[0].code == "not_pdf"
    unsigned = verify_pdf(letter_pdf())
    assert unsigned.indication is Indication.TOTAL_FAILED
    assert [r.code for r in unsigned.reasons] == ["no_signatures"]
    truncated = verify_pdf(letter_pdf()[:400])
    assert truncated.indication is not Indication.TOTAL_PASSED


def test_sandbox_stops_a_file_that_takes_too_long(signed_letter: bytes, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "never.pdf"
    os.mkfifo(fifo)  # opening it blocks forever: a stand-in for a parser that hangs
    report = verify_pdf(fifo, timeout=1.0)
    assert report.indication is Indication.INDETERMINATE
    assert [r.code for r in report.reasons] == ["timeout"]
    # the pool recovers: the next file is verified normally
    assert verify_pdf(signed_letter, timeout=30).signatures[0].intact


def test_sandbox_reports_a_worker_that_dies(signed_letter: bytes, tmp_path: Path) -> None:
    import os
    import signal
    import threading

    from edoc.signing.verify import sandbox
    from edoc.signing.verify.options import Options

    fifo = tmp_path / "block.pdf"
    os.mkfifo(fifo)
    pool = sandbox.WorkerPool(1, timeout=20)
    try:

        def kill_soon() -> None:
            import time

            for _ in range(400):
                pids = pool.worker_pids()
                if pids:
                    time.sleep(0.3)  # let it reach the blocking open
                    os.kill(pids[0], signal.SIGSEGV)
                    return
                time.sleep(0.05)

        threading.Thread(target=kill_soon, daemon=True).start()
        ((_, report),) = list(pool.run([sandbox.Job(str(fifo), "block.pdf", Options())]))
    finally:
        pool.close()
    assert report.indication is Indication.INDETERMINATE
    assert [r.code for r in report.reasons] == ["crashed"]
    assert "SIGSEGV" in report.reasons[0].text()


def test_timestamped_signing_time_is_the_tsa_time(signing: Signing, pki: Pki) -> None:
    data = signing.sign(letter_pdf(), level="B-LT")
    (sig,) = verify_pdf(data, trust=[pki.pem("root")]).signatures
    assert sig.timestamp is not None and sig.signing_time is not None
    # the test TSA stamps at fx.SIGNED_AT (two days before the session's start), not "now": a
    # long test session drifts from the wall clock
    assert abs(sig.timestamp - fx.SIGNED_AT) < timedelta(hours=1)
