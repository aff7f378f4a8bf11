"""Delivery between agencies: consignments, their states, evidence, and the checks before a send.

Modelled on Estonia's document exchange (DHX): every recipient of a send gets its own
*consignment* with its own id; a second send of the same document to the same agency is
refused (never duplicated); refusals carry explicit codes (:class:`Fault`). The evidence follows
ETSI EN 319 522 (electronic registered delivery): each step of a consignment leaves an
evidence record signed with the seal of the agency that acted (:class:`EvidenceKind`).

A send is two kinds of step. *Submission*: one transaction accepts the send for every
recipient (state ``accepted``, evidence ``submission-accepted``). *Delivery*: one transaction per
recipient puts the recipient's own copy in its inbox (state ``delivered``, evidence
``delivered``). A crash between steps leaves each recipient either fully delivered or not at
all, and re-running the same send delivers the rest (:func:`resume_or_refuse`). The recipient
then registers its copy (``registered``, with the receive number) or returns it (``returned``,
with a reason).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from edoc.errors import (
    AlreadySent,
    CancelledNotSent,
    DeliveryStateConflict,
    NoRecipients,
    NotSendable,
    SendToSelf,
    TopSecretNotSent,
    UnknownRecipients,
)


class Fault(StrEnum):
    """Why a send or a delivery was refused: the ``fault`` of the error (DHX-style codes)."""

    UNKNOWN_RECIPIENT = "unknown-recipient"
    """A recipient code names no agency (DHX: InvalidAddressee)."""
    NO_RECIPIENTS = "no-recipients"
    """The send names nobody."""
    SELF_ADDRESSED = "self-addressed"
    """An agency sending to itself."""
    DUPLICATE = "duplicate"
    """The document was already sent to that agency (DHX: Duplicate)."""
    NOT_SIGNED = "not-signed"
    """Only signed documents are sent."""
    CANCELLED = "cancelled"
    """A cancelled document is never sent."""
    TOP_SECRET = "top-secret"
    """ลับที่สุด stays off e-Saraban (amendment No. 4 of the regulation)."""
    OUT_OF_ORDER = "out-of-order"
    """Evidence that does not follow from the consignment's state."""


class DeliveryState(StrEnum):
    """Where one consignment stands (the ``state`` of ``doc status``)."""

    ACCEPTED = "accepted"
    """The send was accepted for this recipient; the copy is not in its inbox yet."""
    DELIVERED = "delivered"
    """The recipient's copy is in its inbox."""
    REGISTERED = "registered"
    """The recipient registered it (it has a receive number)."""
    RETURNED = "returned"
    """The recipient returned or rejected it, with a reason."""

    @property
    def thai(self) -> str:
        return _DELIVERY_TH[self]


_DELIVERY_TH = {
    DeliveryState.ACCEPTED: "รับเรื่องส่งแล้ว",
    DeliveryState.DELIVERED: "ถึงกล่องหนังสือเข้าแล้ว",
    DeliveryState.REGISTERED: "ลงรับแล้ว",
    DeliveryState.RETURNED: "ส่งคืนแล้ว",
}


class EvidenceKind(StrEnum):
    """What an evidence record attests."""

    SUBMISSION_ACCEPTED = "submission-accepted"
    """The sending agency accepted the send for this recipient."""
    DELIVERED = "delivered"
    """The copy was put in the recipient agency's inbox."""
    REGISTERED = "registered"
    """The recipient agency registered it, with its receive number."""
    RETURNED = "returned"
    """The recipient agency returned or rejected it, with a reason."""

    @property
    def etsi(self) -> str:
        """The ETSI EN 319 522-2 event this evidence corresponds to."""
        return _ETSI[self]

    @property
    def state(self) -> DeliveryState:
        """The consignment's state once this evidence exists."""
        return _STATE_AFTER[self]


_ETSI = {
    EvidenceKind.SUBMISSION_ACCEPTED: "SubmissionAcceptance",
    EvidenceKind.DELIVERED: "ContentConsignment",
    EvidenceKind.REGISTERED: "AcceptanceByRecipient",
    EvidenceKind.RETURNED: "RejectionByRecipient",
}
_STATE_AFTER = {
    EvidenceKind.SUBMISSION_ACCEPTED: DeliveryState.ACCEPTED,
    EvidenceKind.DELIVERED: DeliveryState.DELIVERED,
    EvidenceKind.REGISTERED: DeliveryState.REGISTERED,
    EvidenceKind.RETURNED: DeliveryState.RETURNED,
}
_NEXT: dict[DeliveryState | None, frozenset[EvidenceKind]] = {
    None: frozenset({EvidenceKind.SUBMISSION_ACCEPTED}),
    DeliveryState.ACCEPTED: frozenset({EvidenceKind.DELIVERED}),
    DeliveryState.DELIVERED: frozenset({EvidenceKind.REGISTERED, EvidenceKind.RETURNED}),
    DeliveryState.REGISTERED: frozenset({EvidenceKind.RETURNED}),
    DeliveryState.RETURNED: frozenset(),
}


def next_state(consignment: str, current: DeliveryState | None, kind: EvidenceKind) -> DeliveryState:
    """The consignment's state after ``kind``; :class:`DeliveryStateConflict` when out of order."""
    if kind not in _NEXT[current]:
        raise DeliveryStateConflict(consignment, current.value if current else "new", kind.value)
    return kind.state


SECRECY_LEVELS: tuple[str, ...] = ("normal", "confidential", "secret", "top-secret")
"""Secrecy values (ปกติ, ลับ, ลับมาก, ลับที่สุด)."""
RESTRICTED = frozenset({"confidential", "secret", "top-secret"})
"""Secrecy levels whose content only the people on the route see."""


def check_sendable(doc_id: object, *, state: str, secrecy: str, signed: bool) -> None:
    """Refuse to send a document that is not signed, is cancelled, or is top secret."""
    if secrecy == "top-secret":
        raise TopSecretNotSent(doc_id)
    if state == "cancelled":
        raise CancelledNotSent(doc_id)
    if not signed:
        raise NotSendable(doc_id, state)


def plan_recipients(
    doc_id: object,
    sender: str,
    requested: Iterable[str],
    known: Collection[str],
) -> tuple[str, ...]:
    """The recipient codes of a send, in order, without repeats; refuses unknown codes and the
    sender itself (every problem is named, not just the first)."""
    seen: dict[str, None] = {}
    for code in requested:
        clean = code.strip()
        if clean:
            seen.setdefault(clean, None)
    codes = tuple(seen)
    if not codes:
        raise NoRecipients()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise UnknownRecipients(unknown)
    if sender in seen:
        raise SendToSelf(doc_id, sender)
    return codes


@dataclass(frozen=True)
class Existing:
    """A consignment already stored for the document being sent."""

    recipient: str
    """Agency code of the recipient."""
    consignment: str
    """Its id."""
    state: DeliveryState
    """Its state."""
    dispatch: int
    """The send (dispatch) it belongs to."""


@dataclass(frozen=True)
class SendPlan:
    """What a send request will do."""

    new: tuple[str, ...]
    """Recipients that get a new consignment now."""
    resume: tuple[Existing, ...]
    """Accepted but undelivered consignments of an interrupted identical send, to deliver now."""
    dispatch: int | None
    """The interrupted send being resumed, if any."""


def resume_or_refuse(doc_id: object, recipients: Sequence[str], existing: Sequence[Existing]) -> SendPlan:
    """Decide between a new send, the resumption of an interrupted one, and a refusal.

    Re-running exactly the same send (same recipients) while some of its consignments are
    still only accepted resumes it; any other request naming an agency the document was
    already sent to is refused with :class:`AlreadySent`, naming every such agency.
    """
    by_recipient = {e.recipient: e for e in existing}
    clashes = [r for r in recipients if r in by_recipient]
    if not clashes:
        return SendPlan(new=tuple(recipients), resume=(), dispatch=None)
    dispatches = {by_recipient[r].dispatch for r in clashes}
    if len(dispatches) == 1:
        dispatch = next(iter(dispatches))
        members = {e.recipient for e in existing if e.dispatch == dispatch}
        pending = tuple(e for e in existing if e.dispatch == dispatch and e.state is DeliveryState.ACCEPTED)
        if pending and members == set(recipients):
            return SendPlan(new=(), resume=pending, dispatch=dispatch)
    raise AlreadySent(doc_id, clashes)


def new_consignment_id(sender: str, at: datetime) -> str:
    """A fresh consignment id: sender code, UTC date and 64 random bits (``PAKCHONG.20261122.9f…``)."""
    return f"{sender}.{at.astimezone(UTC):%Y%m%d}.{secrets.token_hex(8)}"


def _utc_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("evidence times must be aware datetimes")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: Any) -> bytes:
    """Canonical UTF-8 JSON: keys sorted, no insignificant whitespace (what seals sign)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Evidence:
    """One evidence record of one consignment, as signed by the acting agency's seal."""

    consignment: str
    """The consignment it belongs to."""
    seq: int
    """Its place in the consignment's evidence, from 0."""
    kind: EvidenceKind
    """What it attests."""
    at: datetime
    """When (aware UTC)."""
    sender: str
    """Code of the sending agency."""
    recipient: str
    """Code of the recipient agency."""
    agency: str
    """Code of the agency that acted and whose seal signs this record."""
    actor: str
    """Username of the person who acted."""
    document_number: str
    """The document's number (ที่) as sent."""
    document_sha256: str
    """SHA-256 of the PDF as sent."""
    receive_number: str | None = None
    """The recipient's receive number (registered)."""
    reason: str | None = None
    """Why it was returned (returned)."""
    previous: str | None = None
    """SHA-256 of the previous record of this consignment (the records form a chain)."""

    def body(self) -> dict[str, Any]:
        """The signed content, as a JSON object."""
        return {
            "type": "edoc-delivery-evidence/1",
            "consignment": self.consignment,
            "seq": self.seq,
            "kind": self.kind.value,
            "etsi_event": self.kind.etsi,
            "at": _utc_text(self.at),
            "sender": self.sender,
            "recipient": self.recipient,
            "agency": self.agency,
            "actor": self.actor,
            "document_number": self.document_number,
            "document_sha256": self.document_sha256,
            "receive_number": self.receive_number,
            "reason": self.reason,
            "previous": self.previous,
        }

    def encode(self) -> bytes:
        """The exact bytes the seal signs (and that an exported ``.json`` file holds)."""
        return canonical(self.body())

    def digest(self) -> str:
        """SHA-256 of :meth:`encode`: what the next record's ``previous`` names."""
        return hashlib.sha256(self.encode()).hexdigest()

    def following(
        self,
        kind: EvidenceKind,
        *,
        at: datetime,
        agency: str,
        actor: str,
        receive_number: str | None = None,
        reason: str | None = None,
    ) -> Evidence:
        """The next record of this consignment, chained to this one (same parties and document)."""
        return Evidence(
            consignment=self.consignment,
            seq=self.seq + 1,
            kind=kind,
            at=at,
            sender=self.sender,
            recipient=self.recipient,
            agency=agency,
            actor=actor,
            document_number=self.document_number,
            document_sha256=self.document_sha256,
            receive_number=receive_number,
            reason=reason,
            previous=self.digest(),
        )

    @classmethod
    def decode(cls, data: bytes) -> Evidence:
        """Read a record back from its signed bytes (refusing anything else)."""
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not an evidence record: {exc}") from None
        if not isinstance(body, dict) or body.get("type") != "edoc-delivery-evidence/1":
            raise ValueError("not an edoc delivery evidence record")
        record = cls(
            consignment=_str(body, "consignment"),
            seq=_int(body, "seq"),
            kind=EvidenceKind(_str(body, "kind")),
            at=datetime.strptime(_str(body, "at"), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
            sender=_str(body, "sender"),
            recipient=_str(body, "recipient"),
            agency=_str(body, "agency"),
            actor=_str(body, "actor"),
            document_number=_str(body, "document_number"),
            document_sha256=_str(body, "document_sha256"),
            receive_number=_opt(body, "receive_number"),
            reason=_opt(body, "reason"),
            previous=_opt(body, "previous"),
        )
        if record.encode() != data:
            raise ValueError("the record is not in canonical form")
        return record


def _str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise ValueError(f"evidence field {key!r} is missing or not text")
    return value


def _int(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"evidence field {key!r} is missing or not a whole number")
    return value


def _opt(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"evidence field {key!r} is not text")
    return value


def check_chain(records: Sequence[Evidence]) -> list[str]:
    """Problems with one consignment's records as a chain (empty when it is sound)."""
    problems: list[str] = []
    state: DeliveryState | None = None
    previous: Evidence | None = None
    for i, record in enumerate(records):
        where = f"{record.consignment} #{record.seq}"
        if record.seq != i:
            problems.append(f"{where}: expected record #{i}")
        if record.previous != (previous.digest() if previous else None):
            problems.append(f"{where}: does not follow the previous record")
        if previous is not None and (
            record.consignment != previous.consignment
            or record.sender != previous.sender
            or record.recipient != previous.recipient
        ):
            problems.append(f"{where}: belongs to another consignment")
        expected_agency = record.sender if record.kind.state is DeliveryState.ACCEPTED else None
        if record.kind in (EvidenceKind.REGISTERED, EvidenceKind.RETURNED):
            expected_agency = record.recipient
        if record.kind is EvidenceKind.DELIVERED:
            expected_agency = record.sender
        if expected_agency is not None and record.agency != expected_agency:
            problems.append(f"{where}: {record.kind.value} must be signed by {expected_agency}, not {record.agency}")
        if record.kind not in _NEXT[state]:
            problems.append(f"{where}: {record.kind.value} cannot follow {state.value if state else 'nothing'}")
        else:
            state = record.kind.state
        previous = record
    return problems
