"""Views over the log: what the tables should hold, rebuilt from the events alone.

The log is the record; tables are a convenience. A *view* folds the events of some acts into
the rows a table should contain (keyed, with the fields the events carry), and the comparison
lists every difference as a problem of kind ``view-mismatch``, so ``edoc audit verify`` shows a
table edited behind the log's back even when the log itself is intact.

:class:`LogViews` folds every view in one streaming pass over the events (``tap`` wraps the
verifier's record stream; only the leaves of acts a view needs are parsed, and of those only
the ones that carry the view's fields): the directory (agencies, units, users), the registers
of sent and received documents (``doc.number``, ``doc.register``, ``doc.receive``,
``doc.cancel``, ``doc.file``, ``records.destroy``), the deliveries of sent documents with their
evidence (``doc.send``, ``doc.deliver``, the receive of a delivered copy, its return), and the
numbers of documents numbered here. :func:`register_rows`, :func:`delivery_status` and
:func:`history` turn the folded rows into what ``edoc register``, ``edoc doc status`` and
``edoc doc history`` print, from the log alone.

Memory is one row per register row, delivery and numbered document (the fold keeps only the
columns); time is one pass over the events, with no query per event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from edoc.audit.events import Event
from edoc.audit.verify import Problem, ProblemKind, Record

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
    return fold(events).agencies


def _units(events: Iterable[Event]) -> Rows:
    return fold(events).units


def _users(events: Iterable[Event]) -> Rows:
    return fold(events).users


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


# --- the fold of every view in one pass ------------------------------------------------------------

REGISTERS = "registers"
"""The registers of sent and received documents (table ``register_entry``)."""
DELIVERIES = "deliveries"
"""Consignments of sent documents and their evidence (tables ``delivery``, ``delivery_evidence``)."""
NUMBERS = "document numbers"
"""The outgoing numbers of documents numbered here (column ``document.number``)."""

REGISTER_FIELDS = (
    "register_number",
    "registered_at",
    "document_number",
    "document_date",
    "from",
    "to",
    "subject",
    "action",
    "remark",
    "document_id",
    "cancelled",
)
"""A register row's fields, in order, keyed by ``(agency, book, year, series, seq)``."""

DELIVERY_FIELDS = ("document_id", "recipient", "state", "copy_id", "receive_number", "reason", "evidence")
"""A consignment's fields, in order, keyed by its consignment id. ``evidence`` is the tuple of
``(kind, SHA-256 of the signed record or None when the event did not carry it)``."""

NUMBER_FIELDS = ("number",)
"""A numbered document's field, keyed by its id."""

FIELDS: dict[str, tuple[str, ...]] = {REGISTERS: REGISTER_FIELDS, DELIVERIES: DELIVERY_FIELDS, NUMBERS: NUMBER_FIELDS}
"""The fields of each positional view."""

TableRows = Iterable[tuple[Hashable, Sequence[Any]]]
"""A table as the comparison reads it: ``(key, values in the view's field order)``, streamed."""

_REGISTER_ACTS = frozenset({"doc.number", "doc.register", "doc.receive"})
_REGISTER_MARK = b'"register_number":'
"""Present in every leaf whose payload carries a register row (canonical JSON writes keys as
they are): a leaf without it holds no row, so the fold skips it without parsing."""
_ACTION_FILED = "เก็บ"
_ACTION_DESTROYED = "ทำลายแล้ว"
_EVIDENCE_ACCEPTED = "submission-accepted"
_EVIDENCE_DELIVERED = "delivered"
_EVIDENCE_REGISTERED = "registered"
_EVIDENCE_RETURNED = "returned"
_FLOW_SENT_BACK = "sent-back"


def _instant(value: Any) -> str | None:
    """A time as the views compare it: UTC, microseconds, ``Z`` (None stays None)."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(at, datetime):
        raise TypeError(f"not a time: {value!r}")
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    elif at.utcoffset():
        at = at.astimezone(UTC)
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond:06d}Z"
    )


def _day(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def register_values(
    register_number: Any,
    registered_at: Any,
    document_number: Any,
    document_date: Any,
    from_: Any,
    to: Any,
    subject: Any,
    action: Any,
    remark: Any,
    document_id: Any,
    cancelled: Any,
) -> list[Any]:
    """A register row's values in :data:`REGISTER_FIELDS` order, normalised the same way for
    the log and for a table (times in UTC, dates as ISO text, '' for a missing text)."""
    return [
        str(register_number or ""),
        _instant(registered_at),
        str(document_number or ""),
        _day(document_date),
        str(from_ or ""),
        str(to or ""),
        str(subject or ""),
        str(action or ""),
        str(remark or ""),
        None if document_id is None else int(document_id),
        bool(cancelled),
    ]


class LogViews:
    """Every view over the log, folded from the events in log order, one event at a time."""

    ACTS = frozenset(
        {
            "agency.add",
            "unit.add",
            "user.add",
            *_REGISTER_ACTS,
            "doc.cancel",
            "doc.file",
            "records.destroy",
            "doc.send",
            "doc.deliver",
            "doc.route.return",
        }
    )
    """The acts some view folds; every other event is passed over."""

    def __init__(self) -> None:
        self.agencies: Rows = {}
        """Agencies by code (the directory)."""
        self.units: Rows = {}
        """Units by (agency, unit)."""
        self.users: Rows = {}
        """Users by username."""
        self.registers: dict[Hashable, list[Any]] = {}
        """Register rows by (agency, book, year, series, seq), values in :data:`REGISTER_FIELDS` order."""
        self.deliveries: dict[Hashable, list[Any]] = {}
        """Consignments by id, values in :data:`DELIVERY_FIELDS` order."""
        self.numbers: dict[Hashable, list[Any]] = {}
        """Numbered documents by id: ``[number]``."""
        self.recorded_by: dict[tuple[str, Hashable], int] = {}
        """(view, key) -> the event that last changed the row (for messages)."""
        self.folded = 0
        """Events folded into some view."""
        self._rows_of: dict[int, list[Hashable]] = {}
        self._copies: dict[int, Hashable] = {}
        self._sent: dict[int, list[Hashable]] = {}

    # feeding -------------------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """Fold one event (events must come in log order)."""
        if event.act in self.ACTS:
            self._apply(event.seq, event.act, event.agency, event.document_id, event.payload)

    def feed_leaf(self, seq: int, act: str, leaf: bytes) -> None:
        """Fold one event from its leaf (canonical JSON), parsing it only when a view needs it."""
        if act not in self.ACTS:
            return
        if act in _REGISTER_ACTS and _REGISTER_MARK not in leaf and not self._copies:
            return
        if act == "doc.send" and b'"consignments":' not in leaf:
            return
        if act == "doc.deliver" and b'"consignment":' not in leaf:
            return
        if act == "doc.route.return" and not self._copies:
            return
        try:
            obj = json.loads(leaf)
            payload = obj["payload"]
            if not isinstance(payload, dict):
                return
            self._apply(seq, act, str(obj["agency"]), obj["document_id"], payload)
        except (ValueError, KeyError, TypeError):
            return  # a malformed event is the log check's to report

    def tap(self, records: Iterable[Record]) -> Iterator[Record]:
        """Pass the verifier's records through, folding each (the one pass over the log)."""
        acts = self.ACTS
        feed = self.feed_leaf
        for record in records:
            if record[3] in acts:
                feed(record[0], record[3], record[1])
            yield record

    def _apply(self, seq: int, act: str, agency: str, document_id: Any, p: dict[str, Any]) -> None:
        try:
            if act == "agency.add":
                self.agencies[p["code"]] = {k: p.get(k) for k in ("name", "letter_code", "parent", "address")}
            elif act == "unit.add":
                self.units[(agency, p["unit"])] = {"name": p.get("name")}
            elif act == "user.add":
                self.users[p["username"]] = {
                    "agency": agency,
                    "name": p.get("name"),
                    "position": p.get("position"),
                    "role": p.get("role"),
                    "unit": p.get("unit"),
                }
            elif act in _REGISTER_ACTS:
                self._registered(seq, act, agency, document_id, p)
            elif act == "doc.cancel":
                self._cancelled(seq, document_id, p)
            elif act == "doc.file":
                self._action(seq, document_id, str(p.get("register_action") or _ACTION_FILED))
            elif act == "records.destroy":
                action = str(p.get("register_action") or _ACTION_DESTROYED)
                for item in p.get("documents") or ():
                    if isinstance(item, dict) and isinstance(item.get("id"), int):
                        self._action(seq, item["id"], action)
            elif act == "doc.send":
                self._sent_to(seq, document_id, p)
            elif act == "doc.deliver":
                self._delivered(seq, document_id, p)
            elif act == "doc.route.return":
                self._returned(seq, document_id, p)
            else:  # pragma: no cover - ACTS and the branches above are kept together
                return
        except (KeyError, TypeError, ValueError):
            return  # an event without the view's fields (an older format) adds no row
        self.folded += 1

    def _touch(self, view: str, key: Hashable, seq: int) -> None:
        self.recorded_by[(view, key)] = seq

    def _registered(self, seq: int, act: str, agency: str, document_id: Any, p: dict[str, Any]) -> None:
        if isinstance(document_id, int) and document_id in self._copies and act == "doc.receive":
            consignment = self._copies[document_id]
            row = self.deliveries.get(consignment)
            if row is not None:
                row[2] = _EVIDENCE_REGISTERED
                row[4] = p.get("number")
                row[6] = (*row[6], (_EVIDENCE_REGISTERED, p.get("evidence")))
                self._touch(DELIVERIES, consignment, seq)
        if "register_number" not in p:
            return
        key = (agency, str(p["book"]), int(p["year"]), str(p["series"]), int(p["seq"]))
        self.registers[key] = register_values(
            p["register_number"],
            p["registered_at"],
            p.get("document_number"),
            p.get("document_date"),
            p.get("from"),
            p.get("to"),
            p.get("subject"),
            p.get("action"),
            p.get("remark"),
            document_id,
            False,
        )
        self._touch(REGISTERS, key, seq)
        if isinstance(document_id, int):
            self._rows_of.setdefault(document_id, []).append(key)
            if act == "doc.number" and p.get("number"):
                self.numbers[document_id] = [str(p["number"])]
                self._touch(NUMBERS, document_id, seq)

    def _cancelled(self, seq: int, document_id: Any, p: dict[str, Any]) -> None:
        remark = p.get("remark") or f"ยกเลิก: {p['reason']}"
        for key in self._rows_of.get(document_id, ()):
            row = self.registers[key]
            row[10] = True
            row[8] = f"{row[8]} {remark}".strip() if row[8] else remark
            self._touch(REGISTERS, key, seq)

    def _action(self, seq: int, document_id: Any, action: str) -> None:
        """What ``set_action`` does to the document's rows in both registers."""
        for key in self._rows_of.get(document_id, ()):
            row = self.registers[key]
            if row[7]:
                if action in row[7].split("; "):
                    continue
                row[7] = f"{row[7]}; {action}"
            else:
                row[7] = action
            self._touch(REGISTERS, key, seq)

    def _sent_to(self, seq: int, document_id: Any, p: dict[str, Any]) -> None:
        for item in p["consignments"]:
            consignment = str(item["consignment"])
            self.deliveries[consignment] = [
                document_id,
                str(item["agency"]),
                _EVIDENCE_ACCEPTED,
                None,
                None,
                None,
                ((_EVIDENCE_ACCEPTED, item.get("evidence")),),
            ]
            self._touch(DELIVERIES, consignment, seq)
            if isinstance(document_id, int):
                self._sent.setdefault(document_id, []).append(consignment)

    def _delivered(self, seq: int, document_id: Any, p: dict[str, Any]) -> None:
        consignment = str(p["consignment"])
        row = self.deliveries.get(consignment)
        if row is None:
            row = self.deliveries[consignment] = [p.get("from_document"), None, None, None, None, None, ()]
        row[2] = _EVIDENCE_DELIVERED
        row[3] = document_id
        row[6] = (*row[6], (_EVIDENCE_DELIVERED, p.get("evidence")))
        self._touch(DELIVERIES, consignment, seq)
        if isinstance(document_id, int):
            self._copies[document_id] = consignment

    def _returned(self, seq: int, document_id: Any, p: dict[str, Any]) -> None:
        consignment = self._copies.get(document_id) if isinstance(document_id, int) else None
        if consignment is None or p.get("state") != _FLOW_SENT_BACK:
            return
        row = self.deliveries[consignment]
        row[2] = _EVIDENCE_RETURNED
        sealed = p.get("note_sha256")
        row[5] = sealed_reason(sealed) if isinstance(sealed, str) and "note" not in p else p.get("note")
        row[6] = (*row[6], (_EVIDENCE_RETURNED, p.get("evidence")))
        self._touch(DELIVERIES, consignment, seq)

    # reading -------------------------------------------------------------------------------------

    def parent_of(self, copy_id: int) -> int | None:
        """The sender's document a delivered copy came from, as the log says."""
        consignment = self._copies.get(copy_id)
        row = self.deliveries.get(consignment) if consignment is not None else None
        return row[0] if row is not None else None

    def consignments_of(self, document_id: int) -> list[Hashable]:
        """The consignments a document was sent in, in log order."""
        return list(self._sent.get(document_id, ()))

    def problems(self, tables: Mapping[str, Any]) -> list[Problem]:
        """Every difference between the folded views and ``tables``: the directory's as
        :data:`Rows` (``agencies``, ``units``, ``users``), the others as :data:`TableRows`
        streams (:data:`REGISTERS`, :data:`DELIVERIES`, :data:`NUMBERS`). A view missing from
        ``tables`` is not compared. Within a view, problems come in key order."""
        out: list[Problem] = []
        for view in DIRECTORY_VIEWS:
            if view.name in tables:
                logged = {AGENCIES: self.agencies, UNITS: self.units, USERS: self.users}[view]
                out.extend(compare(view, logged, tables[view.name]))
        for name, logged_rows in ((REGISTERS, self.registers), (DELIVERIES, self.deliveries), (NUMBERS, self.numbers)):
            if name in tables:
                out.extend(self._compare(name, logged_rows, tables[name]))
        return out

    def _compare(self, name: str, logged: dict[Hashable, list[Any]], table: TableRows) -> list[Problem]:
        """Rows of one positional view against a streamed table; keys the log does not know are
        insertions, except for :data:`NUMBERS` (documents numbered outside, or not at all)."""
        fields = FIELDS[name]
        found: list[tuple[tuple[Any, ...], Problem]] = []
        seen: set[Hashable] = set()
        for key, stored in table:
            seen.add(key)
            mine = logged.get(key)
            label = _row_label(name, key, mine if mine is not None else stored)
            if mine is None:
                if name != NUMBERS:
                    why = f"{label} is in the table but no event created it (inserted behind the log's back)"
                    found.append((_sort_key(key), _view_problem(name, why)))
                continue
            for i, field_name in enumerate(fields):
                if not _same(field_name, mine[i], stored[i]):
                    event = self.recorded_by.get((name, key))
                    by = f" (event {event})" if event is not None else ""
                    why = (
                        f"{label}: {field_name} in the table differs from the log: "
                        f"{_show(stored[i])} in the table, {_show(mine[i])} in the log{by}"
                    )
                    found.append((_sort_key(key), _view_problem(name, why)))
        for key in logged.keys() - seen:
            event = self.recorded_by.get((name, key))
            by = f" by event {event}" if event is not None else ""
            label = _row_label(name, key, logged[key])
            why = f"{label} was recorded{by} but is not in the table (deleted behind the log's back)"
            found.append((_sort_key(key), _view_problem(name, why)))
        found.sort(key=lambda item: item[0])
        return [p for _, p in found]

    def counts(self) -> dict[str, int]:
        """Rows each view holds."""
        return {
            "agencies": len(self.agencies),
            "units": len(self.units),
            "users": len(self.users),
            REGISTERS: len(self.registers),
            DELIVERIES: len(self.deliveries),
            NUMBERS: len(self.numbers),
        }


def _same(name: str, logged: Any, stored: Any) -> bool:
    if name == "evidence":
        if len(logged) != len(stored):
            return False
        return all(lk == sk and (ld is None or ld == sd) for (lk, ld), (sk, sd) in zip(logged, stored, strict=True))
    return bool(_norm(logged) == _norm(stored))


def _show(value: Any) -> str:
    if isinstance(value, tuple) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return "[" + ", ".join(f"{k}:{(d or '?')[:12]}" for k, d in value) + "]"
    return repr(value)


def _sort_key(key: Hashable) -> tuple[Any, ...]:
    parts = key if isinstance(key, tuple) else (key,)
    return tuple((0, p, "") if isinstance(p, int) and not isinstance(p, bool) else (1, 0, str(p)) for p in parts)


def _row_label(name: str, key: Hashable, values: Sequence[Any] | None) -> str:
    if name == REGISTERS and isinstance(key, tuple) and len(key) == 5:
        agency, book, year, _series, seq = key
        number = values[0] if values else seq
        return f"register {book} {agency} row {year}/{number}"
    if name == DELIVERIES:
        if values:
            return f"delivery {key} (document {values[0]} to {values[1]})"
        return f"delivery {key}"
    if name == NUMBERS:
        return f"document {key}"
    return _label(key)


def _view_problem(name: str, why: str) -> Problem:
    return Problem(ProblemKind.VIEW, None, {"what": name, "why": why})


def fold(events: Iterable[Event]) -> LogViews:
    """Every view, folded from ``events`` (in log order)."""
    views = LogViews()
    for event in events:
        views.feed(event)
    return views


def register_rows(views: LogViews, agency: str, book: str, year: int) -> list[dict[str, Any]]:
    """The rows of one register (what ``edoc register`` prints), from the log alone, in
    register order (running number, then series), as dicts of :data:`REGISTER_FIELDS` plus
    ``seq`` and ``series`` (the row's place in register order)."""
    keys = sorted(
        (k for k in views.registers if isinstance(k, tuple) and k[0] == agency and k[1] == book and k[2] == year),
        key=lambda k: (k[4], k[3]),
    )
    return [{**dict(zip(REGISTER_FIELDS, views.registers[k], strict=True)), "seq": k[4], "series": k[3]} for k in keys]


def delivery_status(views: LogViews, document_id: int) -> list[dict[str, Any]]:
    """Where each recipient of a sent document stands (what ``edoc doc status`` shows for the
    sender), from the log alone: dicts with ``consignment`` and :data:`DELIVERY_FIELDS`."""
    return [
        {"consignment": c, **dict(zip(DELIVERY_FIELDS, views.deliveries[c], strict=True))}
        for c in views.consignments_of(document_id)
        if c in views.deliveries
    ]


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


SEALED_REASON_PREFIX = "sealed:sha256:"


def sealed_reason(digest: str) -> str:
    """What a delivery's ``reason`` and its ``returned`` evidence say when the reason is a
    restricted document's route note: the note itself is stored only sealed (its blob is named
    ``digest``, the SHA-256 of the salted note; the return's audit event carries it as
    ``note_sha256``)."""
    return f"{SEALED_REASON_PREFIX}{digest}"


def sealed_reason_digest(reason: str | None) -> str | None:
    """The sealed note's hash a reason names (:func:`sealed_reason`), else None."""
    if reason and reason.startswith(SEALED_REASON_PREFIX):
        digest = reason[len(SEALED_REASON_PREFIX) :]
        return digest if len(digest) == 64 else None
    return None


def history(events: Iterable[Event]) -> list[HistoryEntry]:
    """A document's history: its events, in log order."""
    return [
        HistoryEntry(e.seq, e.at, e.actor, e.agency, e.act, e.document_id, e.payload, e.signer_cert)
        for e in sorted(events, key=lambda e: e.seq)
    ]


def copy_parent(event: Event) -> int | None:
    """The sender's document a ``doc.deliver`` event made a copy of (``parent``, or the older
    ``from_document``), else None."""
    if event.act != "doc.deliver":
        return None
    parent = event.payload.get("parent", event.payload.get("from_document"))
    return parent if isinstance(parent, int) and not isinstance(parent, bool) else None


def document_history(events: Iterable[Event], document_id: int) -> list[HistoryEntry]:
    """A document's history from the whole log (in log order): its events and those of the
    copies delivered from it (and from those copies), followed through ``doc.deliver``."""
    ids = {document_id}
    mine: list[Event] = []
    for e in events:
        parent = copy_parent(e)
        if parent is not None and parent in ids and e.document_id is not None:
            ids.add(e.document_id)
        if e.document_id in ids:
            mine.append(e)
    return history(mine)
