"""Routing's tables on SQLite and PostgreSQL: the database itself refuses a duplicate consignment,
and the queries give back what was stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from edoc.errors import AlreadyExists, GroupNotFound, UnknownRecipients
from edoc.office import Office
from edoc.routing.delivery import DeliveryState, Evidence, EvidenceKind
from edoc.storage import directory as dir_store
from edoc.storage import routing as store
from edoc.storage.tables import DeliveryRow, DispatchRow
from tests.fixtures_documents import MINIMAL, pilot

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def pilot_office(office: Office) -> Office:
    return pilot(office)


def _delivery(session: object, doc_id: int, dispatch_id: int, recipient_id: int, consignment: str) -> DeliveryRow:
    return store.insert_delivery(
        session,  # type: ignore[arg-type]
        DeliveryRow(
            consignment=consignment,
            dispatch_id=dispatch_id,
            document_id=doc_id,
            recipient_id=recipient_id,
            state="accepted",
            created_at=AT,
            updated_at=AT,
        ),
    )


def test_one_consignment_per_document_and_agency(pilot_office: Office) -> None:
    office = pilot_office
    doc_id = office.new_document("external", MINIMAL[("external", None)], as_user="pc.officer")
    with office.db.tx.session(write=True) as s:
        sender = dir_store.agency_row(s, "PAKCHONG")
        clerk = dir_store.account_row(s, "pc.clerk")
        district = dir_store.agency_row(s, "PAKCHONG-DIST")
        assert sender.id and clerk.id and district.id
        dispatch = store.insert_dispatch(
            s,
            DispatchRow(
                document_id=doc_id, sender_id=sender.id, actor_id=clerk.id, mode="direct", recipients=1, created_at=AT
            ),
        )
        assert dispatch.id is not None
        first = _delivery(s, doc_id, dispatch.id, district.id, "PAKCHONG.20261123.0001")
        record = Evidence(
            consignment=first.consignment,
            seq=0,
            kind=EvidenceKind.SUBMISSION_ACCEPTED,
            at=AT,
            sender="PAKCHONG",
            recipient="PAKCHONG-DIST",
            agency="PAKCHONG",
            actor="pc.clerk",
            document_number="นม 52101/1",
            document_sha256="cd" * 32,
        )
        store.append_evidence(s, first, record, b"\x30\x00", "abc", sender.id)
        dispatch_id, district_id = dispatch.id, district.id
    with office.db.tx.session(write=False) as s:
        existing = store.existing_deliveries(s, doc_id)
        assert [(e.recipient, e.state) for e in existing] == [("PAKCHONG-DIST", DeliveryState.ACCEPTED)]
        evidence = store.evidence_of(s, [existing_id(s, doc_id)])
        assert [r.evidence for r in next(iter(evidence.values()))] == [record]
    with pytest.raises(IntegrityError), office.db.tx.session(write=True) as s:
        _delivery(s, doc_id, dispatch_id, district_id, "PAKCHONG.20261123.0002")


def existing_id(session: object, doc_id: int) -> int:
    rows = store.deliveries_of(session, doc_id)  # type: ignore[arg-type]
    assert rows[0].id is not None
    return rows[0].id


def test_agency_groups(pilot_office: Office) -> None:
    office = pilot_office
    with office.db.tx.session(write=True) as s:
        group = store.insert_group(s, "district", "หน่วยงานในอำเภอ", ["PAKCHONG-HOSP", "PAKCHONG-SCH"], AT)
        assert group.members == ("PAKCHONG-HOSP", "PAKCHONG-SCH")
    with office.db.tx.session(write=False) as s:
        assert store.get_group(s, "district") == group
        assert store.list_groups(s) == [group]
        with pytest.raises(GroupNotFound):
            store.get_group(s, "nope")
    with pytest.raises(AlreadyExists), office.db.tx.session(write=True) as s:
        store.insert_group(s, "district", "", ["PAKCHONG-SCH"], AT)
    with pytest.raises(UnknownRecipients), office.db.tx.session(write=True) as s:
        store.insert_group(s, "other", "", ["PAKCHONG-SCH", "NOPE"], AT)
