"""Values of the directory: agencies in one tree, units inside them, users with one role."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from edoc.errors import InvalidField


class Role(StrEnum):
    """What a user does in their agency (one role per account)."""

    CLERK = "clerk"
    """เจ้าหน้าที่สารบรรณ: registers, numbers, sends and receives."""
    OFFICER = "officer"
    """เจ้าหน้าที่ผู้ปฏิบัติ: drafts and acts on assigned matters."""
    HEAD = "head"
    """หัวหน้า: initials drafts on the way up and endorses incoming matters."""
    EXECUTIVE = "executive"
    """ผู้บริหาร: signs for the agency, annotates and orders."""
    AUDITOR = "auditor"
    """ผู้ตรวจสอบ: reads registers, evidence and the audit log, never secret content."""
    ADMIN = "admin"
    """ผู้ดูแลระบบ: manages the directory and certificates."""


# Thai consonants and vowels used in letter codes ("นม", "มท", "กค"), then digits with an
# optional dotted tail: "นม 52101", "มท 0201.2", "นม 0023.4/1".
_LETTER_CODE = re.compile(r"^[\u0E01-\u0E2E\u0E30-\u0E4E]{1,6}\.? ?[0-9๐-๙]+(?:\.[0-9๐-๙]+)*$")
_AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def validate_letter_code(value: str) -> str:
    """Return the normalised letter code or raise :class:`InvalidField`.

    A letter code (รหัสพยัญชนะและตัวเลขประจำส่วนราชการ) is Thai letters, a space, then digits
    with optional dotted parts: ``นม 52101``, ``มท 0201.2``.
    """
    if not isinstance(value, str):
        raise TypeError("letter code must be a str")
    cleaned = " ".join(_clean(value).split())
    if not _LETTER_CODE.match(cleaned):
        raise InvalidField(
            "letter-code",
            f"{value!r} is not '<Thai letters> <digits>[.digits]', e.g. 'นม 52101'",
        )
    return cleaned


def validate_agency_code(value: str) -> str:
    """Agency codes are short ASCII identifiers (``PAKCHONG``, ``NMA-PROV``, ``52101``)."""
    if not isinstance(value, str):
        raise TypeError("agency code must be a str")
    cleaned = _clean(value)
    if not _AGENCY_CODE.match(cleaned):
        raise InvalidField("code", f"{value!r} must be 1-32 ASCII letters, digits, '.', '_' or '-'")
    return cleaned


def validate_username(value: str) -> str:
    """Usernames are lower-case ASCII, 2-64 characters: letters, digits, '.', '_' and '-'."""
    if not isinstance(value, str):
        raise TypeError("username must be a str")
    cleaned = _clean(value)
    if not _USERNAME.match(cleaned):
        raise InvalidField(
            "username",
            f"{value!r} must be 2-64 lower-case ASCII letters, digits, '.', '_' or '-'",
        )
    return cleaned


def validate_text(field: str, value: str, *, required: bool = True, max_length: int = 500) -> str:
    """A human text field: NFC-normalised, stripped, not empty when required."""
    if not isinstance(value, str):
        raise InvalidField(field, "must be text")
    cleaned = _clean(value)
    if required and not cleaned:
        raise InvalidField(field, "must not be empty")
    if len(cleaned) > max_length:
        raise InvalidField(field, f"is longer than {max_length} characters")
    return cleaned


@dataclass(frozen=True)
class Agency:
    """A government agency (ส่วนราชการ): province office, district, municipality, school..."""

    code: str
    """Short ASCII identifier used on the command line (``PAKCHONG``)."""
    name: str
    """Thai name (เทศบาลเมืองปากช่อง)."""
    letter_code: str
    """Letter code printed before document numbers (``นม 52101``)."""
    address: str = ""
    """Postal address printed on external letters."""
    parent: str | None = None
    """Code of the parent agency, or None for a root of the tree."""
    thai_digits: bool = False
    """Print numbers and dates with Thai digits (๐-๙)."""


@dataclass(frozen=True)
class Unit:
    """A unit inside an agency (กอง, ฝ่าย, งาน)."""

    agency: str
    """Code of the agency the unit belongs to."""
    code: str
    """Code of the unit, unique within the agency."""
    name: str
    """Thai name (กองช่าง)."""


@dataclass(frozen=True)
class User:
    """A person with an account."""

    username: str
    """Login name (``somchai.s``)."""
    agency: str
    """Code of the user's agency."""
    full_name: str
    """Thai full name as printed under a signature (นายสมชาย ใจดี)."""
    position: str
    """Position as printed under a signature (นายกเทศมนตรีเมืองปากช่อง)."""
    role: Role
    """The user's role."""
    unit: str | None = None
    """Code of the user's unit, if any."""
    email: str | None = None
    """E-mail address (adds emailProtection to the signing certificate)."""
    active: bool = True
    """False once the account is disabled."""
