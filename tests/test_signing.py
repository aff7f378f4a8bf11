"""The signing library (issue 5) against a real PKI, checked by pyHanko's validator and pdfsig.

Every signed file is judged by two independent verifiers: pyHanko's validator (intact, valid,
trusted, and the modification level from its difference analysis) and poppler's ``pdfsig``
with an NSS database that holds only the test root ("Signature is Valid", "Certificate is
Trusted").
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edoc.errors import (
    AlreadyExists,
    CertificateNotUsable,
    FieldAlreadySigned,
    FieldLocked,
    InvalidField,
    InvalidPdf,
    SignatureFieldMissing,
    SigningServiceUnavailable,
    StampZoneFull,
)
from tests.fixtures_signing import (
    STAMP_ZONE,
    PilotPki,
    assert_all_valid,
    assert_pdfsig_valid,
    letter_boxes,
    letter_pdf,
    pyhanko_status,
    stamp_zone,
    start_pki,
)

NOW = datetime.now(UTC)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    yield from start_pki(tmp_path_factory)


def _signing():
    import edoc.signing as s

    return s


def _prepared(initials: int = 2, pages: int = 1) -> bytes:
    s = _signing()
    return s.prepare_fields(letter_pdf(pages), letter_boxes(initials))


def _mayor_block(when: datetime = NOW):
    return _signing().SignatureBlock("นายปกครอง เมืองดี", "นายกเทศมนตรีเมืองปากช่อง", when)


# -- fields ------------------------------------------------------------------------------------------


def test_prepare_fields_creates_locked_empty_fields_where_the_renderer_said() -> None:
    s = _signing()
    pdf = _prepared(initials=3, pages=2)
    fields = {f.name: f for f in s.inspect_fields(pdf)}
    assert set(fields) == {"signature", "initial-1", "initial-2", "initial-3"}
    assert not any(f.signed for f in fields.values())
    assert fields["signature"].page == 1 and fields["signature"].rect.as_tuple() == (330.0, 150.0, 530.0, 215.0)
    assert fields["initial-1"].locks == ("initial-1",)
    assert fields["initial-3"].locks == ("initial-1", "initial-2", "initial-3")
    assert fields["signature"].locks == ("initial-1", "initial-2", "initial-3", "signature")
    assert all(f.lock_action == "Include" for f in fields.values())
    # an independent reader sees the same fields on the last page
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    assert set(reader.get_fields() or {}) == set(fields)
    assert len(reader.pages[1]["/Annots"]) == 4


def test_prepare_fields_refuses_bad_boxes_and_names() -> None:
    s = _signing()
    pdf = letter_pdf()
    with pytest.raises(InvalidField, match="page 3"):
        s.prepare_fields(pdf, {"signature": (3, (10, 10, 50, 50))})
    with pytest.raises(InvalidField, match="outside page 0"):
        s.prepare_fields(pdf, {"signature": (0, (500, 800, 700, 900))})
    with pytest.raises(InvalidField, match="no area"):
        s.prepare_fields(pdf, {"signature": (0, (10, 10, 10, 50))})
    with pytest.raises(InvalidField, match="field name"):
        s.prepare_fields(pdf, {"ลายเซ็น": (0, (10, 10, 50, 50))})
    prepared = s.prepare_fields(pdf, {"signature": (0, (10, 10, 50, 50))})
    with pytest.raises(AlreadyExists):
        s.prepare_fields(prepared, {"signature": (0, (60, 10, 90, 50))})
    with pytest.raises(InvalidPdf):
        s.prepare_fields(b"this is not a PDF", {"signature": (0, (10, 10, 50, 50))})


def test_stamp_slots_fill_the_zone_from_the_top_right_without_overlap() -> None:
    s = _signing()
    zone = stamp_zone()
    taken: list = []
    rects = []
    for _ in range(4):
        rect = s.stamp_slot(taken, zone)
        assert zone.rect.contains(rect)
        assert not any(rect.intersects(r) for r in rects)
        rects.append(rect)
        taken.append(s.FieldInfo("x", s.FieldKind.STAMP, True, 0, rect))
    assert rects[0].x1 == pytest.approx(zone.rect.x1) and rects[0].y1 == pytest.approx(zone.rect.y1)
    with pytest.raises(StampZoneFull):
        s.stamp_slot(taken, zone)


# -- one signature, every level --------------------------------------------------------------------


def test_initial_b_b_is_valid_for_pyhanko_and_pdfsig(pki: PilotPki, tmp_path: Path) -> None:
    s = _signing()
    signed = s.sign_pdf(_prepared(), pki.signing_key("head1"), field="initial-1", appearance=s.InitialMark("ส.จ.", NOW))
    assert signed.level is s.Level.B_B and signed.field == "initial-1"
    assert signed.signing_time == NOW.astimezone(UTC) and signed.timestamp_time is None
    checks = assert_all_valid(signed.pdf, pki)
    assert [c.modification_level for c in checks] == ["NONE"]
    assert_pdfsig_valid(signed.pdf, pki, tmp_path, expect=1, ocsp=False)
    info = {f.name: f for f in s.inspect_fields(signed.pdf)}
    assert info["initial-1"].signed and not info["initial-2"].signed


def test_b_t_with_a_tsa_url_and_with_an_in_process_tsa(pki: PilotPki, tmp_path: Path) -> None:
    from asn1crypto import tsp

    s = _signing()
    before = datetime.now(UTC)
    by_url = s.sign_pdf(_prepared(), pki.signing_key("head1"), field="initial-1", level="B-T", services=pki.services())
    after = datetime.now(UTC)
    assert by_url.timestamp_time is not None
    assert before - timedelta(seconds=2) <= by_url.timestamp_time <= after + timedelta(seconds=2)

    stamper = pki.arch.service_registry.summon_timestamper("tsa")
    calls = []

    def tsa(request: bytes) -> bytes:
        calls.append(request)
        return stamper.request_tsa_response(tsp.TimeStampReq.load(request)).dump()

    in_process = s.sign_pdf(
        _prepared(),
        pki.signing_key("head2"),
        field="initial-1",
        level="B-T",
        services=pki.services(tsa_url=None, tsa=tsa),
    )
    assert calls, "the in-process TSA was not asked"
    for signed in (by_url, in_process):
        checks = assert_all_valid(signed.pdf, pki)
        assert checks[0].timestamp, "no signature time-stamp"
        assert_pdfsig_valid(signed.pdf, pki, tmp_path, expect=1, ocsp=False)


def test_b_lt_validates_with_fetching_disabled_from_the_dss_alone(pki: PilotPki, tmp_path: Path) -> None:
    s = _signing()
    signed = s.sign_pdf(
        _prepared(),
        pki.signing_key("mayor"),
        field="signature",
        level="B-LT",
        appearance=_mayor_block(),
        services=pki.services(),
    )
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(signed.pdf)))
    assert dss.ocsps or dss.crls, "the DSS holds no revocation data"
    checks = assert_all_valid(signed.pdf, pki, ltv=True)
    assert checks[0].modification_level == "LTA_UPDATES"  # the DSS update only
    assert_pdfsig_valid(signed.pdf, pki, tmp_path, expect=1, ocsp=False)


def test_b_lta_carries_a_document_timestamp_and_refresh_adds_another(pki: PilotPki, tmp_path: Path) -> None:
    s = _signing()
    signed = s.sign_pdf(
        _prepared(),
        pki.signing_key("mayor"),
        field="signature",
        level="B-LTA",
        appearance=_mayor_block(),
        services=pki.services(),
    )
    checks = assert_all_valid(signed.pdf, pki, ltv=True)
    assert [c.kind for c in checks] == ["signature", "timestamp"]
    assert [f.name for f in s.inspect_fields(signed.pdf) if f.kind is s.FieldKind.TIMESTAMP] == ["timestamp-1"]

    refreshed = s.refresh_ltv(signed.pdf, pki.services())
    assert refreshed.startswith(signed.pdf), "the refresh must be an incremental update"
    checks = assert_all_valid(refreshed, pki, ltv=True)
    assert [c.kind for c in checks] == ["signature", "timestamp", "timestamp"]
    assert checks[0].modification_level == "LTA_UPDATES"
    assert_pdfsig_valid(refreshed, pki, tmp_path, expect=1, ocsp=False)


def test_refresh_ltv_on_a_b_t_letter_adds_dss_and_the_first_archive_timestamp(pki: PilotPki) -> None:
    s = _signing()
    signed = s.sign_pdf(_prepared(), pki.signing_key("head1"), field="initial-1", level="B-T", services=pki.services())
    # before: not validatable from the file alone (no revocation data in it)
    assert not pyhanko_status(signed.pdf, pki, ltv=True)[0].trusted
    refreshed = s.refresh_ltv(signed.pdf, pki.services())
    checks = assert_all_valid(refreshed, pki, ltv=True)
    assert [c.kind for c in checks] == ["signature", "timestamp"]


# -- the whole life of a letter --------------------------------------------------------------------


def test_the_life_of_a_letter_keeps_every_signature_at_form_filling_or_better(pki: PilotPki, tmp_path: Path) -> None:
    """initial, initial, sign (B-LT), received stamps at two agencies, receipts, LTV refresh."""
    s = _signing()
    services = pki.services()
    pdf = _prepared(initials=2)
    steps = [
        (
            "initial-1",
            lambda p: s.sign_pdf(p, pki.signing_key("head1"), field="initial-1", appearance=s.InitialMark("ส.จ.", NOW)),
        ),
        (
            "initial-2",
            lambda p: s.sign_pdf(
                p,
                pki.signing_key("head2"),
                field="initial-2",
                level="B-T",
                appearance=s.InitialMark("ก.ก.", NOW),
                services=services,
            ),
        ),
        (
            "signature",
            lambda p: s.sign_pdf(
                p,
                pki.signing_key("mayor"),
                field="signature",
                level="B-LT",
                appearance=_mayor_block(),
                services=services,
            ),
        ),
        (
            "received-1",
            lambda p: s.stamp_received(
                p,
                pki.signing_key("seal-b"),
                s.ReceivedStamp("อำเภอปากช่อง", "1234", NOW),
                zone=stamp_zone(),
                services=services,
            ),
        ),
        ("receipt-1", lambda p: s.sign_receipt(p, pki.signing_key("seal-b"), services=services)),
        (
            "received-2",
            lambda p: s.stamp_received(
                p,
                pki.signing_key("seal-a"),
                s.ReceivedStamp("เทศบาลเมืองปากช่อง", "๕๖", NOW, thai_digits=True),
                zone=stamp_zone(),
                level="B-LTA",
                services=services,
            ),
        ),
        ("receipt-2", lambda p: s.sign_receipt(p, pki.signing_key("seal-a"), level="B-B")),
    ]
    fields_signed = []
    for name, step in steps:
        result = step(pdf)
        assert result.field == name
        assert result.pdf.startswith(pdf), f"{name} rewrote earlier revisions"
        pdf = result.pdf
        fields_signed.append(name)
        checks = assert_all_valid(pdf, pki)
        assert [c.field for c in checks if c.kind == "signature"] == fields_signed
        assert_pdfsig_valid(pdf, pki, tmp_path, expect=len(fields_signed), ocsp=False)
    pdf = s.refresh_ltv(pdf, services)
    checks = assert_all_valid(pdf, pki)
    levels = {c.field: c.modification_level for c in checks if c.kind == "signature"}
    assert levels["initial-1"] == "FORM_FILLING" and levels["receipt-2"] == "LTA_UPDATES"
    assert_pdfsig_valid(pdf, pki, tmp_path, expect=len(fields_signed), ocsp=False)
    # the two received stamps sit in the stamp zone, side by side, not overlapping
    stamps = [f for f in s.inspect_fields(pdf) if f.kind is s.FieldKind.STAMP]
    assert [f.name for f in stamps] == ["received-1", "received-2"]
    zone = s.Rect(*STAMP_ZONE)
    assert all(f.page == 0 and zone.contains(f.rect) for f in stamps)
    assert not stamps[0].rect.intersects(stamps[1].rect)
    # receipts are invisible; the stamp locks every field that existed before it
    receipts = {f.name: f for f in s.inspect_fields(pdf) if f.kind is s.FieldKind.RECEIPT}
    assert set(receipts) == {"receipt-1", "receipt-2"} and all(r.rect is None for r in receipts.values())
    assert stamps[0].locks == ("signature", "initial-1", "initial-2", "received-1")


def test_a_change_to_the_page_after_signing_is_not_an_allowed_change(pki: PilotPki, tmp_path: Path) -> None:
    """The counter-proof: the same difference analysis catches what is not a signature."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.stamp import TextStampStyle

    s = _signing()
    signed = s.sign_pdf(_prepared(), pki.signing_key("mayor"), field="signature", appearance=_mayor_block()).pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    TextStampStyle(stamp_text="APPROVED").create_stamp(writer, _box(), {}).apply(0, 100, 400)
    out = io.BytesIO()
    writer.write(out)
    checks = pyhanko_status(out.getvalue(), pki)
    assert checks[0].intact and checks[0].modification_level == "OTHER" and not checks[0].bottom_line


def _box():
    from pyhanko.pdf_utils.layout import BoxConstraints

    return BoxConstraints(width=120, height=40)


def test_certification_then_a_received_stamp_is_the_trap_the_design_avoids(pki: PilotPki) -> None:
    """After a DocMDP certification, pyHanko rejects a received stamp made later as a new
    signature field; with approval signatures (edoc's choice) the same stamp is form filling."""
    s = _signing()
    stamp = s.ReceivedStamp("อำเภอปากช่อง", "77", NOW)
    certified = s.sign_pdf(
        _prepared(), pki.signing_key("mayor"), field="signature", appearance=_mayor_block(), certify=True
    ).pdf
    after = s.stamp_received(certified, pki.signing_key("seal-b"), stamp, zone=stamp_zone(), level="B-B").pdf
    first = pyhanko_status(after, pki)[0]
    assert first.intact and not first.bottom_line and first.docmdp_ok is False

    approved = s.sign_pdf(_prepared(), pki.signing_key("mayor"), field="signature", appearance=_mayor_block()).pdf
    after = s.stamp_received(approved, pki.signing_key("seal-b"), stamp, zone=stamp_zone(), level="B-B").pdf
    first = pyhanko_status(after, pki)[0]
    assert first.bottom_line and first.modification_level == "FORM_FILLING"


# -- appearances -------------------------------------------------------------------------------------


def _appearance(pdf: bytes, field: str) -> tuple[list[str], list[int], str]:
    """What a field's appearance draws, read with pypdf (an independent parser): the
    ActualText of each line, the glyph ids shown, and the font names."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for annot in page.get("/Annots", []):
            widget = annot.get_object()
            if widget.get("/T") == field:
                found: dict[str, list] = {"texts": [], "glyphs": [], "fonts": []}
                _walk(widget["/AP"]["/N"].get_object(), reader, found)
                return found["texts"], found["glyphs"], ",".join(found["fonts"])
    raise AssertionError(f"no widget {field}")


def _walk(xobj, reader, found: dict[str, list]) -> None:
    from pypdf.generic import ContentStream

    resources = xobj.get("/Resources", {})
    for font in resources.get("/Font", {}).values():
        found["fonts"].append(str(font.get_object()["/BaseFont"]))
    for operands, op in ContentStream(xobj, reader).operations:
        if op == b"BDC" and len(operands) == 2 and "/ActualText" in operands[1]:
            found["texts"].append(str(operands[1]["/ActualText"]))
        elif op in (b"Tj", b"TJ"):
            items = [operands[0]] if op == b"Tj" else [i for i in operands[0] if not isinstance(i, int | float)]
            for item in items:
                raw = bytes(item.original_bytes if hasattr(item, "original_bytes") else item)
                found["glyphs"].extend(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
    for inner in resources.get("/XObject", {}).values():
        _walk(inner.get_object(), reader, found)


def test_the_signature_block_is_thai_shaped_by_harfbuzz_in_embedded_sarabun(pki: PilotPki, tmp_path: Path) -> None:
    import uharfbuzz as hb

    from edoc.signing.appearance import appearance_text, sarabun_path

    s = _signing()
    block = s.SignatureBlock("นางสาวเกศินี แก้วมณี", "ผู้อำนวยการกองช่าง", NOW)
    signed = s.sign_pdf(_prepared(), pki.signing_key("head2"), field="signature", appearance=block).pdf
    texts, drawn, fonts = _appearance(signed, "signature")
    assert "Sarabun" in fonts
    # every line is marked with its Unicode text ...
    lines = appearance_text(block).split("\n")
    assert texts == lines
    # ... and drawn with the glyphs HarfBuzz (run here, independently) picks with the full font
    font = hb.Font(hb.Face(sarabun_path().read_bytes()))
    expected = []
    for line in lines:
        buf = hb.Buffer()
        buf.add_str(line)
        buf.guess_segment_properties()
        hb.shape(font, buf)
        expected.extend(i.codepoint for i in buf.glyph_infos)
    assert drawn == expected
    # and that is real shaping: ผู้ (tone mark over a lower vowel) and ศิ ... are not the glyphs a
    # plain character-to-glyph lookup gives (GSUB picks the placed mark forms)
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(sarabun_path())).getBestCmap()
    order = TTFont(str(sarabun_path())).getGlyphOrder()
    naive = [order.index(cmap[ord(ch)]) for line in lines for ch in line if ord(ch) in cmap]
    assert drawn != naive
    # pdffonts (poppler) sees the subset embedded
    path = tmp_path / "block.pdf"
    path.write_bytes(signed)
    if shutil.which("pdffonts"):
        out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
        assert re.search(r"[A-Z]{6}\+Sarabun-Regular\S*\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes", out), out
    # pdftoppm draws ink inside the signature box
    _assert_ink(path, tmp_path, page=0, box=(330.0, 150.0, 530.0, 215.0))


def _assert_ink(pdf: Path, tmp_path: Path, *, page: int, box: tuple[float, float, float, float]) -> None:
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm (poppler-utils) is not installed")
    from PIL import Image

    prefix = tmp_path / f"render-{page}"
    subprocess.run(
        ["pdftoppm", "-r", "72", "-f", str(page + 1), "-l", str(page + 1), "-png", str(pdf), str(prefix)], check=True
    )
    image = Image.open(next(tmp_path.glob(f"render-{page}*.png"))).convert("L")
    x0, y0, x1, y1 = box
    height = image.height
    crop = image.crop((int(x0), int(height - y1), int(x1), int(height - y0)))
    dark = sum(crop.histogram()[:160])
    assert dark > 50, "nothing drawn in the signature box"


def test_initials_and_stamps_print_what_they_should(pki: PilotPki) -> None:
    from edoc.signing.appearance import appearance_text

    s = _signing()
    when = datetime(2026, 11, 22, 3, 30, tzinfo=UTC)  # 10.30 in Bangkok
    assert appearance_text(s.InitialMark("ส.จ.", when)) == "ส.จ.\n22 พ.ย. 69"
    assert appearance_text(s.ReceivedStamp("เทศบาลเมืองปากช่อง", "1234", when, thai_digits=True)) == (
        "เทศบาลเมืองปากช่อง\nเลขรับ ๑๒๓๔\nวันที่ ๒๒ พ.ย. ๒๕๖๙\nเวลา ๑๐.๓๐ น."
    )
    assert appearance_text(s.SignatureBlock("นายปกครอง\nเมืองดี", "นายก", when)).split("\n")[1:] == [
        "นายปกครอง เมืองดี",
        "นายก",
        "22 พฤศจิกายน 2569 10.30 น.",
    ]
    # a stamp really shows its text (decoded from the signed file)
    signed = s.stamp_received(
        _prepared(),
        pki.signing_key("seal-a"),
        s.ReceivedStamp("เทศบาลเมืองปากช่อง", "1234", when),
        zone=stamp_zone(),
        level="B-B",
    ).pdf
    texts, _, _ = _appearance(signed, "received-1")
    assert texts == ["เทศบาลเมืองปากช่อง", "เลขรับ 1234", "วันที่ 22 พ.ย. 2569", "เวลา 10.30 น."]


def test_a_long_agency_name_fits_its_received_stamp_without_a_layout_warning(
    pki: PilotPki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The province run printed "Content box width/height 91.00000000000001 is too wide for
    container size 99" from pyHanko for some agencies: a name wider than the stamp is shrunk to
    the exact width, and pyHanko's product came out one rounding error wider. The longest name
    of the pilot directory and one that hit the rounding error must stamp silently, in full,
    broken over lines at word boundaries rather than shrunk to a third of its size."""
    import logging

    from edoc.pilot.directory import province_agencies
    from edoc.signing.appearance import stamp_name_lines

    s = _signing()
    names = [a.name for a, _ in province_agencies(343)]
    longest = max(names, key=len)
    rounding_victim = "องค์การบริหารส่วนตำบลจอหอ อำเภอคง"  # warned before the fix
    assert rounding_victim in names
    when = datetime(2026, 11, 22, 3, 30, tzinfo=UTC)
    for name in (longest, rounding_victim):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            signed = s.stamp_received(
                _prepared(),
                pki.signing_key("seal-a"),
                s.ReceivedStamp(name, "1234", when),
                zone=stamp_zone(),
                level="B-B",
            ).pdf
        assert not [r for r in caplog.records if "too wide" in r.getMessage()], name
        texts, _, _ = _appearance(signed, "received-1")
        lines = list(stamp_name_lines(name))
        assert 2 <= len(lines) <= 3 and texts == [*lines, "เลขรับ 1234", "วันที่ 22 พ.ย. 2569", "เวลา 10.30 น."]
        assert "".join(lines).replace(" ", "") == name.replace(" ", "")  # every letter, in order
        if shutil.which("pdftotext"):
            path = tmp_path / "stamped.pdf"
            path.write_bytes(signed)
            shown = subprocess.run(
                ["pdftotext", "-q", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
            assert all(line in shown for line in lines) and "เลขรับ 1234" in shown
            assert "".join(shown.split()).find("".join(name.split())) >= 0  # the full name, in order


# -- refusals ------------------------------------------------------------------------------------------


def test_refusals_name_what_is_wrong_and_change_nothing(pki: PilotPki) -> None:
    s = _signing()
    pdf = _prepared()
    head = pki.signing_key("head1")
    with pytest.raises(SignatureFieldMissing):
        s.sign_pdf(pdf, head, field="initial-9")
    once = s.sign_pdf(pdf, head, field="initial-1").pdf
    with pytest.raises(FieldAlreadySigned):
        s.sign_pdf(once, head, field="initial-1")
    signed = s.sign_pdf(pdf, pki.signing_key("mayor"), field="signature", appearance=_mayor_block()).pdf
    with pytest.raises(FieldLocked, match="'initial-1' is locked by the signature in 'signature'"):
        s.sign_pdf(signed, head, field="initial-1")
    with pytest.raises(InvalidField, match="time-stamping"):
        s.sign_pdf(pdf, head, field="initial-1", level="B-T")
    with pytest.raises(InvalidField, match="level"):
        s.sign_pdf(pdf, head, field="initial-1", level="B-XL")
    with pytest.raises(InvalidField, match="invisible"):
        s.sign_pdf(pdf, head, field="receipt-1", create=True, appearance=s.InitialMark("ส.จ.", NOW))
    with pytest.raises(AlreadyExists):
        s.sign_pdf(pdf, head, field="signature", create=True)
    with pytest.raises(InvalidPdf):
        s.sign_pdf(b"%PDF-1.7\nnot really", head, field="signature")
    with pytest.raises(InvalidField, match="first signature"):
        s.sign_pdf(once, pki.signing_key("mayor"), field="signature", certify=True)


@pytest.mark.parametrize("who, why", [("expired", "expired on"), ("notyet", "not valid before")])
def test_expired_and_not_yet_valid_certificates_cannot_sign(pki: PilotPki, who: str, why: str) -> None:
    s = _signing()
    with pytest.raises(CertificateNotUsable, match=why) as info:
        s.sign_pdf(_prepared(), pki.signing_key(who), field="initial-1")
    assert info.value.exit_code == 3


def test_a_revoked_certificate_is_caught_when_revocation_is_checked(pki: PilotPki) -> None:
    s = _signing()
    with pytest.raises(CertificateNotUsable, match="revoked"):
        s.sign_pdf(_prepared(), pki.signing_key("revoked"), field="initial-1", level="B-LT", services=pki.services())


def test_an_unreachable_tsa_is_a_clear_service_error(pki: PilotPki) -> None:
    s = _signing()
    services = pki.services(tsa_url="http://127.0.0.1:9/tsa", timeout=2)
    with pytest.raises(SigningServiceUnavailable, match="time-stamping"):
        s.sign_pdf(_prepared(), pki.signing_key("head1"), field="initial-1", level="B-T", services=services)


def test_credentials_must_match_their_certificate(pki: PilotPki) -> None:
    s = _signing()
    with pytest.raises(InvalidField, match="does not match"):
        s.Credentials(certificate=pki.cert("head1"), key=pki.keys["head2"], owner="head1")
    with pytest.raises(InvalidField, match="either"):
        s.Credentials(certificate=pki.cert("head1"))


# -- keys ----------------------------------------------------------------------------------------------


def test_an_rsa_key_is_loaded_once_not_per_signature(pki: PilotPki, tmp_path: Path, monkeypatch) -> None:
    """pyHanko's SimpleSigner re-parses the key for every signature; edoc's KeySigner must not."""
    from cryptography.hazmat.primitives import serialization

    s = _signing()
    key = pki.signing_key("rsa-user")

    def forbidden(*args, **kwargs):
        raise AssertionError("the private key was parsed again")

    monkeypatch.setattr(serialization, "load_der_private_key", forbidden)
    pdf = _prepared()
    for field in ("initial-1", "initial-2"):
        pdf = s.sign_pdf(pdf, key, field=field).pdf
    assert_all_valid(pdf, pki)
    assert_pdfsig_valid(pdf, pki, tmp_path, expect=2, ocsp=False)


def test_reserved_space_is_estimated_once_per_key_and_level(pki: PilotPki) -> None:
    s = _signing()
    key = pki.signing_key("head1")
    pdf = _prepared()
    s.sign_pdf(pdf, key, field="initial-1")
    assert len(key.reserved) == 1
    reserved = next(iter(key.reserved.values()))
    s.sign_pdf(pdf, key, field="initial-2")
    assert list(key.reserved.values()) == [reserved]


# -- PKCS#11 (SoftHSM2) ------------------------------------------------------------------------------------


@pytest.fixture
def softhsm_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    module = Path("/usr/lib/softhsm/libsofthsm2.so")
    if not module.exists() or not shutil.which("softhsm2-util"):
        pytest.fail("softhsm2 is not installed (it is in .ci/run's Debian list)")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "edoc-test",
            "--so-pin",
            "12345678",
            "--pin",
            "87654321",
        ],
        check=True,
        capture_output=True,
    )
    return module


def test_pkcs11_key_on_softhsm_signs_valid_letters(pki: PilotPki, softhsm_token: Path, tmp_path: Path) -> None:
    import pkcs11
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    s = _signing()
    lib = pkcs11.lib(str(softhsm_token))
    token = lib.get_token(token_label="edoc-test")
    with token.open(rw=True, user_pin="87654321") as session:
        params = session.create_domain_parameters(
            pkcs11.KeyType.EC, {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
        )
        public, _private = params.generate_keypair(store=True, label="mayor-key", id=b"\x01")
        spki = encode_ec_public_key(public)
    public_key = serialization.load_der_public_key(spki)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    issuer = pki.cert("interm")
    template = pki.cert("mayor")
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
    )
    for ext in template.extensions:
        if ext.oid != x509.ExtensionOID.SUBJECT_KEY_IDENTIFIER:
            builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
    cert = builder.sign(pki.keys["interm"], hashes.SHA256())
    creds = s.Credentials(
        certificate=cert,
        chain=(issuer, pki.root),
        pkcs11=s.Pkcs11Key(module=str(softhsm_token), token_label="edoc-test", key_id=b"\x01", pin="87654321"),
        owner="mayor",
    )
    with s.SigningKey(creds) as key:
        pdf = _prepared()
        pdf = s.sign_pdf(pdf, key, field="initial-1").pdf
        pdf = s.sign_pdf(
            pdf, key, field="signature", appearance=_mayor_block(), level="B-T", services=pki.services()
        ).pdf
    assert_all_valid(pdf, pki)
    assert_pdfsig_valid(pdf, pki, tmp_path, expect=2, ocsp=False)

    from edoc.errors import WrongPassphrase

    wrong = s.Credentials(
        certificate=cert,
        chain=(issuer,),
        pkcs11=s.Pkcs11Key(module=str(softhsm_token), token_label="edoc-test", key_id=b"\x01", pin="00000000"),
    )
    with pytest.raises(WrongPassphrase):
        s.SigningKey(wrong)


# -- batch -----------------------------------------------------------------------------------------------


def test_a_batch_over_two_processes_signs_the_good_and_reports_the_bad(pki: PilotPki, tmp_path: Path) -> None:
    from edoc.signing.batch import Job, sign_batch

    s = _signing()
    good = _prepared()
    jobs = [Job(key=i, pdf=good, field="signature", appearance=_mayor_block(), extra={"n": i}) for i in range(5)]
    jobs.insert(2, Job(key="bad", pdf=b"not a pdf", field="signature"))
    already = s.sign_pdf(good, pki.signing_key("mayor"), field="signature").pdf
    jobs.append(Job(key="twice", pdf=already, field="signature"))
    seen = []
    outcomes = {o.key: o for o in sign_batch(jobs, pki.credentials("mayor"), workers=2, on_done=seen.append)}
    assert len(seen) == len(jobs) == len(outcomes)
    assert outcomes["bad"].error_type == "InvalidPdf" and outcomes["bad"].exit_code == 2
    assert "ไม่สามารถลงนาม" in (outcomes["bad"].error_th or "")
    assert outcomes["twice"].error_type == "FieldAlreadySigned" and outcomes["twice"].exit_code == 5
    for i in range(5):
        assert outcomes[i].ok and outcomes[i].extra == {"n": i}
        assert_all_valid(outcomes[i].signed.pdf, pki)
    assert_pdfsig_valid(outcomes[0].signed.pdf, pki, tmp_path, expect=1, ocsp=False)
