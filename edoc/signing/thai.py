"""Thai words and dates printed in signature appearances.

Buddhist Era dates (BE = CE + 543), Thai month names and their abbreviations, Thai digits, and
a head's short mark made from their name. Appearances are printed in the office's time zone
(``office.timezone``, Asia/Bangkok by default).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
"""Thai month names, January first."""

MONTHS_SHORT = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
"""Thai month abbreviations, January first."""

_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_BANGKOK = ZoneInfo("Asia/Bangkok")

# Leading vowels are written before the consonant they follow in speech; a mark starts at the
# first consonant (ก to ฮ).
_LEADING_VOWELS = frozenset("เแโใไ")
_TITLES = ("นางสาว", "นาย", "นาง", "ว่าที่ร้อยตรี", "ดร.", "ดร")


def thai_digits(text: str) -> str:
    """``"12/2569"`` -> ``"๑๒/๒๕๖๙"``."""
    return text.translate(_THAI_DIGITS)


def local(when: datetime, tz: str | ZoneInfo = _BANGKOK) -> datetime:
    """``when`` (aware) in the office's time zone."""
    if when.tzinfo is None:
        raise ValueError("appearance times must be timezone-aware")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return when.astimezone(zone)


def date_long(when: datetime, *, digits: bool = False, tz: str | ZoneInfo = _BANGKOK) -> str:
    """``22 พฤศจิกายน 2569``."""
    t = local(when, tz)
    text = f"{t.day} {MONTHS[t.month - 1]} {t.year + 543}"
    return thai_digits(text) if digits else text


def date_short(when: datetime, *, digits: bool = False, tz: str | ZoneInfo = _BANGKOK) -> str:
    """``22 พ.ย. 69`` (two-digit BE year, as written beside initials)."""
    t = local(when, tz)
    text = f"{t.day} {MONTHS_SHORT[t.month - 1]} {(t.year + 543) % 100:02d}"
    return thai_digits(text) if digits else text


def date_medium(when: datetime, *, digits: bool = False, tz: str | ZoneInfo = _BANGKOK) -> str:
    """``22 พ.ย. 2569`` (the date on a received stamp)."""
    t = local(when, tz)
    text = f"{t.day} {MONTHS_SHORT[t.month - 1]} {t.year + 543}"
    return thai_digits(text) if digits else text


def time_of_day(when: datetime, *, digits: bool = False, tz: str | ZoneInfo = _BANGKOK) -> str:
    """``10.30 น.`` (the Thai way of writing a clock time)."""
    t = local(when, tz)
    text = f"{t.hour:02d}.{t.minute:02d} น."
    return thai_digits(text) if digits else text


def initials_of(full_name: str) -> str:
    """A head's short mark from their name: ``"นายสมชาย ใจดี"`` -> ``"ส.จ."``.

    Thai initials take the first *consonant* of each name (a leading vowel such as ใ in ใจดี is
    skipped).
    Titles (นาย, นาง, นางสาว, ดร.) are dropped; a name in Latin letters gives Latin initials.
    """
    words = full_name.split()
    if words:
        first = words[0]
        for title in _TITLES:
            if first.startswith(title) and len(first) > len(title):
                words[0] = first[len(title) :]
                break
            if first == title and len(words) > 1:
                words = words[1:]
                break
    letters = []
    for word in words[:3]:
        letter = _first_consonant(word)
        if letter:
            letters.append(letter + ".")
    return "".join(letters) or full_name.strip()[:3]


def _first_consonant(word: str) -> str:
    for ch in word:
        if "\u0e01" <= ch <= "\u0e2e":
            return ch
        if ch in _LEADING_VOWELS:
            continue
        if ch.isalpha():
            return ch.upper()
    return ""
