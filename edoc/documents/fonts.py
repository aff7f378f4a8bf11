"""Fonts for rendering: Sarabun from fontpkg-sarabun, parsed once per process, shaped with
HarfBuzz (results cached per word), and subset for embedding without fontTools' slow path.

Why not fpdf2's own text engine: it re-parses and re-subsets the font for every document (about
150 ms of a one-page letter), breaks Thai lines inside words, and loses sara am (ำ) in copied
text. Here the font is read once (:func:`font`), every word is shaped once (:meth:`Font.shape`,
an LRU cache across documents), and a subset keeps glyph ids unchanged (the unused glyphs'
outlines are dropped from ``glyf``/``loca``), which takes well under a millisecond.

Copy-paste fidelity: every glyph gets a default text (from the ``cmap``, and through the
``GSUB`` substitutions for Thai variant glyphs such as ``uni0E48.small``); a cluster whose
glyphs' default texts do not spell its characters in order (sara am decomposed into nikhahit
and sara aa, a tone mark merged with nikhahit) carries its real text as ``/ActualText``.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGULAR = "Regular"
BOLD = "Bold"


@dataclass(frozen=True)
class Cluster:
    """A run of glyphs that together show a run of characters (a grapheme, or more)."""

    start: int
    """Index of the first glyph."""
    end: int
    """One past the last glyph."""
    text: str
    """The characters this cluster shows."""
    actual_text: bool
    """True when the glyphs' default texts do not spell :attr:`text`: emit it as /ActualText."""


@dataclass(frozen=True)
class Shaped:
    """One word (or space) shaped: glyph ids and positions in font units."""

    text: str
    """What was shaped."""
    gids: tuple[int, ...]
    """Glyph ids, in visual order."""
    advances: tuple[int, ...]
    """Horizontal advance of each glyph (font units)."""
    x_offsets: tuple[int, ...]
    """Horizontal offset of each glyph from the pen (font units)."""
    y_offsets: tuple[int, ...]
    """Vertical offset of each glyph (font units, up is positive)."""
    clusters: tuple[Cluster, ...]
    """The clusters, in order; justification may add space between them."""
    width: int
    """Total advance (font units)."""
    span: bool = False
    """True when text extraction needs the run's text as /ActualText: it has combining marks
    (poppler orders a zero-width mark by its drawn position and splits the word) or a cluster
    whose glyphs do not spell its characters."""


class Font:
    """One face of Sarabun: metrics, HarfBuzz shaping with a cache, default glyph texts, subsetting."""

    def __init__(self, path: Path, name: str, *, cache_size: int = 50_000) -> None:
        import uharfbuzz as hb
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

        self.path = path
        self.name = name
        """PostScript name, e.g. ``Sarabun-Regular``."""
        self.data = path.read_bytes()
        tt = TTFont(path, lazy=True)
        head, hhea, os2, post = tt["head"], tt["hhea"], tt["OS/2"], tt["post"]
        self.upem: int = head.unitsPerEm
        self.ascent: int = hhea.ascent
        self.descent: int = hhea.descent
        self.line_gap: int = hhea.lineGap
        self.cap_height: int = getattr(os2, "sCapHeight", 0) or self.ascent
        self.bbox = (head.xMin, head.yMin, head.xMax, head.yMax)
        self.italic_angle = float(post.italicAngle)
        self.weight: int = os2.usWeightClass
        self.num_glyphs: int = tt["maxp"].numGlyphs
        hmtx = tt["hmtx"].metrics
        order = tt.getGlyphOrder()
        self.widths: tuple[int, ...] = tuple(hmtx[g][0] for g in order)
        self.default_text: dict[int, str] = _default_texts(tt, order)
        self._tables = _table_directory(self.data)
        self._loca = _loca(self.data, self._tables, head.indexToLocFormat, self.num_glyphs)
        self._hb_font = hb.Font(hb.Face(hb.Blob(self.data)))
        self._hb = hb
        self._cache: OrderedDict[str, Shaped] = OrderedDict()
        self._cache_size = cache_size
        self.space_gid = self.shape(" ").gids[0]

    # -- metrics ---------------------------------------------------------------------------

    def line_height(self, size: float) -> float:
        """Single line spacing at ``size`` points (hhea ascent - descent + line gap)."""
        return (self.ascent - self.descent + self.line_gap) * size / self.upem

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` points (shaped)."""
        return self.shape(text).width * size / self.upem

    # -- shaping ---------------------------------------------------------------------------

    def shape(self, text: str) -> Shaped:
        """Shape ``text`` (one word or space); cached across documents (LRU)."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        shaped = self._shape(text)
        self._cache[text] = shaped
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return shaped

    def _shape(self, text: str) -> Shaped:
        hb = self._hb
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        hb.shape(self._hb_font, buf, {"kern": True, "liga": True})
        infos, positions = buf.glyph_infos, buf.glyph_positions
        gids = tuple(i.codepoint for i in infos)
        starts = [i.cluster for i in infos]
        # cluster values are character offsets (UTF-32 index with add_str); monotone for Thai
        boundaries = sorted(set(starts))
        char_end = {b: (boundaries[k + 1] if k + 1 < len(boundaries) else len(text)) for k, b in enumerate(boundaries)}
        clusters: list[Cluster] = []
        g = 0
        while g < len(gids):
            c = starts[g]
            e = g + 1
            while e < len(gids) and starts[e] == c:
                e += 1
            chars = text[c : char_end[c]]
            spelled = "".join(self.default_text.get(gid, "\ufffd") for gid in gids[g:e])
            clusters.append(Cluster(g, e, chars, spelled != chars))
            g = e
        advances = tuple(p.x_advance for p in positions)
        return Shaped(
            text=text,
            gids=gids,
            advances=advances,
            x_offsets=tuple(p.x_offset for p in positions),
            y_offsets=tuple(p.y_offset for p in positions),
            clusters=tuple(clusters),
            width=sum(advances),
            span=any(c.actual_text for c in clusters) or any(_mark(ch) for ch in text),
        )

    def cache_info(self) -> tuple[int, int]:
        """``(entries, capacity)`` of the shaping cache."""
        return len(self._cache), self._cache_size

    # -- embedding --------------------------------------------------------------------------

    def subset(self, gids: set[int] | frozenset[int]) -> bytes:
        """A TrueType program with only the outlines of ``gids`` (and their components).

        Glyph ids are unchanged (CIDToGIDMap stays Identity); the other glyphs are empty.
        Only the tables a PDF needs are kept: head, hhea, hmtx, loca, glyf, maxp (and cvt,
        fpgm, prep, which Sarabun does not have).
        """
        keep = self.closure(gids)
        return _subset(self.data, self._tables, self._loca, keep)

    def closure(self, gids: set[int] | frozenset[int]) -> frozenset[int]:
        """``gids`` plus .notdef and the components of composite glyphs."""
        keep = {0, *gids}
        todo = list(keep)
        glyf_off = self._tables["glyf"][0]
        while todo:
            gid = todo.pop()
            if gid < 0 or gid >= self.num_glyphs:
                continue
            start, end = self._loca[gid], self._loca[gid + 1]
            if end - start < 10:
                continue
            contours = struct.unpack_from(">h", self.data, glyf_off + start)[0]
            if contours >= 0:
                continue
            for component in _components(self.data, glyf_off + start + 10):
                if component not in keep:
                    keep.add(component)
                    todo.append(component)
        return frozenset(g for g in keep if 0 <= g < self.num_glyphs)

    def subset_tag(self, gids: frozenset[int]) -> str:
        """Six capital letters derived from the glyph set (``ABCDEF+Sarabun-Regular``)."""
        digest = hashlib.sha256(self.name.encode() + b"".join(g.to_bytes(2, "big") for g in sorted(gids))).digest()
        return "".join(chr(ord("A") + b % 26) for b in digest[:6])


def _mark(ch: str) -> bool:
    return ch == "\u0e31" or "\u0e33" <= ch <= "\u0e3a" or "\u0e47" <= ch <= "\u0e4e"


@functools.cache
def font(style: str = REGULAR) -> Font:
    """The process-wide Sarabun face (``Regular`` or ``Bold``), read and parsed once."""
    from fontpkg_sarabun import ROOT

    return Font(Path(ROOT) / "files" / f"Sarabun-{style}.ttf", f"Sarabun-{style}")


# -- default texts ----------------------------------------------------------------------------


def _default_texts(tt: Any, order: list[str]) -> dict[int, str]:
    """Glyph id -> the characters it shows by default, from the cmap and GSUB substitutions."""
    index = {name: i for i, name in enumerate(order)}
    texts: dict[int, str] = {}
    best = tt.getBestCmap() or {}
    for codepoint, name in sorted(best.items()):
        gid = index.get(name)
        if gid is not None and gid not in texts:
            texts[gid] = chr(codepoint)
    if "GSUB" not in tt:
        return texts
    singles: list[tuple[str, str]] = []
    ligatures: list[tuple[str, list[str]]] = []
    for lookup in tt["GSUB"].table.LookupList.Lookup:
        for sub in lookup.SubTable:
            kind = lookup.LookupType
            if kind == 7:  # extension
                kind, sub = sub.ExtSubTable.LookupType, sub.ExtSubTable
            if kind == 1:
                singles.extend(sub.mapping.items())
            elif kind == 3:
                for src, alternates in sub.alternates.items():
                    singles.extend((src, alt) for alt in alternates)
            elif kind == 4:
                for first, ligs in sub.ligatures.items():
                    ligatures.extend((lig.LigGlyph, [first, *lig.Component]) for lig in ligs)
    changed = True
    while changed:  # substitutions can chain (a variant of a variant)
        changed = False
        for src, dst in singles:
            s, d = index.get(src), index.get(dst)
            if s in texts and d is not None and d not in texts:
                texts[d] = texts[s]
                changed = True
        for lig, parts in ligatures:
            d = index.get(lig)
            ids = [index.get(p) for p in parts]
            if d is not None and d not in texts and all(i in texts for i in ids):
                texts[d] = "".join(texts[i] for i in ids if i is not None)
                changed = True
    return texts


# -- subsetting ---------------------------------------------------------------------------------

_KEEP_TABLES = ("cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "prep")


def _table_directory(data: bytes) -> dict[str, tuple[int, int]]:
    count = struct.unpack_from(">H", data, 4)[0]
    tables = {}
    for i in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag.decode("latin-1")] = (offset, length)
    return tables


def _loca(data: bytes, tables: dict[str, tuple[int, int]], fmt: int, num_glyphs: int) -> tuple[int, ...]:
    offset, _ = tables["loca"]
    if fmt == 0:
        return tuple(2 * v for v in struct.unpack_from(f">{num_glyphs + 1}H", data, offset))
    return struct.unpack_from(f">{num_glyphs + 1}I", data, offset)


def _components(data: bytes, pos: int) -> list[int]:
    """Glyph ids of a composite glyph's components (``pos``: just after the glyph header)."""
    out = []
    more = True
    while more:
        flags, gid = struct.unpack_from(">HH", data, pos)
        out.append(gid)
        pos += 4
        pos += 4 if flags & 0x0001 else 2  # ARG_1_AND_2_ARE_WORDS
        if flags & 0x0008:  # WE_HAVE_A_SCALE
            pos += 2
        elif flags & 0x0040:  # WE_HAVE_AN_X_AND_Y_SCALE
            pos += 4
        elif flags & 0x0080:  # WE_HAVE_A_TWO_BY_TWO
            pos += 8
        more = bool(flags & 0x0020)  # MORE_COMPONENTS
    return out


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def _subset(data: bytes, tables: dict[str, tuple[int, int]], loca: tuple[int, ...], keep: frozenset[int]) -> bytes:
    glyf_off = tables["glyf"][0]
    parts: list[bytes] = []
    offsets = [0]
    size = 0
    for gid in range(len(loca) - 1):
        if gid in keep:
            chunk = data[glyf_off + loca[gid] : glyf_off + loca[gid + 1]]
            chunk += b"\0" * (-len(chunk) % 4)
            parts.append(chunk)
            size += len(chunk)
        offsets.append(size)
    glyf = b"".join(parts)
    new_loca = struct.pack(f">{len(offsets)}I", *offsets)
    out_tables: dict[str, bytes] = {}
    for tag in _KEEP_TABLES:
        if tag not in tables:
            continue
        offset, length = tables[tag]
        out_tables[tag] = data[offset : offset + length]
    out_tables["glyf"] = glyf
    out_tables["loca"] = new_loca
    head = bytearray(out_tables["head"])
    head[8:12] = b"\0\0\0\0"  # checkSumAdjustment, set below
    head[50:52] = struct.pack(">h", 1)  # indexToLocFormat: long offsets
    out_tables["head"] = bytes(head)
    tags = sorted(out_tables)
    n = len(tags)
    entry_selector = max(k for k in range(16) if 2**k <= n)
    search_range = 16 * 2**entry_selector
    header = struct.pack(">IHHHH", 0x00010000, n, search_range, entry_selector, 16 * n - search_range)
    directory = b""
    body = b""
    offset = 12 + 16 * n
    for tag in tags:
        table = out_tables[tag]
        directory += struct.pack(">4sIII", tag.encode("latin-1"), _checksum(table), offset + len(body), len(table))
        body += table + b"\0" * (-len(table) % 4)
    font_bytes = bytearray(header + directory + body)
    adjustment = (0xB1B0AFBA - _checksum(bytes(font_bytes))) & 0xFFFFFFFF
    head_offset = offset + sum(len(out_tables[t]) + (-len(out_tables[t]) % 4) for t in tags[: tags.index("head")])
    font_bytes[head_offset + 8 : head_offset + 12] = struct.pack(">I", adjustment)
    return bytes(font_bytes)
