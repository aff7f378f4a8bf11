"""Due dates from urgency, counted in working days.

The regulation's urgency classes (ชั้นความเร็ว) say how fast a matter must be handled; edoc turns
them into default due dates with the setting ``routing.due_days`` (working days after the day
the matter reaches the agency): most urgent (ด่วนที่สุด) the same day, very urgent (ด่วนมาก) the
next working day, urgent (ด่วน) three working days, normal seven. Saturdays, Sundays and the dates
in ``routing.holidays`` are not working days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from edoc.errors import InvalidField

URGENCIES: tuple[str, ...] = ("most-urgent", "very-urgent", "urgent", "normal")
"""Urgency values, most urgent first (the order of the inbox)."""

URGENCY_RANK: dict[str, int] = {u: i for i, u in enumerate(URGENCIES)}
"""Sort key of an urgency: 0 for most urgent."""


def parse_holidays(values: Iterable[object]) -> frozenset[date]:
    """The ``routing.holidays`` setting (ISO dates) as dates; :class:`InvalidField` otherwise."""
    out: set[date] = set()
    for value in values:
        if isinstance(value, date):
            out.add(value)
            continue
        if not isinstance(value, str):
            raise InvalidField("routing.holidays", f"{value!r} is not an ISO date (YYYY-MM-DD)")
        try:
            out.add(date.fromisoformat(value))
        except ValueError:
            raise InvalidField("routing.holidays", f"{value!r} is not an ISO date (YYYY-MM-DD)") from None
    return frozenset(out)


def is_working_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    """Monday to Friday and not a holiday."""
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, days: int, holidays: frozenset[date] = frozenset()) -> date:
    """The date ``days`` working days after ``start``; ``start`` itself when ``days`` is 0."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def default_due(
    received: date,
    urgency: str,
    due_days: Mapping[str, int],
    holidays: frozenset[date] = frozenset(),
) -> date | None:
    """The default due date of a matter of ``urgency`` that arrived on ``received``.

    None when the settings give the urgency no due date. A most-urgent matter is due the day
    it arrives, even on a holiday: it is acted on at once.
    """
    if urgency not in URGENCY_RANK:
        raise InvalidField("urgency", f"{urgency!r} is not one of {', '.join(URGENCIES)}")
    days = due_days.get(urgency)
    if days is None:
        return None
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise InvalidField(f"routing.due_days.{urgency}", "must be a whole number of working days, 0 or more")
    return add_working_days(received, days, holidays)
