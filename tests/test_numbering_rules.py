"""The numbering rules as pure functions: series, years, how numbers are written."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edoc.errors import InvalidField
from edoc.registers import (
    RECEIVE_SERIES,
    Book,
    NumberingRules,
    Series,
    SeriesKey,
    SeriesScope,
    YearMode,
    be_year,
    format_number,
    letter_code_for,
    numbering_year,
    outgoing_series,
    register_number,
    to_arabic_digits,
    to_thai_digits,
    year_span,
)


def test_buddhist_era_and_fiscal_years() -> None:
    assert be_year(date(2026, 11, 22)) == 2569
    assert numbering_year(date(2026, 1, 1), YearMode.CALENDAR) == 2569
    assert numbering_year(date(2026, 12, 31), YearMode.CALENDAR) == 2569
    # The fiscal year 2569 runs from 1 October 2568 (2025 CE) to 30 September 2569 (2026 CE).
    assert numbering_year(date(2025, 9, 30), YearMode.FISCAL) == 2568
    assert numbering_year(date(2025, 10, 1), YearMode.FISCAL) == 2569
    assert numbering_year(date(2026, 9, 30), YearMode.FISCAL) == 2569
    assert numbering_year(date(2026, 10, 1), YearMode.FISCAL) == 2570
    assert year_span(2569, YearMode.CALENDAR) == (date(2026, 1, 1), date(2026, 12, 31))
    assert year_span(2569, YearMode.FISCAL) == (date(2025, 10, 1), date(2026, 9, 30))


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2200, 12, 31)), st.sampled_from(list(YearMode)))
def test_every_day_falls_in_the_span_of_its_year(day: date, mode: YearMode) -> None:
    first, last = year_span(numbering_year(day, mode), mode)
    assert first <= day <= last


def test_series_by_kind() -> None:
    assert outgoing_series("external").key == "out"
    assert outgoing_series("internal").key == "out"
    assert outgoing_series("stamped").key == "out"
    assert outgoing_series("record", form="certificate").key == "out"
    assert outgoing_series("external", circular=True).key == "circular"
    assert outgoing_series("directive", form="order").key == "directive:order"
    assert outgoing_series("directive").key == "directive:order"
    assert outgoing_series("directive", form="bylaw").key == "directive:bylaw"
    assert outgoing_series("publicity").key == "publicity:announcement"
    assert outgoing_series("publicity", form="news").key == "publicity:news"
    assert RECEIVE_SERIES.book is Book.RECEIVED
    assert outgoing_series("external").book is Book.SENT


def test_series_refusals() -> None:
    with pytest.raises(InvalidField) as exc:
        outgoing_series("letter")
    assert exc.value.field == "kind"
    with pytest.raises(InvalidField) as exc:
        outgoing_series("directive", circular=True)
    assert exc.value.field == "circular"


def test_unit_series_need_their_own_letter_code() -> None:
    rules = NumberingRules.from_settings("calendar", "unit", {"PAKCHONG/ENG": "นม  52101.3"})
    assert rules.scope is SeriesScope.UNIT
    series = outgoing_series("external", agency="PAKCHONG", unit="ENG", rules=rules)
    assert series == SeriesKey(Series.OUTGOING, unit="ENG")
    assert series.key == "out@ENG"
    assert letter_code_for(series, "PAKCHONG", "นม 52101", rules) == "นม 52101.3"
    circ = outgoing_series("internal", circular=True, agency="PAKCHONG", unit="ENG", rules=rules)
    assert circ.key == "circular@ENG"
    # a document outside any unit uses the agency's series
    assert outgoing_series("external", agency="PAKCHONG", unit=None, rules=rules).key == "out"
    with pytest.raises(InvalidField) as exc:
        outgoing_series("external", agency="PAKCHONG", unit="FINANCE", rules=rules)
    assert exc.value.field == "numbering.unit_letter_codes.PAKCHONG/FINANCE"
    # directives stay agency-wide even with unit series
    assert outgoing_series("directive", agency="PAKCHONG", unit="ENG", rules=rules).key == "directive:order"


@pytest.mark.parametrize(
    ("year", "series", "codes", "field"),
    [
        ("lunar", "agency", {}, "numbering.year"),
        ("calendar", "desk", {}, "numbering.series"),
        ("calendar", "unit", {"ENG": "นม 1"}, "numbering.unit_letter_codes.ENG"),
        ("calendar", "unit", {"A/ENG": "  "}, "numbering.unit_letter_codes.A/ENG"),
    ],
)
def test_bad_settings_are_named(year: str, series: str, codes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidField) as exc:
        NumberingRules.from_settings(year, series, codes)
    assert exc.value.field == field


def test_numbers_as_written() -> None:
    out = SeriesKey(Series.OUTGOING)
    assert format_number(out, 1234, 2569, "นม 52101") == "นม 52101/1234"
    assert format_number(SeriesKey(Series.CIRCULAR), 1590, 2569, "มท 0201.2") == "มท 0201.2/ว 1590"
    assert format_number(SeriesKey(Series.DIRECTIVE, "order"), 12, 2569, "นม 52101") == "12/2569"
    assert format_number(SeriesKey(Series.PUBLICITY, "announcement"), 3, 2570, "") == "3/2570"
    assert format_number(RECEIVE_SERIES, 77, 2569, "") == "77"
    assert register_number(out, 1234, 2569) == "1234"
    assert register_number(SeriesKey(Series.CIRCULAR), 15, 2569) == "ว 15"
    assert register_number(SeriesKey(Series.DIRECTIVE, "order"), 12, 2569) == "12/2569"
    with pytest.raises(ValueError):
        format_number(out, 0, 2569, "นม 1")


def test_thai_digits() -> None:
    assert to_thai_digits("นม 52101/1234") == "นม ๕๒๑๐๑/๑๒๓๔"
    assert to_arabic_digits("นม ๕๒๑๐๑/๑๒๓๔") == "นม 52101/1234"


@given(st.sampled_from(["out", "circular", "directive:order", "publicity:news", "receive", "out@ENG", "circular@X"]))
def test_series_key_round_trip(key: str) -> None:
    assert SeriesKey.parse(key).key == key


@given(st.text(alphabet="0123456789๐๑๒๓๔๕๖๗๘๙นม /ว.", max_size=30))
def test_digit_conversion_round_trip(text: str) -> None:
    assert to_arabic_digits(to_thai_digits(text)) == to_arabic_digits(text)
    assert to_thai_digits(to_arabic_digits(text)) == to_thai_digits(text)
