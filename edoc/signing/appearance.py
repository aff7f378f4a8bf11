"""Visible signature appearances in Sarabun, with Thai shaped by HarfBuzz through pyHanko.

pyHanko's OpenType support (:class:`~pyhanko.pdf_utils.font.opentype.GlyphAccumulator`) shapes
each line with HarfBuzz (GSUB substitutions and GPOS mark positioning: the stacked vowels and
tone marks of Thai) and embeds a subset of the font. Used as is, it re-reads the font and runs
fontTools' subsetter (which decompiles the layout tables) for every signature: about 50 ms. This
module keeps what does not change for the life of the process:

- the font bytes and one HarfBuzz font made from the *full* font, used for shaping;
- a copy of the font without its layout tables (GSUB, GPOS, GDEF: shaping is done by then),
  parsed once for metrics, from which subsets are cut in about 15 ms;
- the compressed subsets already made, keyed by the set of glyphs (a batch signed by one
  executive on one day uses the same glyphs on every letter).

The glyph ids are the same in both copies (removing layout tables does not reorder glyphs), so
what HarfBuzz shapes with the full font is drawn with the subset.
"""

from __future__ import annotations

import functools
import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import uharfbuzz as hb
from fontTools import subset, ttLib  # type: ignore[import-untyped]
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator, _read_ps_name
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import TextStampStyle

from edoc.signing import thai
from edoc.signing.model import Appearance, InitialMark, ReceivedStamp, SignatureBlock


def sarabun_path(weight: str = "Regular") -> Path:
    """Path of a Sarabun TTF shipped by fontpkg-sarabun."""
    import fontpkg_sarabun

    path = Path(fontpkg_sarabun.ROOT) / "files" / f"Sarabun-{weight}.ttf"
    if not path.exists():  # pragma: no cover - a broken installation
        raise FileNotFoundError(f"fontpkg-sarabun has no {path.name}")
    return path


class _FontData:
    """What a font costs to load, loaded once per process."""

    SUBSET_CACHE = 256

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = path.read_bytes()
        self.hb_font = hb.Font(hb.Face(self.raw))
        tt = ttLib.TTFont(BytesIO(self.raw))
        for tag in ("GSUB", "GPOS", "GDEF", "DSIG"):
            if tag in tt:
                del tt[tag]
        out = BytesIO()
        tt.save(out)
        self.stripped = out.getvalue()
        # one parsed copy for reading metrics (never subset: subsetting works on a fresh copy)
        self.tt = ttLib.TTFont(BytesIO(self.stripped))
        for tag in ("head", "hhea", "hmtx", "maxp", "cmap", "name", "OS/2", "post"):
            self.tt[tag]
        self.ps_name = _read_ps_name(self.tt)
        self.units_per_em = self.tt["head"].unitsPerEm
        self.glyph_set = self.tt.getGlyphSet(preferCFF=True)
        self.reverse_cmap = self.tt["cmap"].buildReversed()
        self._subsets: OrderedDict[frozenset[int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._cutter = GlyfCutter.of(self.stripped)

    def subset(self, glyphs: frozenset[int]) -> bytes:
        """The compressed font program holding ``glyphs`` (glyph ids kept), made once."""
        with self._lock:
            program = self._subsets.get(glyphs)
            if program is not None:
                self._subsets.move_to_end(glyphs)
                return program
        if self._cutter is not None:
            program = zlib.compress(self._cutter.cut(glyphs), 6)
        else:  # not a plain TrueType font: fontTools' subsetter
            options = subset.Options(layout_closure=False)
            options.drop_tables += ["GPOS", "GDEF", "GSUB"]
            options.retain_gids = True  # the content streams use the full font's glyph ids
            tt = ttLib.TTFont(BytesIO(self.stripped))
            subsetter = subset.Subsetter(options=options)
            subsetter.populate(gids=sorted(glyphs))
            subsetter.subset(tt)
            out = BytesIO()
            tt.save(out)
            program = zlib.compress(out.getvalue(), 6)
        with self._lock:
            self._subsets[glyphs] = program
            while len(self._subsets) > self.SUBSET_CACHE:
                self._subsets.popitem(last=False)
        return program


class GlyfCutter:
    """Subsets of a TrueType font (``glyf`` outlines) with every glyph id kept, cut from its bytes.

    fontTools' subsetter decompiles the font and compiles all its glyphs again, empty ones
    included (``retain_gids``): about 25 ms a subset, paid for every stamp of a new agency. Here
    the kept glyphs' outlines (and the components of composite glyphs) are copied as they are
    into a new ``glyf``, the others left empty; ``loca`` is rebuilt (long offsets), ``post``
    loses its glyph names (format 3, as fontTools writes it), the other tables are copied and
    the checksums computed: well under a millisecond.
    """

    _KEEP = ("OS/2", "cmap", "cvt ", "fpgm", "gasp", "head", "hhea", "hmtx", "maxp", "name", "post", "prep")

    def __init__(self, tables: dict[str, bytes], outlines: list[bytes]) -> None:
        self.tables = tables
        """The tables copied into every subset (``head`` and ``post`` adjusted)."""
        self.outlines = outlines
        """Each glyph's ``glyf`` data, by glyph id."""

    @classmethod
    def of(cls, font: bytes) -> GlyfCutter | None:
        """A cutter for ``font``, or None when it is not a plain TrueType font."""
        import struct

        if font[:4] not in (b"\x00\x01\x00\x00", b"true"):
            return None
        (count,) = struct.unpack(">H", font[4:6])
        raw: dict[str, bytes] = {}
        for i in range(count):
            tag, _check, offset, length = struct.unpack(">4sIII", font[12 + 16 * i : 28 + 16 * i])
            raw[tag.decode("latin-1")] = font[offset : offset + length]
        needed = {"glyf", "loca", "head", "maxp", "hhea", "hmtx"}
        if not needed <= raw.keys() or set(raw) - {*cls._KEEP, "glyf", "loca"}:
            return None
        (glyphs,) = struct.unpack(">H", raw["maxp"][4:6])
        (long_loca,) = struct.unpack(">h", raw["head"][50:52])
        loca = raw["loca"]
        if long_loca:
            offsets = struct.unpack(f">{glyphs + 1}I", loca[: 4 * (glyphs + 1)])
        else:
            offsets = tuple(2 * o for o in struct.unpack(f">{glyphs + 1}H", loca[: 2 * (glyphs + 1)]))
        glyf = raw["glyf"]
        outlines = [glyf[offsets[g] : offsets[g + 1]] for g in range(glyphs)]
        head = bytearray(raw["head"])
        head[8:12] = b"\x00\x00\x00\x00"  # checkSumAdjustment, computed per subset
        head[50:52] = b"\x00\x01"  # long loca offsets
        tables = {t: raw[t] for t in cls._KEEP if t in raw}
        tables["head"] = bytes(head)
        if "post" in tables:
            tables["post"] = b"\x00\x03\x00\x00" + tables["post"][4:32]
        return cls(tables, outlines)

    def closure(self, glyphs: frozenset[int]) -> set[int]:
        """``glyphs``, .notdef and every component of the composite glyphs among them."""
        import struct

        todo = [g for g in {0, *glyphs} if 0 <= g < len(self.outlines)]
        keep: set[int] = set()
        while todo:
            gid = todo.pop()
            if gid in keep:
                continue
            keep.add(gid)
            data = self.outlines[gid]
            if len(data) < 10 or struct.unpack(">h", data[:2])[0] >= 0:
                continue
            pos = 10
            while True:
                flags, component = struct.unpack(">HH", data[pos : pos + 4])
                todo.append(component)
                pos += 4 + (4 if flags & 0x0001 else 2)
                pos += 2 if flags & 0x0008 else 4 if flags & 0x0040 else 8 if flags & 0x0080 else 0
                if not flags & 0x0020:
                    break
        return keep

    def cut(self, glyphs: frozenset[int]) -> bytes:
        """The font program (uncompressed) with the outlines of ``glyphs`` only."""
        import struct

        keep = self.closure(glyphs)
        glyf = bytearray()
        offsets = [0]
        for gid, data in enumerate(self.outlines):
            if gid in keep and data:
                glyf += data
                glyf += b"\x00" * (-len(data) % 4)
            offsets.append(len(glyf))
        tables = dict(self.tables)
        tables["glyf"] = bytes(glyf)
        tables["loca"] = struct.pack(f">{len(offsets)}I", *offsets)
        tags = sorted(tables)
        n = len(tags)
        power = 1 << (n.bit_length() - 1)
        out = bytearray(struct.pack(">IHHHH", 0x00010000, n, power * 16, power.bit_length() - 1, n * 16 - power * 16))
        offset = 12 + 16 * n
        body = bytearray()
        for tag in tags:
            data = tables[tag]
            out += struct.pack(">4sIII", tag.encode("latin-1"), _checksum(data), offset + len(body), len(data))
            body += data
            body += b"\x00" * (-len(data) % 4)
        out += body
        head_at = offset + sum(len(tables[t]) + (-len(tables[t]) % 4) for t in tags[: tags.index("head")])
        adjustment = (0xB1B0AFBA - _checksum(bytes(out))) & 0xFFFFFFFF
        out[head_at + 8 : head_at + 12] = struct.pack(">I", adjustment)
        return bytes(out)


def _checksum(data: bytes) -> int:
    """The OpenType table checksum: the sum of its big-endian 32-bit words, mod 2**32."""
    import struct

    padded = data + b"\x00" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


_FONTS: dict[Path, _FontData] = {}
_FONTS_LOCK = threading.Lock()


def _font_data(path: Path) -> _FontData:
    with _FONTS_LOCK:
        data = _FONTS.get(path)
        if data is None:
            data = _FONTS[path] = _FontData(path)
        return data


class _ProgramCIDFont(CIDFontType2):
    """A CIDFontType2 whose font program is given as already compressed bytes."""

    program: bytes = b""

    def set_font_file(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        stream = generic.StreamObject({pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=self.program)
        ref = writer.add_object(stream)
        self._font_descriptor[pdf_name("/FontFile2")] = ref
        return ref


class _SharedGlyphAccumulator(GlyphAccumulator):
    """pyHanko's GlyphAccumulator over the process-wide font data.

    It sets up the same state as ``GlyphAccumulator.__init__`` (which parses the font file
    again), but from :class:`_FontData`: shaping with the shared HarfBuzz font of the full
    font, metrics from the shared parsed copy, subsets from the cache. The appearance tests
    (glyphs equal HarfBuzz's, fonts embedded, text drawn) guard this against pyHanko changes.
    """

    def __init__(self, writer: BasePdfFileWriter, data: _FontData, font_size: int, obj_stream: Any = None) -> None:
        FontEngine.__init__(
            self, writer, data.ps_name, embedded_subset=True, obj_stream=obj_stream, font_size=font_size
        )
        self._font_ref = writer.allocate_placeholder()
        self._data = data
        self.hb_font = data.hb_font
        self.tt = data.tt
        self.cff_charset = None
        self.use_raw_gids = True
        self.cidfont_obj = _ProgramCIDFont(data.tt, data.ps_name, self.subset_prefix)
        self.features = None
        self.units_per_em = data.units_per_em
        self._glyphs: dict[int, tuple[int, int]] = {}
        self._glyph_set = data.glyph_set
        self._cid_to_unicode: dict[int, str] = {}
        self._GlyphAccumulator__reverse_cmap = data.reverse_cmap
        self.ot_language_tag = None
        self.ot_script_tag = None
        self.writing_direction = None
        self.bcp47_lang_code = "th"
        self._subset_created = self._write_prepared = False

    def _extract_subset(self, options: Any = None) -> None:
        assert isinstance(self.cidfont_obj, _ProgramCIDFont)
        self.cidfont_obj.program = self._data.subset(frozenset(self._glyphs))


@dataclass(frozen=True)
class SharedFontFactory(FontEngineFactory):
    """pyHanko font engine factory over the process-wide font cache."""

    font_file: Path
    """The TTF to shape with and embed."""
    font_size: int = 10
    """Nominal size; the text box sets the real one."""

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return _SharedGlyphAccumulator(writer, _font_data(self.font_file), self.font_size, obj_stream)


def warm_up() -> None:
    """Load the fonts now (a batch worker calls this once before its first job)."""
    _font_data(sarabun_path())


# -- the three appearances -------------------------------------------------------------------------

INK = (0.05, 0.15, 0.55)
"""Dark blue, the colour of a pen (initials, signature) and of a received-stamp pad."""


@dataclass(frozen=True)
class _ShrinkInside(layout.SimpleBoxLayoutRule):
    """Centre the content inside the margins, shrunk (never grown) until it fits.

    pyHanko's own shrink-to-fit multiplies the natural size by ``room / natural``, which can
    come out one rounding error wider than the room (``91.00000000000001`` in 91 points: a long
    agency name on a received stamp). pyHanko then logs a warning and drops the right margin.
    Here the scale is stepped down by ulps until the scaled content is within the room."""

    def fit(
        self, container_box: layout.BoxConstraints, inner_nat_width: int, inner_nat_height: int
    ) -> layout.Positioning:
        if not (container_box.width_defined and container_box.height_defined):
            return super().fit(container_box, inner_nat_width, inner_nat_height)
        m = self.margins
        room_w = m.effective_width(container_box.width)
        room_h = m.effective_height(container_box.height)
        scale = min(
            1.0,
            room_w / inner_nat_width if inner_nat_width > 0 else 1.0,
            room_h / inner_nat_height if inner_nat_height > 0 else 1.0,
        )
        while scale > 0 and (inner_nat_width * scale > room_w or inner_nat_height * scale > room_h):
            scale = math.nextafter(scale, 0.0)
        # pyHanko annotates these lengths as int but computes them as floats itself
        x = self.x_align.align(container_box.width, inner_nat_width * scale, m.left, m.right)  # type: ignore[arg-type]
        y = self.y_align.align(container_box.height, inner_nat_height * scale, m.bottom, m.top)  # type: ignore[arg-type]
        return layout.Positioning(x_pos=x, y_pos=y, x_scale=scale, y_scale=scale)


def _style(*, font_size: int, leading: int, border: int, margin: float) -> TextStampStyle:
    factory = SharedFontFactory(sarabun_path(), font_size=font_size)
    return TextStampStyle(
        stamp_text="%(text)s",
        border_width=border,
        border_color=INK if border else None,
        background=None,
        text_box_style=TextBoxStyle(
            font=factory,
            font_size=font_size,
            leading=leading,
            text_color=INK,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins.uniform(0),
            ),
        ),
        inner_content_layout=_ShrinkInside(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(margin),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
    )


_STYLES: dict[str, TextStampStyle] = {}
_STAMP_FONT = 10
_STAMP_LEADING = 13
_STAMP_MARGIN = 4
_STAMP_ROOM = (99.0 - 2 * _STAMP_MARGIN, 62.0 - 2 * _STAMP_MARGIN)
"""Width and height inside the margins of a received stamp of the default size (fields.STAMP_SIZE)."""
_STAMP_OTHER_LINES = 3
"""เลขรับ, วันที่, เวลา: each narrower than the room."""


def _advance(text: str, size: float) -> float:
    """Width of ``text`` in Sarabun at ``size`` points, as HarfBuzz shapes it."""
    data = _font_data(sarabun_path())
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(data.hb_font, buf)
    return sum(p.x_advance for p in buf.glyph_positions) * size / data.units_per_em


@functools.lru_cache(maxsize=1024)
def stamp_name_lines(name: str) -> tuple[str, ...]:
    """The agency name of a received stamp as the lines it is printed on.

    A name that fits the stamp's width is one line. A longer one (a tambon health-promoting
    hospital with its district runs to 274 pt at 10 pt in a 91 pt room) is broken at word
    boundaries (:mod:`edoc.documents.linebreak`) at the line width that lets the whole stamp be
    shrunk least: one long line would be printed at a third of its size, three lines at
    two thirds."""
    room_w, room_h = _STAMP_ROOM

    def measure(text: str) -> float:
        return _advance(text, _STAMP_FONT)

    if measure(name) <= room_w:
        return (name,)
    from edoc.documents.linebreak import break_lines, units

    # where a line may end: after a word (break_lines splits a word wider than the line between
    # letters, which a name must not suffer: such a layout is not taken)
    ends, at = set(), 0
    for unit in units(name):
        at = name.index(unit.text, at) + len(unit.text)
        ends.add(at)
    best: tuple[str, ...] = (name,)
    best_scale = min(room_w / measure(name), room_h / (_STAMP_LEADING * (1 + _STAMP_OTHER_LINES)))
    for step in range(9):  # line widths from the room to three times it
        lines = [
            ("".join(line.pieces).strip(), line.width) for line in break_lines(name, measure, [room_w * (1 + step / 4)])
        ]
        at, whole_words = 0, True
        for text, _ in lines[:-1]:
            at = name.index(text, at) + len(text)
            whole_words = whole_words and at in ends
        scale = min(
            1.0,
            room_w / max(width for _, width in lines),
            room_h / (_STAMP_LEADING * (len(lines) + _STAMP_OTHER_LINES)),
        )
        if whole_words and scale > best_scale:
            best, best_scale = tuple(text for text, _ in lines), scale
    return best


def _cached_style(kind: str) -> TextStampStyle:
    style = _STYLES.get(kind)
    if style is None:
        if kind == "initial":
            style = _style(font_size=10, leading=13, border=0, margin=1)
        elif kind == "signature":
            style = _style(font_size=11, leading=15, border=0, margin=2)
        else:
            style = _style(font_size=_STAMP_FONT, leading=_STAMP_LEADING, border=1, margin=_STAMP_MARGIN)
        _STYLES[kind] = style
    return style


def appearance_text(appearance: Appearance, *, tz: str = "Asia/Bangkok") -> str:
    """The lines an appearance prints, joined with newlines."""
    if isinstance(appearance, InitialMark):
        return "\n".join(
            [_clean(appearance.mark), thai.date_short(appearance.when, digits=appearance.thai_digits, tz=tz)]
        )
    if isinstance(appearance, SignatureBlock):
        when = appearance.when
        digits = appearance.thai_digits
        lines = [
            _clean(appearance.heading),
            _clean(appearance.name),
            _clean(appearance.position),
            f"{thai.date_long(when, digits=digits, tz=tz)} {thai.time_of_day(when, digits=digits, tz=tz)}",
        ]
        return "\n".join(line for line in lines if line)
    if isinstance(appearance, ReceivedStamp):
        digits = appearance.thai_digits
        number = thai.thai_digits(appearance.number) if digits else appearance.number
        return "\n".join(
            [
                *stamp_name_lines(_clean(appearance.agency)),
                f"เลขรับ {_clean(number)}",
                f"วันที่ {thai.date_medium(appearance.when, digits=digits, tz=tz)}",
                f"เวลา {thai.time_of_day(appearance.when, digits=digits, tz=tz)}",
            ]
        )
    raise TypeError(f"not an appearance: {type(appearance).__name__}")


def stamp_style(appearance: Appearance) -> TextStampStyle:
    """The pyHanko stamp style that draws ``appearance``."""
    if isinstance(appearance, InitialMark):
        return _cached_style("initial")
    if isinstance(appearance, SignatureBlock):
        return _cached_style("signature")
    if isinstance(appearance, ReceivedStamp):
        return _cached_style("stamp")
    raise TypeError(f"not an appearance: {type(appearance).__name__}")


def _clean(text: str) -> str:
    """One line: no control characters, no line breaks, collapsed spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
