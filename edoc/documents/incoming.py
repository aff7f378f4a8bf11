"""Checking a PDF that arrives from outside (``edoc doc import``) before it is stored unchanged."""

from __future__ import annotations

import io
from dataclasses import dataclass

from edoc.errors import NotAPdf


@dataclass(frozen=True)
class PdfInfo:
    """What edoc reads from an incoming PDF (it never changes the bytes)."""

    pages: int
    """Number of pages (0 when the file is encrypted and cannot be opened)."""
    title: str
    """The document information's or XMP title, or ``""``."""
    encrypted: bool
    """True if the file is encrypted (it is stored as it is, but edoc cannot look inside)."""


def inspect_pdf(data: bytes, *, what: str = "the file") -> PdfInfo:
    """Check that ``data`` is a readable PDF; :class:`~edoc.errors.NotAPdf` names the problem."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("PDF data must be bytes")
    data = bytes(data)
    if not data:
        raise NotAPdf(what, "it is empty")
    if b"%PDF-" not in data[:1024]:
        raise NotAPdf(what, "it does not start with a %PDF- header")
    if b"%%EOF" not in data[-2048:]:
        raise NotAPdf(what, "it has no %%EOF marker at its end (truncated?)")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return PdfInfo(pages=0, title="", encrypted=True)
        pages = len(reader.pages)
        meta = reader.metadata
        title = str(meta.title or "").strip() if meta is not None else ""
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise NotAPdf(what, f"it cannot be parsed ({exc})") from None
    if pages < 1:
        raise NotAPdf(what, "it has no pages")
    return PdfInfo(pages=pages, title=" ".join(title.split()), encrypted=False)
