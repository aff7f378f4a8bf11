"""Reading rendered PDFs back with independent tools (poppler's pdftotext, pdffonts, pdftoppm,
pdfinfo, pdfdetach) for the documents tests."""

from __future__ import annotations

import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

MM = 72 / 25.4


def _run(*argv: str) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"{argv[0]} failed: {r.stderr}"
    return r.stdout


def _with_file(pdf: bytes, fn: object) -> object:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        return fn(path)  # type: ignore[operator]


_FURNITURE = re.compile(r"^\s*(?:/\S.*\.\.\.|- ?[0-9๐-๙]+ ?-?|-?[0-9๐-๙]+ -|ลับ|ลับมาก|ลับที่สุด)\s*$")


def text(pdf: bytes, *, layout: bool = True, first: int | None = None, last: int | None = None) -> str:
    """pdftotext's text (physical layout by default: poppler's reading-order mode drops a
    hyphen that ends a line, taking it for hyphenation)."""
    args = ["-layout"] if layout else []
    if first is not None:
        args += ["-f", str(first)]
    if last is not None:
        args += ["-l", str(last)]
    return _with_file(pdf, lambda p: _run("pdftotext", *args, "-enc", "UTF-8", str(p), "-"))  # type: ignore[return-value]


def body_text(pdf: bytes) -> str:
    """The text without page furniture (page numbers, "/next word..." marks, secrecy marks),
    with every white space removed: what a search or copy-paste sees, page by page."""
    lines = [line for line in text(pdf).splitlines() if not _FURNITURE.match(line)]
    return squeeze("\n".join(lines))


def squeeze(value: str) -> str:
    """Remove every white space character (Thai has none between words)."""
    return re.sub(r"\s+", "", value)


@dataclass(frozen=True)
class Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def words(pdf: bytes) -> list[Word]:
    """Every word box from ``pdftotext -bbox`` (points, origin top left)."""
    xml = _with_file(pdf, lambda p: _run("pdftotext", "-bbox", "-enc", "UTF-8", str(p), "-"))
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", str(xml)).replace('xmlns="http://www.w3.org/1999/xhtml"', ""))
    out = []
    for page_no, page in enumerate(root.iter("page")):
        for w in page.iter("word"):
            out.append(
                Word(
                    page_no,
                    float(w.get("xMin", 0)),
                    float(w.get("yMin", 0)),
                    float(w.get("xMax", 0)),
                    float(w.get("yMax", 0)),
                    w.text or "",
                )
            )
    return out


def fonts(pdf: bytes) -> list[dict[str, str]]:
    """``pdffonts`` rows: name, type, encoding, emb, sub, uni."""
    out = _with_file(pdf, lambda p: _run("pdffonts", str(p)))
    rows = []
    for line in str(out).splitlines()[2:]:
        parts = line.split()
        if len(parts) < 7:
            continue
        name = parts[0]
        emb, sub, uni = parts[-5], parts[-4], parts[-3]
        rows.append({"name": name, "emb": emb, "sub": sub, "uni": uni, "line": line})
    return rows


def info(pdf: bytes) -> dict[str, str]:
    out = _with_file(pdf, lambda p: _run("pdfinfo", str(p)))
    data: dict[str, str] = {"_raw": str(_with_file(pdf, lambda p: _run("pdfinfo", "-meta", str(p))))}
    for line in str(out).splitlines():
        if ":" in line:
            key, _, value = line.partition(":")
            data.setdefault(key.strip(), value.strip())
    return data


def detach(pdf: bytes) -> dict[str, bytes]:
    """Every embedded file, by name, as pdfdetach extracts it."""

    def go(path: Path) -> dict[str, bytes]:
        target = path.parent / "out"
        target.mkdir()
        _run("pdfdetach", "-saveall", "-o", str(target), str(path))
        return {f.name: f.read_bytes() for f in target.iterdir()}

    return _with_file(pdf, go)  # type: ignore[return-value]


def image(pdf: bytes, page: int = 1, dpi: int = 50) -> object:
    """Page ``page`` (from 1) rasterised by pdftoppm, as a Pillow RGB image."""
    from PIL import Image

    def go(path: Path) -> object:
        _run("pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", str(path), str(path.parent / "p"))
        png = next(path.parent.glob("p*.png"))
        return Image.open(png).convert("RGB").copy()

    return _with_file(pdf, go)
