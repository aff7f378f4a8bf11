"""Routing queries: groups, sends and consignments with their evidence, routes and inboxes.

Rows in, routing values out (:mod:`edoc.routing`). Every function works inside the caller's
transaction; the office decides what an act is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, update
from sqlmodel import Session, col, select

from edoc.errors import AgencyNotFound, AlreadyExists, GroupNotFound, UnknownRecipients
from edoc.routing.delivery import DeliveryState, Evidence, Existing
from edoc.routing.flow import FlowState, Position, Route
from edoc.routing.model import AgencyGroup, EvidenceRecord, RouteStep
from edoc.storage.tables import (
    AccountRow,
    AgencyGroupMemberRow,
    AgencyGroupRow,
    AgencyRow,
    AttachmentRow,
    DeliveryRow,
    DispatchRow,
    DocumentRow,
    EvidenceRow,
    RoutePartyRow,
    RouteRow,
    RouteStepRow,
    RouteUnitRow,
    SealedContentRow,
    UnitRow,
)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# -- agencies and groups ------------------------------------------------------------------------


def agency_ids(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """``code -> id`` for the codes that exist (chunked, for circulars to hundreds)."""
    wanted = sorted(set(codes))
    out: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for code, id_ in session.exec(select(AgencyRow.code, AgencyRow.id).where(col(AgencyRow.code).in_(chunk))):
            assert id_ is not None
            out[code] = id_
    return out


def agency_names(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``id -> (code, name)``."""
    wanted = sorted(set(ids))
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for id_, code, name in session.exec(
            select(AgencyRow.id, AgencyRow.code, AgencyRow.name).where(col(AgencyRow.id).in_(chunk))
        ):
            assert id_ is not None
            out[id_] = (code, name)
    return out


def insert_group(session: Session, name: str, title: str, members: Sequence[str], at: datetime) -> AgencyGroup:
    if session.exec(select(AgencyGroupRow).where(AgencyGroupRow.name == name)).first() is not None:
        raise AlreadyExists("agency group", name)
    ids = agency_ids(session, members)
    unknown = [m for m in members if m not in ids]
    if unknown:
        raise UnknownRecipients(unknown)
    row = AgencyGroupRow(name=name, title=title, created_at=at)
    session.add(row)
    session.flush()
    assert row.id is not None
    for code in sorted(set(members)):
        session.add(AgencyGroupMemberRow(group_id=row.id, agency_id=ids[code]))
    session.flush()
    return AgencyGroup(name, title, tuple(sorted(set(members))))


def get_group(session: Session, name: str) -> AgencyGroup:
    row = session.exec(select(AgencyGroupRow).where(AgencyGroupRow.name == name)).first()
    if row is None:
        raise GroupNotFound(name)
    codes = session.exec(
        select(AgencyRow.code)
        .join(AgencyGroupMemberRow, col(AgencyGroupMemberRow.agency_id) == col(AgencyRow.id))
        .where(AgencyGroupMemberRow.group_id == row.id)
        .order_by(col(AgencyRow.code))
    )
    return AgencyGroup(row.name, row.title, tuple(codes))


def list_groups(session: Session) -> list[AgencyGroup]:
    names = session.exec(select(AgencyGroupRow.name).order_by(col(AgencyGroupRow.name)))
    return [get_group(session, n) for n in names]


def agency_row_by_id(session: Session, agency_id: int) -> AgencyRow:
    row = session.get(AgencyRow, agency_id)
    if row is None:  # pragma: no cover - foreign keys keep this from happening
        raise AgencyNotFound(str(agency_id))
    return row


# -- sends and consignments ---------------------------------------------------------------------


def existing_deliveries(session: Session, document_id: int) -> list[Existing]:
    rows = session.exec(
        select(DeliveryRow, AgencyRow.code)
        .join(AgencyRow, col(AgencyRow.id) == col(DeliveryRow.recipient_id))
        .where(DeliveryRow.document_id == document_id)
        .order_by(col(DeliveryRow.id))
    )
    return [Existing(code, d.consignment, DeliveryState(d.state), d.dispatch_id) for d, code in rows]


def insert_dispatch(session: Session, row: DispatchRow) -> DispatchRow:
    session.add(row)
    session.flush()
    assert row.id is not None
    return row


def insert_delivery(session: Session, row: DeliveryRow) -> DeliveryRow:
    session.add(row)
    session.flush()
    assert row.id is not None
    return row


def delivery_by_consignment(session: Session, consignment: str, *, for_update: bool = False) -> DeliveryRow | None:
    query = select(DeliveryRow).where(DeliveryRow.consignment == consignment)
    if for_update and _is_pg(session):
        query = query.with_for_update()
    return session.exec(query).first()


def delivery_of_copy(session: Session, copy_id: int, *, for_update: bool = False) -> DeliveryRow | None:
    query = select(DeliveryRow).where(DeliveryRow.copy_id == copy_id)
    if for_update and _is_pg(session):
        query = query.with_for_update()
    return session.exec(query).first()


def deliveries_of(session: Session, document_id: int) -> list[DeliveryRow]:
    return list(
        session.exec(select(DeliveryRow).where(DeliveryRow.document_id == document_id).order_by(col(DeliveryRow.id)))
    )


def last_evidence(session: Session, delivery_id: int) -> EvidenceRow | None:
    return session.exec(
        select(EvidenceRow).where(EvidenceRow.delivery_id == delivery_id).order_by(col(EvidenceRow.seq).desc())
    ).first()


def evidence_values(
    delivery_id: int | None, evidence: Evidence, agency_id: int, signature: bytes, signer_serial: str
) -> dict[str, Any]:
    """The columns of the ``evidence`` row that stores a signed record (one place for the ORM
    row of :func:`append_evidence` and the multi-row inserts of a send and a delivery)."""
    return {
        "delivery_id": delivery_id,
        "seq": evidence.seq,
        "kind": evidence.kind.value,
        "at": evidence.at,
        "agency_id": agency_id,
        "actor": evidence.actor,
        "body": evidence.encode().decode("utf-8"),
        "digest": evidence.digest(),
        "signature": signature,
        "signer_serial": signer_serial,
    }


def append_evidence(
    session: Session,
    delivery: DeliveryRow,
    evidence: Evidence,
    signature: bytes,
    signer_serial: str,
    agency_id: int,
) -> EvidenceRow:
    """Store a signed record and move the consignment to the state it attests."""
    assert delivery.id is not None
    row = EvidenceRow(**evidence_values(delivery.id, evidence, agency_id, signature, signer_serial))
    session.add(row)
    delivery.state = evidence.kind.state.value
    delivery.updated_at = evidence.at
    if evidence.receive_number is not None:
        delivery.receive_number = evidence.receive_number
    if evidence.reason is not None:
        delivery.reason = evidence.reason
    session.add(delivery)
    session.flush()
    return row


def evidence_of(session: Session, delivery_ids: Sequence[int]) -> dict[int, list[EvidenceRecord]]:
    out: dict[int, list[EvidenceRecord]] = {i: [] for i in delivery_ids}
    for start in range(0, len(delivery_ids), 500):
        chunk = list(delivery_ids[start : start + 500])
        rows = session.exec(
            select(EvidenceRow)
            .where(col(EvidenceRow.delivery_id).in_(chunk))
            .order_by(col(EvidenceRow.delivery_id), col(EvidenceRow.seq))
        )
        for row in rows:
            out[row.delivery_id].append(
                EvidenceRecord(Evidence.decode(row.body.encode("utf-8")), bytes(row.signature), row.signer_serial)
            )
    return out


def insert_copy(
    session: Session, original: DocumentRow, recipient_id: int, *, due: date | None, at: datetime
) -> DocumentRow:
    """The recipient agency's own row of a delivered document, with its attachments."""
    assert original.id is not None
    copy = DocumentRow(
        agency_id=recipient_id,
        unit_id=None,
        kind=original.kind,
        form=original.form,
        origin="delivered",
        state="received",
        subject=original.subject,
        fields_json=original.fields_json,
        urgency=original.urgency,
        secrecy=original.secrecy,
        drafter_id=None,
        signer_id=original.signer_id,
        number=original.number,
        document_date=original.document_date,
        from_name=original.from_name,
        to_name=original.to_name,
        pdf_sha256=original.pdf_sha256,
        parent_id=original.id,
        holder_id=None,
        holder_unit_id=None,
        due=due,
        created_at=at,
        updated_at=at,
    )
    session.add(copy)
    session.flush()
    assert copy.id is not None
    attachments = list(session.exec(select(AttachmentRow).where(AttachmentRow.document_id == original.id)))
    for a in attachments:
        session.add(
            AttachmentRow(document_id=copy.id, name=a.name, media_type=a.media_type, sha256=a.sha256, size=a.size)
        )
    if attachments:
        session.flush()
    return copy


def accept_deliveries(
    session: Session,
    *,
    dispatch_id: int,
    document_id: int,
    sender_id: int,
    accepted: Sequence[tuple[int, Evidence, bytes]],
    signer_serial: str,
    at: datetime,
) -> None:
    """The deliveries of a send, one per ``(recipient agency id, submission-accepted evidence,
    signature)``, each with its first evidence record: two multi-row statements (a circular
    accepts hundreds), not a unit of work per recipient."""
    if not accepted:
        return
    returned = session.execute(
        insert(DeliveryRow).returning(col(DeliveryRow.id), col(DeliveryRow.consignment)),
        [
            {
                "consignment": e.consignment,
                "dispatch_id": dispatch_id,
                "document_id": document_id,
                "recipient_id": recipient_id,
                "copy_id": None,
                "state": e.kind.state.value,
                "receive_number": None,
                "reason": None,
                "created_at": at,
                "updated_at": at,
            }
            for recipient_id, e, _s in accepted
        ],
    )
    ids = {str(consignment): int(id_) for id_, consignment in returned}
    if len(ids) != len(accepted):  # pragma: no cover - RETURNING gives every row
        raise RuntimeError("the deliveries inserted are not the deliveries asked for; nothing was stored")
    session.execute(
        insert(EvidenceRow),
        [
            evidence_values(ids[e.consignment], e, sender_id, signature, signer_serial)
            for _r, e, signature in accepted
        ],
    )


def deliveries_by_consignment(session: Session, consignments: Sequence[str]) -> dict[str, DeliveryRow]:
    """The deliveries of ``consignments`` (locked until the act ends on PostgreSQL), by consignment."""
    query = select(DeliveryRow).where(col(DeliveryRow.consignment).in_(list(consignments)))
    if _is_pg(session):
        query = query.with_for_update()
    return {d.consignment: d for d in session.exec(query)}


def last_evidence_of(session: Session, delivery_ids: Sequence[int]) -> dict[int, EvidenceRow]:
    """The latest evidence record of each delivery (one query)."""
    latest = (
        select(EvidenceRow.delivery_id, func.max(EvidenceRow.seq).label("seq"))
        .where(col(EvidenceRow.delivery_id).in_(list(delivery_ids)))
        .group_by(col(EvidenceRow.delivery_id))
        .subquery()
    )
    rows = session.exec(
        select(EvidenceRow).join(
            latest, and_(col(EvidenceRow.delivery_id) == latest.c.delivery_id, col(EvidenceRow.seq) == latest.c.seq)
        )
    )
    return {r.delivery_id: r for r in rows}


def deliver_copies(
    session: Session,
    original: DocumentRow,
    deliveries: Sequence[tuple[DeliveryRow, Evidence, bytes]],
    *,
    signer_serial: str,
    due: date | None,
    at: datetime,
) -> dict[int, int]:
    """Deliver ``original`` for each ``(delivery, evidence, signature)``: the recipient's copy
    (with the original's attachments), its route (delivered, waiting for registration), the
    signed ``delivered`` evidence, the delivery moved to its state and pointing at the copy.
    Multi-row statements (a circular delivers a hundred copies per transaction), no ORM unit of
    work. Copy ids by recipient agency id."""
    assert original.id is not None
    if not deliveries:
        return {}
    recipients = [d.recipient_id for d, _e, _s in deliveries]
    if len(set(recipients)) != len(recipients):  # pragma: no cover - a unique key forbids it
        raise ValueError("one copy per recipient agency")
    copy_values = {
        "unit_id": None,
        "kind": original.kind,
        "form": original.form,
        "origin": "delivered",
        "state": "received",
        "subject": original.subject,
        "fields_json": original.fields_json,
        "urgency": original.urgency,
        "secrecy": original.secrecy,
        "drafter_id": None,
        "signer_id": original.signer_id,
        "number": original.number,
        "document_date": original.document_date,
        "from_name": original.from_name,
        "to_name": original.to_name,
        "pdf_sha256": original.pdf_sha256,
        "parent_id": original.id,
        "holder_id": None,
        "holder_unit_id": None,
        "due": due,
        "created_at": at,
        "updated_at": at,
    }
    returned = session.execute(
        insert(DocumentRow).returning(col(DocumentRow.id), col(DocumentRow.agency_id)),
        [{**copy_values, "agency_id": r} for r in recipients],
    )
    copies = {int(agency_id): int(copy_id) for copy_id, agency_id in returned}
    if sorted(copies) != sorted(recipients):  # pragma: no cover - RETURNING gives every row
        raise RuntimeError("the copies inserted are not the copies asked for; nothing was stored")
    attachments = list(session.exec(select(AttachmentRow).where(AttachmentRow.document_id == original.id)))
    if attachments:
        session.execute(
            insert(AttachmentRow),
            [
                {"document_id": c, "name": a.name, "media_type": a.media_type, "sha256": a.sha256, "size": a.size}
                for c in copies.values()
                for a in attachments
            ],
        )
    session.execute(
        insert(RouteRow),
        [
            {
                "document_id": c,
                "state": FlowState.DELIVERED.value,
                "trail": "[]",
                "delivered": True,
                "retention": None,
                "steps": 0,
                "updated_at": at,
            }
            for c in copies.values()
        ],
    )
    session.execute(
        insert(EvidenceRow),
        [
            evidence_values(d.id, e, original.agency_id, signature, signer_serial)
            for d, e, signature in deliveries
        ],
    )
    table = DeliveryRow.__table__  # type: ignore[attr-defined]
    session.connection().execute(  # Core executemany: the ORM's bulk UPDATE takes no WHERE
        update(table)
        .where(table.c.id == bindparam("delivery"))
        .values(copy_id=bindparam("copy"), state=bindparam("new_state"), updated_at=bindparam("at")),
        [
            {"delivery": d.id, "copy": copies[d.recipient_id], "new_state": e.kind.state.value, "at": e.at}
            for d, e, _s in deliveries
        ],
    )
    for d, _e, _s in deliveries:  # the loaded rows say what the table now says
        session.expire(d)
    return copies


# -- routes -------------------------------------------------------------------------------------


def route_row(session: Session, document_id: int) -> RouteRow | None:
    return session.get(RouteRow, document_id)


def _trail_json(trail: Sequence[Position]) -> str:
    return json.dumps([[p.holder, p.unit] for p in trail], ensure_ascii=False, separators=(",", ":"))


def to_route(row: RouteRow, doc: DocumentRow, holder: str | None, unit: str | None) -> Route:
    trail = tuple(Position(h, u) for h, u in json.loads(row.trail))
    return Route(
        document_id=row.document_id,
        state=FlowState(row.state),
        holder=holder,
        unit=unit,
        due=doc.due,
        trail=trail,
        retention=row.retention,
        delivered=row.delivered,
    )


def save_route(
    session: Session,
    doc: DocumentRow,
    route: Route,
    *,
    holder_id: int | None,
    unit_id: int | None,
    at: datetime,
) -> RouteRow:
    """Store ``route``: the route row, and the document's holder, unit and due date."""
    assert doc.id is not None
    row = session.get(RouteRow, doc.id)
    if row is None:
        row = RouteRow(document_id=doc.id, state=route.state.value, updated_at=at)
    row.state = route.state.value
    row.trail = _trail_json(route.trail)
    row.delivered = route.delivered
    row.retention = route.retention
    row.updated_at = at
    session.add(row)
    doc.holder_id = holder_id
    doc.holder_unit_id = unit_id
    doc.due = route.due
    doc.updated_at = at
    session.add(doc)
    session.flush()
    return row


def next_step_seq(session: Session, document_id: int) -> int:
    row = route_row(session, document_id)
    return row.steps if row is not None else 0


def insert_step(session: Session, step: RouteStepRow) -> RouteStepRow:
    session.add(step)
    row = session.get(RouteRow, step.document_id)
    if row is not None:
        row.steps = step.seq + 1
        session.add(row)
    session.flush()
    return step


def add_parties(session: Session, document_id: int, account_ids: Iterable[int | None], at: datetime) -> None:
    """Put people on the document's route (once each)."""
    wanted = {i for i in account_ids if i is not None}
    if not wanted:
        return
    present = set(
        session.exec(
            select(RoutePartyRow.account_id).where(
                RoutePartyRow.document_id == document_id, col(RoutePartyRow.account_id).in_(sorted(wanted))
            )
        )
    )
    for account_id in sorted(wanted - present):
        session.add(RoutePartyRow(document_id=document_id, account_id=account_id, since=at))
    session.flush()


def add_unit(session: Session, document_id: int, unit_id: int, at: datetime) -> None:
    if session.get(RouteUnitRow, (document_id, unit_id)) is None:
        session.add(RouteUnitRow(document_id=document_id, unit_id=unit_id, since=at))
        session.flush()


def parties(session: Session, document_id: int) -> set[str]:
    """Usernames on the route."""
    return set(
        session.exec(
            select(AccountRow.username)
            .join(RoutePartyRow, col(RoutePartyRow.account_id) == col(AccountRow.id))
            .where(RoutePartyRow.document_id == document_id)
        )
    )


def party_accounts(session: Session, document_id: int) -> list[AccountRow]:
    return list(
        session.exec(
            select(AccountRow)
            .join(RoutePartyRow, col(RoutePartyRow.account_id) == col(AccountRow.id))
            .where(RoutePartyRow.document_id == document_id)
            .order_by(col(AccountRow.username))
        )
    )


def units(session: Session, document_id: int) -> set[str]:
    """Codes of the units the document was assigned to."""
    return set(
        session.exec(
            select(UnitRow.code)
            .join(RouteUnitRow, col(RouteUnitRow.unit_id) == col(UnitRow.id))
            .where(RouteUnitRow.document_id == document_id)
        )
    )


def steps(session: Session, document_id: int) -> list[RouteStep]:
    rows = list(
        session.exec(
            select(RouteStepRow).where(RouteStepRow.document_id == document_id).order_by(col(RouteStepRow.seq))
        )
    )
    ids = {r.actor_id for r in rows} | {r.to_account_id for r in rows if r.to_account_id}
    names = usernames_by_id(session, ids)
    unit_codes = unit_codes_by_id(session, [r.to_unit_id for r in rows])
    return [
        RouteStep(
            seq=r.seq,
            action=r.action,
            actor=names.get(r.actor_id, "?"),
            at=r.at,
            state_after=r.state_after,
            to=names.get(r.to_account_id) if r.to_account_id else None,
            to_unit=unit_codes.get(r.to_unit_id) if r.to_unit_id else None,
            note=r.note,
            due=r.due,
            signed=r.signature is not None,
            note_sha256=r.note_sha256,
        )
        for r in rows
    ]


def step_rows(session: Session, document_id: int) -> list[RouteStepRow]:
    return list(
        session.exec(
            select(RouteStepRow).where(RouteStepRow.document_id == document_id).order_by(col(RouteStepRow.seq))
        )
    )


# -- inbox --------------------------------------------------------------------------------------

OPEN_ROUTE_STATES = tuple(s.value for s in FlowState if s.is_open and s is not FlowState.DELIVERED)


def inbox_rows(
    session: Session, account: AccountRow, *, registry: bool
) -> list[tuple[DocumentRow, RouteRow | None, DeliveryRow | None]]:
    """Documents waiting for ``account``: held by them, with their unit, or (``registry``: a
    clerk) waiting for registration in their agency; and drafts waiting for their signature."""
    held = and_(col(RouteRow.state).in_(OPEN_ROUTE_STATES), col(DocumentRow.holder_id) == account.id)
    conditions = [held]
    if account.unit_id is not None:
        conditions.append(
            and_(
                col(RouteRow.state).in_(OPEN_ROUTE_STATES),
                col(DocumentRow.holder_id).is_(None),
                col(DocumentRow.holder_unit_id) == account.unit_id,
            )
        )
    if registry:
        conditions.append(col(RouteRow.state) == FlowState.DELIVERED.value)
        conditions.append(
            and_(
                col(RouteRow.document_id).is_(None),
                col(DocumentRow.origin) == "imported",
                col(DocumentRow.state) == "received",
            )
        )
    conditions.append(
        and_(
            col(RouteRow.document_id).is_(None),
            col(DocumentRow.state) == "awaiting-signature",
            or_(col(DocumentRow.holder_id) == account.id, col(DocumentRow.signer_id) == account.id),
        )
    )
    query = (
        select(DocumentRow, RouteRow, DeliveryRow)
        .join(RouteRow, col(RouteRow.document_id) == col(DocumentRow.id), isouter=True)
        .join(DeliveryRow, col(DeliveryRow.copy_id) == col(DocumentRow.id), isouter=True)
        .where(col(DocumentRow.agency_id) == account.agency_id, or_(*conditions))
        .where(col(DocumentRow.destroyed_at).is_(None))
    )
    return [(d, r, dl) for d, r, dl in session.exec(query)]


def usernames_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {
        i: u
        for i, u in session.exec(select(AccountRow.id, AccountRow.username).where(col(AccountRow.id).in_(wanted)))
        if i is not None
    }


def unit_codes_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {
        i: c
        for i, c in session.exec(select(UnitRow.id, UnitRow.code).where(col(UnitRow.id).in_(wanted)))
        if i is not None
    }


# -- sealed content -----------------------------------------------------------------------------


def sealed(session: Session, envelope_sha256: str | None) -> SealedContentRow | None:
    if envelope_sha256 is None:
        return None
    return session.get(SealedContentRow, envelope_sha256)


def record_sealed(
    session: Session, envelope_sha256: str, plain_sha256: str, plain_size: int, document_id: int | None, at: datetime
) -> None:
    if session.get(SealedContentRow, envelope_sha256) is None:
        session.add(
            SealedContentRow(
                envelope_sha256=envelope_sha256,
                plain_sha256=plain_sha256,
                plain_size=plain_size,
                document_id=document_id,
                created_at=at,
            )
        )
        session.flush()
