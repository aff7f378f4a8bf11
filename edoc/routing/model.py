"""Values that routing hands out: inbox items, delivery status with evidence, route steps, groups.

Each has ``to_json()`` giving the shapes of the contract (``edoc --json inbox``, ``edoc --json
doc status``); nothing here touches the database.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from edoc.routing.delivery import DeliveryState, Evidence


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class AgencyGroup:
    """A named group of agencies that circulars go to."""

    name: str
    """Short ASCII name used on the command line (``schools``)."""
    title: str
    """Thai title (โรงเรียนในสังกัด)."""
    members: tuple[str, ...]
    """Agency codes, sorted."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "members": list(self.members)}


@dataclass(frozen=True)
class InboxItem:
    """One document waiting for a person (``edoc inbox``)."""

    id: int
    """The agency's own copy: what ``doc receive`` and ``doc route`` take."""
    number: str | None
    """The document's number (ที่)."""
    subject: str
    """เรื่อง (hidden for secret documents the person may not read yet)."""
    sender: str
    """From (จาก): the sending agency's name."""
    urgency: str
    """``normal``, ``urgent``, ``very-urgent``, ``most-urgent``."""
    secrecy: str
    """``normal``, ``confidential``, ``secret``."""
    state: str
    """The route's state (``delivered`` until registered), or the document's own state."""
    due: date | None
    """When it is due."""
    overdue: bool
    """Due before today."""
    waiting: str
    """Why it is in this inbox: ``registration``, ``you``, ``unit``, ``signature``."""
    kind: str = ""
    """Document kind."""
    arrived: datetime | None = None
    """When it reached the agency (or the person)."""
    holder: str | None = None
    """Username of the holder, if a person holds it."""
    unit: str | None = None
    """Unit it is with."""
    consignment: str | None = None
    """Consignment id, for a delivered copy."""
    receive_number: str | None = None
    """The agency's receive number, once registered."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "subject": self.subject,
            "from": self.sender,
            "urgency": self.urgency,
            "secrecy": self.secrecy,
            "state": self.state,
            "due": _iso(self.due),
            "overdue": self.overdue,
            "waiting": self.waiting,
            "kind": self.kind,
            "arrived": _iso(self.arrived),
            "holder": self.holder,
            "unit": self.unit,
            "consignment": self.consignment,
            "receive_number": self.receive_number,
        }


@dataclass(frozen=True)
class EvidenceRecord:
    """A stored evidence record with its seal signature."""

    evidence: Evidence
    """The signed content."""
    signature: bytes = field(repr=False)
    """Detached CMS SignedData over ``evidence.encode()``."""
    signer_serial: str = ""
    """Serial (hex) of the seal certificate that signed."""

    def to_json(self, *, with_signature: bool = True) -> dict[str, Any]:
        body = self.evidence.body()
        out: dict[str, Any] = {
            "kind": body["kind"],
            "etsi_event": body["etsi_event"],
            "at": body["at"],
            "agency": body["agency"],
            "actor": body["actor"],
            "seq": body["seq"],
            "receive_number": body["receive_number"],
            "reason": body["reason"],
            "document_sha256": body["document_sha256"],
            "digest": self.evidence.digest(),
            "previous": body["previous"],
            "signer_serial": self.signer_serial,
        }
        if with_signature:
            out["signed_body"] = self.evidence.encode().decode("utf-8")
            out["signature"] = base64.b64encode(self.signature).decode("ascii")
        return out


@dataclass(frozen=True)
class RecipientStatus:
    """Where one recipient of a document stands (a row of ``doc status``)."""

    agency: str
    """Recipient agency code."""
    agency_name: str
    """Its Thai name."""
    consignment: str
    """The consignment id."""
    state: DeliveryState
    """accepted, delivered, registered or returned."""
    copy_id: int | None
    """The recipient's own document id, once delivered."""
    receive_number: str | None
    """Its receive number, once registered."""
    reason: str | None
    """Why it was returned."""
    evidence: tuple[EvidenceRecord, ...]
    """Every evidence record, in order."""
    holder: str | None = None
    """Who holds it there now (visible to the sender only as a name of the recipient's route)."""
    route_state: str | None = None
    """Where its route inside the recipient agency stands."""

    @property
    def latest(self) -> EvidenceRecord:
        return self.evidence[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "agency_name": self.agency_name,
            "consignment": self.consignment,
            "state": self.state.value,
            "copy_id": self.copy_id,
            "receive_number": self.receive_number,
            "reason": self.reason,
            "route_state": self.route_state,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class RouteStep:
    """One action on a document's route inside its agency."""

    seq: int
    """Order, from 0."""
    action: str
    """The route action."""
    actor: str
    """Username of who acted."""
    at: datetime
    """When."""
    state_after: str
    """The route's state after it."""
    to: str | None = None
    """Username it went to."""
    to_unit: str | None = None
    """Unit it went to."""
    note: str = ""
    """Endorsement, order or reason (for a restricted document: opened for its readers, else
    the secrecy mark)."""
    due: date | None = None
    """Due date set by it."""
    signed: bool = False
    """True when the actor's signature is stored with it."""
    note_sha256: str | None = None
    """For a restricted document: the hash of the sealed (salted) note; the note is stored
    only as CMS EnvelopedData for the document's readers."""

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "actor": self.actor,
            "at": _iso(self.at),
            "state": self.state_after,
            "to": self.to,
            "to_unit": self.to_unit,
            "note": self.note,
            "due": _iso(self.due),
            "signed": self.signed,
            "note_sha256": self.note_sha256,
        }


@dataclass(frozen=True)
class DocumentStatus:
    """``edoc doc status``: the document's recipients and its route here."""

    id: int
    """The document asked about."""
    number: str | None
    """Its number."""
    subject: str
    """Its subject."""
    state: str
    """The document's own state."""
    recipients: tuple[RecipientStatus, ...]
    """One per consignment, in the order sent."""
    route_state: str | None = None
    """The route's state in this agency, if it has a route."""
    holder: str | None = None
    """Who holds it here."""
    due: date | None = None
    """When it is due here."""
    steps: tuple[RouteStep, ...] = ()
    """The route inside this agency."""
    parent: int | None = None
    """For a delivered copy: the sender's document id."""
    consignment: str | None = None
    """For a delivered copy: its consignment."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "subject": self.subject,
            "state": self.state,
            "recipients": [r.to_json() for r in self.recipients],
            "route": {
                "state": self.route_state,
                "holder": self.holder,
                "due": _iso(self.due),
                "steps": [s.to_json() for s in self.steps],
            },
            "parent": self.parent,
            "consignment": self.consignment,
        }


@dataclass(frozen=True)
class SentTo:
    """One recipient of a send, as the send left it."""

    agency: str
    """Recipient agency code."""
    consignment: str
    """Its consignment id."""
    state: DeliveryState
    """``delivered`` once its copy is in the recipient's inbox."""
    copy_id: int | None
    """The recipient's own document id (what its ``doc receive`` and ``doc route`` take)."""

    def to_json(self) -> dict[str, Any]:
        return {"agency": self.agency, "consignment": self.consignment, "state": self.state.value, "id": self.copy_id}


@dataclass(frozen=True)
class SendResult:
    """What ``edoc doc send`` did."""

    id: int
    """The document sent (the sender's id)."""
    dispatch: int
    """The send act (dispatch) the consignments belong to."""
    resumed: bool
    """True when this run completed an interrupted send instead of starting one."""
    recipients: tuple[SentTo, ...]
    """One per recipient, in order."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dispatch": self.dispatch,
            "resumed": self.resumed,
            "recipients": [r.to_json() for r in self.recipients],
        }


@dataclass(frozen=True)
class RouteResult:
    """What ``edoc doc route`` did."""

    id: int
    """The document."""
    action: str
    """The action taken."""
    state: str
    """The route's state after it."""
    holder: str | None
    """Who holds it now."""
    unit: str | None
    """Unit it is with now."""
    due: date | None
    """When it is due."""
    step: int
    """The step's number on the route."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "state": self.state,
            "holder": self.holder,
            "unit": self.unit,
            "due": _iso(self.due),
            "step": self.step,
        }
