"""Thai line breaking: lines end only at word boundaries found by dictionary segmentation.

Thai writes no spaces between words, so where a line may end is found by pythainlp's ``newmm``
engine (maximal matching over a dictionary, on Thai character clusters, so a word never loses
its vowels or tone marks). A break is allowed:

- at white space (the space is dropped at the end of the line);
- between two dictionary words when both sides are Thai letters;
- never before ``ๆ``, ``ฯ`` or closing punctuation, never after opening punctuation, never
  inside a number, a date like ``๓/๒๕๖๙`` or a Latin word.

Only a word wider than the whole line is split, and then only between grapheme clusters (a
base consonant always keeps its marks; a leading vowel stays with its consonant).

Segmentations are cached per paragraph text (LRU), so a letter rendered twice, or a phrase
that recurs, is segmented once.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_THAI_LETTERS = frozenset(chr(c) for c in range(0x0E01, 0x0E4F)) - frozenset("ฯๆ\u0e3f")
"""Thai consonants, vowels and marks (not ฯ, ๆ, ฿ or the Thai digits)."""
_LEADING_VOWELS = frozenset("เแโใไ")
_NO_BREAK_BEFORE = frozenset("ๆฯ)]}»”’,.;:!?%")
_NO_BREAK_AFTER = frozenset("([{«“‘")


@functools.lru_cache(maxsize=4096)
def segment(text: str) -> tuple[str, ...]:
    """Words of ``text`` by dictionary segmentation (white space runs are their own tokens)."""
    from pythainlp.tokenize import word_tokenize

    tokens = word_tokenize(text, engine="newmm", keep_whitespace=True)
    out: list[str] = []
    for token in tokens:
        if not token:
            continue
        if token.isspace() and out and out[-1].isspace():
            out[-1] += token
        else:
            out.append(token)
    return tuple(out)


def breakable(before: str, after: str) -> bool:
    """May a line end between the tokens ``before`` and ``after`` (neither is white space)?"""
    a, b = before[-1], after[0]
    if b in _NO_BREAK_BEFORE or a in _NO_BREAK_AFTER:
        return False
    return a in _THAI_LETTERS and b in _THAI_LETTERS


@dataclass(frozen=True)
class Unit:
    """An unbreakable run of text: one or more tokens glued together, and the space after it."""

    text: str
    """The run (no white space)."""
    space_after: bool
    """Whether white space followed it in the paragraph."""


def units(paragraph: str) -> list[Unit]:
    """The paragraph as unbreakable runs: tokens glued where no break is allowed."""
    out: list[Unit] = []
    pending = ""
    for token in segment(paragraph):
        if token.isspace():
            if pending.endswith("-"):
                pending += " "  # never end a line on a hyphen: readers take it for hyphenation
                continue
            if pending:
                out.append(Unit(pending, True))
                pending = ""
            elif out:
                out[-1] = Unit(out[-1].text, True)
            continue
        if pending and not breakable(pending, token):
            pending += token
            continue
        if pending:
            out.append(Unit(pending, False))
        pending = token
    if pending:
        out.append(Unit(pending, False))
    return out


def clusters(text: str) -> list[str]:
    """Grapheme clusters for splitting an over-long word: a base with its marks; a leading
    vowel (เ แ โ ใ ไ) joined to the consonant after it."""
    out: list[str] = []
    for ch in text:
        mark = unicodedata.category(ch) in ("Mn", "Me") or ch == "\u0e33"
        if out and (mark or out[-1][-1] in _LEADING_VOWELS):
            out[-1] += ch
        else:
            out.append(ch)
    return out


@dataclass(frozen=True)
class Line:
    """One line of a paragraph: its runs (white space between runs is kept as given)."""

    pieces: tuple[str, ...]
    """Runs of text; a piece ``" "`` is a space inside the line."""
    width: float
    """Natural width (points)."""
    last: bool
    """True for the paragraph's last line (never justified)."""


def break_lines(
    paragraph: str,
    measure: Callable[[str], float],
    widths: Sequence[float],
) -> list[Line]:
    """Break ``paragraph`` into lines no wider than ``widths[i]`` (the last value repeats).

    ``measure(text)`` is the advance width of a run. A run wider than a whole line is split
    between grapheme clusters; nothing else is ever split.
    """
    space = measure(" ")
    lines: list[Line] = []
    current: list[str] = []
    width = 0.0

    def limit() -> float:
        return widths[min(len(lines), len(widths) - 1)]

    def flush() -> None:
        nonlocal current, width
        while current and current[-1] == " ":
            width -= space
            current.pop()
        lines.append(Line(tuple(current), width, False))
        current, width = [], 0.0

    for unit in units(paragraph):
        w = measure(unit.text)
        if current and width + w > limit() + 1e-6:
            flush()
        if not current and w > limit() + 1e-6:
            for piece in _split_long(unit.text, measure, limit):
                pw = measure(piece)
                if current and width + pw > limit() + 1e-6:
                    flush()
                current.append(piece)
                width += pw
        else:
            current.append(unit.text)
            width += w
        if unit.space_after:
            current.append(" ")
            width += space
    if current or not lines:
        flush()
    last = lines[-1]
    lines[-1] = Line(last.pieces, last.width, True)
    return lines


def _split_long(text: str, measure: Callable[[str], float], limit: Callable[[], float]) -> list[str]:
    """Split an over-long run into pieces that each fit a line (between clusters)."""
    pieces: list[str] = []
    current = ""
    for cluster in clusters(text):
        if current and measure(current + cluster) > limit() + 1e-6:
            pieces.append(current)
            current = cluster
        else:
            current += cluster
    if current:
        pieces.append(current)
    return pieces
