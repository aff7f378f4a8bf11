"""Views over the log: what the tables should hold, rebuilt from the events alone.

The log is the record; tables are a convenience. A *view* replays the events of some acts into
the rows a table should contain (keyed, with the fields the events carry), and
:func:`compare` lists every difference as a problem of kind ``view-mismatch``, so
``edoc audit verify`` shows a table edited behind the log's back even when the log itself is
intact. A document's history (``edoc doc history ID``) is the simplest view: its events.

Adding a view for a new table (registers, routing, records) is one :class:`View` whose
``replay`` turns events into rows, plus the reader of the table in ``edoc.storage``; the
events must carry the fields the view needs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edoc.audit.events import Event
from edoc.audit.verify import Problem, ProblemKind

Rows = dict[Hashable, dict[str, Any]]
"""Rows of a view: key -> the fields the log knows."""


@dataclass(frozen=True)
class View:
    """Rows of one table, as the log says they should be."""

    name: str
    """What the rows are (``agencies``, ``register of sent documents`` ...), for messages."""
    acts: frozenset[str]
    """The acts whose events it replays."""
    replay: Callable[[Iterable[Event]], Rows]
    """Events (only of :attr:`acts`, in log order) -> rows."""


def _agencies(events: Iterable[Event]) -> Rows:
    rows: Rows = {}
    for e in events:
        p = e.payload
        rows[p["code"]] = {k: p.get(k) for k in ("name", "letter_code", "parent", "address")}
    return rows


def _units(events: Iterable[Event]) -> Rows:
    return {(e.agency, e.payload["unit"]): {"name": e.payload.get("name")} for e in events}


def _users(events: Iterable[Event]) -> Rows:
    rows: Rows = {}
    for e in events:
        p = e.payload
        rows[p["username"]] = {
            "agency": e.agency,
            "name": p.get("name"),
            "position": p.get("position"),
            "role": p.get("role"),
            "unit": p.get("unit"),
        }
    return rows


AGENCIES = View("agencies", frozenset({"agency.add"}), _agencies)
UNITS = View("units", frozenset({"unit.add"}), _units)
USERS = View("users", frozenset({"user.add"}), _users)
DIRECTORY_VIEWS = (AGENCIES, UNITS, USERS)
"""The directory, as the log records it."""


def compare(
    view: View, from_log: Mapping[Hashable, Mapping[str, Any]], from_tables: Mapping[Hashable, Mapping[str, Any]]
) -> list[Problem]:
    """Every difference between the rows the log implies and the rows the tables hold."""
    problems: list[Problem] = []
    for key in sorted(set(from_log) | set(from_tables), key=str):
        label = _label(key)
        if key not in from_tables:
            problems.append(
                _problem(view, f"{label} is in the log but not in the table (deleted behind the log's back)")
            )
            continue
        if key not in from_log:
            problems.append(
                _problem(view, f"{label} is in the table but no event created it (inserted behind the log's back)")
            )
            continue
        logged, stored = from_log[key], from_tables[key]
        for name in sorted(logged):
            if name in stored and _norm(logged[name]) != _norm(stored[name]):
                problems.append(
                    _problem(view, f"{label}: {name} is {stored[name]!r} in the table but {logged[name]!r} in the log")
                )
    return problems


def _norm(value: Any) -> Any:
    return None if value == "" else value


def _label(key: Hashable) -> str:
    return "/".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def _problem(view: View, why: str) -> Problem:
    return Problem(ProblemKind.VIEW, None, {"what": view.name, "why": why})


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a document's history, straight from the log."""

    seq: int
    """The event's sequence number (``edoc audit proof SEQ`` proves it)."""
    at: datetime
    """When (aware, UTC; shown in Asia/Bangkok)."""
    actor: str
    """Who."""
    agency: str
    """For which agency."""
    act: str
    """What."""
    document_id: int | None
    """Which copy of the document (a delivered copy has its own id)."""
    payload: dict[str, Any]
    """The details the act recorded."""
    signed_by: str | None
    """Serial of the certificate that signed the event, for acts with legal weight."""


def history(events: Iterable[Event]) -> list[HistoryEntry]:
    """A document's history: its events, in log order."""
    return [
        HistoryEntry(e.seq, e.at, e.actor, e.agency, e.act, e.document_id, e.payload, e.signer_cert)
        for e in sorted(events, key=lambda e: e.seq)
    ]
