"""Signature fields: created empty where the renderer reserved room, read back, and planned.

The renderer reports ``signature_boxes`` (``"signature"``, ``"initial-1"`` ...: a page and a
rectangle each) and a ``stamp_zone`` on page 0. :func:`prepare_fields` creates an empty
signature field at each box, with its *field lock* (FieldMDP ``/Include``): the fields whose
content the signature in it vouches for. See ``docs/signing-design.md`` for why:

- ``initial-k`` locks ``initial-1`` … ``initial-k`` (the initials below it on the way up, and
  itself);
- ``signature`` locks every initial field and itself;
- a received stamp (``received-n``, created when the letter is received) and a receipt lock
  every field that exists when they are made, and themselves.

A lock never names a field created later, so later received stamps, receipts and document
time-stamps stay allowed changes; filling a field that an earlier signature locks is refused
before signing (:class:`~edoc.errors.FieldLocked`), because it would break that signature.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, SigFieldSpec, append_signature_field

from edoc.errors import AlreadyExists, InvalidField, InvalidPdf, StampZoneFull
from edoc.signing.model import (
    DRAFTER_FIELD,
    RECEIPT_PREFIX,
    SIGNATURE_FIELD,
    STAMP_PREFIX,
    FieldBox,
    FieldInfo,
    FieldKind,
    Rect,
    initial_number,
    validate_field_name,
)

STAMP_SIZE = (99.0, 62.0)
"""Default size of a received stamp in points (35 x 22 mm): four fit in a 70 x 45 mm zone."""

READABLE = {
    FieldKind.SIGNATURE: "ลงนาม (signature)",
    FieldKind.INITIAL: "ลงชื่อย่อ (initial)",
    FieldKind.STAMP: "ตรารับหนังสือ (received stamp)",
    FieldKind.RECEIPT: "ตอบรับ (receipt)",
}


def plan_locks(names: Iterable[str]) -> dict[str, list[str]]:
    """The field lock of each pre-created field (see the module's docstring)."""
    names = list(names)
    initials = sorted((n for n in names if initial_number(n) is not None), key=lambda n: initial_number(n) or 0)
    locks: dict[str, list[str]] = {}
    for name in names:
        k = initial_number(name)
        if k is not None:
            locks[name] = [i for i in initials if (initial_number(i) or 0) <= k]
        elif name == SIGNATURE_FIELD:
            locks[name] = [*initials, name]
        else:
            locks[name] = [name]
    return locks


def open_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer over ``pdf``; :class:`InvalidPdf` when it cannot be one."""
    if not isinstance(pdf, bytes | bytearray | memoryview):
        raise TypeError(f"the PDF must be bytes, not {type(pdf).__name__}")
    if not bytes(pdf[:1024]).lstrip().startswith(b"%PDF-"):
        raise InvalidPdf("it does not start with a %PDF- header")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(bytes(pdf)))
    except Exception as exc:
        raise InvalidPdf(f"{type(exc).__name__}: {exc}") from None
    if writer.prev.encrypted:
        raise InvalidPdf("it is encrypted")
    return writer


def _reader(pdf: bytes) -> PdfFileReader:
    if not bytes(pdf[:1024]).lstrip().startswith(b"%PDF-"):
        raise InvalidPdf("it does not start with a %PDF- header")
    try:
        return PdfFileReader(BytesIO(bytes(pdf)), strict=False)
    except Exception as exc:
        raise InvalidPdf(f"{type(exc).__name__}: {exc}") from None


def page_count(handler: Any) -> int:
    return int(handler.root["/Pages"]["/Count"])


def _page_box(handler: Any, index: int) -> Rect:
    page = handler.find_page_for_modification(index)[0].get_object()
    node = page
    while True:
        box = node.get("/MediaBox")
        if box is not None:
            return Rect(*(float(v) for v in box))
        parent = node.get("/Parent")
        if parent is None:
            return Rect(0, 0, 595.28, 841.89)
        node = parent.get_object()


def prepare_fields(
    pdf: bytes,
    boxes: Mapping[str, FieldBox | Any],
    *,
    locks: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """``pdf`` with an empty signature field at each box (an incremental update).

    ``boxes`` maps field names to places (:class:`FieldBox`, ``(page, rect)`` or the renderer's
    values). ``locks`` overrides :func:`plan_locks` for some fields. Names must be new; boxes
    must lie on an existing page.
    """
    if not boxes:
        return bytes(pdf)
    places = {validate_field_name(name): FieldBox.of(box) for name, box in boxes.items()}
    plan = plan_locks(places)
    for name, lock in (locks or {}).items():
        if name not in places:
            raise InvalidField("locks", f"{name!r} is not one of the fields being prepared")
        plan[name] = [validate_field_name(n) for n in lock]
    writer = open_writer(pdf)
    existing = {info.name for info in _fields(writer.prev)}
    pages = page_count(writer.prev)
    for name, place in places.items():
        if name in existing:
            raise AlreadyExists("signature field", name)
        index = place.page if place.page >= 0 else pages + place.page
        if not 0 <= index < pages:
            raise InvalidField("box", f"field {name!r} is on page {place.page}, but the PDF has {pages} page(s)")
        media = _page_box(writer.prev, index)
        if not media.contains(place.rect, tolerance=0.5):
            raise InvalidField("box", f"field {name!r} at {place.rect.as_tuple()} lies outside page {index}")
        spec = SigFieldSpec(
            sig_field_name=name,
            on_page=index,
            box=place.rect.as_tuple(),  # type: ignore[arg-type]
            field_mdp_spec=FieldMDPSpec(FieldMDPAction.INCLUDE, fields=list(plan[name])),
            readable_field_name=READABLE.get(FieldKind.of(name)),
        )
        append_signature_field(writer, spec)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def inspect_fields(pdf: bytes | Any) -> list[FieldInfo]:
    """Every signature field of ``pdf`` (bytes or a pyHanko reader/writer), in form order."""
    handler = _reader(bytes(pdf)) if isinstance(pdf, bytes | bytearray | memoryview) else pdf
    try:
        return _fields(handler)
    except InvalidPdf:
        raise
    except Exception as exc:
        raise InvalidPdf(f"cannot read its signature fields: {type(exc).__name__}: {exc}") from None


_NAMED_KINDS = frozenset(
    {FieldKind.INITIAL, FieldKind.SIGNATURE, FieldKind.STAMP, FieldKind.RECEIPT, FieldKind.TIMESTAMP}
)
"""Kinds edoc's field names say for sure: their signature values need not be read."""


def _sig_fields(handler: Any) -> list[tuple[str, Any, Any]]:
    """(name, raw /V, field reference) of every signature field, like pyHanko's
    ``enumerate_sig_fields`` but without reading the values: reading a signature dictionary
    parses its /Contents hex string, tens of milliseconds for each earlier signature."""
    try:
        top = handler.root["/AcroForm"]["/Fields"]
    except KeyError:
        return []
    out: list[tuple[str, Any, Any]] = []
    seen: set[Any] = set()

    def walk(fields: Any, parent: str, inherited_ft: Any) -> None:
        for ref in fields:
            if not isinstance(ref, generic.IndirectObject) or ref.reference in seen:
                continue
            seen.add(ref.reference)
            field = ref.get_object()
            partial = field.get("/T")
            name = parent if partial is None else (str(partial) if not parent else f"{parent}.{partial}")
            ft = field.get("/FT", inherited_ft)
            if ft == "/Sig" and partial is not None:
                out.append((name, field.raw_get("/V") if "/V" in field else None, ref))
            kids = field.get("/Kids")
            if kids is not None:
                walk(kids, name, ft)

    walk(top, "", None)
    return out


def _fields(handler: Any) -> list[FieldInfo]:
    pages: dict[Any, int] | None = None
    out = []
    for name, value, ref in _sig_fields(handler):
        field = ref.get_object()
        widget = field
        if "/Rect" not in field and "/Kids" in field:
            kids = field["/Kids"]
            widget = kids[0].get_object() if len(kids) else field
        rect = None
        page = None
        raw = widget.get("/Rect")
        if raw is not None and len(raw) == 4:
            x0, y0, x1, y1 = (float(v) for v in raw)
            x0, x1 = sorted((x0, x1))
            y0, y1 = sorted((y0, y1))
            if x1 - x0 > 0 and y1 - y0 > 0:
                rect = Rect(x0, y0, x1, y1)
        page_ref = widget.raw_get("/P") if "/P" in widget else None
        if isinstance(page_ref, generic.IndirectObject):
            if pages is None:
                pages = _page_index(handler)
            page = pages.get(page_ref.reference)
        kind = FieldKind.of(name)
        signed = value is not None and not isinstance(value, generic.NullObject)
        if signed and kind not in _NAMED_KINDS and name != DRAFTER_FIELD:
            sig = value.get_object() if isinstance(value, generic.IndirectObject) else value
            if isinstance(sig, generic.DictionaryObject) and sig.get("/Type") == "/DocTimeStamp":
                kind = FieldKind.TIMESTAMP
        locks: tuple[str, ...] | None = None
        action: str | None = None
        lock = field.get("/Lock")
        if lock is not None:
            lock = lock.get_object()
            action = str(lock.get("/Action", "")).lstrip("/") or None
            locks = tuple(str(n) for n in lock.get("/Fields", ()))
        out.append(FieldInfo(name, kind, signed, page, rect, locks, action))
    return out


def _page_index(handler: Any) -> dict[Any, int]:
    index = {}
    for i in range(page_count(handler)):
        ref = handler.find_page_for_modification(i)[0]
        index[ref.reference] = i
    return index


def locked_by(fields: Sequence[FieldInfo], name: str) -> str | None:
    """The name of a signed field whose lock covers ``name`` (filling it would break that
    signature), or None."""
    for info in fields:
        if not info.signed or info.name == name or info.lock_action is None:
            continue
        spec = FieldMDPSpec(FieldMDPAction(generic.NameObject("/" + info.lock_action)), list(info.locks or ()))
        if spec.is_locked(name):
            return info.name
    return None


def next_field_name(fields: Sequence[FieldInfo], prefix: str) -> str:
    """``received-3`` when ``received-1`` and ``received-2`` exist."""
    used = [0]
    for info in fields:
        if info.name.startswith(prefix):
            tail = info.name[len(prefix) :]
            if tail.isdigit():
                used.append(int(tail))
    return f"{prefix}{max(used) + 1}"


def next_stamp_name(fields: Sequence[FieldInfo]) -> str:
    return next_field_name(fields, STAMP_PREFIX)


def next_receipt_name(fields: Sequence[FieldInfo]) -> str:
    return next_field_name(fields, RECEIPT_PREFIX)


def stamp_slot(fields: Sequence[FieldInfo], zone: FieldBox, size: tuple[float, float] = STAMP_SIZE) -> Rect:
    """The first free place for a received stamp in ``zone``: a grid of ``size`` cells filled
    from the top right, right to left, then downwards; a cell is free when no widget of any
    field (stamp or other) overlaps it. :class:`StampZoneFull` when none is."""
    width, height = size
    if width <= 0 or height <= 0:
        raise InvalidField("stamp size", f"{size} has no area")
    width = min(width, zone.rect.width)
    height = min(height, zone.rect.height)
    cols = max(1, math.floor(zone.rect.width / width + 1e-6))
    rows = max(1, math.floor(zone.rect.height / height + 1e-6))
    taken = [
        info.rect
        for info in fields
        if info.rect is not None and info.page in (zone.page, None) and info.rect.intersects(zone.rect)
    ]
    for row in range(rows):
        for col in range(cols):
            x1 = zone.rect.x1 - col * width
            y1 = zone.rect.y1 - row * height
            cell = Rect(x1 - width, y1 - height, x1, y1)
            if not any(cell.intersects(t) for t in taken):
                return cell
    raise StampZoneFull(len(taken))


def lock_all_existing(fields: Sequence[FieldInfo], own: str) -> FieldMDPSpec:
    """The lock of a stamp or receipt: every field there is now, and itself."""
    names = [f.name for f in fields if f.kind is not FieldKind.TIMESTAMP]
    return FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[*names, own])


def default_stamp_zone(pdf: bytes, *, width: float = 198.4, height: float = 127.6) -> FieldBox:
    """Where received stamps go on a PDF edoc did not lay out (an imported letter): the top
    right of its first page, 70 x 45 mm, 15 mm from the right edge and 5 mm from the top, where
    the renderer reserves it on its own letters."""
    handler = _reader(bytes(pdf))
    media = _page_box(handler, 0)
    x1 = media.x1 - 15 * 72 / 25.4
    y1 = media.y1 - 5 * 72 / 25.4
    x0 = max(media.x0, x1 - width)
    y0 = max(media.y0, y1 - height)
    return FieldBox(0, Rect(x0, y0, x1, y1))
