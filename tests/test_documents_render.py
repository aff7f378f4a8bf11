"""The rendered PDFs, read back with independent tools: text round trip, fonts, margins, the
stamp zone, page furniture, PDF/A metadata, attachments, and a raster check."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edoc.documents import validate
from edoc.documents.linebreak import break_lines, clusters, segment, units
from edoc.documents.pdf import Attachment
from edoc.documents.render import (
    BOTTOM,
    LEFT,
    PAGE_H,
    RIGHT,
    Letterhead,
    Person,
    RenderInput,
    RenderResult,
    render,
)
from tests import pdftools
from tests.fixtures_documents import MINIMAL

MM = 72 / 25.4
HEAD = Letterhead(
    "เทศบาลเมืองปากช่อง",
    "สำนักงานเทศบาลเมืองปากช่อง ถนนเทศบาล ๑ ตำบลปากช่อง อำเภอปากช่อง จังหวัดนครราชสีมา 30130",
    "นม 52101",
)
SIGNER = Person("นายสมศักดิ์ ประเสริฐวงศ์", "นายกเทศมนตรีเมืองปากช่อง")
BODY = [
    "ด้วยเทศบาลเมืองปากช่องมีความประสงค์จะจัดประชุมคณะกรรมการพัฒนาเทศบาลเมืองปากช่อง ครั้งที่ ๓/๒๕๖๙ "
    "ในวันพุธที่ ๒๕ พฤศจิกายน ๒๕๖๙ เวลา ๐๙.๓๐ น. ณ ห้องประชุมสำนักงานเทศบาลเมืองปากช่อง "
    "เพื่อพิจารณาแผนพัฒนาท้องถิ่น (พ.ศ. ๒๕๖๖ - ๒๕๗๐) เพิ่มเติม ครั้งที่ ๒",
    "ในการนี้ เทศบาลเมืองปากช่องจึงขอเชิญท่านเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว "
    "ทั้งนี้ ได้แนบระเบียบวาระการประชุมมาพร้อมนี้ด้วยแล้ว น้ำท่วม ฝั่งขวา ปั้นดิน ฤๅษี ต่างๆ ฯลฯ",
    "จึงเรียนมาเพื่อโปรดพิจารณาเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าวด้วย จะเป็นพระคุณ",
]
WHEN = date(2026, 11, 22)


def make(kind: tuple[str, str | None] = ("external", None), *, head: Letterhead = HEAD, **fields: Any) -> RenderInput:
    data = {**MINIMAL[kind], "body": BODY, **fields}
    content = validate(kind[0], data)
    initials = tuple(Person(f"นายหัวหน้า {i}", "ผู้อำนวยการกอง") for i, _ in enumerate(content.initials))
    return RenderInput(
        content=content,
        agency=head,
        signer=SIGNER,
        date=WHEN,
        created=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
        initials=initials,
        unit_name="สำนักปลัดเทศบาล",
    )


_CACHE: dict[str, RenderResult] = {}


def rendered(kind: tuple[str, str | None]) -> RenderResult:
    key = f"{kind}"
    if key not in _CACHE:
        _CACHE[key] = render(make(kind))
    return _CACHE[key]


# -- every kind ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MINIMAL))
def test_every_kind_reads_back_exactly(kind: tuple[str, str | None]) -> None:
    result = rendered(kind)
    assert result.pdf.startswith(b"%PDF-1.7") and result.pages >= 1
    extracted = pdftools.body_text(result.pdf)
    content = make(kind).content
    for paragraph in content.body:
        assert pdftools.squeeze(paragraph) in extracted, paragraph
    named = kind[0] != "stamped" and kind[1] not in ("statement", "news")  # these forms print no name
    assert (pdftools.squeeze(SIGNER.full_name) in extracted) == named
    assert pdftools.squeeze(HEAD.name) in extracted
    for name, printed in result.fields.items():
        assert pdftools.squeeze(printed) in extracted, name
    assert "signature" in result.signature_boxes


@pytest.mark.parametrize("kind", list(MINIMAL))
def test_only_embedded_subset_fonts(kind: tuple[str, str | None]) -> None:
    rows = pdftools.fonts(rendered(kind).pdf)
    assert rows, "no fonts at all"
    for row in rows:
        assert (row["emb"], row["sub"], row["uni"]) == ("yes", "yes", "yes"), row["line"]
        assert re.fullmatch(r"[A-Z]{6}\+Sarabun-(Regular|Bold)", row["name"]), row["name"]


@pytest.mark.parametrize("kind", list(MINIMAL))
def test_every_word_stays_inside_the_margins_and_out_of_the_stamp_zone(kind: tuple[str, str | None]) -> None:
    result = rendered(kind)
    zone = result.stamp_zone
    # the zone in poppler's top-down coordinates
    zx0, zx1, ztop, zbottom = zone.x0, zone.x1, PAGE_H - zone.y1, PAGE_H - zone.y0
    found = pdftools.words(result.pdf)
    assert found
    for w in found:
        assert w.x0 >= LEFT - 0.5 and w.x1 <= RIGHT + 0.5, w
        assert w.y0 >= 0 and w.y1 <= PAGE_H, w
        if w.page == 0:
            overlaps = w.x1 > zx0 and w.x0 < zx1 and w.y1 > ztop and w.y0 < zbottom
            assert not overlaps, w


def test_signature_box_sits_above_the_printed_name() -> None:
    result = rendered(("external", None))
    box = result.signature_boxes["signature"]
    names = [w for w in pdftools.words(result.pdf) if w.page == box.page and w.text.startswith("(นาย")]
    assert names, "the (full name) line is on the signature's page"
    name_top = PAGE_H - names[0].y0  # back to PDF coordinates
    assert 0 <= box.y0 - name_top < 10, (box, name_top)
    line = [w for w in pdftools.words(result.pdf) if abs(w.y0 - names[0].y0) < 1]
    assert box.x0 < (line[0].x0 + line[-1].x1) / 2 < box.x1


# -- fields, digits, furniture -------------------------------------------------------------------


def test_header_fields_of_an_external_letter() -> None:
    result = render(
        make(
            urgency="ด่วนที่สุด",
            reference="หนังสือจังหวัดนครราชสีมา ที่ นม 0017/ว 123",
            enclosures=["ระเบียบวาระการประชุม", "แผนที่"],
            contact={"unit": "สำนักปลัดเทศบาล", "phone": "0 4431 1234", "email": "saraban@pakchong.go.th"},
            copies_to=["นายอำเภอปากช่อง"],
        )
    )
    text = pdftools.squeeze(pdftools.text(result.pdf))
    for expected in (
        "ด่วนที่สุด",
        "ที่นม52101/",
        "22พฤศจิกายน2569",
        "เรื่องขอความอนุเคราะห์",
        "เรียนนายอำเภอปากช่อง",
        "อ้างถึงหนังสือจังหวัดนครราชสีมาที่นม0017/ว123",
        "สิ่งที่ส่งมาด้วย1.ระเบียบวาระการประชุม",
        "2.แผนที่",
        "ขอแสดงความนับถือ",
        "(นายสมศักดิ์ประเสริฐวงศ์)",
        "นายกเทศมนตรีเมืองปากช่อง",
        "โทร.044311234",
        "ไปรษณีย์อิเล็กทรอนิกส์saraban@pakchong.go.th",
        "สำเนาส่งนายอำเภอปากช่อง",
    ):
        assert expected in text, expected


def test_thai_digits_follow_the_agency_setting() -> None:
    thai = render(make(head=Letterhead(HEAD.name, HEAD.address, HEAD.letter_code, thai_digits=True)))
    text = pdftools.squeeze(pdftools.text(thai.pdf))
    assert "ที่นม๕๒๑๐๑/" in text and "๒๒พฤศจิกายน๒๕๖๙" in text
    order = render(make(("directive", "order"), head=Letterhead(HEAD.name, thai_digits=True)))
    assert "ที่/๒๕๖๙" in pdftools.squeeze(pdftools.text(order.pdf))
    assert "สั่งณวันที่๒๒พฤศจิกายนพ.ศ.๒๕๖๙" in pdftools.squeeze(pdftools.text(order.pdf))


def test_issued_number_is_printed() -> None:
    doc = make()
    result = render(RenderInput(**{**doc.__dict__, "number": "นม 52101/1234"}))
    assert "ที่นม52101/1234" in pdftools.squeeze(pdftools.text(result.pdf))


def test_long_body_flows_over_pages_with_furniture() -> None:
    long_body = [BODY[0] + " " + BODY[1]] * 9
    result = render(make(body=long_body, secrecy="ลับมาก"))
    assert result.pages >= 3
    assert result.signature_boxes["signature"].page == result.pages - 1
    found = pdftools.words(result.pdf)
    for page in range(result.pages):
        on_page = [w for w in found if w.page == page]
        marks = [w for w in on_page if w.text == "ลับมาก"]
        assert any(w.y1 < 15 * MM for w in marks) and any(w.y0 > BOTTOM + 5 * MM for w in marks), page
        if page > 0:
            number = "".join(w.text for w in on_page if w.y1 < 22 * MM and w.text != "ลับมาก")
            assert number.replace(" ", "") in (f"-{page + 1}-", f"-{page + 1}"), number
        # the body never enters the footer band
        below = [w for w in on_page if w.text != "ลับมาก" and w.y0 > BOTTOM]
        if page + 1 < result.pages:
            assert re.fullmatch(r"/\S+\.\.\.", "".join(w.text for w in below)), below
            assert below[-1].x1 > RIGHT - 1  # right-aligned at the margin
        else:
            assert below == []
    page_one = pdftools.text(result.pdf, first=1, last=1)
    assert re.search(r"/\S+\.\.\.", page_one), "the next page's first word at the bottom right"
    extracted = pdftools.body_text(result.pdf)
    assert pdftools.squeeze("".join(long_body)) in extracted


def test_attachments_are_embedded_and_listed(tmp_path: Any) -> None:
    files = (
        Attachment("แผนที่.pdf", b"%PDF-1.4 map", "application/pdf"),
        Attachment("data.csv", b"a,b\n1,2\n", "text/csv"),
    )
    doc = make()
    result = render(RenderInput(**{**doc.__dict__, "attachments": files}))
    assert result.pdfa_part == 3
    got = pdftools.detach(result.pdf)
    assert got == {a.name: a.data for a in files}
    text = pdftools.squeeze(pdftools.text(result.pdf))
    for a in files:
        assert hashlib.sha256(a.data).hexdigest() in text
        assert pdftools.squeeze(a.name) in text


def test_pdfa_metadata_and_output_intent() -> None:
    from pypdf import PdfReader

    result = rendered(("external", None))
    meta = pdftools.info(result.pdf)
    assert meta["Encrypted"] == "no" and meta["JavaScript"] == "no" and meta["Metadata Stream"] == "yes"
    assert meta["Title"] == "ขอความอนุเคราะห์" and meta["Author"] == SIGNER.full_name
    raw = meta["_raw"]
    assert "<pdfaid:part>2</pdfaid:part>" in raw and "<pdfaid:conformance>B</pdfaid:conformance>" in raw
    assert "ขอความอนุเคราะห์" in raw and "เทศบาลเมืองปากช่อง" in raw  # dc:title, dc:publisher
    reader = PdfReader(io.BytesIO(result.pdf))
    assert reader.trailer.get("/ID") and "/Encrypt" not in reader.trailer
    [intent] = reader.trailer["/Root"]["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3 and profile.get_data()[36:40] == b"acsp"
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            descendant = ref.get_object()["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"]
            assert descendant["/CIDToGIDMap"] == "/Identity"


def test_embedded_subset_is_a_valid_font() -> None:
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(rendered(("external", None)).pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        descendant = ref.get_object()["/DescendantFonts"][0].get_object()
        program = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        tt = TTFont(io.BytesIO(program))
        glyf = tt["glyf"]
        widths = descendant["/W"]
        used = [widths[i] for i in range(0, len(widths), 2)]
        order = tt.getGlyphOrder()
        for gid in used:  # every glyph the page shows has its outline (or is blank by design)
            assert gid < len(order)
            assert tt["hmtx"][order[gid]][0] == widths[used.index(gid) * 2 + 1][0]
        assert sum(1 for name in order if glyf[name].numberOfContours != 0) < len(order) / 2


def test_raster_image_of_page_one() -> None:
    """pdftoppm's picture: red urgency at the top left, nothing in the stamp zone or the margins."""
    result = render(make(urgency="ด่วนมาก", secrecy="ลับ"))
    img: Any = pdftools.image(result.pdf, 1, dpi=50)
    scale = 50 / 72
    w, h = img.size

    def px(x_pt: float, y_top_pt: float) -> tuple[int, int]:
        return min(w - 1, int(x_pt * scale)), min(h - 1, int(y_top_pt * scale))

    def region(x0: float, y0: float, x1: float, y1: float) -> list[tuple[int, int, int]]:
        (a, b), (c, d) = px(x0, y0), px(x1, y1)
        return [img.getpixel((x, y)) for x in range(a, c) for y in range(b, d)]

    urgency = region(LEFT, 8 * MM, LEFT + 50 * MM, 22 * MM)
    assert sum(1 for r, g, b in urgency if r > 150 and g < 90 and b < 90) > 20, "red urgency"
    secrecy = region(90 * MM, 2 * MM, 120 * MM, 13 * MM)
    assert sum(1 for r, g, b in secrecy if r > 150 and g < 90 and b < 90) > 5, "red secrecy mark"
    zone = result.stamp_zone
    assert all(p == (255, 255, 255) for p in region(zone.x0, PAGE_H - zone.y1, zone.x1, PAGE_H - zone.y0))
    assert all(sum(p) > 720 for p in region(0, 0, LEFT - 2, PAGE_H)), "left margin is blank"
    assert all(sum(p) > 720 for p in region(RIGHT + 2, 0, 210 * MM, PAGE_H)), "right margin is blank"
    body = region(LEFT, 110 * MM, RIGHT, 150 * MM)
    assert sum(1 for p in body if sum(p) < 200) > 200, "body text is drawn"


def test_agency_emblem_image_is_embedded() -> None:
    from PIL import Image

    picture = Image.new("RGBA", (60, 60), (0, 90, 160, 255))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    result = render(make(head=Letterhead(HEAD.name, HEAD.address, HEAD.letter_code, emblem=buffer.getvalue())))
    img: Any = pdftools.image(result.pdf, 1, dpi=40)
    centre = img.getpixel((int(105 * MM * 40 / 72), int(30 * MM * 40 / 72)))
    assert centre[2] > 120 and centre[0] < 60, centre


def test_rendering_is_deterministic() -> None:
    assert render(make()).pdf == render(make()).pdf


# -- line breaking ---------------------------------------------------------------------------------


def test_lines_break_only_at_dictionary_word_boundaries() -> None:
    from edoc.documents.fonts import font

    f = font()
    text = " ".join(BODY)
    boundaries = set()
    pos = 0
    for token in segment(text):
        pos += len(token)
        boundaries.add(pos)
    widest = max(f.width(t, 16) for t in segment(text))
    for width in (widest, widest + 40, 300, 453):
        lines = break_lines(text, lambda s: f.width(s, 16), [width])
        rebuilt = ""
        for line in lines:
            assert line.width <= width + 0.01
            joined = "".join(line.pieces)
            if rebuilt:
                assert len(rebuilt) in boundaries, (rebuilt[-10:], joined[:10])
                assert not ("\u0e31" <= joined[0] <= "\u0e3a" or "\u0e47" <= joined[0] <= "\u0e4e"), joined
            rebuilt += joined
            if text[len(rebuilt) : len(rebuilt) + 1] == " ":
                rebuilt += " "
        assert rebuilt.strip() == text


def test_numbers_dates_and_marks_are_never_split() -> None:
    glued = [u.text for u in units("ครั้งที่ ๓/๒๕๖๙ ต่างๆ (พ.ศ. ๒๕๖๖ - ๒๕๗๐) ฯลฯ")]
    assert "๓/๒๕๖๙" in glued and "ต่างๆ" in glued and "๒๕๖๖ -" not in glued
    assert any(u.startswith("- ") or u.endswith("- ๒๕๗๐)") for u in glued), glued


def test_an_over_long_word_splits_between_clusters_only() -> None:
    from edoc.documents.fonts import font

    f = font()
    word = "ประเสริฐวงศ์" * 6
    lines = break_lines(word, lambda s: f.width(s, 16), [80])
    assert len(lines) > 1 and "".join(p for line in lines for p in line.pieces) == word
    allowed = set()
    pos = 0
    for cluster in clusters(word):
        pos += len(cluster)
        allowed.add(pos)
    pos = 0
    for line in lines[:-1]:
        pos += len("".join(line.pieces))
        assert pos in allowed


# -- a property over random Thai paragraphs ------------------------------------------------------

_VOCABULARY: list[str] = []


def _vocabulary() -> list[str]:
    if not _VOCABULARY:
        import random

        from pythainlp.corpus import thai_words

        words = sorted(thai_words())
        _VOCABULARY.extend(random.Random(2569).sample(words, 600))
    return _VOCABULARY


@st.composite
def thai_paragraph(draw: st.DrawFn) -> str:
    vocab = _vocabulary()
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(vocab),
                st.sampled_from([" ", " ", "๒๕๖๙", "2569", "(", ")", "ๆ", "ฯลฯ", "น.", "e-mail", "๓/๒๕๖๙"]),
            ),
            min_size=1,
            max_size=160,
        )
    )
    return "".join(pieces).strip() or "ทดสอบ"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs=st.lists(thai_paragraph(), min_size=1, max_size=4))
def test_random_thai_paragraphs_round_trip_inside_the_margins(paragraphs: list[str]) -> None:
    doc = make(("record", "other"), body=paragraphs)
    result = render(doc)
    extracted = pdftools.body_text(result.pdf)
    for paragraph in doc.content.body:
        assert pdftools.squeeze(paragraph) in extracted
    for w in pdftools.words(result.pdf):
        assert w.x0 >= LEFT - 0.5 and w.x1 <= RIGHT + 0.5, w
