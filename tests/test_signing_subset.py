"""The stamp font's subsets cut from the TrueType bytes (:class:`edoc.signing.appearance.GlyfCutter`)
are valid fonts, read back by fontTools with its checksum checks, with every kept glyph's outline
exactly the full font's and the components of composite glyphs kept along."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from edoc.signing import appearance as ap


@pytest.fixture(scope="module")
def data() -> ap._FontData:
    return ap._font_data(ap.sarabun_path())


def _glyphs(data: ap._FontData, text: str) -> frozenset[int]:
    import uharfbuzz as hb

    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(data.hb_font, buf)
    return frozenset(info.codepoint for info in buf.glyph_infos)


def test_a_cut_subset_reads_back_with_the_full_fonts_outlines(data: ap._FontData) -> None:
    full = TTFont(BytesIO(data.stripped))
    order = full.getGlyphOrder()
    composite = next(i for i, name in enumerate(order) if full["glyf"][name].isComposite())
    wanted = _glyphs(data, "เทศบาลเมืองปากช่อง เลขรับ ๑๒๓ วันที่ 3 ธ.ค. 2569 เวลา 08:15 น.") | {composite}
    cutter = ap.GlyfCutter.of(data.stripped)
    assert cutter is not None
    program = zlib.decompress(data.subset(wanted))
    assert program == cutter.cut(wanted)
    sub = TTFont(BytesIO(program), checkChecksums=2)  # a wrong table checksum raises
    names = sub.getGlyphOrder()  # post format 3: no glyph names, fontTools makes some up
    assert len(names) == len(order)  # glyph ids kept
    components = set(full["glyf"][order[composite]].getComponentNames(full["glyf"]))
    kept = set(wanted) | {order.index(c) for c in components} | {0}
    for gid, name in enumerate(order):
        glyph, original = sub["glyf"][names[gid]], full["glyf"][name]
        if gid in kept:
            assert glyph.numberOfContours == original.numberOfContours
            if glyph.isComposite():
                assert [c.glyphName for c in glyph.components] == [
                    names[order.index(c.glyphName)] for c in original.components
                ]
            elif glyph.numberOfContours:
                assert list(glyph.coordinates) == list(original.coordinates)
                assert glyph.flags == original.flags
        else:
            assert glyph.numberOfContours == 0, name
        assert sub["hmtx"][names[gid]] == full["hmtx"][name]
    assert len(program) < len(data.stripped) / 2
    # head's checkSumAdjustment makes the whole font sum to the magic number
    assert _table_offset(program, b"head") > 0
    words = program + b"\x00" * (-len(program) % 4)
    assert sum(struct.unpack(f">{len(words) // 4}I", words)) & 0xFFFFFFFF == 0xB1B0AFBA


def _table_offset(font: bytes, tag: bytes) -> int:
    (count,) = struct.unpack(">H", font[4:6])
    for i in range(count):
        t, _c, offset, _l = struct.unpack(">4sIII", font[12 + 16 * i : 28 + 16 * i])
        if t == tag:
            return int(offset)
    raise KeyError(tag)


def test_the_cutter_draws_what_fonttools_subsetter_draws(data: ap._FontData) -> None:
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.pens.recordingPen import RecordingPen  # type: ignore[import-untyped]

    wanted = _glyphs(data, "ลงรับหนังสือ ที่ นม ๕๒๑๐๑/ว ๑๒ Ångström")
    cutter = ap.GlyfCutter.of(data.stripped)
    assert cutter is not None
    ours = TTFont(BytesIO(cutter.cut(wanted)))
    theirs = TTFont(BytesIO(data.stripped))
    options = subset.Options(layout_closure=False)
    options.retain_gids = True
    sub = subset.Subsetter(options=options)
    sub.populate(gids=sorted(wanted))
    sub.subset(theirs)
    ours_set, theirs_set = ours.getGlyphSet(), theirs.getGlyphSet()
    drawn = 0
    for gid in sorted(wanted):
        mine, other = ours.getGlyphOrder()[gid], theirs.getGlyphOrder()[gid]
        a, b = RecordingPen(), RecordingPen()
        ours_set[mine].draw(a)
        theirs_set[other].draw(b)
        assert a.value == b.value, other
        assert ours_set[mine].width == theirs_set[other].width
        drawn += bool(a.value)
    assert drawn > 10


def test_not_a_truetype_font_is_left_to_fonttools() -> None:
    assert ap.GlyfCutter.of(b"OTTO" + b"\x00" * 64) is None
