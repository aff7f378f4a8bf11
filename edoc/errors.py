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


class MissingField(InvalidField):
    """A field the document's kind requires is absent."""

    en = "field '{field}' is required in {kind} documents"
    th = "ต้องระบุช่อง '{field}' ในหนังสือชนิด {kind}"

    def __init__(self, field: str, kind: str) -> None:
        InvalidInput.__init__(self, field=field, kind=kind)


class UnknownField(InvalidField):
    """A field the document's kind does not have (a typo must not be silently ignored)."""

    en = "unknown field '{field}' in {kind} documents; known fields: {known}"
    th = "ไม่รู้จักช่อง '{field}' ในหนังสือชนิด {kind} ช่องที่ใช้ได้: {known}"

    def __init__(self, field: str, kind: str, known: str) -> None:
        InvalidInput.__init__(self, field=field, kind=kind, known=known)


class BadChoice(InvalidField):
    """A field whose value must be one of a fixed set (urgency, secrecy, form)."""

    en = "field '{field}': {value!r} is not one of {choices}"
    th = "ช่อง '{field}': {value!r} ไม่ใช่ค่าที่ใช้ได้ ({choices})"

    def __init__(self, field: str, value: object, choices: str) -> None:
        InvalidInput.__init__(self, field=field, value=value, choices=choices)


class EmptyField(InvalidField):
    """A field that must have content is empty (an empty body, an empty paragraph)."""

    en = "field '{field}' must not be empty"
    th = "ช่อง '{field}' ต้องไม่ว่าง"

    def __init__(self, field: str) -> None:
        InvalidInput.__init__(self, field=field)


class DocumentFileInvalid(InvalidInput):
    """The document file (JSON or TOML) cannot be read or parsed."""

    en = "cannot use the document file {path}: {detail}"
    th = "ใช้ไฟล์หนังสือ {path} ไม่ได้: {detail}"

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(detail, path=path)


class ActorRequired(InvalidInput):
    """A command that reads or changes documents was not told who acts."""

    en = "say who acts: give --as USERNAME or set EDOC_USER"
    th = "ต้องระบุผู้ใช้งาน: ใช้ --as ชื่อผู้ใช้ หรือกำหนด EDOC_USER"

    def __init__(self) -> None:
        super().__init__()


class NotAPdf(InvalidInput):
    """Bytes given as a PDF are not one."""

    en = "{what} is not a PDF: {detail}"
    th = "{what} ไม่ใช่ไฟล์ PDF: {detail}"

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(detail, what=what)



# --- pki (issue 4) -------------------------------------------------------------------------


class PkiNotInitialised(NotFound):
    """The office has no CA yet."""

    en = "this office has no CA yet: run 'edoc pki init' first"
    th = "สำนักงานนี้ยังไม่มีผู้ออกใบรับรอง (CA): ให้เรียก 'edoc pki init' ก่อน"


class PkiAlreadyInitialised(Conflict):
    """``pki init`` on an office that already has its CA."""

    en = "this office already has its CA (root {root}); it is never replaced by 'pki init'"
    th = "สำนักงานนี้มีผู้ออกใบรับรอง (CA) แล้ว (ราก {root}) จึงสร้างใหม่ด้วย 'pki init' ไม่ได้"

    def __init__(self, root: str) -> None:
        super().__init__(root=root)


class CaKeysMissing(EnvironmentFailure):
    """The CA's keys are not in this home (a signing host sharing the database, not the CA host)."""

    en = "the CA keys are not in {path}: issue certificates and CRLs on the CA's host"
    th = "ไม่พบกุญแจของผู้ออกใบรับรองใน {path}: ให้ออกใบรับรองและ CRL ที่เครื่องของผู้ออกใบรับรอง"

    def __init__(self, path: str) -> None:
        super().__init__(path=path)


class CaNotUsable(Conflict):
    """The issuing CA cannot issue now: expired, not yet valid, or its files do not match."""

    en = "the CA cannot issue: {detail}"
    th = "ผู้ออกใบรับรองออกใบรับรองไม่ได้: {detail}"


class CertificateNotFound(NotFound):
    """No certificate with this serial number."""

    en = "no certificate with serial {serial}"
    th = "ไม่พบใบรับรองหมายเลข {serial}"

    def __init__(self, serial: str) -> None:
        super().__init__(serial=serial)


class NoCertificate(NotFound):
    """The owner has no current certificate."""

    en = "{owner} has no current certificate: run 'edoc pki issue {owner}'"
    th = "{owner} ยังไม่มีใบรับรองที่ใช้งานได้: ให้เรียก 'edoc pki issue {owner}'"

    def __init__(self, owner: str) -> None:
        super().__init__(owner=owner)


class AlreadyCertified(Conflict):
    """The owner already has a current certificate (duplicate issuance)."""

    en = "{owner} already has certificate {serial} valid until {not_after}: revoke it or give --replace"
    th = "{owner} มีใบรับรองหมายเลข {serial} ใช้ได้ถึง {not_after} อยู่แล้ว: ให้เพิกถอนก่อนหรือระบุ --replace"

    def __init__(self, owner: str, serial: str, not_after: str) -> None:
        super().__init__(owner=owner, serial=serial, not_after=not_after)


class AlreadyRevoked(Conflict):
    """The certificate is already revoked."""

    en = "certificate {serial} was already revoked on {at} ({reason})"
    th = "ใบรับรองหมายเลข {serial} ถูกเพิกถอนไปแล้วเมื่อ {at} ({reason})"

    def __init__(self, serial: str, at: str, reason: str) -> None:
        super().__init__(serial=serial, at=at, reason=reason)


class IdentityNotUsable(PermissionDenied):
    """A signing identity refused before signing: its certificate is revoked, expired or not
    yet valid (:meth:`edoc.office.Office.signing_identity`)."""


class CertificateRevoked(IdentityNotUsable):
    en = "the certificate {serial} of {owner} was revoked on {at} ({reason}); it can no longer sign"
    th = "ใบรับรองหมายเลข {serial} ของ {owner} ถูกเพิกถอนเมื่อ {at} ({reason}) จึงใช้ลงนามไม่ได้อีก"

    def __init__(self, owner: str, serial: str, at: str, reason: str) -> None:
        super().__init__(owner=owner, serial=serial, at=at, reason=reason)


class CertificateExpired(IdentityNotUsable):
    en = "the certificate {serial} of {owner} expired on {not_after}; it can no longer sign"
    th = "ใบรับรองหมายเลข {serial} ของ {owner} หมดอายุเมื่อ {not_after} จึงใช้ลงนามไม่ได้อีก"

    def __init__(self, owner: str, serial: str, not_after: str) -> None:
        super().__init__(owner=owner, serial=serial, not_after=not_after)


class CertificateNotYetValid(IdentityNotUsable):
    en = "the certificate {serial} of {owner} is valid only from {not_before}"
    th = "ใบรับรองหมายเลข {serial} ของ {owner} เริ่มใช้ได้ตั้งแต่ {not_before}"

    def __init__(self, owner: str, serial: str, not_before: str) -> None:
        super().__init__(owner=owner, serial=serial, not_before=not_before)


class TestKeyRefused(PermissionDenied):
    """A committed example key (certs/) used outside a test or demo home."""

    __test__ = False  # not a pytest test class

    en = "{what} is one of edoc's published example keys (certs/): it is refused outside a test or demo home"
    th = "{what} เป็นกุญแจตัวอย่างที่เผยแพร่ใน certs/ ของ edoc: ใช้ได้เฉพาะสำนักงานทดสอบหรือสาธิตเท่านั้น"

    def __init__(self, what: str) -> None:
        super().__init__(what=what)


class TokenNotFound(NotFound):
    """No PKCS#11 token with this label (or no key with this id on it)."""

    en = "PKCS#11: {detail}"
    th = "PKCS#11: {detail}"


class Pkcs11Unavailable(EnvironmentFailure):
    """The PKCS#11 module cannot be loaded or the token refused an operation."""

    en = "PKCS#11: {detail}"
    th = "PKCS#11: {detail}"


# --- signing (issue 5) ---------------------------------------------------------------------


class InvalidPdf(InvalidInput):
    """The bytes given are not a PDF edoc can sign (unreadable, encrypted, hybrid xrefs ...)."""

    en = "the PDF cannot be signed: {detail}"
    th = "ไม่สามารถลงนามในไฟล์ PDF นี้ได้: {detail}"


class SignatureFieldMissing(NotFound):
    """The PDF has no signature field of that name."""

    en = "the PDF has no signature field {field!r}"
    th = "ไฟล์ PDF ไม่มีช่องลงนาม {field!r}"

    def __init__(self, field: str) -> None:
        super().__init__(field=field)


class FieldAlreadySigned(Conflict):
    """The signature field already holds a signature."""

    en = "the signature field {field!r} is already signed"
    th = "ช่องลงนาม {field!r} มีลายมือชื่อแล้ว"

    def __init__(self, field: str) -> None:
        super().__init__(field=field)


class FieldLocked(Conflict):
    """Filling the field would break an earlier signature whose field lock covers it."""

    en = "the signature field {field!r} is locked by the signature in {by!r}: signing it now would break that signature"
    th = "ช่องลงนาม {field!r} ถูกล็อกโดยลายมือชื่อในช่อง {by!r}: หากลงนามตอนนี้ลายมือชื่อนั้นจะเสีย"

    def __init__(self, field: str, by: str) -> None:
        super().__init__(field=field, by=by)


class StampZoneFull(Conflict):
    """No free place is left for another received stamp in the stamp zone of page 1."""

    en = "no room for another received stamp: the stamp zone already holds {count} stamp(s)"
    th = "ไม่มีที่ว่างสำหรับตรารับหนังสือเพิ่ม: พื้นที่ประทับตรามีตราแล้ว {count} ดวง"

    def __init__(self, count: int) -> None:
        super().__init__(count=count)


class CertificateNotUsable(PermissionDenied):
    """The signer's certificate cannot make this signature (expired, not yet valid, revoked, wrong use)."""

    en = "the certificate of {subject} cannot sign: {reason}"
    th = "ใบรับรองของ {subject} ใช้ลงนามไม่ได้: {reason}"

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(subject=subject, reason=reason)


class SigningServiceUnavailable(EnvironmentFailure):
    """The time-stamping, OCSP or CRL service a signature level needs did not answer."""

    en = "the {service} needed for this signature level did not answer: {detail}"
    th = "บริการ {service} ที่ระดับลายมือชื่อนี้ต้องใช้ไม่ตอบสนอง: {detail}"

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(detail, service=service)


class SigningFailed(EdocError):
    """pyHanko refused or failed to make the signature for a reason edoc did not anticipate."""

    exit_code = 6
    en = "signing failed: {detail}"
    th = "การลงนามล้มเหลว: {detail}"


class DocumentChanged(InvalidInput):
    """The stored PDF (or the text it was rendered from) differs from what the last signature
    left: it must not be signed. Exit 2: the document given is not the one that was signed."""

    en = "document {doc_id} changed since its last signature (stored PDF {found}, expected {expected}); not signed"
    th = "หนังสือ {doc_id} ถูกเปลี่ยนแปลงหลังการลงนามครั้งล่าสุด (ไฟล์ที่เก็บ {found} แต่ควรเป็น {expected}) จึงลงนามไม่ได้"

    def __init__(self, doc_id: object, found: str, expected: str) -> None:
        super().__init__(doc_id=doc_id, found=found, expected=expected)


class SignatureOutOfOrder(Conflict):
    """A signature that must wait for others (initials in route order, the signer after every
    initial) is asked for too early."""

    en = "document {doc_id}: {field!r} cannot be signed yet: {waiting}"
    th = "หนังสือ {doc_id}: ยังลงนามในช่อง {field!r} ไม่ได้: {waiting}"

    def __init__(self, doc_id: object, field: str, waiting: str) -> None:
        super().__init__(doc_id=doc_id, field=field, waiting=waiting)


class NotASigner(PermissionDenied):
    """The user is neither the drafter, a head who initials, the signer nor an executive of the
    issuing agency."""

    en = (
        "{user} may not sign document {doc_id}: only its drafter, the heads who initial it, its signer"
        " and an executive of {agency} sign it"
    )
    th = "{user} ลงนามหนังสือ {doc_id} ไม่ได้: ผู้ลงนามได้มีเพียงผู้ร่าง หัวหน้าที่ลงชื่อย่อ ผู้ลงนาม และผู้บริหารของ {agency}"

    def __init__(self, user: str, doc_id: object, agency: str) -> None:
        super().__init__(user=user, doc_id=doc_id, agency=agency)


class NoSignedPdf(NotFound):
    """The document has no stored PDF yet (a draft nobody signed): nothing to export or renew."""

    en = "document {doc_id} has no signed PDF yet (edoc doc render gives a preview)"
    th = "หนังสือ {doc_id} ยังไม่มีไฟล์ PDF ที่ลงนามแล้ว (ใช้ edoc doc render เพื่อดูตัวอย่าง)"

    def __init__(self, doc_id: object) -> None:
        super().__init__(doc_id=doc_id)


# --- verification (issue 6) ----------------------------------------------------------------


class VerifyFileNotFound(NotFound):
    """A file given to ``edoc verify`` does not exist."""

    en = "no such file: {path}"
    th = "ไม่พบไฟล์ {path}"

    def __init__(self, path: str) -> None:
        super().__init__(path=path)


# --- registers (issue 7) -------------------------------------------------------------------


class AlreadyNumbered(Conflict):
    """The document already has its outgoing number; a number is issued once."""

    en = "document {doc_id} already has the number {number}"
    th = "หนังสือรหัส {doc_id} ได้รับเลขที่ {number} แล้ว"

    def __init__(self, doc_id: object, number: str) -> None:
        super().__init__(doc_id=doc_id, number=number)


class AlreadyReceived(Conflict):
    """The document (delivery) is already registered as received; never a second number."""

    en = "document {doc_id} is already registered as received with number {number}"
    th = "หนังสือรหัส {doc_id} ลงรับแล้ว เลขรับ {number}"

    def __init__(self, doc_id: object, number: str) -> None:
        super().__init__(doc_id=doc_id, number=number)


class NotNumberable(Conflict):
    """The document is not one this agency issues a number to (incoming, cancelled, sent)."""

    en = "document {doc_id} cannot be numbered: {detail}"
    th = "ออกเลขให้หนังสือรหัส {doc_id} ไม่ได้: {detail}"

    def __init__(self, doc_id: object, detail: str) -> None:
        super().__init__(detail, doc_id=doc_id)



# --- routing (issue 8) ---------------------------------------------------------------------


class RouteActionRefused(Conflict):
    """The in-agency route of a document does not allow this action in its current state."""

    en = "document {doc_id} is {state}: cannot {action} now (possible: {allowed})"
    th = "หนังสือรหัส {doc_id} อยู่ในสถานะ {state} จึง {action} ไม่ได้ในตอนนี้ (ทำได้: {allowed})"

    def __init__(self, doc_id: object, state: str, action: str, allowed: str, detail: str = "") -> None:
        super().__init__(detail, doc_id=doc_id, state=state, action=action, allowed=allowed or "-")


class NotHolder(PermissionDenied):
    """The actor does not hold the document (it is with someone else, or with another unit)."""

    en = "{username} does not hold document {doc_id} (it is with {holder})"
    th = "{username} ไม่ได้ถือหนังสือรหัส {doc_id} (หนังสืออยู่ที่ {holder})"

    def __init__(self, doc_id: object, username: str, holder: str) -> None:
        super().__init__(doc_id=doc_id, username=username, holder=holder)


class DeliveryFault(EdocError):
    """A send or a delivery was refused; :attr:`fault` is the explicit code (DHX style).

    The codes are listed in :class:`edoc.routing.delivery.Fault`; scripts test ``exc.fault``
    rather than parse the message.
    """

    fault: ClassVar[str] = "delivery"
    """The machine-readable reason (``duplicate``, ``unknown-recipient``, ...)."""


class UnknownRecipients(DeliveryFault, NotFound):
    en = "no agency with code(s) {codes} [unknown-recipient]"
    th = "ไม่พบหน่วยงานรหัส {codes} [unknown-recipient]"
    fault = "unknown-recipient"

    def __init__(self, codes: list[str]) -> None:
        super().__init__(codes=", ".join(codes), code_list=list(codes))


class NoRecipients(DeliveryFault, InvalidInput):
    en = "no recipients: give --to CODE[,CODE...], --to-group NAME or --to-all-under CODE [no-recipients]"
    th = "ไม่มีผู้รับ: ระบุ --to รหัส[,รหัส...], --to-group ชื่อ หรือ --to-all-under รหัส [no-recipients]"
    fault = "no-recipients"


class SendToSelf(DeliveryFault, InvalidInput):
    en = "agency {agency} cannot send document {doc_id} to itself [self-addressed]"
    th = "หน่วยงาน {agency} ส่งหนังสือรหัส {doc_id} ถึงตนเองไม่ได้ [self-addressed]"
    fault = "self-addressed"

    def __init__(self, doc_id: object, agency: str) -> None:
        super().__init__(doc_id=doc_id, agency=agency)


class AlreadySent(DeliveryFault, Conflict):
    """A second send of the same document to the same agency: refused, never duplicated."""

    en = "document {doc_id} was already sent to {agencies}; a second send is refused [duplicate]"
    th = "หนังสือรหัส {doc_id} ส่งถึง {agencies} แล้ว จึงไม่ส่งซ้ำ [duplicate]"
    fault = "duplicate"

    def __init__(self, doc_id: object, agencies: list[str]) -> None:
        super().__init__(doc_id=doc_id, agencies=", ".join(agencies), agency_list=list(agencies))


class NotSendable(DeliveryFault, Conflict):
    """Only signed documents are sent."""

    en = "document {doc_id} is {state}: only signed documents can be sent [not-signed]"
    th = "หนังสือรหัส {doc_id} อยู่ในสถานะ {state}: ส่งได้เฉพาะหนังสือที่ลงนามแล้ว [not-signed]"
    fault = "not-signed"

    def __init__(self, doc_id: object, state: str) -> None:
        super().__init__(doc_id=doc_id, state=state)


class CancelledNotSent(NotSendable):
    """A cancelled document keeps its number but is never sent."""

    en = "document {doc_id} is cancelled: it cannot be sent [cancelled]"
    th = "หนังสือรหัส {doc_id} ถูกยกเลิกแล้ว จึงส่งไม่ได้ [cancelled]"
    fault = "cancelled"

    def __init__(self, doc_id: object) -> None:
        super().__init__(doc_id, "cancelled")


class TopSecretNotSent(DeliveryFault, PermissionDenied):
    """The regulation (amendment No. 4) keeps top-secret documents off e-Saraban."""

    en = "document {doc_id} is top secret (ลับที่สุด): it is never sent through e-Saraban [top-secret]"
    th = "หนังสือรหัส {doc_id} มีชั้นความลับที่สุด: ห้ามส่งทางระบบสารบรรณอิเล็กทรอนิกส์ [top-secret]"
    fault = "top-secret"

    def __init__(self, doc_id: object) -> None:
        super().__init__(doc_id=doc_id)


class DeliveryStateConflict(DeliveryFault, Conflict):
    """Evidence out of order: e.g. registering a copy that was returned."""

    en = "consignment {consignment} is {state}: cannot record '{kind}' [out-of-order]"
    th = "การส่งรหัส {consignment} อยู่ในสถานะ {state}: บันทึก '{kind}' ไม่ได้ [out-of-order]"
    fault = "out-of-order"

    def __init__(self, consignment: str, state: str, kind: str) -> None:
        super().__init__(consignment=consignment, state=state, kind=kind)


class GroupNotFound(NotFound):
    en = "no agency group {name!r}"
    th = "ไม่พบกลุ่มหน่วยงาน {name!r}"

    def __init__(self, name: str) -> None:
        super().__init__(name=name)


class ContentSealed(PermissionDenied):
    """Secret content is encrypted at rest and the actor cannot (or may not) open it."""

    en = "the content of document {doc_id} is {secrecy} and sealed: {detail}"
    th = "เนื้อหาของหนังสือรหัส {doc_id} มีชั้นความลับ ({secrecy}) และถูกเข้ารหัสไว้: {detail}"

    def __init__(self, doc_id: object, secrecy: str, detail: str) -> None:
        super().__init__(detail, doc_id=doc_id, secrecy=secrecy)


class EncryptionCertificateMissing(Conflict):
    """Confidential and secret content is encrypted for the agency's seal (and the people on the
    route): without a current seal certificate it cannot be stored."""

    en = (
        "{owner} has no current certificate to encrypt {secrecy} documents for: "
        "issue the agency's seal (edoc pki issue --agency CODE)"
    )
    th = "{owner} ยังไม่มีใบรับรองที่ใช้งานได้สำหรับเข้ารหัสหนังสือชั้นความลับ ({secrecy}): ให้ออกใบรับรองตราหน่วยงานก่อน"

    def __init__(self, owner: str, secrecy: str) -> None:
        super().__init__(owner=owner, secrecy=secrecy)


class EvidenceInvalid(CheckFailed):
    """An exported evidence file does not check out (offline check)."""

    en = "evidence {name}: {detail}"
    th = "หลักฐาน {name}: {detail}"

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail, name=name)


# --- audit (issue 9) -----------------------------------------------------------------------


class AuditKeyMissing(NotFound):
    """The office has no audit key yet, so nothing can sign checkpoints."""

    en = "the office has no audit key: run 'edoc audit key create' first"
    th = "สำนักงานยังไม่มีกุญแจตรวจสอบ: ให้เรียก 'edoc audit key create' ก่อน"


class AuditKeyExists(Conflict):
    """An audit key exists already (there is one per office)."""

    en = "the office already has an audit key ({key_id})"
    th = "สำนักงานมีกุญแจตรวจสอบอยู่แล้ว ({key_id})"

    def __init__(self, key_id: str) -> None:
        super().__init__(key_id=key_id)


class EventNotFound(NotFound):
    en = "no audit event {seq} (the log has {size} events, numbered from 0)"
    th = "ไม่พบเหตุการณ์ตรวจสอบลำดับที่ {seq} (บันทึกมี {size} เหตุการณ์ เริ่มนับจาก 0)"

    def __init__(self, seq: int, size: int) -> None:
        super().__init__(seq=seq, size=size)


class CheckpointNotFound(NotFound):
    en = "no checkpoint of size {size}"
    th = "ไม่พบจุดตรวจขนาด {size}"

    def __init__(self, size: object) -> None:
        super().__init__(size=size)


class AuditLogDamaged(CheckFailed):
    """What the log stores contradicts itself (found while serving a request, not verifying)."""

    en = "the audit log is damaged: {detail}; run 'edoc audit verify' to see what was changed"
    th = "บันทึกตรวจสอบเสียหาย: {detail} ให้เรียก 'edoc audit verify' เพื่อดูว่ามีการแก้ไขอะไร"


class WitnessRefused(CheckFailed):
    """A witness will not countersign a checkpoint that does not extend what it saw before."""

    en = "{agency} will not countersign: {detail}"
    th = "{agency} ไม่ลงนามรับรอง: {detail}"

    def __init__(self, agency: str, detail: str) -> None:
        super().__init__(detail, agency=agency)


class TimestampInvalid(CheckFailed):
    """A checkpoint's RFC 3161 time-stamp cannot be had or kept: the TSA's token does not check
    out, or the checkpoint is too old for a stamp to confirm its time."""

    en = "checkpoint {size} cannot be time-stamped: {detail}"
    th = "ประทับเวลาจุดตรวจ {size} ไม่ได้: {detail}"

    def __init__(self, size: int, detail: str) -> None:
        super().__init__(detail, size=size)


class BundleInvalid(InvalidInput):
    """A path given as an audit bundle or a saved checkpoint cannot be read as one."""

    en = "{path} is not a usable audit bundle or checkpoint: {detail}"
    th = "{path} ไม่ใช่ชุดข้อมูลตรวจสอบหรือจุดตรวจที่ใช้ได้: {detail}"

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(detail, path=path)


# -- registers and records (issue 7) --------------------------------------------------------


class DestructionListNotFound(NotFound):
    en = "no destruction list with id {list_id}"
    th = "ไม่พบบัญชีหนังสือขอทำลายรหัส {list_id}"

    def __init__(self, list_id: object) -> None:
        super().__init__(list_id=list_id)


class DestructionRefused(Conflict):
    """A destruction that the regulation does not allow (yet): approvals missing, a legal hold,
    a permanent class, a list already carried out."""

    en = "destruction list {list_id} cannot be destroyed: {detail}"
    th = "บัญชีหนังสือขอทำลายรหัส {list_id} ยังทำลายไม่ได้: {detail}"

    def __init__(self, list_id: object, detail: str) -> None:
        super().__init__(detail, list_id=list_id)


class RecordRefused(Conflict):
    """A records act the document's state does not allow (held twice, released while not held,
    destroyed already)."""

    en = "document {doc_id}: {detail}"
    th = "หนังสือรหัส {doc_id}: {detail}"

    def __init__(self, doc_id: object, detail: str) -> None:
        super().__init__(detail, doc_id=doc_id)


class WorkerFailed(EdocError):
    """A worker process of a parallel run (the pilot's year with ``--workers``) failed: it raised
    an error it did not expect, or ended without reporting (killed, out of memory). ``worker`` is
    the process name, ``cause`` what it reported or how it ended; other failed workers, if any,
    follow in ``detail``."""

    exit_code = 6
    en = "worker {worker} failed: {cause}"
    th = "กระบวนการทำงาน {worker} ล้มเหลว: {cause}"

    def __init__(self, worker: str, cause: str, detail: str = "") -> None:
        super().__init__(detail, worker=worker, cause=cause)


# -------------------------------------------------------------------------------------------


def exit_code_for(exc: BaseException) -> int:
    """The exit code the CLI uses for ``exc`` (6 for anything edoc did not anticipate)."""
    if isinstance(exc, EdocError):
        return exc.exit_code
    return 6
