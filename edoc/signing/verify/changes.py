"""What changed after a signature, object by object: edoc's own comparison of revisions.

pyHanko's difference analysis (run first, see :mod:`edoc.signing.verify.engine`) only accepts
changes it can justify rule by rule; it rejects perfectly ordinary files (an XMP metadata
rewrite, a structure tree updated for a new comment, a re-written validation-data dictionary).
When it does, this module classifies the changes the way the EU DSS validator does: every
object written in a later revision is placed by *where it can be reached from* in that
revision's object graph and by *which keys* of a known dictionary changed:

* validation data, metadata, the document information and the structure tree (for screen
  readers) are maintenance (``LTA``);
* a new signature, its field, widget and signature dictionary are signing (``SIGN``);
* field values, widget appearances and the form's default resources are form filling
  (``FORM``);
* annotations (comments) and embedded files are ``ANNOT``;
* anything on a path that ends in page content (content streams, resources, fonts, page
  boxes, the page tree, the catalog's actions and optional content, …) is ``OTHER``.

An object reachable along several paths takes the most far-reaching kind: a font shared by
the page text and a form field's appearance counts as page content. Objects that nothing
reaches (orphans) change nothing a reader sees and are ignored; freed objects that are still
referenced count as changed. Actions and scripts added after signing, and annotations that
show content only when printed or pointed at, are reported separately.

The comparison never decides alone: the engine also renders the pages (the visual check) and
a change a reader would see is never accepted because of this classification.

Each pair of consecutive revisions is classified once and cached, so a file with many
signatures costs one pass over its revisions rather than one per signature.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

MAX_NODES = 250_000
"""Objects visited per revision before the comparison gives up (a hostile graph)."""


class Kind(IntEnum):
    """Kinds of change, from harmless to far-reaching."""

    NONE = 0
    LTA = 1
    """Validation data (DSS), document time-stamps, metadata, document info, structure tree."""
    SIGN = 2
    """A new signature: its field, widget, appearance and signature dictionary."""
    FORM = 3
    """Form field values and appearances, the form's default resources."""
    ANNOT = 4
    """Comments and other annotations, embedded files."""
    OTHER = 5
    """Everything else: page content, pages, the catalog's behaviour, scripts."""


class TooComplex(Exception):
    """The object graph of a revision is larger than :data:`MAX_NODES`."""


@dataclass
class RevisionChanges:
    """The changes one revision made to the one before it."""

    kind: Kind = Kind.NONE
    details: list[str] = field(default_factory=list)
    """Short English descriptions of far-reaching changes (``OTHER``), for the reasons."""
    changed_fields: set[str] = field(default_factory=set)
    """Fully qualified names of form fields whose value or appearance changed."""
    scripts: list[str] = field(default_factory=list)
    """Actions or scripts that were added."""
    hidden: list[str] = field(default_factory=list)
    """Annotations that show content only when printed or pointed at."""
    too_complex: bool = False
    """The revision's object graph was too large to compare."""
    orphans: int = 0
    """Objects written by a revision that changes nothing else, which nothing reaches."""

    def bump(self, kind: Kind, detail: str | None = None) -> None:
        if kind > self.kind:
            self.kind = kind
        if kind is Kind.OTHER and detail and len(self.details) < 8 and detail not in self.details:
            self.details.append(detail)


@dataclass(frozen=True)
class ChangeSummary:
    """All changes after one signature's revision, merged."""

    kind: Kind
    details: tuple[str, ...]
    changed_fields: frozenset[str]
    """Fields that existed when the signature was made and changed afterwards."""
    scripts: tuple[str, ...]
    hidden: tuple[str, ...]
    too_complex: bool = False
    """A revision was too large to compare (then ``kind`` is ``OTHER`` by default)."""
    orphans: int = 0
    """Objects added by later revisions that change nothing else and that nothing uses."""


# --- roles: how an object is reached, and what a change to it means ----------------------------

_Key = tuple[int, int]

_SKIP = object()
"""Marks keys whose values are back-pointers (``/Parent``, ``/P``) and are not followed."""

_CATALOG_OTHER = frozenset(
    {
        "/OpenAction",
        "/AA",
        "/OCProperties",
        "/OutputIntents",
        "/Collection",
        "/Threads",
        "/URI",
        "/Legal",
        "/Requirements",
        "/NeedsRendering",
        "/AF",
        "/SpiderInfo",
        "/Perms",
        "/Pages",
        "/Names",
        "/AcroForm",
    }
)
"""Catalog entries that change what a reader sees or what the viewer does (the rest is bookkeeping)."""
_PAGE_OTHER = frozenset(
    {
        "/Contents",
        "/Resources",
        "/MediaBox",
        "/CropBox",
        "/BleedBox",
        "/TrimBox",
        "/ArtBox",
        "/Rotate",
        "/Group",
        "/UserUnit",
        "/AA",
        "/VP",
        "/BoxColorInfo",
        "/SeparationInfo",
        "/Trans",
        "/PresSteps",
        "/Dur",
        "/Kids",
        "/Count",
        "/Parent",
        "/Type",
        "/AF",
        "/DPart",
        "/OutputIntents",
    }
)
"""Page (and page tree) entries that change what is drawn, or the page tree itself."""

_INERT = frozenset({"/DSS", "/Metadata", "/StructTreeRoot", "/MarkInfo", "/PieceInfo", "/Lang", "/Extensions"})
"""Catalog entries below which nothing is drawn and no action can live."""

_CATALOG_KEYS: dict[str, tuple[str, Kind]] = {
    "/Pages": ("pages", Kind.OTHER),
    "/AcroForm": ("acroform", Kind.FORM),
    "/DSS": ("generic", Kind.LTA),
    "/Metadata": ("generic", Kind.LTA),
    "/StructTreeRoot": ("generic", Kind.LTA),
    "/MarkInfo": ("generic", Kind.LTA),
    "/Lang": ("generic", Kind.LTA),
    "/ViewerPreferences": ("generic", Kind.LTA),
    "/PageLayout": ("generic", Kind.LTA),
    "/PageMode": ("generic", Kind.LTA),
    "/PieceInfo": ("generic", Kind.LTA),
    "/Extensions": ("generic", Kind.LTA),
    "/Outlines": ("generic", Kind.LTA),
    "/Dests": ("generic", Kind.LTA),
    "/Type": ("generic", Kind.LTA),
    "/Version": ("generic", Kind.LTA),
    "/Names": ("names", Kind.OTHER),
    "/Perms": ("perms", Kind.OTHER),
}
_NAMES_KEYS: dict[str, tuple[str, Kind]] = {
    "/EmbeddedFiles": ("generic", Kind.ANNOT),
    "/AP": ("generic", Kind.ANNOT),
    "/Dests": ("generic", Kind.LTA),
}
_PAGE_KEYS: dict[str, tuple[str, Kind]] = {
    "/Annots": ("annots", Kind.ANNOT),
    "/Metadata": ("generic", Kind.LTA),
    "/PieceInfo": ("generic", Kind.LTA),
    "/Thumb": ("generic", Kind.LTA),
    "/B": ("generic", Kind.LTA),
    "/StructParents": ("generic", Kind.LTA),
    "/Tabs": ("generic", Kind.LTA),
    "/Type": ("generic", Kind.LTA),
}
_ACROFORM_KEYS: dict[str, tuple[str, Kind]] = {
    "/Fields": ("fields", Kind.FORM),
    "/DR": ("generic", Kind.SIGN),
    "/DA": ("generic", Kind.SIGN),
    "/Q": ("generic", Kind.FORM),
    "/SigFlags": ("generic", Kind.SIGN),
}
_FIELD_KEYS_FORM = frozenset(
    {
        "/V",
        "/AP",
        "/AS",
        "/Ff",
        "/MK",
        "/DA",
        "/Q",
        "/DS",
        "/RV",
        "/F",
        "/Rect",
        "/Lock",
        "/SV",
        "/TU",
        "/TM",
        "/Opt",
        "/TI",
        "/I",
        "/MaxLen",
        "/DV",
        "/Border",
        "/BS",
        "/H",
        "/StructParent",
        "/NM",
        "/M",
        "/Type",
        "/Subtype",
        "/P",
    }
)
_ANNOT_IGNORED = frozenset({"/P", "/Parent"})
_SIGNED_WIDGET_KEYS = frozenset({"/V", "/AP", "/AS", "/Rect", "/MK", "/F", "/BS", "/Border", "/DA", "/Q"})
"""Keys of a signed signature field (or its widget) that change what the signature shows or
whether it is shown: changing them after signing alters a signed appearance."""
_ACTION_TYPES_SUSPECT = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/SubmitForm",
        "/ResetForm",
        "/Rendition",
        "/SetOCGState",
        "/Hide",
        "/GoToE",
        "/RichMediaExecute",
        "/Sound",
        "/Movie",
    }
)
_NO_VIEW = 1 << 5
_TOGGLE_NO_VIEW = 1 << 8
_HIDDEN = 1 << 1


_CONTAINERS = (generic.IndirectObject, generic.DictionaryObject, generic.ArrayObject, generic.DecryptedObjectProxy)


def _generic_node(kind: Kind, via: str) -> _Node:
    return _Node("generic", kind, via=via)


def _catalog_key(key: str) -> tuple[str, Kind]:
    known = _CATALOG_KEYS.get(key)
    if known is not None:
        return known
    return ("generic", Kind.OTHER if key in _CATALOG_OTHER else Kind.LTA)


def _page_key(key: str) -> tuple[str, Kind]:
    known = _PAGE_KEYS.get(key)
    if known is not None:
        return known
    return ("generic", Kind.OTHER if key in _PAGE_OTHER else Kind.LTA)


@dataclass
class _Node:
    role: str
    kind: Kind
    name: str | None = None
    """Fully qualified field name (fields and widgets)."""
    sig_field: bool = False
    via: str = ""
    """The key this object was reached by (for descriptions)."""
    inert: bool = False
    """Maintenance data that draws nothing and holds no actions (structure tree, metadata, DSS):
    the object itself is recorded, what lies below it is not walked."""


class _Graph:
    """Roles of every object reachable in one revision."""

    def __init__(self, res: HistoricalResolver, doc_ts: dict[_Key, bool] | None = None) -> None:
        self.res = res
        self.doc_ts = {} if doc_ts is None else doc_ts
        self.roles: dict[_Key, list[_Node]] = {}
        self.fields: dict[str, _Key | None] = {}
        """Fully qualified names of the fields in this revision."""
        self.signed: set[str] = set()
        """Fully qualified names of the signature fields that hold a value (are signed)."""
        self._seen: set[tuple[_Key, str, int, str | None]] = set()
        self._visited = 0
        root = _raw(res.trailer_view, "/Root")
        self._root = _key_of(root)
        self._walk()

    def _walk(self) -> None:
        queue: deque[tuple[Any, _Node]] = deque()
        trailer = self.res.trailer_view
        for key in trailer:
            if key == "/Root":
                queue.append((_raw(trailer, key), _Node("catalog", Kind.OTHER)))
            elif key == "/Info":
                queue.append((_raw(trailer, key), _Node("generic", Kind.LTA, inert=True)))
            elif key == "/Encrypt":
                queue.append((_raw(trailer, key), _Node("generic", Kind.OTHER)))
        while queue:
            value, node = queue.popleft()
            self._visited += 1
            if self._visited > MAX_NODES:
                raise TooComplex(f"more than {MAX_NODES} objects")
            if isinstance(value, generic.IndirectObject):
                ref = (value.idnum, value.generation)
                mark = (ref, node.role, int(node.kind), node.name)
                if mark in self._seen:
                    continue
                self._seen.add(mark)
                if node.role == "sigdict":
                    # a signature dictionary (with its large /Contents) is recorded, not parsed:
                    # any change to it is judged by comparing it, and it draws nothing
                    self.roles.setdefault(ref, []).append(node)
                    continue
                try:
                    obj = value.get_object()
                except Exception:  # a dangling or broken reference: nothing to follow
                    self.roles.setdefault(ref, []).append(node)
                    continue
                if node.role == "generic" and self._is_skeleton(ref, obj):
                    continue  # a cross-reference (a destination, /Data, /Pg …): reached by its own role
                self.roles.setdefault(ref, []).append(node)
                value = obj
            if node.inert:
                continue  # maintenance data that draws nothing: nothing below it can change the page
            for child, child_node in self._children(value, node):
                if isinstance(child, (generic.IndirectObject, generic.DictionaryObject, generic.ArrayObject)):
                    queue.append((child, child_node))

    def _is_skeleton(self, ref: _Key, obj: Any) -> bool:
        if ref == self._root:
            return True
        return isinstance(obj, generic.DictionaryObject) and obj.get("/Type") in ("/Catalog", "/Pages", "/Page")

    def _children(self, obj: Any, node: _Node) -> Iterator[tuple[Any, _Node]]:
        if isinstance(obj, generic.ArrayObject):
            role = node.role
            for item in obj:
                if not isinstance(item, _CONTAINERS):
                    continue
                if role == "annots":
                    yield item, self._annot_node(item, node)
                elif role in ("fields", "kids"):
                    yield item, self._field_node(item, None)
                elif role == "pagekids":
                    kid = _resolve(item)
                    is_tree = isinstance(kid, generic.DictionaryObject) and kid.get("/Type") == "/Pages"
                    yield item, _Node("pages" if is_tree else "page", Kind.OTHER)
                elif role == "generic":
                    yield item, node if node.via else _Node("generic", node.kind, node.name, node.sig_field)
                else:
                    yield item, _Node("generic", node.kind)
            return
        if not isinstance(obj, generic.DictionaryObject):
            return
        role = node.role
        for key, child in dict.items(obj):
            if isinstance(child, generic.DecryptedObjectProxy):
                child = _raw(obj, key)
            if not isinstance(child, _CONTAINERS):
                continue  # numbers, names, strings: nothing below them
            if role == "generic" and node.kind is not Kind.OTHER and key in ("/Parent", "/P"):
                continue
            if role == "generic":
                # below a plain object everything keeps its kind (and, below a signature
                # field, the field it draws for: its appearance)
                if node.sig_field:
                    yield child, _Node("generic", node.kind, node.name, True, via=key)
                else:
                    yield child, _generic_node(node.kind, key)
                continue
            mapped = self._map_key(obj, role, node, key)
            if mapped is _SKIP or mapped is None:
                continue
            assert isinstance(mapped, _Node)
            if not mapped.via:
                mapped.via = key
            yield child, mapped

    def _map_key(self, obj: generic.DictionaryObject, role: str, node: _Node, key: str) -> _Node | object | None:
        if role == "catalog":
            r, k = _catalog_key(key)
            return _Node(r, k, inert=key in _INERT)
        if role == "names":
            r, k = _NAMES_KEYS.get(key, ("generic", Kind.OTHER))
            return _Node(r, k)
        if role == "pages":
            if key == "/Parent":
                return _SKIP
            if key == "/Kids":
                return _Node("pagekids", Kind.OTHER)
            return _Node("generic", Kind.OTHER if key in _PAGE_OTHER else Kind.LTA)
        if role == "pagekids":
            return None
        if role == "page":
            if key == "/Parent":
                return _SKIP
            r, k = _page_key(key)
            return _Node(r, k)
        if role == "acroform":
            r, k = _ACROFORM_KEYS.get(key, ("generic", Kind.OTHER))
            return _Node(r, k)
        if role in ("field", "widget"):
            if key in ("/Parent", "/P"):
                return _SKIP
            if key == "/Kids":
                return _Node("kids", node.kind, node.name, node.sig_field)
            if key == "/V" and node.sig_field:
                return _Node("sigdict", Kind.SIGN, node.name, True)
            if key in ("/A", "/AA"):
                return _Node("generic", Kind.OTHER)
            return _Node("generic", node.kind, node.name, node.sig_field)
        if role == "annot":
            if key in _ANNOT_IGNORED:
                return _SKIP
            if key == "/Popup":
                return _Node("annot", Kind.ANNOT)
            return _Node("generic", Kind.ANNOT)
        if role == "sigdict":
            return _Node("generic", node.kind)
        if role == "perms":
            return _Node("sigdict", Kind.SIGN)
        # generic: same kind all the way down; back-pointers of annotations and fields are
        # reached through their own roles, so /P and /Parent are not followed from here either
        if key in ("/Parent", "/P") and node.kind is not Kind.OTHER:
            return _SKIP
        return _Node("generic", node.kind)

    def _annot_node(self, item: Any, parent: _Node) -> _Node:
        annot = _resolve(item)
        if isinstance(annot, generic.DictionaryObject) and annot.get("/Subtype") == "/Widget":
            name, is_sig = _field_identity(annot)
            if is_sig and name is not None and _signed(annot):
                self.signed.add(name)
            return _Node("widget", _sig_kind(annot, self.doc_ts) if is_sig else Kind.FORM, name, is_sig)
        return _Node("annot", Kind.ANNOT)

    def _field_node(self, item: Any, parent_name: str | None) -> _Node:
        fld = _resolve(item)
        name, is_sig = _field_identity(fld) if isinstance(fld, generic.DictionaryObject) else (None, False)
        if name is not None and name not in self.fields:
            self.fields[name] = (item.idnum, item.generation) if isinstance(item, generic.IndirectObject) else None
        if is_sig and name is not None and isinstance(fld, generic.DictionaryObject) and _signed(fld):
            self.signed.add(name)
        role = "widget" if isinstance(fld, generic.DictionaryObject) and fld.get("/Subtype") == "/Widget" else "field"
        return _Node(role, _sig_kind(fld, self.doc_ts) if is_sig else Kind.FORM, name, is_sig)

    def _kid_node(self, item: Any, parent: _Node) -> _Node:
        return self._field_node(item, parent.name)

    def nodes(self, ref: _Key) -> list[_Node]:
        return self.roles.get(ref, [])


def _raw(d: generic.DictionaryObject, key: str) -> Any:
    try:
        return d.raw_get(key)
    except Exception:
        return None


def _resolve(value: Any) -> Any:
    try:
        return value.get_object() if isinstance(value, generic.IndirectObject) else value
    except Exception:
        return None


def _field_identity(fld: generic.DictionaryObject) -> tuple[str | None, bool]:
    """Fully qualified name and whether it is a signature field, walking up ``/Parent``."""
    parts: list[str] = []
    ft = None
    node: Any = fld
    for _ in range(32):
        if not isinstance(node, generic.DictionaryObject):
            break
        t = node.get("/T") if "/T" in node else None
        if t is not None:
            parts.append(str(t))
        if ft is None and "/FT" in node:
            ft = node.get("/FT")
        parent = _raw(node, "/Parent")
        if parent is None:
            break
        node = _resolve(parent)
    name = ".".join(reversed(parts)) if parts else None
    return name, ft == "/Sig"


# --- comparing objects -------------------------------------------------------------------------


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Deep equality of two direct objects, references compared by number (not followed)."""
    if depth > 64:
        return False
    if isinstance(a, generic.IndirectObject) or isinstance(b, generic.IndirectObject):
        return (
            isinstance(a, generic.IndirectObject)
            and isinstance(b, generic.IndirectObject)
            and (a.idnum, a.generation) == (b.idnum, b.generation)
        )
    if isinstance(a, generic.StreamObject) or isinstance(b, generic.StreamObject):
        if not (isinstance(a, generic.StreamObject) and isinstance(b, generic.StreamObject)):
            return False
        try:
            if a.encoded_data != b.encoded_data:
                return False
        except Exception:
            return False
    if isinstance(a, generic.DictionaryObject):
        if not isinstance(b, generic.DictionaryObject) or set(a.keys()) != set(b.keys()):
            return False
        return all(_same(_raw(a, k), _raw(b, k), depth + 1) for k in a if k != "/Length")
    if isinstance(a, generic.ArrayObject):
        return (
            isinstance(b, generic.ArrayObject)
            and len(a) == len(b)
            and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, (generic.ByteStringObject, generic.TextStringObject)):
        return isinstance(b, (generic.ByteStringObject, generic.TextStringObject)) and _bytes(a) == _bytes(b)
    if isinstance(a, generic.NullObject) or a is None:
        return isinstance(b, generic.NullObject) or b is None
    return type(a) is type(b) and a == b


def _bytes(s: Any) -> bytes:
    return bytes(getattr(s, "original_bytes", b"")) if not isinstance(s, bytes) else bytes(s)


def _differing_keys(old: Any, new: Any) -> set[str]:
    """Keys whose values differ; a missing dictionary counts as an empty one."""
    old_d = old if isinstance(old, generic.DictionaryObject) else None
    new_d = new if isinstance(new, generic.DictionaryObject) else None
    if old_d is None and new_d is None:
        return set() if _same(old, new) else {"*"}
    if (old is not None and old_d is None and not isinstance(old, generic.NullObject)) or (
        new is not None and new_d is None and not isinstance(new, generic.NullObject)
    ):
        return {"*"}
    old_keys = set(old_d.keys()) if old_d is not None else set()
    new_keys = set(new_d.keys()) if new_d is not None else set()
    return {
        k
        for k in old_keys | new_keys
        if not _same(_raw(old_d, k) if old_d is not None else None, _raw(new_d, k) if new_d is not None else None)
    }


class Classifier:
    """Classifies the revisions of one file; results are cached per revision."""

    def __init__(self, reader: PdfFileReader) -> None:
        self.reader = reader
        self._graphs: dict[int, _Graph] = {}
        self._doc_ts: dict[_Key, bool] = {}
        self._revisions: dict[int, RevisionChanges] = {}

    def graph(self, revision: int) -> _Graph:
        graph = self._graphs.get(revision)
        if graph is None:
            graph = self._graphs[revision] = _Graph(self.reader.get_historical_resolver(revision), self._doc_ts)
        return graph

    def revision(self, revision: int) -> RevisionChanges:
        """What ``revision`` changed compared with ``revision - 1``."""
        cached = self._revisions.get(revision)
        if cached is None:
            cached = self._revisions[revision] = self._classify(revision)
        return cached

    def after(self, base_revision: int) -> ChangeSummary:
        """Everything changed in the revisions after ``base_revision``."""
        total = RevisionChanges()
        fields_at_signing = set(self.graph(base_revision).fields)
        for rev in range(base_revision + 1, self.reader.xrefs.total_revisions):
            changes = self.revision(rev)
            total.bump(changes.kind)
            for detail in changes.details:
                total.bump(Kind.OTHER, detail)
            total.changed_fields |= changes.changed_fields
            total.scripts.extend(s for s in changes.scripts if s not in total.scripts)
            total.hidden.extend(h for h in changes.hidden if h not in total.hidden)
            total.too_complex = total.too_complex or changes.too_complex
            total.orphans += changes.orphans
        return ChangeSummary(
            kind=total.kind,
            details=tuple(total.details),
            changed_fields=frozenset(total.changed_fields & fields_at_signing),
            scripts=tuple(total.scripts),
            hidden=tuple(total.hidden),
            too_complex=total.too_complex,
            orphans=total.orphans,
        )

    # -- one revision --------------------------------------------------------------------------

    def _classify(self, revision: int) -> RevisionChanges:
        out = RevisionChanges()
        xrefs = self.reader.xrefs
        old_res = self.reader.get_historical_resolver(revision - 1)
        new_res = self.reader.get_historical_resolver(revision)
        try:
            new_graph = self.graph(revision)
        except TooComplex as exc:
            out.bump(Kind.OTHER, f"the document is too complex to compare ({exc})")
            out.too_complex = True
            return out

        # the trailer is not an object: compare its keys
        old_trailer, new_trailer = old_res.trailer_view, new_res.trailer_view
        for key in _differing_keys(old_trailer, new_trailer):
            if key in (
                "/Size",
                "/Prev",
                "/ID",
                "/XRefStm",
                "/Type",
                "/W",
                "/Index",
                "/Filter",
                "/DecodeParms",
                "/Length",
                "/DocChecksum",
            ):
                continue
            if key == "/Info":
                out.bump(Kind.LTA)
            elif key == "/Root":
                self._compare_container(
                    "catalog", _resolve(_raw(old_trailer, key)), _resolve(_raw(new_trailer, key)), out, "catalog"
                )
            elif key == "/Encrypt":
                out.bump(Kind.OTHER, "the encryption settings changed")
            else:
                out.bump(Kind.LTA)  # other trailer keys have no effect on what a reader sees

        written = set(xrefs.explicit_refs_in_revision(revision))
        changed = written | set(xrefs.refs_freed_in_revision(revision))
        unreached = []
        for ref in changed:
            nodes = new_graph.nodes((ref.idnum, ref.generation))
            if not nodes:
                if ref in written:
                    unreached.append(ref)
                continue  # an orphan, or an object or cross-reference stream: nothing reaches it
            existed = _existed(xrefs, ref, revision - 1)
            new_obj = _get(new_res, ref)
            old_obj = _get(old_res, ref) if existed else None
            if existed and _same(old_obj, new_obj):
                continue
            self._scan_new_object(new_obj, old_obj, nodes, out)
            for node in nodes:
                self._classify_node(node, old_obj if existed else None, new_obj, existed, out, revision)
        if out.kind is Kind.NONE and unreached:
            # a revision that only adds objects nothing uses: invisible, but signed by nobody
            out.orphans = sum(
                1 for ref in unreached[:64] if _get(new_res, ref) is not None and not _is_plumbing(_get(new_res, ref))
            )
        return out

    def _signed_before(self, revision: int) -> set[str]:
        """Signature fields already signed in the revision before ``revision``."""
        try:
            return self.graph(revision - 1).signed
        except TooComplex:
            return set()

    def _classify_node(
        self, node: _Node, old: Any, new: Any, existed: bool, out: RevisionChanges, revision: int
    ) -> None:
        label = node.name or (f"{node.via} ({node.role})" if node.via else node.role)
        if not existed:
            # a new object: what it is for decides
            if node.role == "page":
                out.bump(Kind.OTHER, "a page was added")
            elif node.role in ("catalog", "acroform", "names", "annots", "fields"):
                self._compare_container(node.role, None, new, out, label, node)
            elif node.role in ("field", "widget", "sigdict"):
                out.bump(Kind.LTA if _is_doc_ts(new) else node.kind)
                if node.name and node.role in ("field", "widget") and not node.sig_field:
                    out.changed_fields.add(node.name)
            else:
                out.bump(node.kind, f"new object for {label}")
            return
        if isinstance(new, generic.NullObject) or new is None:
            out.bump(node.kind if node.kind < Kind.OTHER else Kind.OTHER, f"an object of {label} was deleted")
            return
        if node.role == "generic" and node.sig_field and node.name and node.name in self._signed_before(revision):
            out.bump(Kind.OTHER, f"the appearance of the signed field '{node.name}' was redefined")
            return
        if node.role in (
            "catalog",
            "page",
            "acroform",
            "field",
            "widget",
            "annot",
            "sigdict",
            "pages",
            "names",
            "annots",
            "fields",
            "kids",
            "pagekids",
        ):
            self._compare_container(node.role, old, new, out, label, node)
        else:
            out.bump(node.kind, f"an object of {label} changed")

    def _compare_container(
        self, role: str, old: Any, new: Any, out: RevisionChanges, label: str, node: _Node | None = None
    ) -> None:
        if _same(old, new):
            return
        if role in ("annots",):
            self._compare_annot_arrays(old, new, out)
            return
        if role in ("fields", "kids"):
            self._compare_field_arrays(old, new, out, node)
            return
        if role in ("pagekids",):
            out.bump(Kind.OTHER, "pages were added, removed or reordered")
            return
        for key in _differing_keys(old, new):
            old_v, new_v = (
                _raw(old, key) if isinstance(old, generic.DictionaryObject) else None,
                _raw(new, key) if isinstance(new, generic.DictionaryObject) else None,
            )
            if role == "catalog":
                sub_role, kind = _catalog_key(key)
                if sub_role in ("acroform", "names"):
                    self._compare_container(sub_role, _resolve(old_v), _resolve(new_v), out, key)
                elif sub_role == "pages":
                    if not _same_ref(old_v, new_v):
                        out.bump(Kind.OTHER, "the page tree was replaced")
                else:
                    out.bump(kind, f"catalog {key}")
            elif role == "names":
                _sub, kind = _NAMES_KEYS.get(key, ("generic", Kind.OTHER))
                out.bump(kind, f"names {key}")
            elif role == "page":
                if key == "/Annots":
                    self._compare_annot_arrays(_resolve(old_v), _resolve(new_v), out)
                else:
                    _sub, kind = _page_key(key)
                    out.bump(kind, f"page {key}")
            elif role == "pages":
                out.bump(Kind.OTHER if key in _PAGE_OTHER else Kind.LTA, f"page tree {key}")
            elif role == "acroform":
                if key == "/Fields":
                    self._compare_field_arrays(_resolve(old_v), _resolve(new_v), out, None)
                else:
                    _sub, kind = _ACROFORM_KEYS.get(key, ("generic", Kind.OTHER))
                    out.bump(kind, f"form {key}")
            elif role in ("field", "widget"):
                self._field_key(key, old, new, old_v, new_v, out, node)
            elif role == "annot":
                if key in ("/A", "/AA") or key not in _ANNOT_IGNORED:
                    out.bump(Kind.ANNOT)
            elif role == "sigdict":
                out.bump(Kind.OTHER, f"signature dictionary of '{label}' rewritten ({key})")
            else:
                out.bump(Kind.OTHER, f"{label} {key}")

    def _field_key(
        self, key: str, old: Any, new: Any, old_v: Any, new_v: Any, out: RevisionChanges, node: _Node | None
    ) -> None:
        name = node.name if node else None
        is_sig = bool(node and node.sig_field)
        signed_before = is_sig and isinstance(old, generic.DictionaryObject) and _has_value(old)
        if key == "/Kids":
            self._compare_field_arrays(_resolve(old_v), _resolve(new_v), out, node)
            return
        if key in ("/Parent", "/P"):
            if key == "/P":
                out.bump(Kind.FORM)
            return
        if key in ("/A", "/AA"):
            out.bump(Kind.OTHER, f"actions of field '{name}' changed")
            return
        if key in ("/T", "/FT"):
            out.bump(Kind.OTHER, f"field '{name}' was renamed or retyped")
            return
        if key not in _FIELD_KEYS_FORM:
            out.bump(Kind.OTHER, f"field '{name}' {key}")
            return
        if is_sig:
            if signed_before and key in _SIGNED_WIDGET_KEYS:
                out.bump(Kind.OTHER, f"the signed field '{name}' was changed ({key})")
            elif key == "/V" and _is_doc_ts(_resolve(new_v)):
                out.bump(Kind.LTA)
            else:
                out.bump(Kind.SIGN)
            return
        out.bump(Kind.FORM)
        if name:
            out.changed_fields.add(name)

    def _compare_annot_arrays(self, old: Any, new: Any, out: RevisionChanges) -> None:
        old_refs = _refs(old)
        new_refs = _refs(new)
        for item in _items(new):
            key = _key_of(item)
            if key is not None and key in old_refs:
                continue
            annot = _resolve(item)
            if isinstance(annot, generic.DictionaryObject) and annot.get("/Subtype") == "/Widget":
                name, is_sig = _field_identity(annot)
                if is_sig:
                    out.bump(_sig_kind(annot))
                else:
                    out.bump(Kind.FORM)
                    if name:
                        out.changed_fields.add(name)
            else:
                out.bump(Kind.ANNOT)
            self._scan_new_object(annot, None, [], out)
        for item in _items(old):
            key = _key_of(item)
            if key is not None and key in new_refs:
                continue
            annot = _resolve(item)
            if isinstance(annot, generic.DictionaryObject) and annot.get("/Subtype") == "/Widget":
                out.bump(Kind.OTHER, "a form field or signature appearance was removed from a page")
            else:
                out.bump(Kind.ANNOT)
        # the order of /Annots is the order annotations are drawn in (the last on top): the
        # annotations kept must keep their order, and none may be listed twice
        old_keys = [k for k in (_key_of(i) for i in _items(old)) if k is not None]
        new_keys = [k for k in (_key_of(i) for i in _items(new)) if k is not None]
        kept = [k for k in new_keys if k in old_refs]
        if len(new_keys) != len(set(new_keys)) or kept != [k for k in old_keys if k in new_refs]:
            out.bump(Kind.OTHER, "the page's annotations were reordered or listed twice (what is drawn on top changed)")

    def _compare_field_arrays(self, old: Any, new: Any, out: RevisionChanges, node: _Node | None) -> None:
        old_refs = _refs(old)
        new_refs = _refs(new)
        for item in _items(new):
            key = _key_of(item)
            if key is not None and key in old_refs:
                continue
            fld = _resolve(item)
            if isinstance(fld, generic.DictionaryObject):
                name, is_sig = _field_identity(fld)
                if is_sig:
                    out.bump(Kind.LTA if _is_doc_ts(_resolve(_raw(fld, "/V"))) else Kind.SIGN)
                else:
                    out.bump(Kind.FORM)
                    if name:
                        out.changed_fields.add(name)
            else:
                out.bump(Kind.OTHER, "a malformed form field was added")
        if any(_key_of(item) not in new_refs for item in _items(old)):
            out.bump(Kind.OTHER, "a form field was removed")

    def _scan_new_object(self, new: Any, old: Any, nodes: Iterable[_Node], out: RevisionChanges) -> None:
        """Look for actions, scripts and hidden appearances in a new or changed object."""
        old_marks = set(_suspects(old)) if old is not None else set()
        for mark in _suspects(new):
            if mark not in old_marks:
                out.scripts.append(mark) if mark not in out.scripts else None
                out.bump(Kind.OTHER, mark)
        if isinstance(new, generic.DictionaryObject) and new.get("/Subtype") not in (None,):
            subtype = new.get("/Subtype")
            if "/Rect" in new and subtype not in ("/Form", "/Image"):
                hidden = _hidden_appearance(new)
                old_hidden = _hidden_appearance(old) if isinstance(old, generic.DictionaryObject) else None
                if hidden and hidden != old_hidden and hidden not in out.hidden:
                    out.hidden.append(hidden)
                    out.bump(Kind.ANNOT)


def _suspects(obj: Any, depth: int = 0) -> Iterator[str]:
    """Actions and scripts held directly in ``obj`` (not following references)."""
    if depth > 16:
        return
    if isinstance(obj, generic.DictionaryObject):
        s = obj.get("/S") if "/S" in obj else None
        if s in _ACTION_TYPES_SUSPECT:
            yield f"{str(s)[1:]} action"
        for key in obj:
            if key in ("/JS", "/JavaScript"):
                yield "JavaScript"
            if key == "/AA":
                yield "additional actions (/AA)"
            if key in ("/Parent", "/P"):
                continue
            value = _raw(obj, key)
            if not isinstance(value, generic.IndirectObject):
                yield from _suspects(value, depth + 1)
    elif isinstance(obj, generic.ArrayObject):
        for item in obj:
            if not isinstance(item, generic.IndirectObject):
                yield from _suspects(item, depth + 1)


def _hidden_appearance(annot: generic.DictionaryObject) -> str | None:
    """A short description if the annotation shows content only in print or on interaction."""
    try:
        flags = int(annot.get("/F", 0))
    except (TypeError, ValueError):
        flags = 0
    name = str(annot.get("/Subtype", "/Annot"))[1:]
    if flags & (_NO_VIEW | _TOGGLE_NO_VIEW) and not flags & _HIDDEN:
        return f"{name} annotation hidden on screen but printed"
    ap = _resolve(_raw(annot, "/AP"))
    if isinstance(ap, generic.DictionaryObject) and ("/R" in ap or "/D" in ap):
        return f"{name} annotation with a rollover or pressed appearance"
    return None


def _sig_kind(fld: Any, cache: dict[_Key, bool] | None = None) -> Kind:
    """``LTA`` for a field holding a document time-stamp, else ``SIGN``."""
    node = fld
    for _ in range(32):
        if not isinstance(node, generic.DictionaryObject):
            break
        if "/V" in node:
            value = _raw(node, "/V")
            key = _key_of(value)
            if cache is not None and key is not None:
                if key not in cache:
                    cache[key] = _is_doc_ts(_resolve(value))
                return Kind.LTA if cache[key] else Kind.SIGN
            return Kind.LTA if _is_doc_ts(_resolve(value)) else Kind.SIGN
        node = _resolve(_raw(node, "/Parent"))
    return Kind.SIGN


def _is_plumbing(obj: Any) -> bool:
    """Cross-reference and object streams: file structure, not content."""
    return isinstance(obj, generic.StreamObject) and obj.get("/Type") in ("/XRef", "/ObjStm")


def _signed(fld: generic.DictionaryObject) -> bool:
    """True if the field (or the parent that holds its value) has a value."""
    node: Any = fld
    for _ in range(32):
        if not isinstance(node, generic.DictionaryObject):
            return False
        if "/V" in node:
            return _has_value(node)
        node = _resolve(_raw(node, "/Parent"))
    return False


def _has_value(fld: generic.DictionaryObject) -> bool:
    v = _raw(fld, "/V")
    return v is not None and not isinstance(v, generic.NullObject)


def _is_doc_ts(obj: Any) -> bool:
    return isinstance(obj, generic.DictionaryObject) and (
        obj.get("/Type") == "/DocTimeStamp" or obj.get("/SubFilter") == "/ETSI.RFC3161"
    )


def _get(res: HistoricalResolver, ref: generic.Reference) -> Any:
    try:
        return res.get_object(generic.Reference(ref.idnum, ref.generation, res))
    except Exception:
        return None


def _existed(xrefs: Any, ref: generic.Reference, revision: int) -> bool:
    """True if ``ref`` was defined in ``revision`` or before."""
    try:
        return bool(xrefs.get_introducing_revision(ref) <= revision)
    except Exception:
        return False


def _items(arr: Any) -> list[Any]:
    return list(arr) if isinstance(arr, generic.ArrayObject) else []


def _key_of(item: Any) -> _Key | None:
    return (item.idnum, item.generation) if isinstance(item, generic.IndirectObject) else None


def _refs(arr: Any) -> set[_Key]:
    return {k for k in (_key_of(i) for i in _items(arr)) if k is not None}


def _same_ref(a: Any, b: Any) -> bool:
    return _key_of(a) == _key_of(b) and _key_of(a) is not None
