"""Document numbers and register numbers: the pure rules.

The regulation (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ) gives every document the agency sends a
running number from its register of sent documents, and every document it receives a running
number from its register of received documents. This module decides *which* series a document
draws from, *which* year that series belongs to and *how* the number is written; the storage
layer hands out the next integer of a series (atomically, inside the act's transaction).

Series and how their numbers are written:

==================  =========================================  ======================
series              documents                                  written
==================  =========================================  ======================
``out``             external, internal, stamped, record        ``นม 52101/1234``
``circular``        the same kinds sent as a circular (แจ้งเวียน)  ``นม 52101/ว 1234``
``directive:FORM``  orders, regulations, bylaws (one per form)  ``12/2569``
``publicity:FORM``  announcements, statements, news             ``12/2569``
``receive``         everything an agency registers as received  ``1234``
==================  =========================================  ======================

With ``numbering.series = "unit"`` the ``out`` and ``circular`` series of a document drafted in a
unit belong to that unit (``out@ENG``) and are written with the unit's own letter code
(``numbering.unit_letter_codes``), so two units never print the same number.

Numbers are stored with Arabic digits; :func:`to_thai_digits` gives the printed form for agencies
that print Thai digits (``Agency.thai_digits``). Years are Buddhist Era.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from edoc.errors import InvalidField

BE_OFFSET = 543
"""Buddhist Era year = Common Era year + 543."""

_THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_TO_THAI = str.maketrans("0123456789", _THAI_DIGITS)
_TO_ARABIC = str.maketrans(_THAI_DIGITS, "0123456789")


class Book(StrEnum):
    """The two registers of the regulation."""

    SENT = "sent"
    """ทะเบียนหนังสือส่ง: documents the agency issues."""
    RECEIVED = "received"
    """ทะเบียนหนังสือรับ: documents the agency receives."""

    @property
    def thai(self) -> str:
        """The register's Thai name."""
        return "ทะเบียนหนังสือส่ง" if self is Book.SENT else "ทะเบียนหนังสือรับ"


class Series(StrEnum):
    """A family of running numbers (the stored series key adds the form or unit)."""

    OUTGOING = "out"
    """``<letter code>/<n>``: the ordinary outgoing series."""
    CIRCULAR = "circular"
    """``<letter code>/ว <n>``: circulars (หนังสือเวียน), a series of its own."""
    DIRECTIVE = "directive"
    """``<n>/<BE year>``: orders (คำสั่ง), and separately regulations and bylaws."""
    PUBLICITY = "publicity"
    """``<n>/<BE year>``: announcements, statements and news, one series per form."""
    RECEIVE = "receive"
    """``<n>``: receive numbers (เลขรับ), one series per agency."""

    @property
    def book(self) -> Book:
        """The register the series' numbers are entered in."""
        return Book.RECEIVED if self is Series.RECEIVE else Book.SENT


class YearMode(StrEnum):
    """When a series starts again at 1 (setting ``numbering.year``)."""

    CALENDAR = "calendar"
    """On 1 January (the regulation's default)."""
    FISCAL = "fiscal"
    """On 1 October: the Thai fiscal year, named by the year it ends in."""


class SeriesScope(StrEnum):
    """Who owns an outgoing series (setting ``numbering.series``)."""

    AGENCY = "agency"
    """One outgoing series (and one circular series) per agency."""
    UNIT = "unit"
    """One per unit (กอง/ฝ่าย) with its own letter code; documents outside any unit use the agency's."""


@dataclass(frozen=True)
class NumberingRules:
    """The office's numbering settings, checked."""

    year: YearMode = YearMode.CALENDAR
    """When series restart."""
    scope: SeriesScope = SeriesScope.AGENCY
    """Per agency or per unit."""
    unit_letter_codes: tuple[tuple[str, str], ...] = ()
    """``("AGENCY/UNIT", "นม 52101.3")`` pairs: the letter code each unit prints (unit scope)."""

    @classmethod
    def from_settings(cls, year: str, series: str, unit_letter_codes: dict[str, str] | None = None) -> NumberingRules:
        """Build from the ``[numbering]`` settings, naming the setting that is wrong."""
        try:
            mode = YearMode(year)
        except ValueError:
            raise InvalidField("numbering.year", f"{year!r} is not 'calendar' or 'fiscal'") from None
        try:
            scope = SeriesScope(series)
        except ValueError:
            raise InvalidField("numbering.series", f"{series!r} is not 'agency' or 'unit'") from None
        codes = []
        for key, code in sorted((unit_letter_codes or {}).items()):
            agency, slash, unit = key.partition("/")
            if not slash or not agency or not unit:
                raise InvalidField(f"numbering.unit_letter_codes.{key}", "keys are 'AGENCY/UNIT'")
            if not isinstance(code, str) or not code.strip():
                raise InvalidField(f"numbering.unit_letter_codes.{key}", "must be a letter code, e.g. 'นม 52101.3'")
            codes.append((key, " ".join(code.split())))
        return cls(mode, scope, tuple(codes))

    def unit_letter_code(self, agency: str, unit: str) -> str | None:
        """The letter code configured for ``unit`` of ``agency``, if any."""
        wanted = f"{agency}/{unit}"
        return next((code for key, code in self.unit_letter_codes if key == wanted), None)


@dataclass(frozen=True)
class SeriesKey:
    """One running series of one agency: what the ``counter`` row is keyed by (with the year)."""

    series: Series
    """The family."""
    form: str = ""
    """The directive or publicity form (``order``, ``announcement``...), else empty."""
    unit: str = ""
    """The owning unit's code for unit-scoped outgoing series, else empty."""

    @property
    def key(self) -> str:
        """The stored series name: ``out``, ``out@ENG``, ``circular``, ``directive:order``..."""
        text = self.series.value
        if self.form:
            text = f"{text}:{self.form}"
        if self.unit:
            text = f"{text}@{self.unit}"
        return text

    @classmethod
    def parse(cls, key: str) -> SeriesKey:
        """The inverse of :attr:`key`."""
        rest, _, unit = key.partition("@")
        name, _, form = rest.partition(":")
        return cls(Series(name), form, unit)

    @property
    def book(self) -> Book:
        return self.series.book


@dataclass(frozen=True)
class IssuedNumber:
    """A number handed out from a series."""

    agency: str
    """Code of the agency whose register it is."""
    series: SeriesKey
    """The series it came from."""
    year: int
    """The series' year, Buddhist Era (a fiscal year is named by the year it ends in)."""
    seq: int
    """The running number: 1, 2, 3 ... in the series and year, never reused."""
    text: str
    """The number as written, Arabic digits (``นม 52101/1234``, ``12/2569``, ``1234``)."""

    @property
    def book(self) -> Book:
        return self.series.book

    def display(self, thai_digits: bool) -> str:
        """The number as the agency prints it."""
        return to_thai_digits(self.text) if thai_digits else self.text


# Kinds numbered in the ordinary outgoing series (or the circular one).
_LETTER_KINDS = frozenset({"external", "internal", "stamped", "record"})
_YEAR_KINDS = {"directive": (Series.DIRECTIVE, "order"), "publicity": (Series.PUBLICITY, "announcement")}
KINDS = frozenset(_LETTER_KINDS | set(_YEAR_KINDS))
"""Document kinds this module knows how to number."""


def to_thai_digits(text: str) -> str:
    """``"นม 52101/12"`` -> ``"นม ๕๒๑๐๑/๑๒"``."""
    return text.translate(_TO_THAI)


def to_arabic_digits(text: str) -> str:
    """``"๑๒"`` -> ``"12"`` (search and input accept both)."""
    return text.translate(_TO_ARABIC)


def be_year(day: date) -> int:
    """The Buddhist Era year of ``day``."""
    return day.year + BE_OFFSET


def numbering_year(day: date, mode: YearMode) -> int:
    """The (Buddhist Era) year of the series that numbers on ``day``.

    The Thai fiscal year runs from 1 October to 30 September and is named by the year it ends
    in: 1 October 2568 falls in fiscal year 2569.
    """
    year = be_year(day)
    if mode is YearMode.FISCAL and day.month >= 10:
        year += 1
    return year


def year_span(year: int, mode: YearMode) -> tuple[date, date]:
    """First and last day (Common Era dates) of the numbering ``year`` (BE)."""
    ce = year - BE_OFFSET
    if mode is YearMode.FISCAL:
        return date(ce - 1, 10, 1), date(ce, 9, 30)
    return date(ce, 1, 1), date(ce, 12, 31)


def outgoing_series(
    kind: str,
    *,
    form: str = "",
    circular: bool = False,
    agency: str = "",
    unit: str | None = None,
    rules: NumberingRules | None = None,
) -> SeriesKey:
    """The series an outgoing document of ``kind`` (and ``form``) draws its number from."""
    rules = rules or NumberingRules()
    if kind in _YEAR_KINDS:
        if circular:
            raise InvalidField("circular", f"a {kind} document is not numbered as a circular")
        series, default_form = _YEAR_KINDS[kind]
        return SeriesKey(series, form or default_form)
    if kind not in _LETTER_KINDS:
        raise InvalidField("kind", f"{kind!r} is not a document kind that is numbered")
    series = Series.CIRCULAR if circular else Series.OUTGOING
    if rules.scope is SeriesScope.UNIT and unit:
        if rules.unit_letter_code(agency, unit) is None:
            raise InvalidField(
                f"numbering.unit_letter_codes.{agency}/{unit}",
                "numbering.series is 'unit' but this unit has no letter code of its own",
            )
        return SeriesKey(series, unit=unit)
    return SeriesKey(series)


RECEIVE_SERIES = SeriesKey(Series.RECEIVE)
"""The one receive series of an agency."""


def letter_code_for(series: SeriesKey, agency: str, agency_letter_code: str, rules: NumberingRules) -> str:
    """The letter code printed before the number of ``series``."""
    if series.unit:
        code = rules.unit_letter_code(agency, series.unit)
        if code is None:
            raise InvalidField(f"numbering.unit_letter_codes.{agency}/{series.unit}", "no letter code for this unit")
        return code
    return agency_letter_code


def format_number(series: SeriesKey, seq: int, year: int, letter_code: str) -> str:
    """The number as written (Arabic digits)."""
    if seq < 1:
        raise ValueError("running numbers start at 1")
    if series.series is Series.OUTGOING:
        return f"{letter_code}/{seq}"
    if series.series is Series.CIRCULAR:
        return f"{letter_code}/ว {seq}"
    if series.series in (Series.DIRECTIVE, Series.PUBLICITY):
        return f"{seq}/{year}"
    return str(seq)


def register_number(series: SeriesKey, seq: int, year: int) -> str:
    """What the register's first column (เลขทะเบียน) shows for ``seq``.

    The ordinary and receive series show the bare running number; the others show how they
    differ (``ว 12`` for circulars, ``12/2569`` for directives and publicity).
    """
    if series.series is Series.CIRCULAR:
        return f"ว {seq}"
    if series.series in (Series.DIRECTIVE, Series.PUBLICITY):
        return f"{seq}/{year}"
    return str(seq)
