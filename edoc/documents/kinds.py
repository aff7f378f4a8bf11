"""The six kinds of official document, their forms, and the urgency and secrecy classes.

Names follow the Correspondence Regulation B.E. 2526 (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ):
code names are what files and the command line use; :attr:`thai` is what is printed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class DocumentKind(StrEnum):
    """ชนิดของหนังสือราชการ: the six kinds."""

    EXTERNAL = "external"
    """หนังสือภายนอก: a formal letter between agencies or to outsiders."""
    INTERNAL = "internal"
    """หนังสือภายใน (บันทึกข้อความ): a memo inside one agency or ministry."""
    STAMPED = "stamped"
    """หนังสือประทับตรา: a minor matter; the agency's stamp instead of a signature."""
    DIRECTIVE = "directive"
    """หนังสือสั่งการ: order, regulation or bylaw."""
    PUBLICITY = "publicity"
    """หนังสือประชาสัมพันธ์: announcement, statement or news."""
    RECORD = "record"
    """หนังสือที่เจ้าหน้าที่ทำขึ้นหรือรับไว้เป็นหลักฐานในราชการ: certificate, minutes, note, other."""

    @property
    def thai(self) -> str:
        """The kind's Thai name."""
        return _KIND_THAI[self]


_KIND_THAI = {
    DocumentKind.EXTERNAL: "หนังสือภายนอก",
    DocumentKind.INTERNAL: "หนังสือภายใน",
    DocumentKind.STAMPED: "หนังสือประทับตรา",
    DocumentKind.DIRECTIVE: "หนังสือสั่งการ",
    DocumentKind.PUBLICITY: "หนังสือประชาสัมพันธ์",
    DocumentKind.RECORD: "หนังสือที่เจ้าหน้าที่ทำขึ้นหรือรับไว้เป็นหลักฐานในราชการ",
}


class DocumentForm(StrEnum):
    """The form (แบบ) of a directive, publicity or record document.

    External letters, memos and stamped letters have one form each and store ``""``.
    """

    ORDER = "order"
    """คำสั่ง: a directive ordering something, numbered ``<n>/<BE year>``."""
    REGULATION = "regulation"
    """ระเบียบ: rules laid down by the agency, in clauses (ข้อ)."""
    BYLAW = "bylaw"
    """ข้อบังคับ: rules issued under a law that empowers the agency, in clauses."""
    ANNOUNCEMENT = "announcement"
    """ประกาศ: announcing or explaining something to the public."""
    STATEMENT = "statement"
    """แถลงการณ์: explaining the government's position on an event."""
    NEWS = "news"
    """ข่าว: news the agency wants made known."""
    CERTIFICATE = "certificate"
    """หนังสือรับรอง: certifying a person, legal person or work."""
    MINUTES = "minutes"
    """รายงานการประชุม: the record of a meeting."""
    NOTE = "note"
    """บันทึก: a short note to a superior or between officials."""
    OTHER = "other"
    """หนังสืออื่น: other evidence (pictures, maps, statements of fact...)."""

    @property
    def thai(self) -> str:
        """The word printed as the document's heading (คำสั่ง, ประกาศ, ...)."""
        return _FORM_THAI[self]


_FORM_THAI = {
    DocumentForm.ORDER: "คำสั่ง",
    DocumentForm.REGULATION: "ระเบียบ",
    DocumentForm.BYLAW: "ข้อบังคับ",
    DocumentForm.ANNOUNCEMENT: "ประกาศ",
    DocumentForm.STATEMENT: "แถลงการณ์",
    DocumentForm.NEWS: "ข่าว",
    DocumentForm.CERTIFICATE: "หนังสือรับรอง",
    DocumentForm.MINUTES: "รายงานการประชุม",
    DocumentForm.NOTE: "บันทึก",
    DocumentForm.OTHER: "หนังสืออื่น",
}

FORMS: dict[DocumentKind, tuple[DocumentForm, ...]] = {
    DocumentKind.EXTERNAL: (),
    DocumentKind.INTERNAL: (),
    DocumentKind.STAMPED: (),
    DocumentKind.DIRECTIVE: (DocumentForm.ORDER, DocumentForm.REGULATION, DocumentForm.BYLAW),
    DocumentKind.PUBLICITY: (DocumentForm.ANNOUNCEMENT, DocumentForm.STATEMENT, DocumentForm.NEWS),
    DocumentKind.RECORD: (DocumentForm.CERTIFICATE, DocumentForm.MINUTES, DocumentForm.NOTE, DocumentForm.OTHER),
}
"""The forms each kind allows (empty: the kind has a single form)."""

DEFAULT_FORM: dict[DocumentKind, DocumentForm | None] = {
    DocumentKind.DIRECTIVE: DocumentForm.ORDER,
    DocumentKind.PUBLICITY: DocumentForm.ANNOUNCEMENT,
    DocumentKind.RECORD: None,
}
"""The form used when the file names none; None: the file must name it (records differ too much)."""


class Urgency(StrEnum):
    """ชั้นความเร็ว: how fast the recipient must act."""

    NORMAL = "normal"
    """ปกติ: no urgency mark."""
    URGENT = "urgent"
    """ด่วน: faster than normal."""
    VERY_URGENT = "very-urgent"
    """ด่วนมาก: act quickly."""
    MOST_URGENT = "most-urgent"
    """ด่วนที่สุด: act at once."""

    @property
    def thai(self) -> str:
        """The Thai word printed in red at the top (empty for normal: nothing is printed)."""
        return _URGENCY_THAI[self]

    @property
    def code(self) -> str:
        """The e-Saraban interchange code (001 normal ... 004 most urgent)."""
        return f"{list(Urgency).index(self) + 1:03d}"

    @classmethod
    def parse(cls, value: str) -> Urgency:
        """From the English code name, the Thai word or the interchange code; ValueError otherwise."""
        return _parse(cls, value, _URGENCY_THAI)


_URGENCY_THAI = {
    Urgency.NORMAL: "ปกติ",
    Urgency.URGENT: "ด่วน",
    Urgency.VERY_URGENT: "ด่วนมาก",
    Urgency.MOST_URGENT: "ด่วนที่สุด",
}


class Secrecy(StrEnum):
    """ชั้นความลับ (Regulation on keeping official secrets B.E. 2544)."""

    NORMAL = "normal"
    """ปกติ: not secret."""
    CONFIDENTIAL = "confidential"
    """ลับ."""
    SECRET = "secret"
    """ลับมาก."""
    TOP_SECRET = "top-secret"
    """ลับที่สุด: never sent through e-Saraban (amendment No. 4)."""

    @property
    def thai(self) -> str:
        """The Thai word stamped in red at the top and bottom of every page."""
        return _SECRECY_THAI[self]

    @property
    def code(self) -> str:
        """The e-Saraban interchange code (001 normal ... 004 top secret)."""
        return f"{list(Secrecy).index(self) + 1:03d}"

    @property
    def restricted(self) -> bool:
        """True for every class above normal: only people on the route may read it."""
        return self is not Secrecy.NORMAL

    @classmethod
    def parse(cls, value: str) -> Secrecy:
        """From the English code name, the Thai word or the interchange code; ValueError otherwise."""
        return _parse(cls, value, _SECRECY_THAI)


_SECRECY_THAI = {
    Secrecy.NORMAL: "ปกติ",
    Secrecy.CONFIDENTIAL: "ลับ",
    Secrecy.SECRET: "ลับมาก",
    Secrecy.TOP_SECRET: "ลับที่สุด",
}


E = TypeVar("E", bound=StrEnum)


def _parse(cls: type[E], value: str, thai: dict[E, str]) -> E:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    text = " ".join(value.split())
    lowered = text.lower().replace("_", "-").replace(" ", "-")
    for member in cls:
        if lowered == member.value or text == thai[member] or text == f"{list(cls).index(member) + 1:03d}":
            return member
    raise ValueError(text)


def choices(cls: type[Urgency] | type[Secrecy]) -> str:
    """The accepted values, for error messages: ``normal (ปกติ), urgent (ด่วน), ...``."""
    return ", ".join(f"{m.value} ({m.thai})" for m in cls)
