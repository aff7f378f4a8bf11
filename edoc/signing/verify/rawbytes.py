"""Checks done on the raw bytes of the file, independently of any PDF parser's opinion.

A signature signs the bytes its ``/ByteRange`` names. Attacks on PDF signatures (signature
wrapping, incremental saving attacks, "universal" forgeries) work by making the range say
something different from what a reader assumes. So, for each signature, on the file's bytes:

* the range is exactly four non-negative integers ``[0 len1 start2 len2]`` with
  ``start2 > len1``: it starts at the first byte, the two parts do not overlap and leave
  one gap;
* the range stays inside the file;
* the gap holds exactly one hexadecimal string, ``<…>``, made of hex digits only, and that
  string decodes to the same bytes as the ``/Contents`` the parser read from the signature
  dictionary (so the signed container is the one in the gap, not one elsewhere);
* the gap lies inside the signature dictionary's own object (between its ``obj`` and
  ``endobj`` in the revision that was signed), so the dictionary that says what was signed
  is part of what was signed;
* the range ends exactly where a revision ends (after ``startxref … %%EOF`` and at most one
  end-of-line), the revision in which the signature dictionary was last written: the
  whole revision is covered, nothing more and nothing less.

This module needs only the bytes and a few numbers from the parser; it never trusts the
parser's own coverage verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

HEADER_WINDOW = 1024
"""The ``%PDF-`` header must start within the first 1024 bytes (as in Acrobat)."""

_HEX = re.compile(rb"[0-9A-Fa-f]*")
_TAIL = re.compile(rb"\s*startxref\s+(\d+)\s*(%%EOF)(\r\n|\r|\n)?")
_OBJ_HEAD = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj")
TAIL_WINDOW = 1 << 20
"""How far after a cross-reference section the ``startxref … %%EOF`` tail is looked for."""


def has_pdf_header(data: bytes | bytearray | memoryview | object) -> bool:
    """True if ``%PDF-`` occurs within the first :data:`HEADER_WINDOW` bytes."""
    head = bytes(data[:HEADER_WINDOW])  # type: ignore[index]
    return b"%PDF-" in head


@dataclass(frozen=True)
class RevisionEnd:
    """Where one revision of the file ends."""

    revision: int
    """Revision number, from 0 (as the parser numbers them)."""
    eof_end: int
    """Offset just after its ``%%EOF`` marker."""
    eol_end: int
    """Offset after the end-of-line that follows ``%%EOF`` (equal to ``eof_end`` if none)."""


def revision_end(data: object, xref_end: int, startxrefs: Mapping[int, int]) -> RevisionEnd | None:
    """Find where the revision whose cross-reference section ends at ``xref_end`` ends.

    After the section comes, for a classic table, its trailer dictionary (``trailer << … >>``),
    or, for a cross-reference stream, the rest of the stream object (``endobj``); then
    ``startxref N %%EOF``. ``N`` names the revision that ends there (``startxrefs`` maps the
    offset of each revision's cross-reference section to the revision): usually the section
    just before, but for a linearized file the tail after the main section names the
    first-page section, as the PDF reader does. The trailer is skipped with a small tokenizer
    (strings may hold ``>>`` or ``%%EOF``), so a fake tail planted inside the trailer cannot
    shorten the revision. Returns None if the tail is not right there: no signature can then
    claim to cover a revision ending at this point.
    """
    size = len(data)  # type: ignore[arg-type]
    if not 0 <= xref_end <= size:
        return None
    window = bytes(data[xref_end : min(size, xref_end + TAIL_WINDOW)])  # type: ignore[index]
    pos = _skip_ws(window, 0)
    if window.startswith(b"trailer", pos):
        pos = _skip_ws(window, pos + len(b"trailer"))
    if window.startswith(b"<<", pos):
        after = _skip_dict(window, pos)
        if after is None:
            return None
        pos = after
    pos = _skip_ws(window, pos)
    if window.startswith(b"endstream", pos):
        pos = _skip_ws(window, pos + len(b"endstream"))
    if window.startswith(b"endobj", pos):
        pos = _skip_ws(window, pos + len(b"endobj"))
    match = _TAIL.match(window, pos)
    if match is None:
        return None
    revision = startxrefs.get(int(match.group(1)))
    if revision is None:
        return None
    eof_end = xref_end + match.end(2)
    return RevisionEnd(revision, eof_end, eof_end + len(match.group(3) or b""))


_WS = b" \t\r\n\x00\x0c"


def _skip_ws(buf: bytes, pos: int) -> int:
    """Skip whitespace and comments."""
    n = len(buf)
    while pos < n:
        c = buf[pos]
        if c in _WS:
            pos += 1
        elif c == 0x25:  # % comment, to end of line
            while pos < n and buf[pos] not in b"\r\n":
                pos += 1
        else:
            break
    return pos


def _skip_dict(buf: bytes, pos: int) -> int | None:
    """Given ``buf[pos:]`` starting with ``<<``, return the offset after its matching ``>>``."""
    depth = 0
    n = len(buf)
    while pos < n:
        if buf.startswith(b"<<", pos):
            depth += 1
            pos += 2
        elif buf.startswith(b">>", pos):
            depth -= 1
            pos += 2
            if depth == 0:
                return pos
        elif buf[pos] == 0x3C:  # <hex string>
            end = buf.find(b">", pos + 1)
            if end == -1:
                return None
            pos = end + 1
        elif buf[pos] == 0x28:  # (literal string) with nesting and escapes
            level = 0
            while pos < n:
                c = buf[pos]
                if c == 0x5C:  # backslash escapes the next byte
                    pos += 2
                    continue
                if c == 0x28:
                    level += 1
                elif c == 0x29:
                    level -= 1
                    if level == 0:
                        pos += 1
                        break
                pos += 1
            else:
                return None
        elif buf[pos] == 0x25:
            pos = _skip_ws(buf, pos)
        else:
            pos += 1
    return None


@dataclass(frozen=True)
class RangeCheck:
    """What the raw bytes say about one signature's byte range."""

    problems: tuple[tuple[str, dict[str, str]], ...]
    """(reason code, parameters) for every violated rule; empty when the range is sound."""
    covered_end: int | None
    """Offset where the signed bytes end (``start2 + len2``), if the range is readable."""
    revision: int | None
    """The revision whose end the range reaches, if it reaches one."""
    gap: tuple[int, int] | None
    """The unsigned gap ``[len1, start2)``, if the range is readable."""

    @property
    def sound(self) -> bool:
        return not self.problems


def check_byte_range(
    data: object,
    byte_range: Sequence[object],
    contents: bytes | None,
    sig_offset: int | None,
    sig_revision: int | None,
    revision_ends: Sequence[RevisionEnd],
) -> RangeCheck:
    """Check one signature's ``/ByteRange`` against the raw bytes (see the module docstring).

    ``contents`` is the decoded ``/Contents`` string the parser read from the signature
    dictionary; ``sig_offset`` the byte offset of that dictionary's object in the revision the
    parser says it belongs to (``sig_revision``), or None when it is not stored as a plain
    object (e.g. inside an object stream).
    """
    size = len(data)  # type: ignore[arg-type]
    problems: list[tuple[str, dict[str, str]]] = []
    values = list(byte_range) if isinstance(byte_range, (list, tuple)) else None
    if values is None or len(values) != 4:
        return RangeCheck((("byterange_malformed", {"detail": "it is not a list of four numbers"}),), None, None, None)
    if not all(type(v) is int or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
        return RangeCheck(
            (("byterange_malformed", {"detail": "it holds values that are not integers"}),), None, None, None
        )
    start1, len1, start2, len2 = (int(v) for v in values)
    if start1 != 0:
        problems.append(("byterange_malformed", {"detail": f"it starts at byte {start1}, not at the first byte"}))
    if min(len1, start2, len2) < 0:
        return RangeCheck((("byterange_malformed", {"detail": "it holds negative numbers"}),), None, None, None)
    if start2 <= len1:
        return RangeCheck(
            (("byterange_malformed", {"detail": f"its two parts overlap or touch ({len1} ≥ {start2})"}),),
            None,
            None,
            None,
        )
    end = start2 + len2
    if end > size:
        problems.append(("byterange_outside", {"end": str(end), "size": str(size)}))
        return RangeCheck(tuple(problems), end, None, (len1, start2))

    # the gap: exactly one hex string, equal to the parsed /Contents
    gap = bytes(data[len1:start2])  # type: ignore[index]
    if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">":
        problems.append(("byterange_gap", {"detail": "it is not delimited by < and >"}))
    else:
        inner = gap[1:-1]
        if len(inner) % 2 or _HEX.fullmatch(inner) is None:
            problems.append(("byterange_gap", {"detail": "it holds characters other than hexadecimal digits"}))
        elif contents is None or bytes.fromhex(inner.decode("ascii")) != contents:
            problems.append(
                ("byterange_gap", {"detail": "its value differs from the signature dictionary's /Contents"})
            )
        elif (layout := _container_layout(contents)) is not None:
            problems.append(("byterange_gap", {"detail": layout}))

    # the gap belongs to the signature dictionary's own object
    if sig_offset is None or not _gap_inside_object(data, sig_offset, len1, start2):
        problems.append(("signature_dict_outside", {}))

    # the range ends where a revision ends: the one holding the signature dictionary
    reached: int | None = None
    for rev in revision_ends:
        if end in (rev.eof_end, rev.eol_end):
            reached = rev.revision
            break
    if reached is None:
        problems.append(("byterange_not_revision", {}))
    elif sig_revision is not None and reached != sig_revision:
        problems.append(("signature_dict_changed", {}))
    return RangeCheck(tuple(problems), end, reached, (len1, start2))


_NOT_ONLY_PADDING = "after the signature value it holds bytes other than zero padding"


def _container_layout(value: bytes) -> str | None:
    """What is wrong with the layout of ``/Contents``; None if it is one DER element (the CMS
    container) followed only by zero bytes, none of which it claims as its own.

    Signers reserve room for the container and pad the rest with zeros. Anything else after
    the container is unsigned data a parser ignores: a place to hide content, and a way to
    change the file's bytes without touching what any signature covers. So is a length
    stretched over the padding: the zeros it swallows read as end-of-contents markers, which
    a definite-length element never holds (X.690 8.1.5), and parsers skip them.
    """
    from asn1crypto import parser

    try:
        _cls, method, _tag, header, content, trailer = parser.parse(value)
    except (ValueError, TypeError):
        return _NOT_ONLY_PADDING
    end = len(header) + len(content) + len(trailer)
    if value[end:].strip(b"\x00"):
        return _NOT_ONLY_PADDING
    if method == 1 and not trailer and _holds_end_of_contents(content, 0):
        return "the container's length reaches into the zero padding after it"
    return None


_MAX_DEPTH = 64
"""Nesting walked by :func:`_holds_end_of_contents` (a CMS container nests about 20 deep)."""


def _holds_end_of_contents(content: bytes, depth: int) -> bool:
    """True if a definite-length constructed element's ``content`` holds, at any depth below
    it through definite-length constructed elements, an end-of-contents marker (``00 00``).
    Indefinite-length (BER) parts are not entered: there the marker is legitimate."""
    from asn1crypto import parser

    if depth > _MAX_DEPTH:
        return False
    pos, size = 0, len(content)
    try:
        while pos < size:
            # asn1crypto's element reader at an offset (``parse`` reads only from the start)
            (cls, method, tag, _header, inner, trailer), pos = parser._parse(content, size, pos)
            if cls == 0 and tag == 0 and not inner:
                return True
            if method == 1 and not trailer and _holds_end_of_contents(inner, depth + 1):
                return True
    except (ValueError, TypeError):
        return False  # a malformed element is the CMS parser's to report
    return False


def _gap_inside_object(data: object, offset: int, gap_start: int, gap_end: int) -> bool:
    """True if ``[gap_start, gap_end)`` lies between ``N G obj`` at ``offset`` and its ``endobj``."""
    size = len(data)  # type: ignore[arg-type]
    if not 0 <= offset < gap_start:
        return False
    head = bytes(data[offset : min(size, offset + 64)])  # type: ignore[index]
    if _OBJ_HEAD.match(head) is None:
        return False
    return bool(data.find(b"endobj", offset, gap_start) == -1)  # type: ignore[attr-defined]


_XREF_START = re.compile(rb"xref|\d+\s+\d+\s+obj")


def xref_at(data: object, offset: int) -> bool:
    """True if a cross-reference section (a table or a stream object) begins exactly at ``offset``."""
    size = len(data)  # type: ignore[arg-type]
    if not 0 <= offset < size:
        return False
    return _XREF_START.match(bytes(data[offset : min(size, offset + 40)])) is not None  # type: ignore[index]


_OBJ_AT = re.compile(rb"(\d+)\s+(\d+)\s+obj")


def object_at(data: object, offset: int, number: int, generation: int) -> bool:
    """True if object ``number generation obj`` begins exactly at ``offset``."""
    size = len(data)  # type: ignore[arg-type]
    if not 0 <= offset < size:
        return False
    m = _OBJ_AT.match(bytes(data[offset : min(size, offset + 40)]))  # type: ignore[index]
    return m is not None and int(m.group(1)) == number and int(m.group(2)) == generation


def trailing_bytes(data: object, last_end: RevisionEnd | None) -> int:
    """Number of non-whitespace-only bytes after the last revision's end (0 if none)."""
    if last_end is None:
        return 0
    rest = bytes(data[last_end.eol_end :])  # type: ignore[index]
    return 0 if not rest.strip(b" \t\r\n\x00\x0c") else len(rest)
