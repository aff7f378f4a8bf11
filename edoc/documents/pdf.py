"""A small PDF writer for edoc's documents: pages of shaped text, lines, paths and images,
embedded Sarabun subsets with ToUnicode maps, file attachments, and PDF/A metadata.

It writes exactly what the renderer needs and nothing else, which is why it is fast: no
per-document font parsing, no fontTools subsetting, one pass to bytes. Text is written as
glyph ids (Identity-H) positioned with TJ and text rise; clusters whose glyphs do not spell
their characters carry ``/ActualText`` so extraction gives back the input exactly.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edoc.documents.fonts import Font, Shaped


class Name(str):
    """A PDF name (``/Type``)."""


@dataclass(frozen=True)
class Ref:
    """An indirect reference ``n 0 R``."""

    num: int


@dataclass
class Stream:
    """A stream object: a dictionary and its (unencoded) data."""

    data: bytes
    extra: dict[str, Any] = field(default_factory=dict)
    compress: bool = True


def _fmt_num(v: float) -> str:
    if isinstance(v, int):
        return str(v)
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _escape(text: bytes) -> bytes:
    return text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"\\r")


def text_string(text: str) -> bytes:
    """A PDF text string: PDFDocEncoding-safe ASCII as is, otherwise UTF-16BE with a BOM (hex)."""
    if text.isascii() and text.isprintable():
        return b"(" + _escape(text.encode("ascii")) + b")"
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def serialise(value: Any) -> bytes:
    """One PDF object in its textual form."""
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if isinstance(value, Name):
        return b"/" + value.encode("ascii")
    if isinstance(value, Ref):
        return f"{value.num} 0 R".encode()
    if isinstance(value, int | float):
        return _fmt_num(value).encode()
    if isinstance(value, str):
        return text_string(value)
    if isinstance(value, bytes):
        return b"<" + value.hex().encode() + b">"
    if isinstance(value, dict):
        return b"<<" + b"".join(b"/" + k.encode("ascii") + b" " + serialise(v) for k, v in value.items()) + b">>"
    if isinstance(value, list | tuple):
        return b"[" + b" ".join(serialise(v) for v in value) + b"]"
    raise TypeError(f"cannot write {type(value).__name__} into a PDF")


class Canvas:
    """The content stream of one page, and the resources it uses."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height
        self.ops: list[str] = []
        self.fonts: dict[str, Font] = {}
        self.glyphs: dict[str, set[int]] = {}
        self.images: dict[str, Ref] = {}

    # -- graphics ---------------------------------------------------------------------------

    def color(self, rgb: tuple[float, float, float]) -> None:
        r, g, b = (_fmt_num(c) for c in rgb)
        self.ops.append(f"{r} {g} {b} rg {r} {g} {b} RG")

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.5) -> None:
        self.ops.append(f"{_fmt_num(width)} w {_fmt_num(x0)} {_fmt_num(y0)} m {_fmt_num(x1)} {_fmt_num(y1)} l S")

    def rect(self, x: float, y: float, w: float, h: float, *, width: float = 0.5, fill: bool = False) -> None:
        op = "f" if fill else "S"
        self.ops.append(f"{_fmt_num(width)} w {_fmt_num(x)} {_fmt_num(y)} {_fmt_num(w)} {_fmt_num(h)} re {op}")

    def circle(self, cx: float, cy: float, r: float, *, width: float = 0.5, fill: bool = False) -> None:
        k = 0.5523 * r
        pts = [
            (cx + r, cy),
            (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
            (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
            (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
        ]
        path = [f"{_fmt_num(pts[0][0])} {_fmt_num(pts[0][1])} m"]
        path += [" ".join(_fmt_num(v) for v in p) + " c" for p in pts[1:]]
        self.ops.append(f"{_fmt_num(width)} w " + " ".join(path) + (" f" if fill else " S"))

    def polygon(self, points: Sequence[tuple[float, float]], *, fill: bool = True, width: float = 0.5) -> None:
        first, *rest = points
        path = f"{_fmt_num(first[0])} {_fmt_num(first[1])} m " + " ".join(
            f"{_fmt_num(x)} {_fmt_num(y)} l" for x, y in rest
        )
        self.ops.append(f"{_fmt_num(width)} w {path} h " + ("f" if fill else "S"))

    def image(self, name: str, ref: Ref, x: float, y: float, w: float, h: float) -> None:
        self.images[name] = ref
        self.ops.append(f"q {_fmt_num(w)} 0 0 {_fmt_num(h)} {_fmt_num(x)} {_fmt_num(y)} cm /{name} Do Q")

    def raw(self, op: str) -> None:
        self.ops.append(op)

    # -- text -------------------------------------------------------------------------------

    def text(
        self,
        font_key: str,
        font: Font,
        size: float,
        x: float,
        y: float,
        runs: Iterable[Shaped],
        *,
        extra: float = 0.0,
    ) -> None:
        """Show shaped ``runs`` from (x, y) on the baseline; ``extra`` points are added after
        every cluster but the line's last (Thai distributed justification)."""
        self.fonts[font_key] = font
        used = self.glyphs.setdefault(font_key, set())
        scale = 1000 / font.upem  # TJ works in thousandths of the font size
        extra_units = extra * 1000 / size
        out: list[str] = [f"BT /{font_key} {_fmt_num(size)} Tf {_fmt_num(x)} {_fmt_num(y)} Td"]
        tj: list[str] = []
        rise = 0
        pen = 0.0  # where HarfBuzz's pen is, in TJ units from the line start
        pdf_pen = 0.0  # where the PDF's pen is
        run_list = list(runs)
        total_clusters = sum(len(r.clusters) for r in run_list)
        seen = 0

        def flush() -> None:
            if tj:
                out.append("[" + "".join(tj) + "] TJ")
                tj.clear()

        for run in run_list:
            # Extraction must give back the run's text exactly: on a justified line the space
            # between clusters reads as word breaks, and zero-width Thai marks are ordered by
            # where they are drawn; such runs carry their text as ActualText.
            whole = (bool(extra) or run.span) and not run.text.isspace()
            if whole:
                flush()
                out.append("/Span <</ActualText " + text_string(run.text).decode("ascii") + ">> BDC")
            for cluster in run.clusters:
                seen += 1
                if cluster.actual_text and not whole:
                    flush()
                    out.append("/Span <</ActualText " + text_string(cluster.text).decode("ascii") + ">> BDC")
                for i in range(cluster.start, cluster.end):
                    gid = run.gids[i]
                    used.add(gid)
                    target = pen + run.x_offsets[i] * scale
                    shift = target - pdf_pen
                    want_rise = run.y_offsets[i]
                    if want_rise != rise:
                        flush()
                        out.append(f"{_fmt_num(want_rise * size / font.upem)} Ts")
                        rise = want_rise
                    if abs(shift) > 0.001:
                        tj.append(_fmt_num(round(-shift, 3)))
                    tj.append(f"<{gid:04x}>")
                    pdf_pen = target + font.widths[gid] * scale
                    pen += run.advances[i] * scale
                if cluster.actual_text and not whole:
                    flush()
                    out.append("EMC")
                if seen < total_clusters:
                    pen += extra_units
            if whole:
                flush()
                out.append("EMC")
        flush()
        if rise:
            out.append("0 Ts")
        out.append("ET")
        self.ops.append(" ".join(out))

    def content(self) -> bytes:
        return "\n".join(self.ops).encode("latin-1")


@dataclass(frozen=True)
class Attachment:
    """A file to embed (PDF file attachment, listed with its SHA-256)."""

    name: str
    data: bytes
    media_type: str
    description: str = ""


@dataclass(frozen=True)
class Metadata:
    """Document metadata written both to the Info dictionary and to XMP."""

    title: str
    subject: str
    author: str
    publisher: str
    keywords: str
    created: datetime
    producer: str = "edoc"
    lang: str = "th-TH"


class Document:
    """Pages plus everything a conforming file needs; :meth:`to_bytes` writes it out."""

    def __init__(self) -> None:
        self.pages: list[Canvas] = []
        self.objects: list[Any] = [None]  # index 0 unused: object numbers start at 1
        self._images: dict[str, Ref] = {}

    def add_page(self, width: float, height: float) -> Canvas:
        page = Canvas(width, height)
        self.pages.append(page)
        return page

    def add(self, obj: Any) -> Ref:
        self.objects.append(obj)
        return Ref(len(self.objects) - 1)

    def image(self, key: str, stream: Stream, smask: Stream | None = None) -> Ref:
        """Add an image XObject once per document (``key`` identifies it)."""
        if key not in self._images:
            if smask is not None:
                stream.extra["SMask"] = self.add(smask)
            self._images[key] = self.add(stream)
        return self._images[key]

    def to_bytes(self, meta: Metadata, *, attachments: Sequence[Attachment] = (), icc: bytes, xmp: bytes) -> bytes:
        fonts_used: dict[str, tuple[Font, set[int]]] = {}
        for page in self.pages:
            for key, font in page.fonts.items():
                fonts_used.setdefault(key, (font, set()))[1].update(page.glyphs.get(key, ()))
        font_refs = {key: self._font(font, gids) for key, (font, gids) in fonts_used.items()}
        pages_ref = Ref(len(self.objects))
        self.objects.append(None)  # the Pages tree, filled in below
        kids = []
        for page in self.pages:
            content = self.add(Stream(page.content()))
            resources: dict[str, Any] = {}
            if page.fonts:
                resources["Font"] = {k: font_refs[k] for k in page.fonts}
            if page.images:
                resources["XObject"] = dict(page.images)
            kids.append(
                self.add(
                    {
                        "Type": Name("Page"),
                        "Parent": pages_ref,
                        "MediaBox": [0, 0, round(page.width, 2), round(page.height, 2)],
                        "Resources": resources,
                        "Contents": content,
                    }
                )
            )
        self.objects[pages_ref.num] = {"Type": Name("Pages"), "Kids": kids, "Count": len(kids)}
        created = _pdf_date(meta.created)
        icc_ref = self.add(Stream(icc, {"N": 3}))
        catalog: dict[str, Any] = {
            "Type": Name("Catalog"),
            "Pages": pages_ref,
            "Metadata": self.add(Stream(xmp, {"Type": Name("Metadata"), "Subtype": Name("XML")}, compress=False)),
            "OutputIntents": [
                {
                    "Type": Name("OutputIntent"),
                    "S": Name("GTS_PDFA1"),
                    "OutputConditionIdentifier": "sRGB IEC61966-2.1",
                    "RegistryName": "http://www.color.org",
                    "Info": "sRGB IEC61966-2.1",
                    "DestOutputProfile": icc_ref,
                }
            ],
            "Lang": meta.lang,
            "ViewerPreferences": {"DisplayDocTitle": True},
        }
        if attachments:
            specs = []
            for a in sorted(attachments, key=lambda a: a.name):
                embedded = self.add(
                    Stream(
                        a.data,
                        {
                            "Type": Name("EmbeddedFile"),
                            "Subtype": Name(_mime_name(a.media_type)),
                            "Params": {
                                "Size": len(a.data),
                                "ModDate": created,
                                "CheckSum": hashlib.md5(a.data).digest(),
                            },
                        },
                    )
                )
                specs.append(
                    (
                        a.name,
                        self.add(
                            {
                                "Type": Name("Filespec"),
                                "F": _ascii_name(a.name),
                                "UF": a.name,
                                "Desc": a.description or a.name,
                                "EF": {"F": embedded, "UF": embedded},
                                "AFRelationship": Name("Supplement"),
                            }
                        ),
                    )
                )
            catalog["Names"] = {"EmbeddedFiles": {"Names": [v for pair in specs for v in pair]}}
            catalog["AF"] = [ref for _, ref in specs]
            catalog["PageMode"] = Name("UseAttachments")
        catalog_ref = self.add(catalog)
        info_ref = self.add(
            {
                "Title": meta.title,
                "Subject": meta.subject,
                "Author": meta.author,
                "Keywords": meta.keywords,
                "Creator": meta.producer,
                "Producer": meta.producer,
                "CreationDate": created,
                "ModDate": created,
            }
        )
        return self._write(catalog_ref, info_ref)

    def _font(self, font: Font, gids: set[int]) -> Ref:
        keep = font.closure(gids)
        program = font.subset(keep)
        base = f"{font.subset_tag(keep)}+{font.name}"
        file_ref = self.add(Stream(program, {"Length1": len(program)}))
        flags = 4  # symbolic: glyphs outside the standard Latin set
        descriptor = self.add(
            {
                "Type": Name("FontDescriptor"),
                "FontName": Name(base),
                "Flags": flags,
                "FontBBox": [round(v * 1000 / font.upem) for v in font.bbox],
                "ItalicAngle": font.italic_angle,
                "Ascent": round(font.ascent * 1000 / font.upem),
                "Descent": round(font.descent * 1000 / font.upem),
                "CapHeight": round(font.cap_height * 1000 / font.upem),
                "StemV": 80 if font.weight < 600 else 140,
                "FontFile2": file_ref,
            }
        )
        used = sorted(gids)
        widths: list[Any] = []
        for gid in used:
            widths += [gid, [round(font.widths[gid] * 1000 / font.upem)]]
        cid_font = self.add(
            {
                "Type": Name("Font"),
                "Subtype": Name("CIDFontType2"),
                "BaseFont": Name(base),
                "CIDSystemInfo": {"Registry": "Adobe", "Ordering": "Identity", "Supplement": 0},
                "FontDescriptor": descriptor,
                "DW": 0,
                "W": widths,
                "CIDToGIDMap": Name("Identity"),
            }
        )
        to_unicode = self.add(Stream(_to_unicode(font, used)))
        return self.add(
            {
                "Type": Name("Font"),
                "Subtype": Name("Type0"),
                "BaseFont": Name(base),
                "Encoding": Name("Identity-H"),
                "DescendantFonts": [cid_font],
                "ToUnicode": to_unicode,
            }
        )

    def _write(self, catalog: Ref, info: Ref) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = [0]
        for num in range(1, len(self.objects)):
            offsets.append(len(out))
            obj = self.objects[num]
            out += f"{num} 0 obj\n".encode()
            if isinstance(obj, Stream):
                data = obj.data
                extra = dict(obj.extra)
                if obj.compress and len(data) > 64:
                    data = zlib.compress(data, 6)
                    extra["Filter"] = Name("FlateDecode")
                extra["Length"] = len(data)
                out += serialise(extra) + b"\nstream\n" + data + b"\nendstream"
            else:
                out += serialise(obj)
            out += b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(self.objects)}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets[1:])
        file_id = hashlib.md5(bytes(out)).digest()
        trailer = {"Size": len(self.objects), "Root": catalog, "Info": info, "ID": [file_id, file_id]}
        out += b"trailer\n" + serialise(trailer) + f"\nstartxref\n{xref}\n%%EOF\n".encode()
        return bytes(out)


def _to_unicode(font: Font, gids: list[int]) -> bytes:
    entries = [(gid, font.default_text[gid]) for gid in gids if gid in font.default_text]
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{gid:04X}> <{text.encode('utf-16-be').hex().upper()}>" for gid, text in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _pdf_date(when: datetime) -> str:
    offset = when.utcoffset()
    stamp = when.strftime("D:%Y%m%d%H%M%S")
    if offset is None:
        return stamp
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return stamp + "Z"
    sign = "+" if minutes > 0 else "-"
    minutes = abs(minutes)
    return f"{stamp}{sign}{minutes // 60:02d}'{minutes % 60:02d}'"


def _mime_name(media_type: str) -> str:
    return "".join(c if c.isalnum() or c in "-.+" else f"#{ord(c):02X}" for c in media_type)


def _ascii_name(name: str) -> str:
    cleaned = "".join(c if c.isascii() and c.isprintable() else "_" for c in name)
    return cleaned or "attachment"


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile for the PDF/A output intent (made by Little CMS through Pillow)."""
    from PIL import ImageCms

    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def xmp(meta: Metadata, *, part: int) -> bytes:
    """XMP metadata matching the Info dictionary, declaring PDF/A-``part`` level B."""
    created = meta.created.isoformat(timespec="seconds")
    lang = meta.lang
    body = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml(meta.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{_xml(meta.subject)}</rdf:li></rdf:Alt></dc:description>
   <dc:creator><rdf:Seq><rdf:li>{_xml(meta.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:publisher><rdf:Bag><rdf:li>{_xml(meta.publisher)}</rdf:li></rdf:Bag></dc:publisher>
   <dc:language><rdf:Bag><rdf:li>{_xml(lang)}</rdf:li></rdf:Bag></dc:language>
   <xmp:CreateDate>{created}</xmp:CreateDate>
   <xmp:ModifyDate>{created}</xmp:ModifyDate>
   <xmp:MetadataDate>{created}</xmp:MetadataDate>
   <xmp:CreatorTool>{_xml(meta.producer)}</xmp:CreatorTool>
   <pdf:Producer>{_xml(meta.producer)}</pdf:Producer>
   <pdf:Keywords>{_xml(meta.keywords)}</pdf:Keywords>
   <pdfaid:part>{part}</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return body.encode("utf-8")
