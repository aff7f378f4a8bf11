"""Thai text as official letters print it: Buddhist Era dates, Thai month names, Thai digits,
and a small normaliser for the common ways typed Thai goes wrong.

Pure and fast: no pythainlp here (line breaking, which needs its dictionary, lives in
:mod:`edoc.documents.linebreak`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

BE_OFFSET = 543
"""Buddhist Era year = Common Era year + 543."""

MONTHS: tuple[str, ...] = (
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

_TO_THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_TO_ARABIC = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def thai_digits(text: str) -> str:
    """``"นม 52101/12"`` -> ``"นม ๕๒๑๐๑/๑๒"``: every ASCII digit as a Thai digit."""
    return text.translate(_TO_THAI)


def arabic_digits(text: str) -> str:
    """The inverse of :func:`thai_digits`."""
    return text.translate(_TO_ARABIC)


def digits(text: str, thai: bool) -> str:
    """``text`` with Thai digits when ``thai`` (the agency setting), unchanged otherwise."""
    return thai_digits(text) if thai else text


def be_year(day: date) -> int:
    """The Buddhist Era year of ``day``."""
    return day.year + BE_OFFSET


def thai_date(day: date, *, thai: bool = False) -> str:
    """``22 พฤศจิกายน 2569`` (or with Thai digits): the date as letters print it."""
    return digits(f"{day.day} {MONTHS[day.month - 1]} {be_year(day)}", thai)


def thai_date_phrase(day: date, *, thai: bool = False) -> str:
    """``22 เดือน พฤศจิกายน พ.ศ. 2569``: the long form used after "สั่ง ณ วันที่" and the like."""
    return digits(f"{day.day} {MONTHS[day.month - 1]} พ.ศ. {be_year(day)}", thai)


# -- normalisation ---------------------------------------------------------------------------

_ABOVE_VOWELS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47"  # ั ิ ี ึ ื ็
_BELOW_VOWELS = "\u0e38\u0e39\u0e3a"  # ุ ู ฺ
_TONES = "\u0e48\u0e49\u0e4a\u0e4b"  # ่ ้ ๊ ๋
_TONE_BEFORE_VOWEL = re.compile(f"([{_TONES}])([{_ABOVE_VOWELS}{_BELOW_VOWELS}])")
_NIKHAHIT_AA = re.compile("\u0e4d\u0e32")  # ํ + า typed for ำ
_TONE_NIKHAHIT_AA = re.compile(f"\u0e4d([{_TONES}])\u0e32")  # ํ ่ า typed for ่ำ
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")


def normalise(text: str) -> str:
    """NFC, and the canonical order of Thai marks, for text typed in the wild.

    - ``ํ`` + ``า`` (nikhahit, sara aa) typed instead of ``ำ`` becomes ``ำ``;
    - a tone mark typed before an above or below vowel is moved after it (``ก่ิ`` -> ``กิ่``);
    - zero-width spaces and joiners, and control characters other than newlines and tabs,
      are removed (they break search and copy-paste).

    Visible text never changes: these are different encodings of what looks the same.
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _TONE_NIKHAHIT_AA.sub("\\1\u0e33", text)
    text = _NIKHAHIT_AA.sub("\u0e33", text)
    return _TONE_BEFORE_VOWEL.sub("\\2\\1", text)


def one_line(text: str) -> str:
    """:func:`normalise`, with every run of white space (newlines too) made one space."""
    return " ".join(normalise(text).split())
