"""Numbering, the registers of sent and received documents, search and records management.

Pure rules only: which series a document draws its number from and how numbers are written
(:mod:`edoc.registers.numbering`). The office issues numbers through :mod:`edoc.storage.registers`
inside each act's transaction.
"""

from edoc.registers.numbering import (
    BE_OFFSET,
    KINDS,
    RECEIVE_SERIES,
    Book,
    IssuedNumber,
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

__all__ = [
    "BE_OFFSET",
    "KINDS",
    "RECEIVE_SERIES",
    "Book",
    "IssuedNumber",
    "NumberingRules",
    "Series",
    "SeriesKey",
    "SeriesScope",
    "YearMode",
    "be_year",
    "format_number",
    "letter_code_for",
    "numbering_year",
    "outgoing_series",
    "register_number",
    "to_arabic_digits",
    "to_thai_digits",
    "year_span",
]
