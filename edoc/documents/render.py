"""Rendering official documents as Thai PDFs: the layouts of the regulation's forms.

A4, margins left 3 cm and right 2 cm, Sarabun 16 pt, single spacing; Buddhist Era dates with
Thai month names; Thai digits when the agency says so; urgency in red 32 pt at the top;
secrecy in red at the top and bottom centre of every page; page numbers "- ๒ -" from page 2;
bodies that flow over as many pages as they need, with the next page's first word at the
bottom right ("/คำ..."), as typed letters do.

Places other parts of edoc rely on (names are stable):

- ``signature_boxes["signature"]``: the signer's block on the last page, above the printed
  "(full name)" and position lines (for a stamped letter: where the agency's name stamp and the
  initials of the official go; for a statement or news item: above the issuing agency's name);
- ``signature_boxes["initial-1"]``, ``"initial-2"`` ...: one small box per head listed in
  ``initials``, in order, bottom right after the text of the last page;
- ``stamp_zone``: page 0, top right, 70 x 45 mm, never drawn into, for received stamps.

Rectangles are ``(x0, y0, x1, y1)`` in PDF points, origin at the bottom left of the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

from edoc.documents import emblem
from edoc.documents.fields import DocumentContent
from edoc.documents.fonts import BOLD, REGULAR, Font, font
from edoc.documents.kinds import DocumentForm, DocumentKind
from edoc.documents.linebreak import Line, break_lines
from edoc.documents.pdf import Attachment, Canvas, Document, Metadata, srgb_profile, xmp
from edoc.documents.thai import be_year, digits, thai_date, thai_date_phrase

MM = 72 / 25.4
PAGE_W = 210 * MM
PAGE_H = 297 * MM
LEFT = 30 * MM
RIGHT = PAGE_W - 20 * MM
TOP = 25 * MM
BOTTOM = PAGE_H - 25 * MM
"""The body never goes below this line (top-down): the footer band holds the continuation
mark and the bottom secrecy mark."""
SIZE = 16.0
INDENT = 25 * MM
"""First-line indent of body paragraphs (2.5 cm from the left margin)."""
CENTRE = (LEFT + RIGHT) / 2
SIGN_X = 130 * MM
"""Centre of the closing and signature block."""
RED = (0.8, 0.0, 0.0)
BLACK = (0.0, 0.0, 0.0)
MAX_GAP = 0.09
"""Most justification space per gap between clusters, in em (more reads as a word break)."""

STAMP_ZONE_MM = (125.0, 5.0, 195.0, 50.0)
"""The received-stamp zone on page 0: x0, top, x1, bottom in mm from the top left."""


@dataclass(frozen=True)
class Person:
    """Someone printed on the document."""

    full_name: str
    """Thai full name with title (นายสมชาย ใจดี)."""
    position: str
    """Position, printed under the name."""


@dataclass(frozen=True)
class Letterhead:
    """The issuing agency, as printed."""

    name: str
    """Thai name (เทศบาลเมืองปากช่อง)."""
    address: str = ""
    """Postal address (top right of external letters)."""
    letter_code: str = ""
    """Letter code before the number (นม 52101)."""
    thai_digits: bool = False
    """Print numbers and dates with Thai digits."""
    emblem: bytes | None = None
    """The agency's emblem image (PNG/JPEG); None draws the neutral placeholder seal."""


@dataclass(frozen=True)
class RenderInput:
    """Everything the renderer needs: the validated content and the facts around it."""

    content: DocumentContent
    """The document's fields."""
    agency: Letterhead
    """Who issues it."""
    signer: Person
    """Who signs (name and position printed under the signature)."""
    date: date
    """The date the document bears."""
    created: datetime
    """When the PDF is made (metadata; aware)."""
    number: str | None = None
    """ที่: the issued number; None prints the letter code and a blank."""
    initials: tuple[Person, ...] = ()
    """The heads who initial, in order (one box each)."""
    unit_name: str = ""
    """The originating unit (default for ``contact.unit``)."""
    attachments: tuple[Attachment, ...] = ()
    """Files embedded in the PDF and listed with their SHA-256."""


@dataclass(frozen=True)
class Box:
    """A rectangle on one page, in PDF points (origin bottom left)."""

    page: int
    """Page index, from 0."""
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class RenderResult:
    """The rendered PDF and the places other steps use."""

    pdf: bytes
    """The PDF file."""
    pages: int
    """Number of pages."""
    signature_boxes: Mapping[str, Box]
    """``"signature"`` and ``"initial-1"``...: where signature fields go."""
    stamp_zone: Box
    """Page 0, top right: kept free for received stamps."""
    pdfa_part: int = 2
    """The PDF/A part declared: 2 (2b), or 3 (3b) when files are embedded."""
    text_area: tuple[float, float, float, float] = (LEFT, PAGE_H - BOTTOM, RIGHT, PAGE_H - 15 * MM)
    """The area all text stays in (x0, y0, x1, y1), header and footer marks included."""
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Texts that were printed for the header fields (for tests and previews)."""


def stamp_zone() -> Box:
    """The received-stamp zone (page 0)."""
    x0, top, x1, bottom = STAMP_ZONE_MM
    return Box(0, x0 * MM, PAGE_H - bottom * MM, x1 * MM, PAGE_H - top * MM)


# -- the layout engine ---------------------------------------------------------------------------


class _Page:
    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.first_word = ""


class Layout:
    """A top-down flow over A4 pages (y grows downwards, in points from the top edge)."""

    def __init__(self, thai_digits: bool) -> None:
        self.doc = Document()
        self.regular = font(REGULAR)
        self.bold = font(BOLD)
        self.thai = thai_digits
        self.pages: list[_Page] = []
        self.y = 0.0
        self.new_page()

    # -- pages ----------------------------------------------------------------------------

    def new_page(self) -> None:
        self.pages.append(_Page(self.doc.add_page(PAGE_W, PAGE_H)))
        self.y = TOP

    @property
    def canvas(self) -> Canvas:
        return self.pages[-1].canvas

    @property
    def page_index(self) -> int:
        return len(self.pages) - 1

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` more points fit above the bottom margin."""
        if self.y + height > BOTTOM + 0.01:
            self.new_page()

    def gap(self, points: float) -> None:
        self.y += points

    # -- text -------------------------------------------------------------------------------

    def face(self, bold: bool) -> Font:
        return self.bold if bold else self.regular

    def measure(self, text: str, size: float = SIZE, bold: bool = False) -> float:
        return self.face(bold).width(text, size)

    def draw(
        self,
        pieces: Sequence[str],
        x: float,
        baseline: float,
        *,
        size: float = SIZE,
        bold: bool = False,
        color: tuple[float, float, float] = BLACK,
        extra: float = 0.0,
        canvas: Canvas | None = None,
    ) -> float:
        """Draw shaped pieces at (x, baseline) (top-down); return their width."""
        f = self.face(bold)
        runs = [f.shape(p) for p in pieces if p]
        target = canvas or self.canvas
        if color != BLACK:
            target.raw("q")
            target.color(color)
        target.text("F2" if bold else "F1", f, size, x, PAGE_H - baseline, runs, extra=extra)
        if color != BLACK:
            target.raw("Q")
        if canvas is None and self.pages[-1].first_word == "" and runs:
            words = " ".join(pieces).split()
            self.pages[-1].first_word = next((w for w in words if any(ch.isalnum() for ch in w)), "")
        return sum(r.width for r in runs) * size / f.upem

    def lines(
        self,
        text: str,
        x0: float,
        x1: float,
        *,
        first_x: float | None = None,
        size: float = SIZE,
        bold: bool = False,
        align: str = "left",
        color: tuple[float, float, float] = BLACK,
    ) -> list[Line]:
        """Break ``text`` between x0 and x1 (first line from ``first_x``) and draw it, flowing
        over pages. ``align``: left, justify, center, right."""
        f = self.face(bold)
        start = x0 if first_x is None else first_x
        widths = [x1 - start, x1 - x0]
        broken = break_lines(text, lambda s: f.width(s, size), widths)
        height = f.line_height(size)
        for i, line in enumerate(broken):
            self.ensure(height)
            lx = start if i == 0 else x0
            avail = x1 - lx
            extra = 0.0
            if align == "justify" and not line.last:
                gaps = sum(len(f.shape(p).clusters) for p in line.pieces) - 1
                if gaps > 0 and (avail - line.width) / gaps <= MAX_GAP * size:
                    extra = (avail - line.width) / gaps
            if align == "center":
                lx = lx + (avail - line.width) / 2
            elif align == "right":
                lx = x1 - line.width
            self.draw(
                line.pieces, lx, self.y + f.ascent * size / f.upem, size=size, bold=bold, color=color, extra=extra
            )
            self.y += height
        return broken

    def line_height(self, size: float = SIZE, bold: bool = False) -> float:
        return self.face(bold).line_height(size)

    def height_of(self, text: str, width: float, *, size: float = SIZE, bold: bool = False) -> float:
        f = self.face(bold)
        return len(break_lines(text, lambda s: f.width(s, size), [width])) * f.line_height(size)

    def labelled(
        self, label: str, value: str, *, x: float = LEFT, bold_label: bool = False, size: float = SIZE
    ) -> None:
        """``label  value`` with the value's continuation lines aligned under its start."""
        f = self.face(bold_label)
        self.ensure(self.line_height(size))
        baseline = self.y + f.ascent * size / f.upem
        width = self.draw([label], x, baseline, size=size, bold=bold_label)
        value_x = x + width + self.measure("  ", size)
        self.lines(value, value_x, RIGHT, size=size)

    def paragraph(self, text: str, *, indent: float = INDENT, x0: float = LEFT) -> None:
        self.gap(4)
        self.lines(text, x0, RIGHT, first_x=x0 + indent, align="justify")

    def centred(self, text: str, *, bold: bool = False, size: float = SIZE, cx: float = CENTRE) -> None:
        half = min(cx - LEFT, RIGHT - cx)
        self.lines(text, cx - half, cx + half, size=size, bold=bold, align="center")

    def rule(self, width: float = 50 * MM) -> None:
        """The short centred line under the heading of directives and announcements."""
        self.ensure(8)
        y = PAGE_H - (self.y + 4)
        self.canvas.line(CENTRE - width / 2, y, CENTRE + width / 2, y, 0.6)
        self.y += 10

    def n(self, value: object) -> str:
        """Generated text (numbers, dates) with Thai digits when the agency wants them."""
        return digits(str(value), self.thai)


# -- the renderer --------------------------------------------------------------------------------


def render(doc: RenderInput) -> RenderResult:
    """Render ``doc`` as a PDF (PDF/A-2b, or PDF/A-3b when files are embedded)."""
    content = doc.content
    lay = Layout(doc.agency.thai_digits)
    boxes: dict[str, Box] = {}
    printed: dict[str, str] = {}
    _top_marks(lay, doc)
    kind, form = content.kind, content.form
    if kind is DocumentKind.EXTERNAL:
        _external(lay, doc, boxes, printed)
    elif kind is DocumentKind.INTERNAL:
        _memo(lay, doc, boxes, printed)
    elif kind is DocumentKind.STAMPED:
        _stamped(lay, doc, boxes, printed)
    elif kind is DocumentKind.DIRECTIVE:
        _directive(lay, doc, boxes, printed)
    elif kind is DocumentKind.PUBLICITY:
        _publicity(lay, doc, boxes, printed)
    elif form is DocumentForm.MINUTES:
        _minutes(lay, doc, boxes, printed)
    elif form is DocumentForm.CERTIFICATE:
        _certificate(lay, doc, boxes, printed)
    else:
        _note(lay, doc, boxes, printed)
    _attachments_list(lay, doc)
    _initial_boxes(lay, doc, boxes)
    _furniture(lay, doc)
    part = 3 if doc.attachments else 2
    agency = doc.agency.name
    meta = Metadata(
        title=content.subject,
        subject=f"{content.kind.thai}: {content.subject}",
        author=doc.signer.full_name,
        publisher=agency,
        keywords="; ".join(x for x in (content.kind.thai, doc.number or "", agency) if x),
        created=doc.created,
    )
    pdf = lay.doc.to_bytes(meta, attachments=doc.attachments, icc=srgb_profile(), xmp=xmp(meta, part=part))
    return RenderResult(
        pdf=pdf,
        pages=len(lay.pages),
        signature_boxes=MappingProxyType(boxes),
        stamp_zone=stamp_zone(),
        pdfa_part=part,
        fields=MappingProxyType(printed),
    )


# -- pieces shared by the layouts ------------------------------------------------------------


def _top_marks(lay: Layout, doc: RenderInput) -> None:
    """Urgency in red, 32 pt bold, top left of page 1."""
    urgency = doc.content.urgency
    if urgency.thai != "ปกติ":
        lay.draw([urgency.thai], LEFT, 20 * MM, size=32, bold=True, color=RED)


def _emblem(lay: Layout, doc: RenderInput, *, height_mm: float, cx: float, top_mm: float) -> float:
    """Draw the emblem; return its width in points."""
    height = height_mm * MM
    if doc.agency.emblem:
        return emblem.draw_image(lay.doc, lay.canvas, doc.agency.emblem, cx, PAGE_H - top_mm * MM, height)
    emblem.draw_placeholder(lay.canvas, cx, PAGE_H - (top_mm + height_mm / 2) * MM, height)
    return height


def _number(lay: Layout, doc: RenderInput, *, directive: bool = False) -> str:
    if doc.number:
        return lay.n(doc.number)
    if directive:
        return lay.n(f"      /{be_year(doc.date)}")
    code = doc.agency.letter_code
    return lay.n(f"{code}/") if code else ""


def _date(lay: Layout, doc: RenderInput) -> str:
    return thai_date(doc.date, thai=lay.thai)


def _phrase(lay: Layout, doc: RenderInput) -> str:
    return thai_date_phrase(doc.date, thai=lay.thai)


def _body(lay: Layout, doc: RenderInput) -> None:
    for paragraph in doc.content.body:
        lay.paragraph(paragraph)


def _letterhead_block(lay: Layout, doc: RenderInput, printed: dict[str, str], *, number: bool = True) -> None:
    """Emblem top centre (3 cm); ที่ on the left and the agency's name and address on the right."""
    _emblem(lay, doc, height_mm=30, cx=PAGE_W / 2, top_mm=15)
    lay.y = 51 * MM
    start = lay.y
    if number:
        printed["number"] = f"ที่ {_number(lay, doc)}".strip()
        lay.lines(printed["number"], LEFT, 100 * MM)
    left_end = lay.y
    lay.y = start
    right_x = 120 * MM
    lay.lines(doc.agency.name, right_x, RIGHT)
    if doc.agency.address:
        lay.lines(doc.agency.address, right_x, RIGHT)
    lay.y = max(lay.y, left_end)


def _signature(
    lay: Layout,
    doc: RenderInput,
    boxes: dict[str, Box],
    *,
    closing: str = "",
    under: Sequence[str] = (),
    name: bool = True,
    before: Sequence[str] = (),
) -> None:
    """Closing, the signature box, "(full name)" and position, kept together on one page."""
    half = min(SIGN_X - LEFT, RIGHT - SIGN_X) - 1
    box_h = 18 * MM
    texts = [*before, *([closing] if closing else [])]
    rows = ([f"({doc.signer.full_name})", doc.signer.position] if name else []) + list(under)
    height = 8 + box_h + sum(lay.height_of(t, 2 * half) for t in [*texts, *rows])
    lay.gap(8)
    lay.ensure(height)
    for text in texts:
        lay.centred(text, cx=SIGN_X)
    top = lay.y
    lay.y += box_h
    box = Box(lay.page_index, SIGN_X - 30 * MM, PAGE_H - lay.y, SIGN_X + 30 * MM, PAGE_H - top)
    boxes["signature"] = box
    for text in rows:
        lay.centred(text, cx=SIGN_X)


def _contact(lay: Layout, doc: RenderInput, *, copies: bool = True) -> None:
    """Originating unit, phone/fax, e-mail; then copies (bottom left of the last page)."""
    contact = doc.content.get("contact") or {}
    unit = contact.get("unit") or doc.unit_name
    rows = [unit] if unit else []
    phone = " ".join(x for x in (f"โทร. {contact['phone']}" if contact.get("phone") else "",) if x)
    fax = f"โทรสาร {contact['fax']}" if contact.get("fax") else ""
    if phone or fax:
        rows.append("  ".join(x for x in (phone, fax) if x))
    if contact.get("email"):
        rows.append(f"ไปรษณีย์อิเล็กทรอนิกส์ {contact['email']}")
    copies_to = list(doc.content.get("copies_to") or ()) if copies else []
    if not rows and not copies_to:
        return
    lay.gap(10)
    lay.ensure(len(rows) * lay.line_height())
    for row in rows:
        lay.lines(row, LEFT, RIGHT)
    if copies_to:
        lay.gap(6)
        if len(copies_to) == 1:
            lay.labelled("สำเนาส่ง", copies_to[0])
        else:
            lay.lines("สำเนาส่ง", LEFT, RIGHT)
            for i, item in enumerate(copies_to, 1):
                lay.lines(f"{lay.n(i)}. {item}", LEFT + 10 * MM, RIGHT, first_x=LEFT + 5 * MM)


def _list_field(lay: Layout, label: str, items: Sequence[str]) -> None:
    if not items:
        return
    if len(items) == 1:
        lay.labelled(label, items[0])
        return
    lay.ensure(lay.line_height())
    f = lay.regular
    baseline = lay.y + f.ascent * SIZE / f.upem
    width = lay.draw([label], LEFT, baseline)
    x = LEFT + width + lay.measure("  ")
    for i, item in enumerate(items, 1):
        number = f"{lay.n(i)}. "
        lay.lines(number + item, x + lay.measure(number), RIGHT, first_x=x)


# -- the layouts --------------------------------------------------------------------------------


def _external(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    c = doc.content
    _letterhead_block(lay, doc, printed)
    lay.gap(6)
    printed["date"] = _date(lay, doc)
    lay.lines(printed["date"], PAGE_W / 2, RIGHT)
    lay.gap(6)
    lay.labelled("เรื่อง", c.subject)
    lay.gap(4)
    lay.labelled(str(c.get("salutation", "เรียน")), str(c.get("to")))
    if c.get("reference"):
        lay.gap(4)
        lay.labelled("อ้างถึง", str(c.get("reference")))
    if c.get("enclosures"):
        lay.gap(4)
        _list_field(lay, "สิ่งที่ส่งมาด้วย", list(c.get("enclosures")))
    lay.gap(4)
    _body(lay, doc)
    _signature(lay, doc, boxes, closing=str(c.get("closing", "ขอแสดงความนับถือ")))
    _contact(lay, doc)


def _memo(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    c = doc.content
    width = _emblem(lay, doc, height_mm=15, cx=LEFT + 7.5 * MM, top_mm=30)
    del width
    heading = "บันทึกข้อความ"
    size = 29.0
    w = lay.measure(heading, size, bold=True)
    cx = min(CENTRE, STAMP_ZONE_MM[0] * MM - 3 * MM - w / 2)
    lay.draw([heading], cx - w / 2, 43 * MM, size=size, bold=True)
    lay.y = 51 * MM
    contact = c.get("contact") or {}
    unit = contact.get("unit") or doc.unit_name
    office = " ".join(x for x in (unit, doc.agency.name) if x)
    if contact.get("phone"):
        office += f" โทร. {contact['phone']}"
    lay.labelled("ส่วนราชการ", office, bold_label=True)
    start = lay.y
    printed["number"] = f"ที่ {_number(lay, doc)}".strip()
    lay.labelled("ที่", _number(lay, doc) or " ", bold_label=True)
    lay.y = start
    f = lay.bold
    baseline = lay.y + f.ascent * SIZE / f.upem
    label_w = lay.draw(["วันที่"], 110 * MM, baseline, bold=True)
    printed["date"] = _date(lay, doc)
    lay.lines(printed["date"], 110 * MM + label_w + lay.measure("  "), RIGHT)
    lay.labelled("เรื่อง", c.subject, bold_label=True)
    lay.gap(8)
    lay.labelled(str(c.get("salutation", "เรียน")), str(c.get("to")))
    lay.gap(2)
    _body(lay, doc)
    _signature(lay, doc, boxes)


def _stamped(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    c = doc.content
    _letterhead_block(lay, doc, printed)
    lay.gap(8)
    lay.labelled("ถึง", str(c.get("to")))
    if c.get("reference"):
        lay.gap(4)
        lay.labelled("อ้างถึง", str(c.get("reference")))
    if c.get("enclosures"):
        lay.gap(4)
        _list_field(lay, "สิ่งที่ส่งมาด้วย", list(c.get("enclosures")))
    lay.gap(4)
    _body(lay, doc)
    printed["date"] = _date(lay, doc)
    _signature(lay, doc, boxes, name=False, under=[doc.agency.name, printed["date"]])
    _contact(lay, doc, copies=False)


def _heading(lay: Layout, doc: RenderInput, *, emblem_mm: float | None = 30) -> None:
    if emblem_mm:
        _emblem(lay, doc, height_mm=emblem_mm, cx=PAGE_W / 2, top_mm=15)
    lay.y = 51 * MM


def _directive(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    c = doc.content
    form = c.form or DocumentForm.ORDER
    _heading(lay, doc)
    lay.centred(f"{form.thai}{doc.agency.name}", bold=True, size=18)
    if form is DocumentForm.ORDER:
        printed["number"] = f"ที่ {_number(lay, doc, directive=True)}"
        lay.centred(printed["number"])
        lay.centred(f"เรื่อง {c.subject}")
    else:
        subject = c.subject if c.subject.startswith("ว่าด้วย") else f"ว่าด้วย{c.subject}"
        lay.centred(subject)
        lay.centred(lay.n(f"พ.ศ. {be_year(doc.date)}"))
    lay.rule()
    _body(lay, doc)
    for i, clause in enumerate(c.get("clauses") or (), 1):
        lay.paragraph(f"ข้อ {lay.n(i)} {clause}")
    if c.get("effective"):
        lay.paragraph(str(c.get("effective")))
    printed["date"] = _phrase(lay, doc)
    word = "สั่ง" if form is DocumentForm.ORDER else "ประกาศ"
    lay.gap(6)
    lay.lines(f"{word} ณ วันที่ {printed['date']}", LEFT, RIGHT, first_x=LEFT + INDENT + 10 * MM)
    _signature(lay, doc, boxes)


def _publicity(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    c = doc.content
    form = c.form or DocumentForm.ANNOUNCEMENT
    _heading(lay, doc)
    lay.centred(f"{form.thai}{doc.agency.name}", bold=True, size=18)
    lay.centred(f"เรื่อง {c.subject}")
    if c.get("issue_no"):
        lay.centred(f"ฉบับที่ {c.get('issue_no')}")
    lay.rule()
    _body(lay, doc)
    if form is DocumentForm.ANNOUNCEMENT:
        printed["date"] = _phrase(lay, doc)
        lay.gap(6)
        lay.lines(f"ประกาศ ณ วันที่ {printed['date']}", LEFT, RIGHT, first_x=LEFT + INDENT + 10 * MM)
        _signature(lay, doc, boxes)
    else:
        # statements and news end with the issuing agency and the date, no name block
        printed["date"] = _date(lay, doc)
        _signature(lay, doc, boxes, name=False, under=[doc.agency.name, printed["date"]])


def _certificate(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    _letterhead_block(lay, doc, printed)
    lay.gap(10)
    lay.centred("หนังสือรับรอง", bold=True, size=18)
    lay.gap(4)
    _body(lay, doc)
    printed["date"] = _phrase(lay, doc)
    lay.gap(6)
    lay.lines(f"ให้ไว้ ณ วันที่ {printed['date']}", LEFT, RIGHT, first_x=LEFT + INDENT + 10 * MM)
    _signature(lay, doc, boxes)


def _people(lay: Layout, label: str, people: Sequence[dict[str, str]] | None) -> None:
    if not people:
        return
    lay.gap(6)
    lay.lines(label, LEFT, RIGHT, bold=True)
    number_w = lay.measure(lay.n(len(people)) + ". ")
    col = LEFT + 10 * MM + number_w
    for i, person in enumerate(people, 1):
        text = person["name"]
        if person.get("position"):
            text += f"  {person['position']}"
        if person.get("remark"):
            text += f"  ({person['remark']})"
        lay.lines(f"{lay.n(i)}. {text}", col, RIGHT, first_x=LEFT + 10 * MM)


def _minutes(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    c = doc.content
    _heading(lay, doc, emblem_mm=None)
    lay.centred(f"รายงานการประชุม{c.get('meeting')}", bold=True, size=18)
    if c.get("session_no"):
        lay.centred(f"ครั้งที่ {c.get('session_no')}")
    held = date.fromisoformat(str(c.get("held_on")))
    printed["date"] = thai_date(held, thai=lay.thai)
    lay.centred(f"เมื่อวันที่ {printed['date']}")
    lay.centred(f"ณ {c.get('place')}")
    lay.rule()
    _people(lay, "ผู้มาประชุม", c.get("present"))
    _people(lay, "ผู้ไม่มาประชุม", c.get("absent"))
    _people(lay, "ผู้เข้าร่วมประชุม", c.get("others_present"))
    if c.get("started_at"):
        lay.gap(6)
        lay.lines(f"เริ่มประชุมเวลา {lay.n(str(c.get('started_at')).replace(':', '.'))} น.", LEFT, RIGHT)
    _body(lay, doc)
    if c.get("ended_at"):
        lay.gap(6)
        lay.lines(f"เลิกประชุมเวลา {lay.n(str(c.get('ended_at')).replace(':', '.'))} น.", LEFT, RIGHT)
    _signature(lay, doc, boxes, under=["ผู้จดรายงานการประชุม"])


def _note(lay: Layout, doc: RenderInput, boxes: dict[str, Box], printed: dict[str, str]) -> None:
    c = doc.content
    _heading(lay, doc, emblem_mm=None)
    if c.form is DocumentForm.NOTE:
        lay.centred("บันทึก", bold=True, size=18)
        lay.gap(6)
        if c.get("to"):
            lay.labelled("เรียน", str(c.get("to")))
        lay.labelled("เรื่อง", c.subject)
    else:
        lay.centred(c.subject, bold=True, size=18)
    lay.gap(2)
    _body(lay, doc)
    printed["date"] = _date(lay, doc)
    _signature(lay, doc, boxes, under=[printed["date"]])


def _attachments_list(lay: Layout, doc: RenderInput) -> None:
    if not doc.attachments:
        return
    import hashlib

    lay.gap(10)
    lay.ensure(3 * lay.line_height())
    lay.lines("ไฟล์แนบ (ฝังอยู่ในไฟล์นี้)", LEFT, RIGHT, bold=True, size=14)
    for i, a in enumerate(doc.attachments, 1):
        lay.lines(f"{lay.n(i)}. {a.name} ({lay.n(f'{len(a.data):,}')} ไบต์)", LEFT + 5 * MM, RIGHT, size=14)
        lay.lines(f"SHA-256 {hashlib.sha256(a.data).hexdigest()}", LEFT + 10 * MM, RIGHT, size=10)


def _initial_boxes(lay: Layout, doc: RenderInput, boxes: dict[str, Box]) -> None:
    """One small box per head who initials, right-aligned rows after the last text."""
    if not doc.initials:
        return
    w, h, gap = 30 * MM, 12 * MM, 4 * MM
    per_row = int((RIGHT - LEFT + gap) // (w + gap))
    lay.gap(8)
    for start in range(0, len(doc.initials), per_row):
        row = doc.initials[start : start + per_row]
        lay.ensure(h)
        top = lay.y
        for k in range(len(row)):
            x1 = RIGHT - k * (w + gap)
            boxes[f"initial-{start + k + 1}"] = Box(lay.page_index, x1 - w, PAGE_H - (top + h), x1, PAGE_H - top)
        lay.y = top + h + gap


def _furniture(lay: Layout, doc: RenderInput) -> None:
    """Page numbers from page 2, secrecy marks top and bottom, and "/next word..." marks."""
    secrecy = doc.content.secrecy
    total = len(lay.pages)
    for i, page in enumerate(lay.pages):
        canvas = page.canvas
        if secrecy.restricted:
            w = lay.measure(secrecy.thai, 20, bold=True)
            lay.draw([secrecy.thai], PAGE_W / 2 - w / 2, 11 * MM, size=20, bold=True, color=RED, canvas=canvas)
            lay.draw([secrecy.thai], PAGE_W / 2 - w / 2, PAGE_H - 8 * MM, size=20, bold=True, color=RED, canvas=canvas)
        if i > 0:
            label = f"- {lay.n(i + 1)} -"
            w = lay.measure(label)
            lay.draw([label], CENTRE - w / 2, 19 * MM, canvas=canvas)
        if i + 1 < total:
            nxt = lay.pages[i + 1].first_word
            if nxt:
                mark = f"/{nxt}..."
                w = lay.measure(mark)
                lay.draw([mark], RIGHT - w, PAGE_H - 17 * MM, canvas=canvas)


def stored_result(pdf: bytes) -> RenderResult:
    """A :class:`RenderResult` for a PDF edoc did not render (imported or delivered)."""
    from edoc.documents.incoming import inspect_pdf

    return RenderResult(
        pdf=pdf, pages=inspect_pdf(pdf).pages, signature_boxes=MappingProxyType({}), stamp_zone=stamp_zone()
    )
