"""Hostile variants of real signed letters: what an attacker holding a signed PDF can do to it.

Each function takes the bytes of a signed letter (made by ``fixtures_verify``: pyHanko and a
certomancer PKI, nothing from edoc) and returns a mutant. Incremental updates are written with
pyHanko's own writer, as an attacker with off-the-shelf tools would; byte-level mutants are
made on the raw bytes. The fuzz test (``test_verify_fuzz.py``) draws their parameters with
hypothesis; the regression tests (``test_verify_hostile.py``) call them with fixed values.

:func:`allowed_variants` says which byte strings count as *the same signed document*: the
file itself, one of its earlier revisions (a signed letter before a later stamp), each
optionally followed by whitespace. Only those may be TOTAL-PASSED.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures_verify import FONT, Signing, letter_pdf

Mutant = Callable[[bytes], bytes]

_WS = b" \t\r\n\x00\x0c"
PDF_WHITESPACE = frozenset(_WS)
"""The bytes PDF treats as white space (ISO 32000-1, 7.2.2)."""


# --- the signed letters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Letters:
    """The three stages of a letter's signed life (each TOTAL-PASSED with the pilot root)."""

    initialled: bytes
    """The drafter's initials (a small visible signature, B-LT)."""
    executive: bytes
    """The initialled letter signed by the executive (visible, B-LT)."""
    received: bytes
    """The executive's letter with the receiving agency's received stamp (a visible B-LT signature)."""

    def all(self) -> dict[str, bytes]:
        return {"initialled": self.initialled, "executive": self.executive, "received": self.received}


def make_letters(signing: Signing) -> Letters:
    letter = letter_pdf()
    initialled = signing.sign(
        letter, "initials", label="clerk", level="B-LT", box=(60, 60, 160, 90), stamp_text="%(signer)s"
    )
    executive = signing.sign(initialled, "Signature1", level="B-LT")
    received = signing.sign(executive, "received", label="clerk", level="B-LT", box=(380, 740, 560, 810))
    return Letters(initialled, executive, received)


# --- what counts as the same document -----------------------------------------------------------


def revision_ends(data: bytes) -> list[int]:
    """Offsets just after every ``%%EOF`` marker (and its end-of-line) of a well-formed file."""
    out = []
    for m in re.finditer(rb"%%EOF(\r\n|\r|\n)?", data):
        out.append(m.start() + 5)
        if m.group(1):
            out.append(m.end())
    return out


def allowed_variants(data: bytes) -> Callable[[bytes], bool]:
    """A predicate: is ``mutant`` byte-for-byte the signed document (or an earlier revision of
    it), possibly followed by whitespace? Those are the only mutants that may pass."""
    prefixes = {data[:end] for end in revision_ends(data)}
    prefixes.add(data)

    def allowed(mutant: bytes) -> bool:
        if mutant in prefixes:
            return True
        stripped = mutant.rstrip(_WS)
        return any(stripped == p.rstrip(_WS) and mutant.startswith(p) for p in prefixes)

    return allowed


@dataclass(frozen=True)
class Range:
    """One signature's byte range: signed ``[0, gap_start)`` and ``[gap_end, end)``."""

    gap_start: int
    gap_end: int
    end: int


def byte_ranges(data: bytes) -> list[Range]:
    """Every ``/ByteRange`` of the file, read from the raw bytes."""
    out = []
    for m in re.finditer(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data):
        len1, start2, len2 = (int(g) for g in m.groups())
        out.append(Range(len1, start2, start2 + len2))
    return out


# --- byte-level mutants ---------------------------------------------------------------------------


def flip(data: bytes, position: int, mask: int) -> bytes:
    """XOR one byte with ``mask`` (non-zero)."""
    assert mask & 0xFF
    out = bytearray(data)
    out[position] ^= mask & 0xFF
    return bytes(out)


def same_hex_digit(data: bytes, position: int, mask: int) -> bool:
    """Does XOR-ing ``data[position]`` with ``mask`` keep the same hex digit (``a`` and ``A``)?

    Inside a ``/Contents`` hex string such a flip changes no byte of the signature container:
    the mutant is the letter (PDF hex strings ignore case) and must pass as the letter does."""
    before = data[position]
    after = before ^ (mask & 0xFF)
    digits = b"0123456789abcdefABCDEF"
    return before in digits and after in digits and int(chr(before), 16) == int(chr(after), 16)


def signed_position(data: bytes, index: int) -> int:
    """The ``index``-th (modulo) byte covered by some signature's range."""
    end = max(r.end for r in byte_ranges(data))
    covered = [r for r in byte_ranges(data)]
    # the union of the signed parts: everything below the last range end except the gaps
    gaps = sorted((r.gap_start, r.gap_end) for r in covered)
    positions = end - sum(b - a for a, b in gaps)
    k = index % positions
    pos = 0
    for a, b in gaps:
        if k < a - pos:
            return pos + k
        k -= a - pos
        pos = b
    return pos + k


def contents_position(data: bytes, signature: int, index: int) -> int:
    """A byte inside the ``signature``-th (modulo) signature's ``/Contents`` gap."""
    ranges = byte_ranges(data)
    r = ranges[signature % len(ranges)]
    return r.gap_start + index % (r.gap_end - r.gap_start)


def container_position(data: bytes, signature: int, path: tuple[int, ...], byte: int = 0) -> int:
    """The file offset of the low hex digit of byte ``byte`` of the content of the DER element
    at ``path`` (child indexes from the ContentInfo down) in a signature's ``/Contents``.

    E.g. ``(1, 0, 1)``: the SignedData's digestAlgorithms; ``(1, 0, 3, 0)``: its first
    certificate; ``(1, 0, 0)``: its version."""
    from asn1crypto import parser

    r = byte_ranges(data)[signature]
    der = bytes.fromhex(data[r.gap_start + 1 : r.gap_end - 1].decode("ascii"))
    _c, _m, _t, header, content, _tr = parser.parse(der)
    start = len(header)
    for index in path:
        pos = 0
        for _ in range(index):
            _c, _m, _t, h, c, tr = parser.parse(content[pos:])
            pos += len(h) + len(c) + len(tr)
        _c, _m, _t, h, c, _tr = parser.parse(content[pos:])
        start += pos + len(h)
        content = c
    assert byte < len(content)
    return r.gap_start + 1 + 2 * (start + byte) + 1


def truncate(data: bytes, length: int) -> bytes:
    return data[: length % len(data)]


def append_garbage(data: bytes, garbage: bytes) -> bytes:
    return data + garbage


# --- incremental updates ----------------------------------------------------------------------------


def _update(data: bytes, mutate: Callable[[Any], None]) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    mutate(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _n(*values: float) -> Any:
    from pyhanko.pdf_utils import generic

    return generic.ArrayObject(
        [generic.FloatObject(v) if v != int(v) else generic.NumberObject(int(v)) for v in values]
    )


def _redefine(writer: Any, ref: Any, obj: Any) -> None:
    """Write ``obj`` under the number of ``ref`` in the update (the object is redefined)."""
    writer.mark_update(ref)
    writer.objects[(ref.generation, ref.idnum)] = obj


def _page(writer: Any, index: int = 0) -> tuple[Any, Any]:
    ref = writer.find_page_for_modification(index)[0]
    return ref, ref.get_object()


def _stream(data: bytes, **entries: Any) -> Any:
    from pyhanko.pdf_utils import generic

    return generic.StreamObject({generic.NameObject(f"/{k}"): v for k, v in entries.items()}, stream_data=data)


def _form(writer: Any, width: float, height: float, ops: bytes, resources: Any = None) -> Any:
    from pyhanko.pdf_utils import generic

    entries: dict[str, Any] = {
        "Type": generic.NameObject("/XObject"),
        "Subtype": generic.NameObject("/Form"),
        "BBox": _n(0, 0, width, height),
    }
    if resources is not None:
        entries["Resources"] = resources
    return writer.add_object(_stream(ops, **entries))


CONTENT_OPS = {
    "cover": b"q 1 1 1 rg 80 500 300 40 re f Q",
    "scribble": b"q 0 0 0 RG 2 w 90 700 m 400 720 l S Q",
    "dot": b"q 0 0 0 rg 300 400 1 1 re f Q",
    "white-on-white": b"q 1 1 1 rg 10 10 5 5 re f Q",
}
"""Drawing operators an attacker adds to a page (the last two draw almost or exactly nothing
visible: the structural comparison must catch them)."""


def change_content(data: bytes, how: str = "append", ops: bytes = CONTENT_OPS["cover"]) -> bytes:
    """An update that changes the first page's content: ``append`` a stream, ``replace`` the
    content with the old one plus ``ops`` in a new stream object, or ``redefine`` the existing
    content stream object in place (same object number: a shadow of the signed object)."""
    from pyhanko.pdf_utils import generic

    def mutate(w: Any) -> None:
        _page_ref, page = _page(w)
        contents = page.raw_get("/Contents")
        if how == "append":
            page[generic.NameObject("/Contents")] = generic.ArrayObject([contents, w.add_object(_stream(ops))])
            w.update_container(page)
        elif how == "prepend":
            page[generic.NameObject("/Contents")] = generic.ArrayObject([w.add_object(_stream(ops)), contents])
            w.update_container(page)
        elif how == "replace":
            old = contents.get_object() if isinstance(contents, generic.IndirectObject) else None
            body = old.data if isinstance(old, generic.StreamObject) else b""
            page[generic.NameObject("/Contents")] = w.add_object(_stream(body + b"\n" + ops))
            w.update_container(page)
        elif how == "redefine":
            assert isinstance(contents, generic.IndirectObject)
            old = contents.get_object()
            new = _stream(old.data + b"\n" + ops)
            _redefine(w, contents, new)
        else:
            raise ValueError(how)

    return _update(data, mutate)


ANNOT_SUBTYPES = ("/FreeText", "/Square", "/Stamp", "/Ink", "/Highlight")


def overlay_annotation(
    data: bytes,
    subtype: str = "/Square",
    rect: tuple[float, float, float, float] = (80, 500, 380, 540),
    flags: int = 4,
    colour: tuple[float, float, float] = (1, 1, 1),
    appearance: str = "/N",
) -> bytes:
    """An update adding an annotation whose appearance paints a box over the page's text.
    ``flags`` are the annotation flags (4: print; 32: NoView, shown only on paper; 2: hidden);
    ``appearance`` the appearance state that paints (``/N`` normal, ``/R`` rollover, ``/D`` down)."""
    from pyhanko.pdf_utils import generic

    def mutate(w: Any) -> None:
        page_ref, page = _page(w)
        width, height = rect[2] - rect[0], rect[3] - rect[1]
        r, g, b = colour
        ap = _form(w, width, height, f"{r} {g} {b} rg 0 0 {width} {height} re f".encode())
        blank = _form(w, width, height, b"")
        aps = {"/N": blank, "/R": blank, "/D": blank} if appearance != "/N" else {"/N": ap}
        aps[appearance] = ap
        annot = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject(subtype),
                generic.NameObject("/Rect"): _n(*rect),
                generic.NameObject("/F"): generic.NumberObject(flags),
                generic.NameObject("/P"): page_ref,
                generic.NameObject("/Contents"): generic.TextStringObject("จำนวนเงิน 9,000 บาท"),
                generic.NameObject("/AP"): generic.DictionaryObject({generic.NameObject(k): v for k, v in aps.items()}),
            }
        )
        if subtype == "/FreeText":
            annot[generic.NameObject("/DA")] = generic.TextStringObject("0 g /Helv 12 Tf")
        if subtype in ("/Ink",):
            annot[generic.NameObject("/InkList")] = generic.ArrayObject([_n(rect[0], rect[1], rect[2], rect[3])])
        if subtype == "/Highlight":
            x0, y0, x1, y1 = rect
            annot[generic.NameObject("/QuadPoints")] = _n(x0, y1, x1, y1, x0, y0, x1, y0)
        ref = w.add_object(annot)
        annots = page.get("/Annots")
        items = list(annots) if annots is not None else []
        page[generic.NameObject("/Annots")] = generic.ArrayObject([*items, ref])
        w.update_container(page)

    return _update(data, mutate)


OTHER_FONT = Path(FONT).with_name("Sarabun-ExtraBold.ttf")


def replace_font(data: bytes, how: str = "fontfile") -> bytes:
    """An update replacing the page's font: ``fontfile`` swaps the embedded TrueType program
    (FontFile2) for another weight, in place; ``resource`` points the page's ``/F1`` at a
    standard font; ``descriptor`` redefines the font descriptor's widths; ``resources``
    replaces the page's whole ``/Resources`` dictionary object in place."""
    from pyhanko.pdf_utils import generic

    def mutate(w: Any) -> None:
        _page_ref, page = _page(w)
        resources_ref = page.raw_get("/Resources")
        resources = page["/Resources"]
        font_ref = resources["/Font"].raw_get("/F1")
        font = font_ref.get_object()
        cid = font["/DescendantFonts"][0].get_object()
        descriptor_ref = cid.raw_get("/FontDescriptor")
        descriptor = descriptor_ref.get_object()
        if how == "fontfile":
            ff = descriptor.raw_get("/FontFile2")
            program = OTHER_FONT.read_bytes()
            new = _stream(program, Length1=generic.NumberObject(len(program)))
            new.compress()
            _redefine(w, ff, new)
        elif how == "resource":
            helv = generic.DictionaryObject(
                {
                    generic.NameObject("/Type"): generic.NameObject("/Font"),
                    generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                    generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
                }
            )
            fonts = generic.DictionaryObject({generic.NameObject("/F1"): w.add_object(helv)})
            if isinstance(resources_ref, generic.IndirectObject):
                resources[generic.NameObject("/Font")] = fonts
                w.update_container(resources)
            else:
                page[generic.NameObject("/Resources")][generic.NameObject("/Font")] = fonts
                w.update_container(page)
        elif how == "descriptor":
            widths = cid["/W"]
            cid[generic.NameObject("/W")] = generic.ArrayObject([*list(widths)[:-3], *_n(41, 44, 900)])
            cid[generic.NameObject("/DW")] = generic.NumberObject(1400)
            w.update_container(cid)
        elif how == "resources":
            assert isinstance(resources_ref, generic.IndirectObject)
            new_res = generic.DictionaryObject(
                {
                    generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font_ref}),
                    generic.NameObject("/XObject"): generic.DictionaryObject(
                        {
                            generic.NameObject("/Fm9"): _form(w, 10, 10, b"0 0 0 rg 0 0 10 10 re f"),
                        }
                    ),
                }
            )
            _redefine(w, resources_ref, new_res)
        else:
            raise ValueError(how)

    return _update(data, mutate)


def widget_tamper(data: bytes, how: str = "reverse", which: int = 0) -> bytes:
    """An update that reorders the page's ``/Annots`` (``reverse``, ``rotate``) or hides the
    ``which``-th widget (``hidden``: flag 2, ``noview``: flag 32, ``unlist``: dropped from
    ``/Annots``, ``move``: its rectangle moved off the page, ``blank``: an empty appearance)."""
    from pyhanko.pdf_utils import generic

    def mutate(w: Any) -> None:
        _page_ref, page = _page(w)
        annots = list(page["/Annots"])
        if how in ("reverse", "rotate"):
            new = annots[::-1] if how == "reverse" else annots[1:] + annots[:1]
            if new == annots:
                new = annots + annots[:1]  # a duplicate entry: drawn twice, on top
            page[generic.NameObject("/Annots")] = generic.ArrayObject(new)
            w.update_container(page)
            return
        target_ref = annots[which % len(annots)]
        target = target_ref.get_object()
        if how == "unlist":
            page[generic.NameObject("/Annots")] = generic.ArrayObject([a for a in annots if a != target_ref])
            w.update_container(page)
            return
        if how == "hidden":
            target[generic.NameObject("/F")] = generic.NumberObject(2)
        elif how == "noview":
            target[generic.NameObject("/F")] = generic.NumberObject(32 | 4)
        elif how == "move":
            target[generic.NameObject("/Rect")] = _n(2000, 2000, 2100, 2030)
        elif how == "blank":
            r = [float(v) for v in target["/Rect"]]
            target[generic.NameObject("/AP")] = generic.DictionaryObject(
                {generic.NameObject("/N"): _form(w, r[2] - r[0], r[3] - r[1], b"")}
            )
        else:
            raise ValueError(how)
        w.update_container(target)

    return _update(data, mutate)


def shadow(data: bytes, how: str = "xobject") -> bytes:
    """Shadow attacks: the signed revision already uses (or holds) an object, and the update
    redefines it so the page shows something else. ``xobject``: the signature appearance's
    form XObject (drawn by the page's widget) is redefined; ``catalog``: the catalog is
    redefined with an ``/OpenAction``; ``pages``: the page tree object is redefined with the
    page's /MediaBox changed; ``page``: the page object is redefined with a ``/Rotate``;
    ``free``: the content stream's cross-reference entry is freed (the page loses its text)."""
    from pyhanko.pdf_utils import generic

    def mutate(w: Any) -> None:
        _page_ref, page = _page(w)
        if how == "xobject":
            annots = list(page["/Annots"])
            widget = annots[0].get_object()
            ap_ref = widget["/AP"].raw_get("/N")
            old = ap_ref.get_object()
            new = _stream(
                b"0 0 0 rg 0 0 40 20 re f",
                **{k[1:]: old.raw_get(k) for k in old if k not in ("/Length", "/Filter", "/DecodeParms")},
            )
            _redefine(w, ap_ref, new)
        elif how == "catalog":
            root = w.root
            root[generic.NameObject("/OpenAction")] = generic.DictionaryObject(
                {
                    generic.NameObject("/S"): generic.NameObject("/URI"),
                    generic.NameObject("/URI"): generic.TextStringObject("http://example.invalid/pay"),
                }
            )
            w.update_root()
        elif how == "pages":
            pages = w.root["/Pages"]
            pages[generic.NameObject("/MediaBox")] = _n(0, 0, 595, 600)
            page_box = page.get("/MediaBox")
            if page_box is not None:
                del page[generic.NameObject("/MediaBox")]
                w.update_container(page)
            w.update_container(pages)
        elif how == "page":
            page[generic.NameObject("/Rotate")] = generic.NumberObject(180)
            w.update_container(page)
        elif how == "free":
            contents = page.raw_get("/Contents")
            _redefine(w, contents, generic.NullObject())
        else:
            raise ValueError(how)

    return _update(data, mutate)


def raw_update(data: bytes, body: bytes) -> bytes:
    """An incremental update written by hand: ``body`` (object definitions) then a classic
    cross-reference section for them, a trailer copying the last one's /Root, /Size and /Prev."""
    last_startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    root = re.findall(rb"/Root\s+(\d+\s+\d+\s+R)", data)[-1]
    size = max(int(s) for s in re.findall(rb"/Size\s+(\d+)", data))
    base = len(data) + (0 if data.endswith(b"\n") else 1)
    prefix = data if data.endswith(b"\n") else data + b"\n"
    offsets = []
    for m in re.finditer(rb"(\d+) (\d+) obj", body):
        offsets.append((int(m.group(1)), int(m.group(2)), base + m.start()))
    xref_at = base + len(body)
    lines = [b"xref\n"]
    for num, gen, off in sorted(offsets):
        lines.append(b"%d 1\n%010d %05d n \n" % (num, off, gen))
    size = max([size, *(n + 1 for n, _g, _o in offsets)])
    trailer = b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        last_startxref,
        xref_at,
    )
    return prefix + body + b"".join(lines) + trailer


@pytest.fixture(scope="session")
def letters(signing: Signing) -> Letters:
    return make_letters(signing)
