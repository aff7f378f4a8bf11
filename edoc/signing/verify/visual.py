"""What a reader sees: every page rendered as it was signed and as it is now, compared.

pyHanko's difference analysis reasons about objects; a "shadow" attack prepares content that
is hidden when signed and shown later by a change that looks like form filling (DSS's
``dss-2236/replace.pdf``). The only reliable defence is to look: render each page of the
signed revision (the bytes up to the end of the signature's byte range) and of the final
file with PDFium, and compare the pixels.

A difference is then placed:

* inside the appearance of a later signature that is intact (a received stamp, a second
  signer): allowed, masked out;
* inside an annotation or form field added or changed after the signature (a comment, a
  filled field): a *declared* visible change; the reader sees it, the signature does not
  vouch for it;
* anywhere else: an *unexplained* visible change: the content was altered.

Pages are compared one at a time (the final page rendered once for every signature), so
memory stays bounded by a couple of page images whatever the file's size. Rendering is at
:data:`SCALE` (72 dpi): any difference in glyphs, lines or images of ordinary size changes
pixels at that resolution, and the structural comparison catches changes too small to see.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from edoc.signing.verify.report import ChangeKind, PageChange

SCALE = 1.0
"""Pixels per PDF point when comparing (72 dpi)."""
IMAGE_WIDTH = 640
"""Width in pixels of the before/after images kept for reports."""
MARGIN = 2
"""Pixels added around every rectangle to absorb anti-aliasing at its edges."""
MAX_PIXELS = 40_000_000
"""A page larger than this when rendered (a hostile page size) is not rendered."""

Rect = tuple[float, float, float, float]


# --- where the widgets and annotations are -------------------------------------------------------


def _rect(value: Any) -> Rect | None:
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if x1 - x0 < 0.5 or y1 - y0 < 0.5:
        return None
    return (x0, y0, x1, y1)


def _resolve(value: Any) -> Any:
    try:
        return value.get_object() if isinstance(value, generic.IndirectObject) else value
    except Exception:
        return None


def _key(value: Any) -> tuple[int, int] | None:
    return (value.idnum, value.generation) if isinstance(value, generic.IndirectObject) else None


def page_refs(handler: Any, limit: int = 100_000) -> list[tuple[int, int] | None]:
    """References of the pages in order (None for a direct page object), cycle-safe."""
    out: list[tuple[int, int] | None] = []
    seen: set[tuple[int, int]] = set()
    try:
        root = handler.root if hasattr(handler, "root") else handler.trailer_view["/Root"]
        top = root.raw_get("/Pages")
    except Exception:
        return out
    stack: list[Any] = [top]
    while stack and len(out) < limit:
        item = stack.pop()
        key = _key(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        node = _resolve(item)
        if not isinstance(node, generic.DictionaryObject):
            continue
        if node.get("/Type") == "/Pages" or ("/Kids" in node and node.get("/Type") != "/Page"):
            kids = _resolve(node.raw_get("/Kids")) if "/Kids" in node else None
            if isinstance(kids, generic.ArrayObject):
                stack.extend(reversed(list(kids)))
        else:
            out.append(key)
    return out


def _closure_revision(reader: PdfFileReader, value: Any, depth: int = 0, seen: set[Any] | None = None) -> int:
    """The latest revision in which ``value`` or anything it draws with was written."""
    seen = set() if seen is None else seen
    latest = 0
    if depth > 6 or len(seen) > 2000:
        return latest
    key = _key(value)
    if key is not None:
        if key in seen:
            return latest
        seen.add(key)
        with contextlib.suppress(Exception):
            latest = max(latest, reader.xrefs.get_last_change(value.reference))
    obj = _resolve(value)
    if isinstance(obj, generic.DictionaryObject):
        for k in obj:
            if k in ("/P", "/Parent", "/Popup", "/IRT", "/V", "/Kids"):
                continue
            with contextlib.suppress(Exception):
                latest = max(latest, _closure_revision(reader, obj.raw_get(k), depth + 1, seen))
    elif isinstance(obj, generic.ArrayObject):
        for item in obj:
            latest = max(latest, _closure_revision(reader, item, depth + 1, seen))
    return latest


def widget_of(reader: PdfFileReader, sig_field: Any) -> tuple[tuple[int, Rect], int] | None:
    """The page (from 1) and rectangle of a signature field's visible widget, and the latest
    revision its appearance was written in; None for an invisible signature."""
    fld = _resolve(sig_field)
    if not isinstance(fld, generic.DictionaryObject):
        return None
    widgets: list[Any] = []
    if fld.get("/Subtype") == "/Widget":
        widgets.append(sig_field)
    kids = _resolve(fld.raw_get("/Kids")) if "/Kids" in fld else None
    if isinstance(kids, generic.ArrayObject):
        widgets.extend(kids)
    pages = page_refs(reader)
    index = {ref: i for i, ref in enumerate(pages) if ref is not None}
    for widget_ref in widgets:
        widget = _resolve(widget_ref)
        if not isinstance(widget, generic.DictionaryObject):
            continue
        rect = _rect(_resolve(widget.raw_get("/Rect"))) if "/Rect" in widget else None
        if rect is None:
            continue
        page_no = None
        page_key = _key(widget.raw_get("/P")) if "/P" in widget else None
        if page_key is not None:
            page_no = index.get(page_key)
        if page_no is None:
            page_no = _find_on_pages(reader, pages, _key(widget_ref))
        if page_no is None:
            continue
        return (page_no + 1, rect), _closure_revision(reader, widget_ref)
    return None


def _find_on_pages(reader: PdfFileReader, pages: Sequence[tuple[int, int] | None], target: Any) -> int | None:
    if target is None:
        return None
    for i, ref in enumerate(pages):
        if ref is None:
            continue
        with contextlib.suppress(Exception):
            page = reader.get_object(generic.Reference(*ref))
            annots = _resolve(page.raw_get("/Annots")) if "/Annots" in page else None
            if isinstance(annots, generic.ArrayObject) and any(_key(a) == target for a in annots):
                return i
    return None


@dataclass
class Regions:
    """Annotations of the final file by page, with the revision each was last written in."""

    reader: PdfFileReader
    by_page: dict[int, list[tuple[tuple[int, int] | None, Rect, int]]] = field(default_factory=dict)
    """Page (from 1) -> (reference, rectangle, latest revision) of each annotation."""

    @classmethod
    def from_reader(cls, reader: PdfFileReader) -> Regions:
        regions = cls(reader)
        for i, ref in enumerate(page_refs(reader)):
            if ref is None:
                continue
            with contextlib.suppress(Exception):
                page = reader.get_object(generic.Reference(*ref))
                annots = _resolve(page.raw_get("/Annots")) if "/Annots" in page else None
                if not isinstance(annots, generic.ArrayObject):
                    continue
                items = []
                for a in list(annots)[:5000]:
                    annot = _resolve(a)
                    if not isinstance(annot, generic.DictionaryObject) or "/Rect" not in annot:
                        continue
                    rect = _rect(_resolve(annot.raw_get("/Rect")))
                    if rect is None:
                        continue
                    items.append((_key(a), rect, _closure_revision(reader, a)))
                regions.by_page[i + 1] = items
        return regions

    def changed_after(self, revision: int) -> dict[int, list[Rect]]:
        """Rectangles of annotations added, changed or removed after ``revision``, by page."""
        out: dict[int, list[Rect]] = {}
        for page, items in self.by_page.items():
            for _ref, rect, latest in items:
                if latest > revision:
                    out.setdefault(page, []).append(rect)
        # annotations that were there when signed and are gone (or moved) now
        with contextlib.suppress(Exception):
            hist = self.reader.get_historical_resolver(revision)
            now = {p: {ref for ref, _r, _l in items if ref is not None} for p, items in self.by_page.items()}
            for i, ref in enumerate(page_refs(hist)):
                if ref is None:
                    continue
                page = hist.get_object(generic.Reference(*ref, hist))
                annots = _resolve(page.raw_get("/Annots")) if "/Annots" in page else None
                if not isinstance(annots, generic.ArrayObject):
                    continue
                for a in list(annots)[:5000]:
                    if _key(a) in now.get(i + 1, set()):
                        continue
                    annot = _resolve(a)
                    if isinstance(annot, generic.DictionaryObject) and "/Rect" in annot:
                        gone = _rect(_resolve(annot.raw_get("/Rect")))
                        if gone is not None:
                            out.setdefault(i + 1, []).append(gone)
        return out


# --- rendering and comparing -------------------------------------------------------------------


class _Window(io.RawIOBase):
    """A read-only file over the first ``end`` bytes of a buffer (no copy)."""

    def __init__(self, data: Any, end: int) -> None:
        self._view = memoryview(data)[:end]
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        size = len(self._view)
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        else:
            pos = size + offset
        self._pos = max(0, min(size, pos))
        return self._pos

    def readinto(self, buffer: Any) -> int:
        size = len(self._view)
        n = min(len(buffer), size - self._pos)
        if n <= 0:
            return 0
        memoryview(buffer).cast("B")[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def read(self, n: int = -1) -> bytes:
        size = len(self._view)
        if n is None or n < 0:
            n = size - self._pos
        chunk = bytes(self._view[self._pos : self._pos + n])
        self._pos += len(chunk)
        return chunk

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._view.release()
        super().close()


@dataclass
class Job:
    """Compare one signed revision with the final file."""

    end: int
    """End of the signed revision (the signature's byte range end)."""
    allowed: dict[int, list[Rect]]
    """Page -> rectangles of later intact signatures' appearances (masked out)."""
    declared: dict[int, list[Rect]]
    """Page -> rectangles of annotations and fields changed after signing (declared changes)."""


@dataclass
class Outcome:
    """What the comparison of one signed revision with the final file found."""

    changes: list[PageChange] = field(default_factory=list)
    pages_before: int = 0
    pages_after: int = 0
    masked_pages: set[int] = field(default_factory=set)
    """Pages where a later signature's appearance covered a difference."""
    error: str | None = None

    @property
    def masked(self) -> bool:
        return bool(self.masked_pages)


class Comparer:
    """Renders the final file once per page and compares it with each signed revision."""

    def __init__(self, data: Any, keep_images: bool = False) -> None:
        import pypdfium2 as pdfium

        self._pdfium = pdfium
        self.data = data
        self.keep_images = keep_images
        self._windows: list[_Window] = []
        self._docs: list[Any] = []

    def _open(self, end: int) -> Any:
        window = _Window(self.data, end)
        self._windows.append(window)
        doc = self._pdfium.PdfDocument(window)
        self._docs.append(doc)
        # form fields are drawn by PDFium's form filler, as a viewer draws them; without it
        # widget annotations are skipped in documents with a form (and a filled-in field
        # would go unseen)
        doc.init_forms()
        return doc

    def close(self) -> None:
        for doc in self._docs:
            with contextlib.suppress(Exception):
                doc.close()
        for window in self._windows:
            window.close()
        self._docs.clear()
        self._windows.clear()

    def compare_all(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Compare every job's signed revision with the final file, page by page."""
        outcomes = [Outcome() for _ in jobs]
        if not jobs:
            return outcomes
        try:
            final = self._open(len(self.data))
            n_final = len(final)
        except Exception as exc:
            for o in outcomes:
                o.error = f"the file cannot be rendered ({_short(exc)})"
            return outcomes
        docs: list[Any] = []
        for job, outcome in zip(jobs, outcomes, strict=True):
            outcome.pages_after = n_final
            try:
                doc = self._open(job.end)
                outcome.pages_before = len(doc)
                docs.append(doc)
            except Exception as exc:
                outcome.error = f"the signed version cannot be rendered ({_short(exc)})"
                docs.append(None)
        for page_no in range(1, n_final + 1):
            final_page = None
            try:
                final_page = final[page_no - 1]
                after = self._render_page(final_page)
            except Exception as exc:
                if final_page is not None:
                    final_page.close()
                for o in outcomes:
                    o.error = o.error or f"page {page_no} cannot be rendered ({_short(exc)})"
                continue
            try:
                for job, outcome, doc in zip(jobs, outcomes, docs, strict=True):
                    if doc is None or outcome.error:
                        continue
                    if page_no > outcome.pages_before:
                        outcome.changes.append(PageChange(page_no, ChangeKind.PAGES, after_png=self._png(after)))
                        continue
                    try:
                        before = self._render(doc, page_no - 1)
                    except Exception as exc:
                        outcome.error = f"page {page_no} of the signed version cannot be rendered ({_short(exc)})"
                        continue
                    self._compare_page(page_no, before, after, final_page, job, outcome)
            finally:
                final_page.close()
        for outcome in outcomes:
            for page_no in range(n_final + 1, outcome.pages_before + 1):
                outcome.changes.append(PageChange(page_no, ChangeKind.PAGES))
        return outcomes

    def _render(self, doc: Any, index: int) -> Any:
        page = doc[index]
        try:
            return self._render_page(page)
        finally:
            page.close()

    def _render_page(self, page: Any) -> Any:
        w, h = page.get_size()
        if w * h * SCALE * SCALE > MAX_PIXELS or w <= 0 or h <= 0:
            raise ValueError(f"page size {w:.0f}x{h:.0f} is out of bounds")
        bitmap = page.render(scale=SCALE, draw_annots=True, may_draw_forms=True)
        image = bitmap.to_pil()  # a copy when RGB: the bitmap's buffer may go
        return image if image.mode == "RGB" else image.convert("RGB")

    def _compare_page(self, page_no: int, before: Any, after: Any, final_page: Any, job: Job, outcome: Outcome) -> None:
        from PIL import ImageChops

        if before.size != after.size:
            outcome.changes.append(PageChange(page_no, ChangeKind.PAGES, None, self._png(before), self._png(after)))
            return
        difference = ImageChops.difference(before, after)
        box = difference.getbbox()
        if box is None:
            return
        allowed = [self._to_pixels(final_page, r, after.size) for r in job.allowed.get(page_no, [])]
        declared = [self._to_pixels(final_page, r, after.size) for r in job.declared.get(page_no, [])]
        if allowed:
            box = _diff_box(difference, allowed)
            if box is None:
                outcome.masked_pages.add(page_no)
                return
        kind = ChangeKind.UNEXPLAINED
        if declared:
            rest = _diff_box(difference, allowed + declared)
            if rest is None:
                kind = ChangeKind.DECLARED
            else:
                box = rest
        outcome.changes.append(
            PageChange(
                page_no,
                kind,
                self._to_points(final_page, box, after.size),
                self._png(before),
                self._png(after, box),
            )
        )

    def _to_pixels(self, page: Any, rect: Rect, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """A rectangle in PDF user space to a pixel box on the rendered page (any rotation)."""
        raw = self._pdfium.raw
        xs, ys = [], []
        for px, py in ((rect[0], rect[1]), (rect[2], rect[3]), (rect[0], rect[3]), (rect[2], rect[1])):
            dx, dy = ctypes.c_int(), ctypes.c_int()
            raw.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, px, py, ctypes.byref(dx), ctypes.byref(dy))
            xs.append(dx.value)
            ys.append(dy.value)
        return (min(xs) - MARGIN, min(ys) - MARGIN, max(xs) + MARGIN, max(ys) + MARGIN)

    def _to_points(self, page: Any, box: tuple[int, int, int, int], size: tuple[int, int]) -> Rect:
        raw = self._pdfium.raw
        points = []
        for dx, dy in ((box[0], box[1]), (box[2], box[3])):
            px, py = ctypes.c_double(), ctypes.c_double()
            raw.FPDF_DeviceToPage(page.raw, 0, 0, size[0], size[1], 0, dx, dy, ctypes.byref(px), ctypes.byref(py))
            points.append((px.value, py.value))
        (x0, y0), (x1, y1) = points
        return (round(min(x0, x1), 1), round(min(y0, y1), 1), round(max(x0, x1), 1), round(max(y0, y1), 1))

    def _png(self, image: Any, box: tuple[int, int, int, int] | None = None) -> bytes | None:
        if not self.keep_images:
            return None
        from PIL import ImageDraw

        img = image.copy()
        if box is not None:
            draw = ImageDraw.Draw(img)
            x0, y0, x1, y1 = box
            for grow in range(3):
                draw.rectangle((x0 - 3 - grow, y0 - 3 - grow, x1 + 3 + grow, y1 + 3 + grow), outline=(220, 0, 0))
        if img.width > IMAGE_WIDTH:
            img = img.resize((IMAGE_WIDTH, max(1, round(img.height * IMAGE_WIDTH / img.width))))
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
        return buf.getvalue()


def _diff_box(difference: Any, masks: Sequence[tuple[int, int, int, int]]) -> tuple[int, int, int, int] | None:
    """Bounding box of the pixels that differ outside ``masks``, given the difference image of
    the two renderings: the same as painting the masks over both and comparing again. The
    masks are painted black on ``difference`` itself (callers only ever add masks)."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(difference)
    for box in masks:
        draw.rectangle(box, fill=(0, 0, 0))
    return difference.getbbox()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
