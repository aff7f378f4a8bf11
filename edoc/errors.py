"""Every error edoc raises on purpose.

One root, :class:`EdocError`; a handful of families that map to the exit codes of the
contract (``../shared/CONTRACT.md``); and specific leaves that carry the ids involved, so a
caller can react to ``DocumentNotFound(doc_id=7)`` without parsing a message.

Each class carries its message in English and Thai as templates over its attributes; the CLI
picks the language. Nothing here imports anything from edoc.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EdocError(Exception):
    """Root of every error edoc raises on purpose.

    Subclasses set :attr:`exit_code` and the two message templates; the constructor takes the
    template's fields as keyword arguments and keeps them as attributes.
    """

    exit_code: ClassVar[int] = 6
    """The process exit code the CLI uses for this error (see the contract; 6 = other failure)."""
    en: ClassVar[str] = "{detail}"
    """English message template, formatted with the error's fields."""
    th: ClassVar[str] = "{detail}"
    """Thai message template, formatted with the error's fields."""

    def __init__(self, detail: str = "", **fields: Any) -> None:
        self.detail = detail
        self.fields = fields
        for key, value in fields.items():
            setattr(self, key, value)
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The one-line message in ``lang`` (``"th"`` or ``"en"``)."""
        template = self.th if lang == "th" else self.en
        try:
            text = template.format(detail=self.detail, **self.fields)
        except (KeyError, IndexError):  # pragma: no cover - a template bug must not hide the error
            text = f"{type(self).__name__}: {self.detail} {self.fields}"
        if self.detail and "{detail}" not in template:
            text = f"{text}: {self.detail}"
        return " ".join(text.split("\n"))


# --- families, one per exit code -------------------------------------------------------------


class CheckFailed(EdocError):
    """A check or verdict failed (verification, audit verification)."""

    exit_code = 1


class InvalidInput(EdocError, ValueError):
    """Usage error or bad input: the request itself is wrong. Exit code 2."""

    exit_code = 2
    en = "invalid input: {detail}"
    th = "ข้อมูลไม่ถูกต้อง: {detail}"


class PermissionDenied(EdocError):
    """The acting user may not do this. Exit code 3."""

    exit_code = 3
    en = "permission denied: {detail}"
    th = "ไม่มีสิทธิ์: {detail}"


class NotFound(EdocError, LookupError):
    """Something named in the request does not exist. Exit code 4."""

    exit_code = 4
    en = "not found: {detail}"
    th = "ไม่พบ: {detail}"


class Conflict(EdocError):
    """The request clashes with what is stored (already done, taken, wrong state). Exit code 5."""

    exit_code = 5
    en = "conflict: {detail}"
    th = "ขัดแย้งกับข้อมูลที่มีอยู่: {detail}"


class EnvironmentFailure(EdocError):
    """The office itself cannot work: no home, database unreachable, schema too old."""

    exit_code = 6
    en = "{detail}"
    th = "{detail}"


# --- input ---------------------------------------------------------------------------------


class InvalidField(InvalidInput):
    """A named field of the input has a bad value (or is missing, or is unknown)."""

    en = "field '{field}': {detail}"
    th = "ช่อง '{field}': {detail}"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, field=field)


class InvalidDatabaseUrl(InvalidInput):
    """The database URL cannot be parsed or names an unsupported database."""

    en = "database URL {url!r} is not usable: {detail}"
    th = "URL ฐานข้อมูล {url!r} ใช้ไม่ได้: {detail}"

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(detail, url=url)


class PassphraseRequired(InvalidInput):
    """A private key must be unlocked but no passphrase was given."""

    en = "a passphrase is needed for {owner}: give --passphrase-file or EDOC_PASSPHRASE_FILE"
    th = "ต้องใช้รหัสผ่านของ {owner}: ระบุ --passphrase-file หรือ EDOC_PASSPHRASE_FILE"

    def __init__(self, owner: str) -> None:
        super().__init__(owner=owner)


class WrongPassphrase(PermissionDenied):
    """The passphrase given does not unlock the key."""

    en = "the passphrase does not unlock the key of {owner}"
    th = "รหัสผ่านไม่สามารถปลดล็อกกุญแจของ {owner} ได้"

    def __init__(self, owner: str) -> None:
        super().__init__(owner=owner)


# --- not found -----------------------------------------------------------------------------


class AgencyNotFound(NotFound):
    en = "no agency with code {code!r}"
    th = "ไม่พบหน่วยงานรหัส {code!r}"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class UnitNotFound(NotFound):
    en = "no unit {code!r} in agency {agency!r}"
    th = "ไม่พบหน่วยย่อย {code!r} ในหน่วยงาน {agency!r}"

    def __init__(self, agency: str, code: str) -> None:
        super().__init__(agency=agency, code=code)


class UserNotFound(NotFound):
    en = "no user {username!r}"
    th = "ไม่พบผู้ใช้ {username!r}"

    def __init__(self, username: str) -> None:
        super().__init__(username=username)


class DocumentNotFound(NotFound):
    en = "no document with id {doc_id}"
    th = "ไม่พบหนังสือรหัส {doc_id}"

    def __init__(self, doc_id: object) -> None:
        super().__init__(doc_id=doc_id)


class BlobMissing(NotFound):
    """A stored row points at content that is not in the blob store."""

    en = "stored content {sha256} is missing from the blob store"
    th = "ไม่พบเนื้อหาที่จัดเก็บ {sha256} ในที่เก็บไฟล์"

    def __init__(self, sha256: str) -> None:
        super().__init__(sha256=sha256)


class HomeNotInitialised(EnvironmentFailure):
    en = "no edoc office at {home}: run 'edoc init' first"
    th = "ไม่พบสำนักงาน edoc ที่ {home}: ให้เรียก 'edoc init' ก่อน"

    def __init__(self, home: str) -> None:
        super().__init__(home=home)


class SchemaOutdated(EnvironmentFailure):
    en = "the database schema is at {found}, this edoc needs {needed}: run 'edoc init' to migrate"
    th = "โครงสร้างฐานข้อมูลเป็นรุ่น {found} แต่ต้องการรุ่น {needed}: ให้เรียก 'edoc init' เพื่อปรับรุ่น"

    def __init__(self, found: str, needed: str) -> None:
        super().__init__(found=found, needed=needed)


class DatabaseUnavailable(EnvironmentFailure):
    en = "cannot reach the database: {detail}"
    th = "เชื่อมต่อฐานข้อมูลไม่ได้: {detail}"


# --- conflicts -----------------------------------------------------------------------------


class AlreadyExists(Conflict):
    """Something with this identity is already stored."""

    en = "{what} {key!r} already exists"
    th = "{what} {key!r} มีอยู่แล้ว"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(what=what, key=key)


class InvalidState(Conflict):
    """The document (or other object) is not in a state that allows this act."""

    en = "{what} is {state}; cannot {act}"
    th = "{what} อยู่ในสถานะ {state} จึง{act}ไม่ได้"

    def __init__(self, what: str, state: str, act: str) -> None:
        super().__init__(what=what, state=state, act=act)


class Busy(Conflict):
    """The database stayed locked by other writers for longer than the busy timeout."""

    en = "the database is busy with other writers; try again"
    th = "ฐานข้อมูลกำลังถูกใช้งานโดยผู้อื่น กรุณาลองอีกครั้ง"


# --- documents (issue 3) ------------------------------------------------------------------


# --- pki (issue 4) -------------------------------------------------------------------------


# --- signing (issue 5) ---------------------------------------------------------------------


# --- verification (issue 6) ----------------------------------------------------------------


# --- registers (issue 7) -------------------------------------------------------------------


# --- routing (issue 8) ---------------------------------------------------------------------


# --- audit (issue 9) -----------------------------------------------------------------------


# -------------------------------------------------------------------------------------------


def exit_code_for(exc: BaseException) -> int:
    """The exit code the CLI uses for ``exc`` (6 for anything edoc did not anticipate)."""
    if isinstance(exc, EdocError):
        return exc.exit_code
    return 6
