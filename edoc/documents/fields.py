"""The fields of each kind of document (the document file of ``edoc doc new``), and their
validation.

One table (:data:`SCHEMAS`) says which fields each kind and form has, which are required, and
their Thai labels; :func:`validate` checks a mapping against it and returns a frozen
:class:`DocumentContent` with every value normalised, or raises an error naming the field:
:class:`~edoc.errors.MissingField`, :class:`~edoc.errors.UnknownField`,
:class:`~edoc.errors.BadChoice`, :class:`~edoc.errors.EmptyField` or
:class:`~edoc.errors.InvalidField`. :func:`load_file` reads JSON or TOML.

The canonical form (:meth:`DocumentContent.canonical`) is what the database stores: plain JSON
values, sorted keys, defaults filled in, so two files that mean the same store the same.
"""

from __future__ import annotations

import json
import mimetypes
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from edoc.documents.kinds import DEFAULT_FORM, FORMS, DocumentForm, DocumentKind, Secrecy, Urgency, choices
from edoc.documents.thai import normalise, one_line
from edoc.errors import (
    BadChoice,
    DocumentFileInvalid,
    EmptyField,
    InvalidField,
    MissingField,
    UnknownField,
)


class FieldType(StrEnum):
    """How a field's value is written and checked."""

    TEXT = "text"
    """One line of text (white space runs become one space)."""
    PARAGRAPHS = "paragraphs"
    """A list of paragraphs (a single string is split at blank lines)."""
    TEXT_LIST = "text-list"
    """A list of one-line texts."""
    USERNAME = "username"
    """A user of the drafter's agency."""
    USERNAMES = "usernames"
    """A list of distinct users of the drafter's agency."""
    PATHS = "paths"
    """A list of file paths (relative to the document file)."""
    CONTACT = "contact"
    """A table with ``unit``, ``phone``, ``fax``, ``email`` (all optional)."""
    PEOPLE = "people"
    """A list of people: ``"name"`` or ``{name, position, remark}``."""
    DATE = "date"
    """A date: ``2026-11-22`` (TOML dates too)."""
    TIME = "time"
    """A time of day: ``09:30`` or ``09.30``."""
    URGENCY = "urgency"
    """``normal``, ``urgent``, ``very-urgent``, ``most-urgent`` or the Thai words."""
    SECRECY = "secrecy"
    """``normal``, ``confidential``, ``secret``, ``top-secret`` or the Thai words."""
    FORM = "form"
    """The form of a directive, publicity or record document."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of the document file."""

    name: str
    """The key in the file."""
    type: FieldType
    """How the value is written and checked."""
    thai: str
    """The Thai label (what the printed form calls it)."""
    help: str
    """One line for the docs and error messages."""
    required: bool = False
    """Must be present (and not empty)."""
    default: Any = None
    """The value used when the field is absent (None: no value)."""
    max_length: int = 2000
    """Longest accepted text (per item for lists)."""


_F = FieldType

COMMON: tuple[FieldSpec, ...] = (
    FieldSpec("subject", _F.TEXT, "เรื่อง", "what the document is about", required=True, max_length=500),
    FieldSpec("body", _F.PARAGRAPHS, "ข้อความ", "the paragraphs of the text", required=True, max_length=20000),
    FieldSpec("urgency", _F.URGENCY, "ชั้นความเร็ว", "normal | urgent | very-urgent | most-urgent", default="normal"),
    FieldSpec("secrecy", _F.SECRECY, "ชั้นความลับ", "normal | confidential | secret | top-secret", default="normal"),
    FieldSpec("signer", _F.USERNAME, "ผู้ลงนาม", "username of who signs", required=True),
    FieldSpec("initials", _F.USERNAMES, "ผู้ลงชื่อย่อ", "usernames of the heads who initial on the way up", default=()),
    FieldSpec("attachments", _F.PATHS, "ไฟล์แนบ", "files embedded in the PDF with their SHA-256", default=()),
)
"""Fields every kind has."""

_FORM_FIELD = FieldSpec("form", _F.FORM, "แบบ", "the form of the document")
_TO = FieldSpec("to", _F.TEXT, "เรียน", "the addressee: a position or name (after เรียน)", required=True, max_length=500)
_SALUTATION = FieldSpec("salutation", _F.TEXT, "คำขึ้นต้น", "the word before the addressee", default="เรียน")
_CONTACT = FieldSpec(
    "contact", _F.CONTACT, "ส่วนราชการเจ้าของเรื่อง", "originating unit and its phone, fax, e-mail", default=None
)
_REFERENCE = FieldSpec("reference", _F.TEXT, "อ้างถึง", "an earlier letter this one refers to", max_length=500)
_ENCLOSURES = FieldSpec("enclosures", _F.TEXT_LIST, "สิ่งที่ส่งมาด้วย", "what is sent with the letter", default=())

SPECIFIC: dict[tuple[DocumentKind, DocumentForm | None], tuple[FieldSpec, ...]] = {
    (DocumentKind.EXTERNAL, None): (
        _TO,
        _SALUTATION,
        _REFERENCE,
        _ENCLOSURES,
        FieldSpec("closing", _F.TEXT, "คำลงท้าย", "the closing phrase", default="ขอแสดงความนับถือ"),
        _CONTACT,
        FieldSpec("copies_to", _F.TEXT_LIST, "สำเนาส่ง", "who else receives a copy", default=()),
    ),
    (DocumentKind.INTERNAL, None): (_TO, _SALUTATION, _CONTACT),
    (DocumentKind.STAMPED, None): (
        FieldSpec("to", _F.TEXT, "ถึง", "the recipient agency or person (after ถึง)", required=True, max_length=500),
        _REFERENCE,
        _ENCLOSURES,
        _CONTACT,
    ),
    (DocumentKind.DIRECTIVE, DocumentForm.ORDER): (
        FieldSpec("effective", _F.TEXT, "ทั้งนี้", "when the order takes effect (ทั้งนี้ ตั้งแต่ ...)"),
    ),
    (DocumentKind.DIRECTIVE, DocumentForm.REGULATION): (
        FieldSpec("clauses", _F.PARAGRAPHS, "ข้อ", "the numbered clauses (ข้อ ๑, ข้อ ๒ ...)", default=()),
    ),
    (DocumentKind.DIRECTIVE, DocumentForm.BYLAW): (
        FieldSpec("clauses", _F.PARAGRAPHS, "ข้อ", "the numbered clauses (ข้อ ๑, ข้อ ๒ ...)", default=()),
    ),
    (DocumentKind.PUBLICITY, DocumentForm.ANNOUNCEMENT): (),
    (DocumentKind.PUBLICITY, DocumentForm.STATEMENT): (
        FieldSpec("issue_no", _F.TEXT, "ฉบับที่", "the statement's running number", max_length=40),
    ),
    (DocumentKind.PUBLICITY, DocumentForm.NEWS): (
        FieldSpec("issue_no", _F.TEXT, "ฉบับที่", "the news item's running number", max_length=40),
    ),
    (DocumentKind.RECORD, DocumentForm.CERTIFICATE): (),
    (DocumentKind.RECORD, DocumentForm.MINUTES): (
        FieldSpec("meeting", _F.TEXT, "รายงานการประชุม", "the meeting's name", required=True, max_length=500),
        FieldSpec("session_no", _F.TEXT, "ครั้งที่", "the session's number, e.g. 3/2569", max_length=40),
        FieldSpec("held_on", _F.DATE, "เมื่อ", "the day of the meeting", required=True),
        FieldSpec("place", _F.TEXT, "ณ", "where it was held", required=True, max_length=500),
        FieldSpec("present", _F.PEOPLE, "ผู้มาประชุม", "members present", required=True),
        FieldSpec("absent", _F.PEOPLE, "ผู้ไม่มาประชุม", "members absent (remark: why)", default=()),
        FieldSpec("others_present", _F.PEOPLE, "ผู้เข้าร่วมประชุม", "others who attended", default=()),
        FieldSpec("started_at", _F.TIME, "เริ่มประชุมเวลา", "when the meeting began"),
        FieldSpec("ended_at", _F.TIME, "เลิกประชุมเวลา", "when it ended"),
    ),
    (DocumentKind.RECORD, DocumentForm.NOTE): (
        FieldSpec("to", _F.TEXT, "เรียน", "who the note is for (optional)", max_length=500),
    ),
    (DocumentKind.RECORD, DocumentForm.OTHER): (),
}
"""Fields each kind (and form) adds to :data:`COMMON`."""


def schema(kind: DocumentKind, form: DocumentForm | None) -> tuple[FieldSpec, ...]:
    """Every field of ``kind`` in ``form`` (common fields first, then the kind's own)."""
    extra = SPECIFIC[(kind, form)]
    head = (_FORM_FIELD,) if FORMS[kind] else ()
    return (*COMMON[:1], *head, *COMMON[1:], *extra)


SCHEMAS: dict[tuple[DocumentKind, DocumentForm | None], tuple[FieldSpec, ...]] = {key: schema(*key) for key in SPECIFIC}
"""The whole table: (kind, form) -> fields."""

CONTACT_KEYS = ("unit", "phone", "fax", "email")
"""Keys of the ``contact`` table."""
PERSON_KEYS = ("name", "position", "remark")
"""Keys of one person in a minutes' ``present`` / ``absent`` / ``others_present`` list."""


@dataclass(frozen=True)
class DocumentContent:
    """A document's fields, validated and normalised (what ``edoc doc new`` stores)."""

    kind: DocumentKind
    """Which of the six kinds."""
    form: DocumentForm | None
    """The form (directive, publicity, record); None for the single-form kinds."""
    subject: str
    """เรื่อง."""
    body: tuple[str, ...]
    """The paragraphs, each non-empty."""
    urgency: Urgency
    """ชั้นความเร็ว."""
    secrecy: Secrecy
    """ชั้นความลับ."""
    signer: str
    """Username of who signs."""
    initials: tuple[str, ...] = ()
    """Usernames of the heads who initial on the way up, in order."""
    attachments: tuple[Path, ...] = ()
    """Files to embed (absolute paths once loaded from a file)."""
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Every field in canonical JSON form, defaults filled in, attachments left out."""

    def get(self, name: str, default: Any = None) -> Any:
        """A kind-specific field (``to``, ``closing``, ``present`` ...), or ``default``."""
        value = self.fields.get(name)
        return default if value is None else value

    def canonical(self) -> dict[str, Any]:
        """The fields as a plain JSON-able dict (what the database stores)."""
        return json.loads(self.canonical_json())

    def canonical_json(self) -> str:
        """Sorted keys, no insignificant white space, UTF-8 text."""
        return json.dumps(_thaw(self.fields), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @property
    def label(self) -> str:
        """``external`` or ``directive/order``: how errors name this kind of document."""
        return self.kind.value if self.form is None else f"{self.kind.value}/{self.form.value}"


def _label(kind: DocumentKind, form: DocumentForm | None) -> str:
    return kind.value if form is None else f"{kind.value}/{form.value}"


def parse_kind(value: str | DocumentKind) -> DocumentKind:
    """The kind named by ``value`` (code name, e.g. ``external``); :class:`BadChoice` otherwise."""
    try:
        return DocumentKind(str(value).strip().lower())
    except ValueError:
        raise BadChoice("kind", value, ", ".join(k.value for k in DocumentKind)) from None


def validate(
    kind: str | DocumentKind,
    data: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
) -> DocumentContent:
    """Check ``data`` against ``kind``'s schema and return the normalised content.

    ``base_dir`` resolves relative attachment paths (the document file's folder); attachments
    must exist and be readable files. Raises an error naming the first bad field.
    """
    kind = parse_kind(kind)
    if not isinstance(data, Mapping):
        raise InvalidField("fields", "the document must be a table of fields (a JSON object)")
    form = _form(kind, data.get("form"))
    specs = SCHEMAS[(kind, form)]
    label = _label(kind, form)
    known = {s.name: s for s in specs}
    for key in data:
        if not isinstance(key, str) or key not in known:
            raise UnknownField(str(key), label, ", ".join(known))
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.type is FieldType.FORM:
            if form is not None:
                out["form"] = form.value
            continue
        raw = data.get(spec.name)
        value = None if raw is None else _check(spec, raw, base_dir)
        if _empty(value):
            if spec.required:
                if raw is None:
                    raise MissingField(spec.name, label)
                raise EmptyField(spec.name)
            value = spec.default
        if value is not None:
            out[spec.name] = value
    attachments = tuple(Path(p) for p in out.pop("attachments", ()))
    initials = tuple(out.get("initials", ()))
    if out["signer"] in initials:
        raise InvalidField("initials", f"{out['signer']!r} signs the document and cannot also initial it")
    frozen = MappingProxyType({k: _freeze(v) for k, v in out.items()})
    return DocumentContent(
        kind=kind,
        form=form,
        subject=out["subject"],
        body=tuple(out["body"]),
        urgency=Urgency(out["urgency"]),
        secrecy=Secrecy(out["secrecy"]),
        signer=out["signer"],
        initials=initials,
        attachments=attachments,
        fields=frozen,
    )


def from_canonical(kind: str | DocumentKind, fields: Mapping[str, Any]) -> DocumentContent:
    """Rebuild the content from what the database stores (attachments are in their own table)."""
    return validate(kind, fields)


def _form(kind: DocumentKind, raw: Any) -> DocumentForm | None:
    allowed = FORMS[kind]
    if not allowed:
        if raw is not None:
            raise UnknownField("form", kind.value, "(a " + kind.value + " document has one form only)")
        return None
    if raw is None:
        default = DEFAULT_FORM[kind]
        if default is None:
            raise MissingField("form", kind.value)
        return default
    text = str(raw).strip().lower() if isinstance(raw, str) else raw
    for form in allowed:
        if text in (form.value, form.thai):
            return form
    raise BadChoice("form", raw, ", ".join(f"{f.value} ({f.thai})" for f in allowed))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == () or value == {}


def _check(spec: FieldSpec, raw: Any, base_dir: Path | None) -> Any:
    name = spec.name
    match spec.type:
        case FieldType.TEXT:
            return _text(name, raw, spec.max_length)
        case FieldType.PARAGRAPHS:
            return _paragraphs(name, raw, spec.max_length)
        case FieldType.TEXT_LIST:
            return [
                _text(f"{name}[{i}]", item, spec.max_length, required=True) for i, item in enumerate(_list(name, raw))
            ]
        case FieldType.USERNAME:
            return _username(name, raw)
        case FieldType.USERNAMES:
            names = [_username(f"{name}[{i}]", item) for i, item in enumerate(_list(name, raw))]
            dup = next((n for n in names if names.count(n) > 1), None)
            if dup is not None:
                raise InvalidField(name, f"{dup!r} is listed twice")
            return names
        case FieldType.PATHS:
            return _paths(name, raw, base_dir)
        case FieldType.CONTACT:
            return _table(name, raw, CONTACT_KEYS)
        case FieldType.PEOPLE:
            return [_person(f"{name}[{i}]", item) for i, item in enumerate(_list(name, raw))]
        case FieldType.DATE:
            return _date(name, raw).isoformat()
        case FieldType.TIME:
            return _time(name, raw)
        case FieldType.URGENCY:
            try:
                return Urgency.parse(raw).value
            except ValueError:
                raise BadChoice(name, raw, choices(Urgency)) from None
        case FieldType.SECRECY:
            try:
                return Secrecy.parse(raw).value
            except ValueError:
                raise BadChoice(name, raw, choices(Secrecy)) from None
    raise AssertionError(spec.type)  # pragma: no cover


def _text(name: str, raw: Any, max_length: int, *, required: bool = False) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidField(name, f"must be text, not {_what(raw)}")
    text = one_line(str(raw))
    if required and not text:
        raise EmptyField(name)
    if len(text) > max_length:
        raise InvalidField(name, f"is longer than {max_length} characters")
    return text


def _paragraphs(name: str, raw: Any, max_length: int) -> list[str]:
    if isinstance(raw, str):
        items: list[Any] = [p for p in re.split(r"\n[ \t]*\n", normalise(raw)) if p.strip()]
        if not items:
            raise EmptyField(name)
    else:
        items = _list(name, raw)
    return [_text(f"{name}[{i}]", item, max_length, required=True) for i, item in enumerate(items)]


def _list(name: str, raw: Any) -> list[Any]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise InvalidField(name, f"must be a list, not {_what(raw)}")
    return list(raw)


_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def _username(name: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidField(name, f"must be a username, not {_what(raw)}")
    text = raw.strip()
    if not text:
        raise EmptyField(name)
    if not _USERNAME.match(text):
        raise InvalidField(name, f"{raw!r} is not a username (lower-case ASCII letters, digits, '.', '_', '-')")
    return text


def _paths(name: str, raw: Any, base_dir: Path | None) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(_list(name, raw)):
        if not isinstance(item, str | Path) or not str(item).strip():
            raise InvalidField(f"{name}[{i}]", f"must be a file path, not {_what(item)}")
        path = Path(str(item).strip()).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise InvalidField(f"{name}[{i}]", f"{str(item)!r} is not a readable file")
        out.append(str(path.resolve()))
    names = [Path(p).name for p in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise InvalidField(name, f"two attachments are named {dup!r}; rename one")
    return out


def _table(name: str, raw: Any, keys: tuple[str, ...]) -> dict[str, str] | None:
    if not isinstance(raw, Mapping):
        raise InvalidField(name, f"must be a table with {', '.join(keys)}, not {_what(raw)}")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if key not in keys:
            raise UnknownField(f"{name}.{key}", name, ", ".join(keys))
        if value is None:
            continue
        text = _text(f"{name}.{key}", value, 500)
        if text:
            out[key] = text
    if "email" in out and ("@" not in out["email"] or " " in out["email"]):
        raise InvalidField(f"{name}.email", f"{out['email']!r} is not an e-mail address")
    return out or None


def _person(name: str, raw: Any) -> dict[str, str]:
    if isinstance(raw, str):
        return {"name": _text(name, raw, 500, required=True)}
    table = _table(name, raw, PERSON_KEYS) or {}
    if not table.get("name"):
        raise MissingField(f"{name}.name", "minutes")
    return table


def _date(name: str, raw: Any) -> date:
    if isinstance(raw, date):
        return raw if type(raw) is date else raw.date()  # type: ignore[attr-defined]
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise InvalidField(name, f"{raw!r} is not a date like 2026-11-22")


_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)(?:\s*น\.?)?$")


def _time(name: str, raw: Any) -> str:
    text = str(raw).strip() if isinstance(raw, str) else raw.strftime("%H:%M") if hasattr(raw, "strftime") else None
    match = _TIME.match(text) if text is not None else None
    if match is None:
        raise InvalidField(name, f"{raw!r} is not a time like 09:30")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _what(value: Any) -> str:
    return {dict: "a table", list: "a list", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    return value


# -- files --------------------------------------------------------------------------------------


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a document file: JSON (``.json``) or TOML (``.toml``); other names are tried as
    JSON, then TOML. Raises :class:`~edoc.errors.DocumentFileInvalid` naming the problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentFileInvalid(str(path), exc.strerror or str(exc)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentFileInvalid(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_text(text, suffix=path.suffix.lower(), source=str(path))


def parse_text(text: str, *, suffix: str = "", source: str = "<text>") -> dict[str, Any]:
    """Parse the text of a document file (see :func:`load_file`)."""
    if suffix == ".toml":
        return _toml(text, source)
    if suffix == ".json" or text.lstrip().startswith("{"):
        return _json(text, source)
    return _toml(text, source)


def _json(text: str, source: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentFileInvalid(source, f"bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(value, dict):
        raise DocumentFileInvalid(source, "the JSON must be an object of fields")
    return value


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DocumentFileInvalid(source, f"bad TOML: {exc}") from None


def load(kind: str | DocumentKind, path: str | Path) -> DocumentContent:
    """Read and validate a document file; attachment paths are relative to its folder."""
    path = Path(path)
    return validate(kind, load_file(path), base_dir=path.resolve().parent)


MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
"""Largest attachment accepted (100 MiB); larger evidence belongs in a records system."""


def read_attachment(field_name: str, path: Path) -> tuple[str, bytes, str]:
    """``(name, bytes, media type)`` of an attachment file, read before the act begins."""
    try:
        if path.stat().st_size > MAX_ATTACHMENT_BYTES:
            raise InvalidField(field_name, f"{path.name} is larger than 100 MiB")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidField(field_name, f"cannot read {path}: {exc.strerror or exc}") from None
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, data, media
