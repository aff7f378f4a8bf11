"""Retention and destruction rules (ระเบียบสารบรรณ ข้อ 52 onwards): pure values and checks.

A document gets a retention class when it is filed: ``10y`` by default, ``permanent``, ``5y`` or
``1y``, or a class an agency adds in ``edoc.toml`` (``[retention.by_agency.CODE]``). It falls due
for destruction in the calendar year ``filed year + years`` (never, for permanent classes);
within 60 days after each year ends the agency lists what fell due. A destruction list is
destroyed only after a committee of a chair and at least two members approved it, each with
their own key, and the National Archives' no-objection was recorded. Held documents (a legal
hold) and permanent ones are never destroyed. Documents over 20 years old are listed for
transfer to the National Archives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from edoc.errors import InvalidField

PERMANENT_YEARS = 0
"""Years value that means permanent (never destroyed)."""
TRANSFER_AGE_YEARS = 20
"""Documents at least this many years old are listed for the National Archives."""
MIN_MEMBERS = 2
"""Committee members (besides the chair) who must approve a destruction list."""


class CommitteeRole(StrEnum):
    """A destruction committee member's role (คณะกรรมการทำลายหนังสือ)."""

    CHAIR = "chair"
    """ประธานกรรมการ."""
    MEMBER = "member"
    """กรรมการ."""


class ListState(StrEnum):
    """Where a destruction list (บัญชีหนังสือขอทำลาย) is."""

    PROPOSED = "proposed"
    """Made; waiting for the committee and the archives."""
    DESTROYED = "destroyed"
    """Carried out: the listed documents' content is erased."""


@dataclass(frozen=True)
class RetentionClass:
    """A retention class: its name and how long documents of it are kept."""

    name: str
    """Name as written on filing (``10y``, ``permanent``, an agency's own)."""
    years: int
    """Years kept after filing; 0 means permanent."""

    @property
    def permanent(self) -> bool:
        """Kept for ever (never destroyed)."""
        return self.years == PERMANENT_YEARS


def class_table(
    classes: Mapping[str, int], agency_classes: Mapping[str, int] | None = None
) -> dict[str, RetentionClass]:
    """The classes an agency may file under: the office's, with the agency's own over them."""
    table: dict[str, RetentionClass] = {}
    for source, items in (("retention.classes", classes), ("retention.by_agency", agency_classes or {})):
        for name, years in items.items():
            if not isinstance(name, str) or not name.strip():
                raise InvalidField(source, f"{name!r} is not a class name")
            if isinstance(years, bool) or not isinstance(years, int) or years < 0:
                raise InvalidField(f"{source}.{name}", "must be a whole number of years, 0 for permanent")
            table[name] = RetentionClass(name, years)
    return table


def resolve_class(table: Mapping[str, RetentionClass], name: str | None, default: str) -> RetentionClass:
    """The class named ``name`` (``default`` when None); :class:`InvalidField` naming the known
    ones when there is no such class."""
    wanted = default if name is None else name
    if not isinstance(wanted, str):
        raise TypeError("retention class must be a str")
    found = table.get(wanted.strip())
    if found is None:
        known = ", ".join(sorted(table))
        raise InvalidField("retention_class", f"{wanted!r} is not a retention class (known: {known})")
    return found


def due_year(filed_year: int, retention: RetentionClass) -> int | None:
    """The calendar year (CE) in which a document filed in ``filed_year`` falls due; None when
    permanent."""
    if retention.permanent:
        return None
    return filed_year + retention.years


def is_due(filed_year: int, retention: RetentionClass, year: int) -> bool:
    """Is a document filed in ``filed_year`` due for destruction by the end of ``year`` (CE)?"""
    due = due_year(filed_year, retention)
    return due is not None and due <= year


def transfer_due(document_year: int, year: int) -> bool:
    """Is a document of ``document_year`` over 20 years old in ``year`` (both CE)?"""
    return year - document_year >= TRANSFER_AGE_YEARS


def committee_problems(approvals: Iterable[tuple[str, CommitteeRole]]) -> list[str]:
    """What is still missing from a committee's approvals (empty when complete): one chair and
    at least :data:`MIN_MEMBERS` other members, each a different person."""
    chairs: set[str] = set()
    members: set[str] = set()
    for username, role in approvals:
        (chairs if CommitteeRole(role) is CommitteeRole.CHAIR else members).add(username)
    problems = []
    if not chairs:
        problems.append("no chair approved the list")
    if len(members - chairs) < MIN_MEMBERS:
        problems.append(f"{len(members - chairs)} member(s) approved; at least {MIN_MEMBERS} must")
    return problems
