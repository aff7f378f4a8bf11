"""Tabular Thai reports on A4 landscape (the registers of sent and received documents).

Same writer, fonts and line breaking as the documents themselves (:mod:`edoc.documents.pdf`,
HarfBuzz-shaped Sarabun, dictionary line breaks): cells wrap at word boundaries, the heading
(agency, title) is on the first page, the column headings repeat on every page, and every
page carries its number ("หน้า 2/5"). Pure: values in, PDF bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from edoc.documents.fonts import BOLD, REGULAR, Font, font
from edoc.documents.linebreak import break_lines
from edoc.documents.pdf import Canvas, Document, Metadata, srgb_profile, xmp
from edoc.documents.thai import digits

MM = 72 / 25.4
PAGE_W = 297 * MM
PAGE_H = 210 * MM
MARGIN = 12 * MM
TOP = 14 * MM
BOTTOM = PAGE_H - 14 * MM
PAD = 1.5 * MM


@dataclass(frozen=True)
class Report:
    """What a tabular report shows."""

    title: str
    """First heading line, e.g. ``ทะเบียนหนังสือรับ``."""
    subtitle: str
    """Second heading line: the agency and the year."""
    columns: tuple[str, ...]
    """Column headings."""
    widths: tuple[float, ...]
    """Relative column widths (any positive numbers)."""
    rows: tuple[tuple[str, ...], ...]
    """The cells, as text."""
    created: datetime
    """When the report was made (metadata)."""
    author: str = ""
    """Who the report is from (the agency's name)."""
    thai_digits: bool = False
    """Page numbers in Thai digits."""
    size: float = 12.0
    """Body text size in points."""


def _draw(canvas: Canvas, f: Font, key: str, size: float, x: float, top: float, text: str) -> None:
    runs = [f.shape(text)] if text else []
    if runs:
        canvas.text(key, f, size, x, PAGE_H - (top + f.ascent * size / f.upem), runs)


def _draw_pieces(canvas: Canvas, f: Font, key: str, size: float, x: float, top: float, pieces: Sequence[str]) -> None:
    runs = [f.shape(p) for p in pieces if p]
    if runs:
        canvas.text(key, f, size, x, PAGE_H - (top + f.ascent * size / f.upem), runs)


def render_report(report: Report) -> bytes:
    """The report as a PDF/A-2b file."""
    if len(report.columns) != len(report.widths) or any(w <= 0 for w in report.widths):
        raise ValueError("one positive width per column")
    if any(len(r) != len(report.columns) for r in report.rows):
        raise ValueError("every row has one cell per column")
    regular, bold = font(REGULAR), font(BOLD)
    size = report.size
    doc = Document()
    total_w = PAGE_W - 2 * MARGIN
    scale = total_w / sum(report.widths)
    widths = [w * scale for w in report.widths]
    xs = [MARGIN + sum(widths[:i]) for i in range(len(widths))]
    line_h = regular.line_height(size)
    pages: list[Canvas] = []

    def cell_lines(text: str, width: float, f: Font) -> list[list[str]]:
        if not text:
            return [[]]
        broken = break_lines(text, lambda s: f.width(s, size), [max(width - 2 * PAD, 10.0)])
        return [list(line.pieces) for line in broken] or [[]]

    header = [cell_lines(c, w, bold) for c, w in zip(report.columns, widths, strict=True)]
    header_h = max(len(c) for c in header) * line_h + 2 * PAD

    def new_page() -> tuple[Canvas, float]:
        canvas = doc.add_page(PAGE_W, PAGE_H)
        pages.append(canvas)
        y = TOP
        if len(pages) == 1:
            for text, f, sz in ((report.title, bold, 18.0), (report.subtitle, bold, 15.0)):
                if text:
                    w = f.width(text, sz)
                    _draw(canvas, f, "F2", sz, PAGE_W / 2 - w / 2, y, text)
                    y += f.line_height(sz)
            y += 2 * MM
        for i, lines in enumerate(header):
            canvas.rect(xs[i], PAGE_H - (y + header_h), widths[i], header_h, width=0.6)
            for j, pieces in enumerate(lines):
                _draw_pieces(canvas, bold, "F2", size, xs[i] + PAD, y + PAD + j * line_h, pieces)
        return canvas, y + header_h

    canvas, y = new_page()
    for row in report.rows:
        cells = [cell_lines(text, w, regular) for text, w in zip(row, widths, strict=True)]
        height = max(len(c) for c in cells) * line_h + 2 * PAD
        if y + height > BOTTOM and y > TOP + header_h + 1:
            canvas, y = new_page()
        for i, lines in enumerate(cells):
            canvas.rect(xs[i], PAGE_H - (y + height), widths[i], height, width=0.4)
            for j, pieces in enumerate(lines):
                _draw_pieces(canvas, regular, "F1", size, xs[i] + PAD, y + PAD + j * line_h, pieces)
        y += height
    total = len(pages)
    for n, page in enumerate(pages, start=1):
        label = f"หน้า {digits(str(n), report.thai_digits)}/{digits(str(total), report.thai_digits)}"
        w = regular.width(label, 11.0)
        _draw(page, regular, "F1", 11.0, PAGE_W - MARGIN - w, 6 * MM, label)
    meta = Metadata(
        title=f"{report.title} {report.subtitle}".strip(),
        subject=report.title,
        author=report.author,
        publisher=report.author,
        keywords=report.title,
        created=report.created,
    )
    return doc.to_bytes(meta, icc=srgb_profile(), xmp=xmp(meta, part=2))
